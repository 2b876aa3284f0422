import type { ConditionalStore, ConditionalWriteOutcome, VersionedRecord } from './capabilities.js'
import { Cookie } from './cookie.js'
import { Store, type SessionRecord, type StoreCallback } from './store.js'
import { touchedExpiry } from './touch-expiry.js'

/** Options of the in-memory store. */
export interface MemoryStoreOptions {
  /** How often, in milliseconds, expired sessions are swept out. Default 60000; 0 turns sweeping off. */
  checkPeriod?: number
  /** The most sessions kept; past it the least recently used is evicted. Default: no bound. */
  max?: number
  /** Lifetime, in milliseconds, of sessions whose cookie has no expiry (browser-session cookies). Default one day. */
  ttl?: number
}

// One stored session: the JSON text of `[expiresAt, version, session]`, with the session's cookie written as its
// last key. JSON, not the object, so that what a request changes in `req.session` never reaches the
// store before `save()`; one flat string rather than an object holding the JSON and a number, because
// that object and its boxed number cost more heap per session than the expiry's digits do
// (bench/memory.mjs). The cookie goes last so that touch() can replace the expiry and the cookie
// without parsing and re-serializing the app's data (see cookieAt()). The version, a store-wide
// counter, sits between the two numbers' commas, where touch() carries it over untouched.
type Entry = string

// Work in slices of this many entries and yield between slices once a slice took longer than the
// budget, so sweeping a million expired sessions never stalls the event loop. Small enough that the
// first slices, which run before the JIT has optimized the loop, stay within the budget too.
const SWEEP_SLICE = 200
const SWEEP_BUDGET_MS = 1
const SHARDS = 64 // a power of two

/**
 * The default store: sessions in a Map in this process, kept as JSON. Unlike express-session's
 * MemoryStore it sweeps expired sessions on an unref'd timer, can be bounded with least-recently-used
 * eviction, and gives sessions without an expiry a TTL, so it does not grow without bound.
 * For one process only: sessions are lost on restart and not shared between processes.
 */
export class MemoryStore extends Store implements ConditionalStore {
  // An unbounded store spreads its sessions over several Maps. When a sweep has deleted most of a
  // Map's entries, V8 shrinks it in one go, copying every entry left; with a million sessions in one
  // Map that single delete blocks the loop for tens of milliseconds, with SHARDS Maps a fraction of
  // it. A bounded store keeps one Map, because its eviction needs one least-recently-used order and
  // its size is bounded anyway.
  readonly #shards: Map<string, Entry>[]
  readonly #max: number
  readonly #ttl: number
  #timer: NodeJS.Timeout | undefined
  #sweeping = false
  // Store-wide, so that a version never repeats for an id, not even after a destroy and a new set.
  #lastVersion = 0

  constructor(options: MemoryStoreOptions = {}) {
    super()
    const checkPeriod = options.checkPeriod ?? 60_000
    this.#max = options.max ?? Infinity
    this.#ttl = options.ttl ?? 86_400_000
    if (!(checkPeriod >= 0)) throw new TypeError('MemoryStore: checkPeriod must be a number of milliseconds, 0 or more')
    if (!(this.#max >= 1)) throw new TypeError('MemoryStore: max must be a number of sessions, 1 or more')
    if (!(this.#ttl > 0)) throw new TypeError('MemoryStore: ttl must be a number of milliseconds, more than 0')
    this.#shards = Array.from({ length: this.#max === Infinity ? SHARDS : 1 }, () => new Map<string, Entry>())
    if (checkPeriod > 0) {
      this.#timer = setInterval(() => this.sweep(), checkPeriod)
      this.#timer.unref()
    }
  }

  override get(sid: string, callback: StoreCallback<SessionRecord | null>): void {
    const entry = this.#live(sid)
    if (entry === undefined) return defer(callback, null, null)
    this.#used(sid, entry)
    defer(callback, null, recordOf(entry))
  }

  override set(sid: string, session: SessionRecord, callback: StoreCallback = noop): void {
    let entry: Entry
    try {
      entry = entryOf(this.#expiryOf(session), ++this.#lastVersion, session)
    } catch (err) {
      return defer(callback, err)
    }
    this.#used(sid, entry)
    const only = this.#shards[0] as Map<string, Entry>
    if (only.size > this.#max) only.delete(only.keys().next().value as string)
    defer(callback, null)
  }

  override touch(sid: string, session: SessionRecord, callback: StoreCallback = noop): void {
    const entry = this.#live(sid)
    if (entry !== undefined) {
      try {
        this.#used(sid, touched(entry, this.#expiryOf(session), session.cookie))
      } catch (err) {
        return defer(callback, err)
      }
    }
    defer(callback, null)
  }

  override destroy(sid: string, callback: StoreCallback = noop): void {
    this.#shard(sid).delete(sid)
    defer(callback, null)
  }

  /** Every live session, keyed by id, as express-session's MemoryStore gives them. */
  override all(callback: StoreCallback<Record<string, SessionRecord>>): void {
    const result: Record<string, SessionRecord> = Object.create(null) as Record<string, SessionRecord>
    const now = Date.now()
    for (const shard of this.#shards) {
      for (const [sid, entry] of shard) if (expiryOf(entry) > now) result[sid] = recordOf(entry)
    }
    defer(callback, null, result)
  }

  override ids(callback: StoreCallback<string[]>): void {
    const now = Date.now()
    const ids: string[] = []
    for (const shard of this.#shards) for (const [sid, entry] of shard) if (expiryOf(entry) > now) ids.push(sid)
    defer(callback, null, ids)
  }

  override length(callback: StoreCallback<number>): void {
    const now = Date.now()
    let count = 0
    for (const shard of this.#shards) for (const entry of shard.values()) if (expiryOf(entry) > now) count++
    defer(callback, null, count)
  }

  override clear(callback: StoreCallback = noop): void {
    for (const shard of this.#shards) shard.clear()
    defer(callback, null)
  }

  /** See {@link ConditionalStore.getVersioned}: the session and its version, with touch its expiry moved. */
  getVersioned(sid: string, options: { touch: boolean }, callback: StoreCallback<VersionedRecord | null>): void {
    const entry = this.#live(sid)
    if (entry === undefined) return defer(callback, null, null)
    let found: VersionedRecord
    try {
      found = { record: recordOf(entry), version: versionOf(entry) }
      let kept = entry
      if (options?.touch === true) {
        const { cookieExpires, storeExpires } = touchedExpiry(found.record.cookie, Date.now(), this.#ttl)
        if (found.record.cookie) found.record.cookie.expires = cookieExpires === null ? null : new Date(cookieExpires)
        kept = touched(entry, storeExpires, found.record.cookie)
      }
      this.#used(sid, kept)
    } catch (err) {
      return defer(callback, err)
    }
    defer(callback, null, found)
  }

  /** See {@link ConditionalStore.setIfVersion}: set() only while the stored version is `expected`. */
  setIfVersion(sid: string, session: SessionRecord, expected: string | null, callback: StoreCallback<ConditionalWriteOutcome>): void {
    const entry = this.#live(sid)
    if (entry === undefined && expected !== null) return defer(callback, null, { written: false, reason: 'gone' })
    if (entry !== undefined && versionOf(entry) !== expected) {
      let current: VersionedRecord
      try {
        current = { record: recordOf(entry), version: versionOf(entry) }
      } catch (err) {
        return defer(callback, err)
      }
      return defer(callback, null, { written: false, reason: 'changed', current })
    }
    // The class's own set even in a subclass, which takes the next version of the counter.
    const version = String(this.#lastVersion + 1)
    MemoryStore.prototype.set.call(this, sid, session, (err) => (err ? callback(err) : callback(null, { written: true, version })))
  }

  /**
   * Removes expired sessions, a slice at a time, yielding to the event loop between slices.
   * Resolves when the pass is complete; a pass already running is not started twice.
   */
  sweep(): Promise<number> {
    if (this.#sweeping) return Promise.resolve(0)
    this.#sweeping = true
    const shards = this.#shards
    let shardIndex = 0
    // A copy of one shard's keys at a time, walked by index: a Map iterator allocates a [key, value]
    // pair and a result object per entry, a million of each per million sessions, and the collections
    // they caused were among the longest pauses of a sweep.
    let keys = Array.from((shards[0] as Map<string, Entry>).keys())
    let at = 0
    let removed = 0
    return new Promise((resolve) => {
      const slice = (): void => {
        const started = performance.now()
        const now = Date.now()
        for (;;) {
          for (let i = 0; i < SWEEP_SLICE; i++) {
            if (at === keys.length) {
              shardIndex++
              if (shardIndex === shards.length) {
                this.#sweeping = false
                resolve(removed)
                return
              }
              keys = Array.from((shards[shardIndex] as Map<string, Entry>).keys())
              at = 0
              continue
            }
            const sid = keys[at++] as string
            const shard = shards[shardIndex] as Map<string, Entry>
            // Gone or replaced since the copy was taken: judge what the Map holds now.
            const entry = shard.get(sid)
            if (entry !== undefined && expiryOf(entry) <= now) {
              shard.delete(sid)
              removed++
            }
          }
          if (performance.now() - started > SWEEP_BUDGET_MS) break
        }
        setImmediate(slice)
      }
      slice()
    })
  }

  /** Stops the sweep timer; the store keeps working but no longer sweeps on its own. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /**
   * Stores an entry as the most recently used. Only a bounded store needs that order: V8 makes
   * delete-then-set of a key cost time in proportion to the Map's size (about 50 µs a call with 20,000
   * sessions), so an unbounded store updates the entry where it is.
   */
  #used(sid: string, entry: Entry): void {
    const shard = this.#shard(sid)
    if (this.#max !== Infinity) shard.delete(sid)
    shard.set(sid, entry)
  }

  #live(sid: string): Entry | undefined {
    const shard = this.#shard(sid)
    const entry = shard.get(sid)
    if (entry === undefined) return undefined
    if (expiryOf(entry) <= Date.now()) {
      shard.delete(sid)
      return undefined
    }
    return entry
  }

  #shard(sid: string): Map<string, Entry> {
    const shards = this.#shards
    if (shards.length === 1) return shards[0] as Map<string, Entry>
    // Ids are random by default; mixing two characters and the length also spreads counters.
    const length = sid.length
    const mix = length === 0 ? 0 : sid.charCodeAt(length - 1) * 31 + sid.charCodeAt(length >> 1) + length
    return shards[mix & (SHARDS - 1)] as Map<string, Entry>
  }

  #expiryOf(session: SessionRecord): number {
    const expires = session.cookie?.expires
    if (expires === undefined || expires === null) return Date.now() + this.#ttl
    const time = new Date(expires).getTime()
    return Number.isNaN(time) ? Date.now() + this.#ttl : time
  }
}

/** When an entry expires: the number between its opening `[` and the first comma. */
function expiryOf(entry: Entry): number {
  // Read the digits in place: the sweeper calls this for every session, and a substring per call
  // would be garbage by the million.
  let time = 0
  for (let i = 1; i < entry.length; i++) {
    const code = entry.charCodeAt(i)
    if (code >= 48 && code <= 57) time = time * 10 + (code - 48)
    else if (code === 44 && i > 1) return time
    else break
  }
  // Not a whole number: a fractional expiry (a fractional ttl), or null for an infinite one.
  const parsed = Number(entry.slice(1, entry.indexOf(',')))
  return Number.isNaN(parsed) ? Infinity : parsed
}

/** The entry's version: the digits between its first two commas. */
function versionOf(entry: Entry): string {
  const first = entry.indexOf(',')
  return entry.slice(first + 1, entry.indexOf(',', first + 1))
}

/** The entry for a session: its data, then its cookie, so that the cookie is the last key. */
function entryOf(expiresAt: number, version: number, session: SessionRecord): Entry {
  const { cookie, ...data } = session as SessionRecord & Record<string, unknown>
  const cookieRecord = cookieRecordOf(cookie)
  if (cookieRecord !== undefined) data['cookie'] = cookieRecord
  // One JSON.stringify: a flat string. Pieces joined with `+` would be kept as a tree of strings
  // (V8's cons strings), which costs ~150 bytes more heap per stored session.
  return JSON.stringify([expiresAt, version, data])
}

/**
 * The entry with a new expiry and cookie and the same data. When the stored cookie can be found as
 * the last key, the data's JSON is kept as text; otherwise the entry is parsed and written anew.
 */
function touched(entry: Entry, expiresAt: number, cookie: SessionRecord['cookie']): Entry {
  const cookieJson = JSON.stringify(cookieRecordOf(cookie)) as string | undefined
  const at = cookieAt(entry)
  if (at === -1 || cookieJson === undefined) {
    const [, version, stored] = JSON.parse(entry) as [number, number, SessionRecord]
    return entryOf(expiresAt, version, { ...stored, cookie })
  }
  return flat(`[${expiresAt}${entry.slice(entry.indexOf(','), at)}"cookie":${cookieJson}}]`)
}

/**
 * The same text as one flat string. V8 keeps a string joined from pieces as a tree of them (a cons
 * string, here holding a slice of the old entry) until something reads its characters; reading one
 * makes V8 flatten it in place, and the garbage collector then drops the tree.
 */
function flat(text: string): string {
  text.charCodeAt(0)
  return text
}

/**
 * The cookie as the store keeps it, with its expiry as milliseconds since the epoch: a Date in JSON is
 * an ISO string, which costs more to write and to read back than the rest of the cookie (get() gives a
 * Date again). Undefined for a record without a cookie.
 */
function cookieRecordOf(cookie: unknown): unknown {
  if (cookie === null || typeof cookie !== 'object') return cookie
  // A Cookie's toJSON() builds a fresh object; anything else is copied before its expiry is replaced.
  const record = (cookie instanceof Cookie ? cookie.toJSON() : { ...cookie }) as Record<string, unknown>
  if (record['expires'] instanceof Date) record['expires'] = record['expires'].getTime()
  return record
}

const COOKIE_KEY = '"cookie":'

/**
 * Where the stored cookie's `"cookie":` key starts, or -1 when it cannot be told for sure. The key can
 * sit inside the data too (a nested object, never a string: inside a JSON string every quote is
 * escaped), so the last one counts only if its value is a flat object, `{` then no brace until the
 * `}` that the session's own closing `}]` follows: then that value belongs to the session object itself.
 * A cookie whose strings hold a brace takes the slower path; it is never misread.
 */
function cookieAt(entry: Entry): number {
  const end = entry.length - 3 // where a last value's closing brace sits: `...}}]`
  if (entry.charCodeAt(end) !== 125 || !entry.endsWith('}]')) return -1
  let at = entry.lastIndexOf(',' + COOKIE_KEY)
  if (at !== -1) at += 1
  else {
    at = entry.indexOf(',', entry.indexOf(',') + 1) + 2 // `[expiresAt,version,{"cookie":` when the data is empty
    if (!entry.startsWith(COOKIE_KEY, at) || entry.charCodeAt(at - 1) !== 123) return -1
  }
  const value = at + COOKIE_KEY.length
  if (entry.charCodeAt(value) !== 123) return -1
  if (entry.indexOf('{', value + 1) !== -1 || entry.indexOf('}', value + 1) !== end) return -1
  return at
}

function recordOf(entry: Entry): SessionRecord {
  return reviveDates((JSON.parse(entry) as [number, number, SessionRecord])[2])
}

function reviveDates(record: SessionRecord): SessionRecord {
  const cookie = record.cookie
  if (cookie && (typeof cookie.expires === 'string' || typeof cookie.expires === 'number')) cookie.expires = new Date(cookie.expires)
  return record
}

function noop(): void {}

// Store callbacks are asynchronous, as they would be for any networked store, so that code written
// against this store does not come to rely on synchronous completion.
function defer<T>(callback: StoreCallback<T>, err: unknown, result?: T): void {
  process.nextTick(callback, err, result)
}
