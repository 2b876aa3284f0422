import type { SessionRecord, SessionStore } from './store.js'
import { storeCall } from './call.js'

/**
 * Which sessions belong to which owner (a user id), so that all of one user's sessions can be found
 * and destroyed, for example after a password change (express-session #504, #865; connect-redis #288).
 * The middleware adds a session when it is saved with an owner and removes it when it is destroyed.
 * Entries for sessions that expired on their own may linger; destroying an absent id is harmless.
 */
export interface SessionIndex {
  add(owner: string, sid: string, expiresAt: Date | null): Promise<void>
  remove(owner: string, sid: string): Promise<void>
  ids(owner: string): Promise<string[]>
}

/** An index in this process's memory: right for a single process (with MemoryStore, say). */
export class MemoryIndex implements SessionIndex {
  // owner → session id → when that session expires (ms; Infinity for none known). Entries of
  // sessions that expired on their own are dropped whenever the owner is looked at, so the index
  // does not grow with every login for the life of the process.
  readonly #owners = new Map<string, Map<string, number>>()

  async add(owner: string, sid: string, expiresAt: Date | null): Promise<void> {
    let sids = this.#owners.get(owner)
    if (sids === undefined) this.#owners.set(owner, (sids = new Map()))
    sids.set(sid, expiresAt === null ? Infinity : expiresAt.getTime())
    this.#prune(owner, sids)
  }

  async remove(owner: string, sid: string): Promise<void> {
    const sids = this.#owners.get(owner)
    if (sids === undefined) return
    sids.delete(sid)
    if (sids.size === 0) this.#owners.delete(owner)
  }

  async ids(owner: string): Promise<string[]> {
    const sids = this.#owners.get(owner)
    if (sids === undefined) return []
    this.#prune(owner, sids)
    return [...sids.keys()]
  }

  #prune(owner: string, sids: Map<string, number>): void {
    const now = Date.now()
    for (const [sid, expiresAt] of sids) if (expiresAt <= now) sids.delete(sid)
    if (sids.size === 0) this.#owners.delete(owner)
  }
}

/** The few commands a Redis index needs, as node-redis (v4+) names them. */
export interface RedisSetClient {
  zAdd(key: string, member: { score: number; value: string }): Promise<unknown>
  zRem(key: string, member: string): Promise<unknown>
  zRangeByScore(key: string, min: number | string, max: number | string): Promise<string[]>
  zRemRangeByScore(key: string, min: number | string, max: number | string): Promise<unknown>
  pExpireAt(key: string, unixMs: number, mode?: 'NX' | 'GT'): Promise<unknown>
}

/** The same commands as ioredis (v5) names them. */
export interface IoRedisSetClient {
  zadd(key: string, score: number, member: string): Promise<unknown>
  zrem(key: string, member: string): Promise<unknown>
  zrangebyscore(key: string, min: number | string, max: number | string): Promise<string[]>
  zremrangebyscore(key: string, min: number | string, max: number | string): Promise<unknown>
  pexpireat(key: string, unixMs: number, mode: 'NX' | 'GT'): Promise<unknown>
}

function indexCommands(client: RedisSetClient | IoRedisSetClient): RedisSetClient {
  if (typeof (client as RedisSetClient).zAdd === 'function') return client as RedisSetClient
  const io = client as IoRedisSetClient
  return {
    zAdd: (key, member) => io.zadd(key, member.score, member.value),
    zRem: (key, member) => io.zrem(key, member),
    zRangeByScore: (key, min, max) => io.zrangebyscore(key, min, max),
    zRemRangeByScore: (key, min, max) => io.zremrangebyscore(key, min, max),
    pExpireAt: (key, unixMs, mode = 'GT') => io.pexpireat(key, unixMs, mode),
  }
}

/**
 * An index in Redis, shared by every process that uses the same Redis: per owner, a sorted set of
 * session ids scored by when each session expires, so an expired session's entry is never returned
 * (and is pruned on the next write) while a live one's is. Takes a node-redis 4/5 or an ioredis 5
 * client. The middleware adds a session's entry again whenever the session's expiry moves (a save, a
 * touch, `rolling`), so the entry lives exactly as long as its session; the key itself expires with the
 * longest-lived one.
 */
export class RedisIndex implements SessionIndex {
  readonly #client: RedisSetClient
  readonly #prefix: string
  readonly #defaultTtl: number

  /** `prefix` defaults to `sessindex:`; `defaultTtl` (ms) bounds entries of browser-session cookies, default one day. */
  constructor(client: RedisSetClient | IoRedisSetClient, options: { prefix?: string; defaultTtl?: number } = {}) {
    this.#client = indexCommands(client)
    this.#prefix = options.prefix ?? 'sessindex:'
    this.#defaultTtl = options.defaultTtl ?? 86_400_000
  }

  async add(owner: string, sid: string, expiresAt: Date | null): Promise<void> {
    const key = this.#prefix + owner
    const until = expiresAt === null ? Date.now() + this.#defaultTtl : expiresAt.getTime()
    await this.#client.zAdd(key, { score: until, value: sid })
    await this.#client.zRemRangeByScore(key, '-inf', Date.now())
    // NX gives a new set its first expiry; GT only ever lengthens it after, so a short session can
    // never expire the entry of a longer one.
    await this.#client.pExpireAt(key, until, 'NX')
    await this.#client.pExpireAt(key, until, 'GT')
  }

  async remove(owner: string, sid: string): Promise<void> {
    await this.#client.zRem(this.#prefix + owner, sid)
  }

  async ids(owner: string): Promise<string[]> {
    return this.#client.zRangeByScore(this.#prefix + owner, `(${Date.now()}`, '+inf')
  }
}

/**
 * The ids of the sessions in `store` whose `key` equals `owner`, found by listing the store: with
 * `ids()` and `get()`, or with `all()` when it returns sessions keyed by id (or carrying an `id`).
 * Slow for a large store; an index answers the same question in one lookup.
 */
export async function scanSessionsOf(store: SessionStore, key: string, owner: string, timeoutMs: number): Promise<string[]> {
  const matches = (record: unknown): boolean =>
    record !== null && typeof record === 'object' && String((record as Record<string, unknown>)[key]) === owner && (record as Record<string, unknown>)[key] !== undefined

  if (typeof store.ids === 'function') {
    // Listing calls without a timeout, and the store's own error, as they always were.
    const ids = await storeCall<string[] | undefined>(store, 'ids', [], { storeErrors: true })
    const found: string[] = []
    for (const sid of ids ?? []) {
      if (matches(await storeCall<SessionRecord | null>(store, 'get', [sid], { timeoutMs }))) found.push(sid)
    }
    return found
  }
  if (typeof store.all === 'function') {
    const all = await storeCall<SessionRecord[] | Record<string, SessionRecord> | null | undefined>(store, 'all', [], { storeErrors: true })
    if (all === null || all === undefined) return []
    if (!Array.isArray(all)) return Object.keys(all).filter((sid) => matches(all[sid]))
    const withIds = all.filter((record) => matches(record))
    if (withIds.some((record) => typeof record['id'] !== 'string')) {
      throw new TypeError("sessionkit: this store's all() returns sessions without their ids; give it an ids() method or use an index")
    }
    return withIds.map((record) => record['id'] as string)
  }
  throw new TypeError('sessionkit: finding the sessions of an owner needs a store with all() or ids(), or the `index` option')
}

/** What the owner index needs of the middleware's options. */
interface IndexOptions {
  readonly index: SessionIndex | undefined
  readonly indexBy: string | undefined
}

function ownerOf(options: IndexOptions, target: object): string | undefined {
  if (options.index === undefined || options.indexBy === undefined) return undefined
  const owner = (target as Record<string, unknown>)[options.indexBy]
  return owner === undefined || owner === null ? undefined : String(owner)
}

/** Records a saved session under its owner, so that `destroySessionsOf` finds it. @internal */
export async function indexSession(options: IndexOptions, target: { readonly id: string; readonly cookie: { readonly expires: Date | null } }): Promise<void> {
  const owner = ownerOf(options, target)
  if (owner !== undefined) await options.index?.add(owner, target.id, target.cookie.expires)
}

/**
 * Forgets a destroyed session's owner entry; an entry left behind would only cost a wasted destroy, so
 * a failure is swallowed: regenerate() does not wait for this, and an index that throws instead of
 * rejecting would otherwise be an unhandled rejection, a crash on Node 20. @internal
 */
export async function unindexSession(options: IndexOptions, target: { readonly id: string }): Promise<void> {
  const owner = ownerOf(options, target)
  if (owner === undefined) return
  try {
    await options.index?.remove(owner, target.id)
  } catch {
    // see above
  }
}
