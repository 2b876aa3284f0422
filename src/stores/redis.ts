/**
 * `sessionkit/redis`: a session store in Redis with the capabilities of `ConditionalStore` (writes
 * conditional on a version, load-and-touch in one round trip) and, with `indexBy`, its own owner index
 * written in the same script as the session. It takes a client the app made and connected: node-redis
 * 4/5 (`createClient()`) or ioredis 5 (`new Redis()`), and never loads either package itself.
 *
 * ```js
 * const { RedisStore } = require('sessionkit/redis')
 * app.use(session({ store: new RedisStore({ client, indexBy: 'userId' }), secret }))
 * ```
 */
import type { ConditionalStore, ConditionalWriteOutcome, VersionedRecord } from '../capabilities.js'
import { Store, type SessionRecord, type StoreCallback } from '../store.js'
import { timeOf } from '../touch-expiry.js'
import { type RedisStoreClient, Script, type SendCommand, senderOf } from './redis-client.js'
import { DESTROY, IDS_OF, LOAD, TOUCH, WRITE } from './redis-scripts.js'
import { answer, newVersion, ownerOf, partsOf } from './shared.js'

export type { IoRedisClient, NodeRedisClient, RedisStoreClient } from './redis-client.js'

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** A connected node-redis 4/5 or ioredis 5 client; the app opens and closes it. */
  client: RedisStoreClient
  /** Put before every key: a session lives under `<prefix>{<sid>}`. Default `'sess:'`. */
  prefix?: string
  /** Lifetime in ms of sessions whose cookie has no expiry (browser-session cookies). Default one day. */
  ttl?: number
  /** Keep an owner index: the session key whose value is the owner (e.g. `'userId'`). Needs one Redis, not a Cluster. */
  indexBy?: string
  /** Put before every owner index key: an owner's sessions live under `<indexPrefix>{<owner>}`. Default `<prefix>owner:`. */
  indexPrefix?: string
}

const WRITE_SCRIPT = new Script(WRITE)
const LOAD_SCRIPT = new Script(LOAD)
const TOUCH_SCRIPT = new Script(TOUCH)
const DESTROY_SCRIPT = new Script(DESTROY)
const IDS_OF_SCRIPT = new Script(IDS_OF)
// Keys per SCAN step, and how many per-key commands run at once while walking them.
const SCAN_COUNT = '500'
const BATCH = 100
// Redis drops a key whose expiry has passed at once; a session is kept at least this long.
const MIN_TTL_MS = 1000

/**
 * Sessions in Redis, one hash per session. Every method takes a callback or, without one, returns a
 * Promise. Round trips: get, set, touch, destroy, getVersioned and setIfVersion one each; idsOf one;
 * ids/all/length/clear walk the keys with SCAN, never KEYS, one key per command.
 */
export class RedisStore extends Store implements ConditionalStore {
  /** The session key the owner index is kept by, or undefined without an index. */
  readonly indexBy: string | undefined
  readonly #send: SendCommand
  readonly #prefix: string
  readonly #indexPrefix: string
  readonly #ttl: number

  constructor(options: RedisStoreOptions) {
    super()
    if (options === null || typeof options !== 'object') throw new TypeError('sessionkit/redis: new RedisStore({ client }) needs an options object')
    this.#send = senderOf(options.client)
    this.#prefix = options.prefix ?? 'sess:'
    this.#ttl = options.ttl ?? 86_400_000
    if (!(this.#ttl > 0)) throw new TypeError('sessionkit/redis: ttl must be a number of milliseconds, more than 0')
    if (options.indexBy !== undefined && (typeof options.indexBy !== 'string' || options.indexBy === '')) {
      throw new TypeError('sessionkit/redis: indexBy must be the name of a session key')
    }
    this.indexBy = options.indexBy
    this.#indexPrefix = options.indexPrefix ?? `${this.#prefix}owner:`
  }

  override get(sid: string, callback?: StoreCallback<SessionRecord | null>): Promise<SessionRecord | null> | undefined {
    const work = this.#send(['HMGET', this.#key(sid), 'v', 'd', 'c', 'e']).then((reply) => recordOf(reply)?.record ?? null)
    return answer(work, callback)
  }

  override set(sid: string, session: SessionRecord, callback?: StoreCallback): Promise<void> | undefined {
    return answer(
      this.#write(sid, session, false, null).then(() => undefined),
      callback,
    )
  }

  /** See {@link ConditionalStore.setIfVersion}. One round trip, whatever the outcome. */
  setIfVersion(sid: string, session: SessionRecord, expected: string | null, callback?: StoreCallback<ConditionalWriteOutcome>): Promise<ConditionalWriteOutcome> | undefined {
    return answer(this.#write(sid, session, true, expected), callback)
  }

  /** See {@link ConditionalStore.getVersioned}. One round trip, with or without the touch. */
  getVersioned(sid: string, options: { touch: boolean }, callback?: StoreCallback<VersionedRecord | null>): Promise<VersionedRecord | null> | undefined {
    const args = [options?.touch ? '1' : '0', String(Date.now()), String(this.#ttl), this.#index(), sid]
    return answer(
      LOAD_SCRIPT.run(this.#send, [this.#key(sid)], args).then((reply) => recordOf(reply)),
      callback,
    )
  }

  override touch(sid: string, session: SessionRecord, callback?: StoreCallback): Promise<void> | undefined {
    const { cookie } = partsOf(session)
    const fields = cookieFields(cookie)
    const args = [JSON.stringify(cookie), fields.e, fields.m, fields.a, this.#keyExpiry(cookie), this.#index(), sid]
    return answer(
      TOUCH_SCRIPT.run(this.#send, [this.#key(sid)], args).then(() => undefined),
      callback,
    )
  }

  override destroy(sid: string, callback?: StoreCallback): Promise<void> | undefined {
    const key = this.#key(sid)
    const work = this.indexBy === undefined ? this.#send(['DEL', key]) : DESTROY_SCRIPT.run(this.#send, [key], [this.#indexPrefix, sid])
    return answer(
      work.then(() => undefined),
      callback,
    )
  }

  /** The ids of the live sessions of `owner`; only with `indexBy`. One round trip. */
  idsOf(owner: string, callback?: StoreCallback<string[]>): Promise<string[]> | undefined {
    const work =
      this.indexBy === undefined
        ? Promise.reject(new TypeError('sessionkit/redis: idsOf() needs the indexBy option'))
        : IDS_OF_SCRIPT.run(this.#send, [`${this.#indexPrefix}{${String(owner)}}`], []).then((reply) => (Array.isArray(reply) ? reply.map(String) : []))
    return answer(work, callback)
  }

  /** Every live session id, found with SCAN. */
  override ids(callback?: StoreCallback<string[]>): Promise<string[]> | undefined {
    return answer(this.#ids(), callback)
  }

  /** Every live session, keyed by id. */
  override all(callback?: StoreCallback<Record<string, SessionRecord>>): Promise<Record<string, SessionRecord>> | undefined {
    const work = this.#ids().then(async (ids) => {
      const result = Object.create(null) as Record<string, SessionRecord>
      await inBatches(ids, async (sid) => {
        const found = recordOf(await this.#send(['HMGET', this.#key(sid), 'v', 'd', 'c', 'e']))
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
        await inBatches(keys, (key) => this.#send(['UNLINK', key]))
      }
    })()
    return answer(work, callback)
  }

  async #write(sid: string, session: SessionRecord, conditional: boolean, expected: string | null): Promise<ConditionalWriteOutcome> {
    const { data, cookie } = partsOf(session)
    const fields = cookieFields(cookie)
    const version = newVersion()
    const owner = ownerOf(session, this.indexBy) ?? ''
    const args = [conditional ? '1' : '0', expected ?? '', version, JSON.stringify(data), JSON.stringify(cookie), fields.e, fields.m, fields.a, this.#keyExpiry(cookie), owner, this.#index(), sid]
    const reply = await WRITE_SCRIPT.run(this.#send, [this.#key(sid)], args)
    if (!Array.isArray(reply)) throw new Error(`sessionkit/redis: unexpected reply to a write: ${String(reply)}`)
    if (reply[0] === 'written') return { written: true, version: String(reply[1]) }
    if (reply[0] === 'gone') return { written: false, reason: 'gone' }
    const current = recordOf(reply.slice(1))
    return current === null ? { written: false, reason: 'changed' } : { written: false, reason: 'changed', current }
  }

  async #ids(): Promise<string[]> {
    const start = this.#prefix.length + 1
    return (await this.#scan(`${globEscape(this.#prefix)}{*`)).filter((key) => key.endsWith('}')).map((key) => key.slice(start, -1))
  }

  async #scan(pattern: string): Promise<string[]> {
    // SCAN may return a key more than once; the Set keeps each one.
    const keys = new Set<string>()
    let cursor = '0'
    do {
      const reply = (await this.#send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT])) as [unknown, unknown[]]
      cursor = String(reply[0])
      for (const key of reply[1]) keys.add(String(key))
    } while (cursor !== '0')
    return [...keys]
  }

  #key(sid: string): string {
    return `${this.#prefix}{${sid}}`
  }

  #index(): string {
    return this.indexBy === undefined ? '' : this.#indexPrefix
  }

  /** When the session's key expires: at its cookie's expiry, or after the default ttl; at least a second from now. */
  #keyExpiry(cookie: SessionRecord['cookie']): string {
    const now = Date.now()
    const expires = timeOf(cookie.expires) ?? now + this.#ttl
    return String(Math.ceil(Math.max(expires, now + MIN_TTL_MS)))
  }
}

/** The cookie's expiry, lifetime and absolute cap as the hash keeps them: integer strings, '' for none. */
function cookieFields(cookie: SessionRecord['cookie']): { e: string; m: string; a: string } {
  const expires = timeOf(cookie.expires)
  const lifetime = cookie.originalMaxAge
  const absolute = timeOf(cookie.absoluteExpires)
  return {
    e: expires === null ? '' : String(Math.round(expires)),
    m: typeof lifetime === 'number' && Number.isFinite(lifetime) ? String(Math.round(lifetime)) : '',
    a: absolute === null ? '' : String(Math.round(absolute)),
  }
}

/** A session from the hash fields v, d, c, e (an HMGET or a script's reply); null when there is none. */
function recordOf(reply: unknown): VersionedRecord | null {
  if (!Array.isArray(reply)) return null
  const [version, data, cookieJson, expires] = reply as (string | null | undefined)[]
  if (version === null || version === undefined || data === null || data === undefined) return null
  const cookie = (cookieJson ? JSON.parse(cookieJson) : { originalMaxAge: null }) as SessionRecord['cookie']
  // The e field, which a load-and-touch moves without rewriting c, is the cookie's expiry.
  cookie.expires = expires ? new Date(Number(expires)) : null
  const record = JSON.parse(data) as SessionRecord
  record.cookie = cookie
  return { record, version: String(version) }
}

/** Runs `fn` over `items`, BATCH at a time: each client pipelines a batch's commands. */
async function inBatches<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let at = 0; at < items.length; at += BATCH) await Promise.all(items.slice(at, at + BATCH).map(fn))
}

/** `text` as a literal inside a SCAN MATCH pattern. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
