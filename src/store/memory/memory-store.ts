import type { ConditionalStore, ConditionalWriteOutcome, ImmediateCalls, ImmediateStore, InProcessStore, VersionedRecord } from '../capabilities.js'
import { entryOf, recordOf, splitCookie, type Entry } from './entry.js'
import { SegmentedLru } from './lru.js'
import { Store, type SessionRecord, type StoreCallback } from '../store.js'
import { touchedExpiry } from '../touch-expiry.js'

/** Options of the in-memory store. */
export interface MemoryStoreOptions {
  /** How often, in milliseconds, expired sessions are swept out. Default 60000; 0 turns sweeping off. */
  checkPeriod?: number
  /**
   * The most sessions kept. Past it, one is evicted: the least recently used of the new sessions (not
   * read back by a later request) first, so that a flood of new sessions cannot evict sessions in use.
   * Sessions read back take at most 80% of `max`. Default: no bound.
   */
  max?: number
  /** Lifetime, in milliseconds, of sessions whose cookie has no expiry (browser-session cookies). Default one day. */
  ttl?: number
}

// Where the sessions are kept: each session in a numbered slot of a few parallel arrays, and an index
// from session id to slot.
// - `#data[slot]`, `#cookies[slot]`, `#cookieExpires[slot]`: the session as memory-entry.ts keeps it:
//   the app's data as JSON text, the cookie's attributes as text shared between sessions, and the
//   cookie's expiry. Text, not the object, so that what a request changes in `req.session` never
//   reaches the store before `save()`; the cookie apart, so that a touch moves a number.
// - `#expires[slot]`: when it expires, in a Float64Array: the sweeper reads it for every session, and
//   an unboxed number in a flat array costs it neither a parse nor a cache miss per session.
// - `#versions[slot]`: its version (ConditionalStore), from a store-wide counter, so that a version
//   never repeats for an id, not even after a destroy and a new set; a touch keeps it.
// - `#ids[slot]`: its id, to find its index entry again from the slot (sweeping, eviction).
// - `#lru` (a store with `max` only): the eviction order of the slots (memory-lru.ts).
// Freed slots are reused; the arrays keep the length of the most sessions held at once (some 30 bytes
// a slot) until clear(). The index is split over several Maps because V8 grows or shrinks a Map by
// copying every entry in one go; with a million sessions in one Map that copy blocks the event loop
// for tens of milliseconds, with SHARDS Maps a fraction of it.
type Slot = number

const NONE = -1
const SHARDS = 64 // a power of two
const FIRST_CAPACITY = 64

// Sweep in steps of this many slots and yield to the event loop once a slice of steps took longer
// than the budget, so sweeping a million expired sessions never stalls the event loop. Small: the
// first steps run before the JIT has compiled the loop, at some 20 µs a session removed (measured);
// 1,000 slots a step made the first slice of a sweep block for up to 22 ms.
const SWEEP_STEP = 64
const SWEEP_BUDGET_MS = 1

/**
 * The default store: sessions in this process, kept as JSON. Unlike express-session's MemoryStore it
 * sweeps expired sessions on an unref'd timer, can be bounded (evicting new sessions before those in
 * use), and gives sessions without an expiry a TTL, so it does not grow without bound.
 * For one process only: sessions are lost on restart and not shared between processes.
 * Its methods answer on a later tick, as a networked store's do, so that apps do not come to rely on
 * synchronous answers; sessionkit's own calls go through {@link immediate}, which answers at once.
 */
export class MemoryStore extends Store implements ConditionalStore, ImmediateStore, InProcessStore {
  readonly #index: Map<string, Slot>[] = Array.from({ length: SHARDS }, () => new Map<string, Slot>())
  #ids: (string | undefined)[] = []
  #data: (string | undefined)[] = []
  #cookies: (string | undefined)[] = []
  #cookieExpires = new Float64Array(FIRST_CAPACITY)
  #expires = new Float64Array(FIRST_CAPACITY)
  #versions = new Float64Array(FIRST_CAPACITY)
  #lastVersion = 0
  #lru: SegmentedLru | undefined
  #free = new Int32Array(FIRST_CAPACITY)
  #freeCount = 0
  #size = 0
  readonly #max: number
  readonly #ttl: number
  #timer: NodeJS.Timeout | undefined
  #sweeping = false
  #immediate: ImmediateCalls | undefined
  /** Its sessions live in this process only (see {@link InProcessStore}). */
  readonly inProcess = true as const

  constructor(options: MemoryStoreOptions = {}) {
    super()
    const checkPeriod = options.checkPeriod ?? 60_000
    this.#max = options.max ?? Infinity
    this.#ttl = options.ttl ?? 86_400_000
    if (!(checkPeriod >= 0)) throw new TypeError('MemoryStore: checkPeriod must be a number of milliseconds, 0 or more')
    if (!(this.#max >= 1)) throw new TypeError('MemoryStore: max must be a number of sessions, 1 or more')
    if (!(this.#ttl > 0)) throw new TypeError('MemoryStore: ttl must be a number of milliseconds, more than 0')
    if (this.#max !== Infinity) this.#lru = new SegmentedLru(FIRST_CAPACITY, this.#max)
    if (checkPeriod > 0) {
      this.#timer = setInterval(() => this.sweep(), checkPeriod)
      this.#timer.unref()
    }
  }

  override get(sid: string, callback: StoreCallback<SessionRecord | null>): void {
    this.#get(sid, callback, false)
  }

  override set(sid: string, session: SessionRecord, callback: StoreCallback = noop): void {
    this.#set(sid, session, callback, false, undefined)
  }

  override touch(sid: string, session: SessionRecord, callback: StoreCallback = noop): void {
    this.#touch(sid, session, callback, false)
  }

  /** See {@link ConditionalStore.getVersioned}: the session and its version, with touch its expiry moved. */
  getVersioned(sid: string, options: { touch: boolean }, callback: StoreCallback<VersionedRecord | null>): void {
    this.#getVersioned(sid, options, callback, false)
  }

  /** See {@link ConditionalStore.setIfVersion}: set() only while the stored version is `expected`. */
  setIfVersion(sid: string, session: SessionRecord, expected: string | null, callback: StoreCallback<ConditionalWriteOutcome>): void {
    this.#setIfVersion(sid, session, expected, callback, false, undefined)
  }

  override destroy(sid: string, callback: StoreCallback = noop): void {
    this.#destroy(sid, callback, false)
  }

  /** sessionkit's calls, answered before they return (see {@link ImmediateStore}); the data JSON it hands `set` and `setIfVersion` is kept as it is. */
  get immediate(): ImmediateCalls {
    return (this.#immediate ??= {
      get: (sid, callback) => this.#get(sid, callback, true),
      set: (sid, session, callback, dataJson) => this.#set(sid, session, callback, true, dataJson),
      touch: (sid, session, callback) => this.#touch(sid, session, callback, true),
      getVersioned: (sid, options, callback) => this.#getVersioned(sid, options, callback, true),
      setIfVersion: (sid, session, expected, callback, dataJson) => this.#setIfVersion(sid, session, expected, callback, true, dataJson),
      destroy: (sid, callback) => this.#destroy(sid, callback, true),
    })
  }

  #get(sid: string, callback: StoreCallback<SessionRecord | null>, now: boolean): void {
    const slot = this.#live(sid)
    if (slot === NONE) return answer(now, callback, null, null)
    this.#lru?.read(slot)
    answer(now, callback, null, this.#recordAt(slot))
  }

  #set(sid: string, session: SessionRecord, callback: StoreCallback, now: boolean, dataJson: string | undefined): void {
    let entry: Entry
    try {
      entry = entryOf(session, dataJson)
    } catch (err) {
      return answer(now, callback, err)
    }
    this.#write(sid, entry, this.#expiryOf(session))
    answer(now, callback, null)
  }

  #touch(sid: string, session: SessionRecord, callback: StoreCallback, now: boolean): void {
    const slot = this.#live(sid)
    if (slot !== NONE) {
      const split = splitCookie(session.cookie)
      try {
        if (split === undefined || this.#cookies[slot] === undefined) {
          // A cookie that does not fit beside the data, or data kept as a whole record: the record is rewritten.
          const entry = entryOf({ ...this.#recordAt(slot), cookie: session.cookie })
          this.#data[slot] = entry.data
          this.#cookies[slot] = entry.cookie
          this.#cookieExpires[slot] = entry.expires
        } else {
          this.#cookies[slot] = split.attributes
          this.#cookieExpires[slot] = split.expires
        }
      } catch (err) {
        return answer(now, callback, err)
      }
      this.#expires[slot] = this.#expiryOf(session)
      this.#lru?.used(slot)
    }
    answer(now, callback, null)
  }

  #getVersioned(sid: string, options: { touch: boolean }, callback: StoreCallback<VersionedRecord | null>, now: boolean): void {
    const slot = this.#live(sid)
    if (slot === NONE) return answer(now, callback, null, null)
    let found: VersionedRecord
    try {
      found = { record: this.#recordAt(slot), version: String(this.#versions[slot]) }
      if (options?.touch === true && found.record.cookie) {
        const { cookieExpires, storeExpires } = touchedExpiry(found.record.cookie, Date.now(), this.#ttl)
        found.record.cookie.expires = cookieExpires === null ? null : new Date(cookieExpires)
        if (this.#cookies[slot] !== undefined) this.#cookieExpires[slot] = cookieExpires === null ? NaN : cookieExpires
        else this.#data[slot] = entryOf(found.record).data
        this.#expires[slot] = storeExpires
      }
    } catch (err) {
      return answer(now, callback, err)
    }
    this.#lru?.read(slot)
    answer(now, callback, null, found)
  }

  #setIfVersion(sid: string, session: SessionRecord, expected: string | null, callback: StoreCallback<ConditionalWriteOutcome>, now: boolean, dataJson: string | undefined): void {
    const slot = this.#live(sid)
    if (slot === NONE && expected !== null) return answer(now, callback, null, { written: false, reason: 'gone' })
    if (slot !== NONE && String(this.#versions[slot]) !== expected) {
      let current: VersionedRecord
      try {
        current = { record: this.#recordAt(slot), version: String(this.#versions[slot]) }
      } catch (err) {
        return answer(now, callback, err)
      }
      return answer(now, callback, null, { written: false, reason: 'changed', current })
    }
    let entry: Entry
    try {
      entry = entryOf(session, dataJson)
    } catch (err) {
      return answer(now, callback, err)
    }
    const version = this.#write(sid, entry, this.#expiryOf(session))
    answer(now, callback, null, { written: true, version: String(version) })
  }

  #destroy(sid: string, callback: StoreCallback, now: boolean): void {
    const slot = this.#shard(sid).get(sid)
    if (slot !== undefined) this.#remove(slot)
    answer(now, callback, null)
  }

  /** Every live session, keyed by id, as express-session's MemoryStore gives them. */
  override all(callback: StoreCallback<Record<string, SessionRecord>>): void {
    const result: Record<string, SessionRecord> = Object.create(null) as Record<string, SessionRecord>
    this.#eachLive((sid, slot) => (result[sid] = this.#recordAt(slot)))
    answer(false, callback, null, result)
  }

  override ids(callback: StoreCallback<string[]>): void {
    const ids: string[] = []
    this.#eachLive((sid) => ids.push(sid))
    answer(false, callback, null, ids)
  }

  override length(callback: StoreCallback<number>): void {
    let count = 0
    this.#eachLive(() => count++)
    answer(false, callback, null, count)
  }

  override clear(callback: StoreCallback = noop): void {
    for (const shard of this.#index) shard.clear()
    this.#ids = []
    this.#data = []
    this.#cookies = []
    this.#cookieExpires = new Float64Array(FIRST_CAPACITY)
    this.#expires = new Float64Array(FIRST_CAPACITY)
    this.#versions = new Float64Array(FIRST_CAPACITY)
    this.#free = new Int32Array(FIRST_CAPACITY)
    this.#freeCount = 0
    this.#size = 0
    if (this.#lru !== undefined) this.#lru = new SegmentedLru(FIRST_CAPACITY, this.#max)
    answer(false, callback, null)
  }

  /**
   * Removes expired sessions, a slice at a time, yielding to the event loop between slices.
   * Resolves when the pass is complete; a pass already running is not started twice.
   */
  sweep(): Promise<number> {
    if (this.#sweeping) return Promise.resolve(0)
    this.#sweeping = true
    let slot = 0
    let removed = 0
    return new Promise((resolve) => {
      const slice = (): void => {
        const started = performance.now()
        const now = Date.now()
        // Slots freed, reused or dropped by clear() meanwhile are judged by what they hold now.
        for (;;) {
          const end = Math.min(slot + SWEEP_STEP, this.#ids.length)
          for (; slot < end; slot++) {
            if ((this.#expires[slot] as number) <= now && this.#ids[slot] !== undefined) {
              this.#remove(slot)
              removed++
            }
          }
          if (slot >= this.#ids.length) {
            this.#sweeping = false
            resolve(removed)
            return
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

  /** The session in `slot`, as a fresh record. */
  #recordAt(slot: Slot): SessionRecord {
    return recordOf(this.#data[slot] as string, this.#cookies[slot], this.#cookieExpires[slot] as number)
  }

  /** The slot of a session that has not expired, or NONE; an expired one found on the way is removed. */
  #live(sid: string): Slot {
    const slot = this.#shard(sid).get(sid)
    if (slot === undefined) return NONE
    if ((this.#expires[slot] as number) <= Date.now()) {
      this.#remove(slot)
      return NONE
    }
    return slot
  }

  /** Stores a session's data and expiry, as recently used, under a new version; evicts past `max`. */
  #write(sid: string, entry: Entry, expiresAt: number): number {
    const shard = this.#shard(sid)
    let slot = shard.get(sid)
    if (slot === undefined) {
      slot = this.#allocate()
      shard.set(sid, slot)
      this.#ids[slot] = sid
      this.#size++
      this.#lru?.added(slot)
    } else {
      this.#lru?.used(slot)
    }
    this.#data[slot] = entry.data
    this.#cookies[slot] = entry.cookie
    this.#cookieExpires[slot] = entry.expires
    this.#expires[slot] = expiresAt
    const version = ++this.#lastVersion
    this.#versions[slot] = version
    while (this.#size > this.#max && this.#lru !== undefined) this.#remove(this.#lru.victim)
    return version
  }

  #remove(slot: Slot): void {
    this.#shard(this.#ids[slot] as string).delete(this.#ids[slot] as string)
    this.#ids[slot] = undefined
    this.#data[slot] = undefined
    this.#cookies[slot] = undefined
    this.#size--
    this.#lru?.removed(slot)
    this.#free[this.#freeCount++] = slot
  }

  #allocate(): Slot {
    if (this.#freeCount > 0) return this.#free[--this.#freeCount] as Slot
    const slot = this.#ids.length
    if (slot === this.#expires.length) {
      const capacity = slot * 2
      this.#expires = grown(this.#expires, new Float64Array(capacity))
      this.#cookieExpires = grown(this.#cookieExpires, new Float64Array(capacity))
      this.#versions = grown(this.#versions, new Float64Array(capacity))
      this.#free = grown(this.#free, new Int32Array(capacity))
      this.#lru?.grow(capacity)
    }
    // Pushed, so that the arrays stay packed and V8 grows them itself.
    this.#ids.push(undefined)
    this.#data.push(undefined)
    this.#cookies.push(undefined)
    return slot
  }

  #eachLive(visit: (sid: string, slot: Slot) => void): void {
    const now = Date.now()
    const ids = this.#ids
    for (let slot = 0; slot < ids.length; slot++) {
      const sid = ids[slot]
      if (sid !== undefined && (this.#expires[slot] as number) > now) visit(sid, slot)
    }
  }

  #shard(sid: string): Map<string, Slot> {
    // Ids are random by default; mixing two characters and the length also spreads counters.
    const length = sid.length
    const mix = length === 0 ? 0 : sid.charCodeAt(length - 1) * 31 + sid.charCodeAt(length >> 1) + length
    return this.#index[mix & (SHARDS - 1)] as Map<string, Slot>
  }

  #expiryOf(session: SessionRecord): number {
    const expires = session.cookie?.expires
    if (expires === undefined || expires === null) return Date.now() + this.#ttl
    const time = new Date(expires).getTime()
    return Number.isNaN(time) ? Date.now() + this.#ttl : time
  }
}

function grown<T extends Float64Array | Int32Array>(from: T, to: T): T {
  to.set(from)
  return to
}

function noop(): void {}

/** Answers a callback: before returning for sessionkit's calls (`now`), else on the next tick, as a networked store would. */
function answer<T>(now: boolean, callback: StoreCallback<T>, err: unknown, result?: T): void {
  if (now) callback(err, result)
  else process.nextTick(callback, err, result)
}
