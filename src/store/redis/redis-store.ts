/**
 * `sessionkit/redis`: a session store in Redis with the capabilities of `ConditionalStore` (writes
 * conditional on a version, load-and-touch in one round trip) and, with `indexBy`, its own owner index.
 * It takes a client the app made and connected: node-redis 4/5 (`createClient()`, `createCluster()`,
 * `createSentinel()`) or ioredis 5 (`new Redis()`, also with `sentinels`, or `new Redis.Cluster()`), and
 * never loads either package itself. On a single Redis (or behind Sentinel) the owner index is written
 * in the same script as the session; on a Cluster, where the owner's key sits in another slot, in a
 * separate step ordered so that the index never misses a live session (see docs/stores.md).
 *
 * ```js
 * const { RedisStore } = require('sessionkit/redis')
 * app.use(session({ store: new RedisStore({ client, indexBy: 'userId' }), secret }))
 * ```
 *
 * @module sessionkit/redis
 */
import type { ConditionalStore, ConditionalWriteOutcome, VersionedRecord } from '../capabilities.js'
import { Store, type SessionRecord, type StoreCallback } from '../store.js'
import { touchedExpiry } from '../touch-expiry.js'
import { type RedisStoreClient, type RedisTarget, Script, targetOf } from './client.js'
import { durabilityOf, durably, type WaitForReplicas } from './durability.js'
import { globEscape, inBatches, integerText, recordOf } from './records.js'
import { CAP_OWNER, DESTROY, DESTROY_OWNED, IDS_OF, INDEX_PUT, LOAD, TOUCH, WRITE } from './scripts.js'
import { answer, newVersion, ownerOf, warnWithoutErrorListener, writePartsOf } from '../first-party.js'

export type { IoRedisClient, IoRedisCluster, IoRedisNode, NodeRedisClient, NodeRedisCluster, NodeRedisSentinel, NodeRedisSentinelLease, RedisStoreClient } from './client.js'
export type { WaitForReplicas } from './durability.js'

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** A connected node-redis 4/5 or ioredis 5 client, Cluster or Sentinel client; the app opens and closes it. */
  client: RedisStoreClient
  /** Put before every key: a session lives under `<prefix>{<sid>}`. No braces (they would move the hash tag). Default `'sess:'`. */
  prefix?: string
  /** Lifetime in ms of sessions whose cookie has no expiry (browser-session cookies). Default one day. */
  ttl?: number
  /** Keep an owner index: the session key whose value is the owner (e.g. `'userId'`). */
  indexBy?: string
  /** Put before every owner index key: an owner's sessions live under `<indexPrefix>{<owner>}`. Default `<prefix>owner:`. */
  indexPrefix?: string
  /** Answer a write or a destroy only once this many replicas have it (WAIT); fewer within the timeout fail it. Off by default. */
  waitForReplicas?: WaitForReplicas
}

const WRITE_SCRIPT = new Script(WRITE)
const LOAD_SCRIPT = new Script(LOAD)
const TOUCH_SCRIPT = new Script(TOUCH)
const DESTROY_SCRIPT = new Script(DESTROY)
const DESTROY_OWNED_SCRIPT = new Script(DESTROY_OWNED)
const IDS_OF_SCRIPT = new Script(IDS_OF)
const INDEX_PUT_SCRIPT = new Script(INDEX_PUT)
const CAP_OWNER_SCRIPT = new Script(CAP_OWNER)
// Keys per SCAN step.
const SCAN_COUNT = '500'
// Redis drops a key whose expiry has passed at once; a session is kept at least this long.
const MIN_TTL_MS = 1000

/**
 * Sessions in Redis, one hash per session. Every method takes a callback or, without one, returns a
 * Promise. Round trips on one Redis: get, set, touch, destroy, getVersioned and setIfVersion one each;
 * idsOf one; ids/all/length/clear walk the keys with SCAN, never KEYS, one key per command. On a
 * Cluster SCAN visits every master, and with `indexBy` the index steps add a round trip or two.
 */
export class RedisStore extends Store implements ConditionalStore {
  /** The session key the owner index is kept by, or undefined without an index. */
  readonly indexBy: string | undefined
  readonly #target: RedisTarget
  readonly #prefix: string
  readonly #indexPrefix: string
  readonly #ttl: number
  readonly #ttlText: string
  readonly #durability: ReturnType<typeof durabilityOf>
  // On a Cluster the scripts cannot reach the owner's key (another slot): the store keeps the index itself.
  readonly #indexApart: boolean

  constructor(options: RedisStoreOptions) {
    super()
    if (options === null || typeof options !== 'object') throw new TypeError('sessionkit/redis: new RedisStore({ client }) needs an options object')
    this.#target = withErrorListenerCheck(targetOf(options.client), options.client)
    this.#prefix = options.prefix ?? 'sess:'
    this.#ttl = options.ttl ?? 86_400_000
    if (!(this.#ttl > 0)) throw new TypeError('sessionkit/redis: ttl must be a number of milliseconds, more than 0')
    this.#ttlText = String(this.#ttl)
    if (options.indexBy !== undefined && (typeof options.indexBy !== 'string' || options.indexBy === '')) {
      throw new TypeError('sessionkit/redis: indexBy must be the name of a session key')
    }
    this.indexBy = options.indexBy
    this.#indexPrefix = options.indexPrefix ?? `${this.#prefix}owner:`
    for (const [name, value] of [['prefix', this.#prefix], ['indexPrefix', this.#indexPrefix]]) {
      if (/[{}]/.test(value as string)) throw new TypeError(`sessionkit/redis: ${name} must not contain { or }: the braces after it are the key's Cluster hash tag`)
    }
    this.#durability = durabilityOf(options.waitForReplicas)
    this.#indexApart = this.indexBy !== undefined && this.#target.kind === 'cluster'
  }

  override get(sid: string, callback?: StoreCallback<SessionRecord | null>): Promise<SessionRecord | null> | undefined {
    const key = this.#key(sid)
    const work = this.#target.send(['HMGET', key, 'v', 'd', 'c', 'e'], key).then((reply) => recordOf(reply)?.record ?? null)
    return answer(work, callback)
  }

  override set(sid: string, session: SessionRecord, callback?: StoreCallback): Promise<void> | undefined {
    return answer(
      this.#write(sid, session, false, null).then(() => undefined),
      callback,
    )
  }

  /** See {@link ConditionalStore.setIfVersion}. One round trip, whatever the outcome (on a Cluster with `indexBy`, two). */
  setIfVersion(sid: string, session: SessionRecord, expected: string | null, callback?: StoreCallback<ConditionalWriteOutcome>): Promise<ConditionalWriteOutcome> | undefined {
    return answer(this.#write(sid, session, true, expected), callback)
  }

  /** See {@link ConditionalStore.getVersioned}. One round trip, with or without the touch (on a Cluster with `indexBy`, a touch takes three). */
  getVersioned(sid: string, options: { touch: boolean }, callback?: StoreCallback<VersionedRecord | null>): Promise<VersionedRecord | null> | undefined {
    return answer(this.#load(sid, options?.touch === true), callback)
  }

  override touch(sid: string, session: SessionRecord, callback?: StoreCallback): Promise<void> | undefined {
    return answer(this.#touch(sid, session), callback)
  }

  override destroy(sid: string, callback?: StoreCallback): Promise<void> | undefined {
    return answer(this.#destroy(sid), callback)
  }

  /** The ids of the live sessions of `owner`; only with `indexBy`. One round trip (on a Cluster, one more per entry, to check it). */
  idsOf(owner: string, callback?: StoreCallback<string[]>): Promise<string[]> | undefined {
    return answer(this.#idsOf(String(owner)), callback)
  }

  /**
   * Ends the least recently active live sessions of `owner` beyond `max`, never `keep`; only with
   * `indexBy`. One script on one Redis, atomic; on a Cluster, where the owner's sessions sit in other
   * slots, in steps (the index, each session's lifetime, a destroy each), which is not atomic.
   */
  capOwner(owner: string, max: number, keep: string, callback?: StoreCallback<string[]>): Promise<string[]> | undefined {
    return answer(this.#capOwner(String(owner), max, keep), callback)
  }

  /** Every live session id, found with SCAN (on every master of a Cluster). */
  override ids(callback?: StoreCallback<string[]>): Promise<string[]> | undefined {
    return answer(this.#ids(), callback)
  }

  /** Every live session, keyed by id. */
  override all(callback?: StoreCallback<Record<string, SessionRecord>>): Promise<Record<string, SessionRecord>> | undefined {
    const work = this.#ids().then(async (ids) => {
      const result = Object.create(null) as Record<string, SessionRecord>
      await inBatches(ids, async (sid) => {
        const key = this.#key(sid)
        const found = recordOf(await this.#target.send(['HMGET', key, 'v', 'd', 'c', 'e'], key))
        if (found !== null) result[sid] = found.record
      })
      return result
    })
    return answer(work, callback)
  }

  override length(callback?: StoreCallback<number>): Promise<number> | undefined {
    return answer(
      this.#ids().then((ids) => ids.length),
      callback,
    )
  }

  /** Removes every session under the prefix, and every owner index under the index prefix. */
  override clear(callback?: StoreCallback): Promise<void> | undefined {
    const work = (async () => {
      for (const pattern of [`${globEscape(this.#prefix)}{*`, `${globEscape(this.#indexPrefix)}{*`]) {
        const keys = await this.#scan(pattern)
        await inBatches(keys, (key) => this.#target.send(['UNLINK', key], key))
      }
    })()
    return answer(work, callback)
  }

  async #write(sid: string, session: SessionRecord, conditional: boolean, expected: string | null): Promise<ConditionalWriteOutcome> {
    const parts = writePartsOf(session)
    const version = newVersion()
    const owner = ownerOf(session, this.indexBy)
    const expiry = this.#keyExpiry(parts.expires)
    const key = this.#key(sid)
    // Index first: should the process die between the two steps, the entry points at a session that
    // is not there (filtered out by idsOf), never the other way round.
    if (this.#indexApart && owner !== null) await this.#indexPut(owner, sid, expiry, true)
    const header = `${conditional ? '1' : '0'} ${version} ${integerText(parts.expires)} ${integerText(parts.lifetime)} ${integerText(parts.absolute)} ${expiry}`
    const args = [header, JSON.stringify(parts.data), parts.cookieJson, expected ?? '', owner ?? '', this.#scriptIndex()]
    // Without waitForReplicas the script's reply is the answer: no WAIT, and no step around it.
    const reply =
      this.#durability === undefined
        ? await WRITE_SCRIPT.run(this.#target.send, [key], args)
        : await durably(this.#target, this.#durability, key, async (send) => {
            const result = await WRITE_SCRIPT.run(send, [key], args)
            return { result, wrote: Array.isArray(result) && result[0] === 'written' }
          })
    if (!Array.isArray(reply)) throw new Error(`sessionkit/redis: unexpected reply to a write: ${String(reply)}`)
    if (reply[0] === 'written') {
      const previous = String(reply[1] ?? '')
      // The old owner's entry goes after the write; until then idsOf sees the session's new owner and drops it.
      if (this.#indexApart && previous !== '' && previous !== owner) await this.#unindex(previous, sid)
      return { written: true, version }
    }
    if (reply[0] === 'gone') return { written: false, reason: 'gone' }
    const current = recordOf(reply.slice(1))
    return current === null ? { written: false, reason: 'changed' } : { written: false, reason: 'changed', current }
  }

  async #load(sid: string, touch: boolean): Promise<VersionedRecord | null> {
    const key = this.#key(sid)
    // A read alone is one command, atomic as the script would be, without the script's cost in Redis.
    if (!touch) return recordOf(await this.#target.send(['HMGET', key, 'v', 'd', 'c', 'e'], key))
    const now = Date.now()
    let predicted: { owner: string; score: string } | null = null
    if (touch && this.#indexApart) {
      // The entry must outlast the touched session before the touch lands: read what the touch will
      // compute from, move the entry, then load-and-touch (atomic as ever) with the same clock.
      const [owner, lifetime, absolute, expires] = (await this.#target.send(['HMGET', key, 'o', 'm', 'a', 'e'], key)) as [string | null, string | null, string | null, string | null]
      if (owner) {
        predicted = { owner, score: this.#touchedScore(now, lifetime, absolute, expires) }
        await this.#indexPut(owner, sid, predicted.score, false)
      }
    }
    // Only the Cluster's index steps need the owner and the new expiry back (mode '2').
    const mode = this.#indexApart ? '2' : '1'
    const reply = await LOAD_SCRIPT.run(this.#target.send, [key], [mode, String(now), this.#ttlText, this.#scriptIndex()])
    if (touch && this.#indexApart && Array.isArray(reply)) {
      const owner = String(reply[4] ?? '')
      const score = String(reply[5] ?? '')
      // A write between the read and the touch changed the owner or the lifetime: catch the index up.
      if (owner !== '' && score !== '' && (predicted === null || predicted.owner !== owner || Number(score) > Number(predicted.score))) await this.#indexPut(owner, sid, score, false)
    }
    return recordOf(reply)
  }

  async #touch(sid: string, session: SessionRecord): Promise<void> {
    const parts = writePartsOf(session)
    const expiry = this.#keyExpiry(parts.expires)
    const key = this.#key(sid)
    const owner = ownerOf(session, this.indexBy)
    if (this.#indexApart && owner !== null) await this.#indexPut(owner, sid, expiry, false)
    const args = [parts.cookieJson, integerText(parts.expires), integerText(parts.lifetime), integerText(parts.absolute), expiry, this.#scriptIndex(), sid]
    const reply = await TOUCH_SCRIPT.run(this.#target.send, [key], args)
    const stored = Array.isArray(reply) ? String(reply[1] ?? '') : ''
    if (this.#indexApart && stored !== '' && stored !== owner) await this.#indexPut(stored, sid, expiry, false)
  }

  async #destroy(sid: string): Promise<void> {
    const key = this.#key(sid)
    const owner = await durably(this.#target, this.#durability, key, async (send) => {
      if (this.indexBy === undefined) return { result: '', wrote: Number(await send(['DEL', key], key)) > 0 }
      if (!this.#indexApart) return { result: '', wrote: Number(await DESTROY_SCRIPT.run(send, [key], [this.#indexPrefix, sid])) > 0 }
      const result = String((await DESTROY_OWNED_SCRIPT.run(send, [key], [])) ?? '')
      return { result, wrote: result !== '' }
    })
    // The entry goes after the session: until then it points at nothing, which idsOf drops.
    if (owner !== '') await this.#unindex(owner, sid)
  }

  /**
   * Removes a Cluster index entry after its session left that owner (destroyed, moved). The write or
   * destroy the caller asked for has happened, so a failure here does not fail it: the stale entry
   * points at no session of that owner, idsOf drops it, and it expires with its score.
   */
  async #unindex(owner: string, sid: string): Promise<void> {
    const indexKey = this.#indexKey(owner)
    await this.#target.send(['ZREM', indexKey, sid], indexKey).catch(() => undefined)
  }

  async #idsOf(owner: string): Promise<string[]> {
    if (this.indexBy === undefined) throw new TypeError('sessionkit/redis: idsOf() needs the indexBy option')
    const indexKey = this.#indexKey(owner)
    const reply = await IDS_OF_SCRIPT.run(this.#target.send, [indexKey], [])
    const ids = Array.isArray(reply) ? reply.map(String) : []
    if (!this.#indexApart) return ids
    // Kept apart, the index may name sessions that were destroyed, never written or moved to another
    // owner; the session's own hash has the last word.
    const live: string[] = []
    await inBatches(ids, async (sid) => {
      const key = this.#key(sid)
      if (String((await this.#target.send(['HGET', key, 'o'], key)) ?? '') === owner) live.push(sid)
    })
    return live
  }

  async #capOwner(owner: string, max: number, keep: string): Promise<string[]> {
    if (this.indexBy === undefined) throw new TypeError('sessionkit/redis: capOwner() needs the indexBy option')
    const indexKey = this.#indexKey(owner)
    if (!this.#indexApart) {
      const reply = await durably(this.#target, this.#durability, indexKey, async (send) => {
        const result = await CAP_OWNER_SCRIPT.run(send, [indexKey], [String(max), keep, this.#prefix, this.#ttlText])
        return { result, wrote: Array.isArray(result) && result.length > 0 }
      })
      return Array.isArray(reply) ? reply.map(String) : []
    }
    const scored: { sid: string; at: number }[] = []
    for (const sid of await this.#idsOf(owner)) {
      if (sid === keep) continue
      const key = this.#key(sid)
      const [m, e] = (await this.#target.send(['HMGET', key, 'm', 'e'], key)) as [string | null, string | null]
      scored.push({ sid, at: e ? Number(e) - (m ? Number(m) : this.#ttl) : 0 })
    }
    scored.sort((a, b) => b.at - a.at)
    const ended = scored.slice(Math.max(0, max - 1)).map((entry) => entry.sid)
    for (const sid of ended) await this.#destroy(sid)
    return ended
  }

  /** The Cluster's index step; with waitForReplicas, a write's entry must reach the replicas too. */
  async #indexPut(owner: string, sid: string, score: string, durable: boolean): Promise<void> {
    const indexKey = this.#indexKey(owner)
    await durably(this.#target, durable ? this.#durability : undefined, indexKey, async (send) => ({ result: await INDEX_PUT_SCRIPT.run(send, [indexKey], [score, sid]), wrote: true }))
  }

  async #ids(): Promise<string[]> {
    const start = this.#prefix.length + 1
    return (await this.#scan(`${globEscape(this.#prefix)}{*`)).filter((key) => key.endsWith('}')).map((key) => key.slice(start, -1))
  }

  /** The keys matching `pattern` on every master (SCAN reaches one node only). */
  async #scan(pattern: string): Promise<string[]> {
    // SCAN may return a key more than once; the Set keeps each one.
    const keys = new Set<string>()
    for (const send of await this.#target.masters()) {
      let cursor = '0'
      do {
        const reply = (await send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT])) as [unknown, unknown[]]
        cursor = String(reply[0])
        for (const key of reply[1]) keys.add(String(key))
      } while (cursor !== '0')
    }
    return [...keys]
  }

  #key(sid: string): string {
    return `${this.#prefix}{${sid}}`
  }

  #indexKey(owner: string): string {
    return `${this.#indexPrefix}{${owner}}`
  }

  /** The index prefix the scripts get: '' when they must leave the index alone. */
  #scriptIndex(): string {
    return this.indexBy === undefined || this.#indexApart ? '' : this.#indexPrefix
  }

  /** When the session's key expires: at its cookie's expiry (ms), or after the default ttl; at least a second from now. */
  #keyExpiry(cookieExpires: number | null): string {
    const now = Date.now()
    const expires = cookieExpires ?? now + this.#ttl
    return String(Math.ceil(Math.max(expires, now + MIN_TTL_MS)))
  }

  /** The key expiry the LOAD script's touch will give a session of these hash fields at `now`. */
  #touchedScore(now: number, lifetime: string | null, absolute: string | null, expires: string | null): string {
    const cookie = { originalMaxAge: lifetime ? Number(lifetime) : null, absoluteExpires: absolute ? Number(absolute) : undefined, expires: expires ? Number(expires) : null }
    const { storeExpires } = touchedExpiry(cookie as unknown as SessionRecord['cookie'], now, this.#ttl)
    return String(Math.ceil(Math.max(storeExpires, now + MIN_TTL_MS)))
  }
}

/**
 * `target` whose first command checks that a node-redis client has an 'error' listener: node-redis
 * throws a lost connection as an 'error' event, which ends the process when nothing listens. (ioredis
 * only logs one, so it is left alone.)
 */
function withErrorListenerCheck(target: RedisTarget, client: RedisStoreClient): RedisTarget {
  if (typeof (client as { call?: unknown }).call === 'function') return target
  let checked = false
  const send: RedisTarget['send'] = (args, key) => {
    if (!checked) {
      checked = true
      warnWithoutErrorListener(client, "sessionkit/redis: the node-redis client has no 'error' listener, so the first lost connection (a Redis restart, a failover) will end the process. Add one: client.on('error', (err) => console.error('redis:', err.message))")
    }
    return target.send(args, key)
  }
  return { ...target, send }
}
