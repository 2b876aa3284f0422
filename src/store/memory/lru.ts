/**
 * The eviction order of MemoryStore's slots, for a store with `max`: a segmented least-recently-used
 * order. A new session enters the probation segment; a read of a session already held (the load of a
 * later request) moves it to the protected segment. Eviction takes the least recently used session of
 * probation, so a stream of sessions that are never read again (a flood of one-request sessions) only
 * ever evicts its own kind, however long it lasts, while a user who is idle between two pages keeps
 * their session. (A plain LRU order evicted every session idle for as long as the flood took to fill
 * the store.)
 *
 * Protected holds at most PROTECTED_SHARE of `max`: past it, its least recently used session goes
 * back to the front of probation, where it is evicted only after every newer one-request session.
 * So new sessions always have room, and the bound is `max` whatever the traffic; what can still evict
 * a protected session is more sessions read again since its own last use than that share holds.
 *
 * Both segments are doubly linked lists over the same two Int32Arrays, with a byte per slot for its
 * segment, so that every move and every eviction is constant time. (A Map's insertion order did this
 * before the lists, with eviction by a fresh keys() iterator, which walks every slot deleted since the
 * Map last rehashed: eviction grew slower with every eviction, to 60 times an insert at max
 * 1,000,000: bench/memory.mjs evict.) @internal
 */
export class SegmentedLru {
  #older: Int32Array
  #newer: Int32Array
  #segment: Uint8Array
  /** Per segment (PROBATION, PROTECTED): its most recently used slot, or -1. */
  readonly #newest = Int32Array.of(-1, -1)
  /** Per segment: its least recently used slot, or -1. */
  readonly #oldest = Int32Array.of(-1, -1)
  #protectedCount = 0
  readonly #protectedMax: number

  constructor(capacity: number, max: number) {
    this.#older = new Int32Array(capacity)
    this.#newer = new Int32Array(capacity)
    this.#segment = new Uint8Array(capacity)
    this.#protectedMax = Math.floor(max * PROTECTED_SHARE)
  }

  /** Makes room for slots up to `capacity`, keeping the order. */
  grow(capacity: number): void {
    this.#older = grown(this.#older, new Int32Array(capacity))
    this.#newer = grown(this.#newer, new Int32Array(capacity))
    this.#segment = grown(this.#segment, new Uint8Array(capacity))
  }

  /** The slot to evict next: probation's least recently used, or protected's when probation is empty. */
  get victim(): number {
    const oldest = this.#oldest[PROBATION] as number
    return oldest !== -1 ? oldest : (this.#oldest[PROTECTED] as number)
  }

  /** Adds a new session's slot, as probation's most recently used. */
  added(slot: number): void {
    this.#link(slot, PROBATION)
  }

  /** A write or touch of a slot held: the most recently used of its own segment (a write does not protect). */
  used(slot: number): void {
    const segment = this.#segment[slot] as number
    if (slot === this.#newest[segment]) return
    this.#unlink(slot)
    this.#link(slot, segment)
  }

  /** A read of a slot held: the most recently used protected slot; protected's oldest may go back to probation. */
  read(slot: number): void {
    if (this.#segment[slot] === PROTECTED) return this.used(slot)
    this.#unlink(slot)
    this.#link(slot, PROTECTED)
    if (this.#protectedCount > this.#protectedMax) {
      const demoted = this.#oldest[PROTECTED] as number
      this.#unlink(demoted)
      this.#link(demoted, PROBATION)
    }
  }

  /** Removes a slot from the order (destroyed, expired or evicted). */
  removed(slot: number): void {
    this.#unlink(slot)
  }

  #link(slot: number, segment: number): void {
    const newest = this.#newest[segment] as number
    this.#segment[slot] = segment
    this.#older[slot] = newest
    this.#newer[slot] = -1
    if (newest === -1) this.#oldest[segment] = slot
    else this.#newer[newest] = slot
    this.#newest[segment] = slot
    if (segment === PROTECTED) this.#protectedCount++
  }

  #unlink(slot: number): void {
    const segment = this.#segment[slot] as number
    const before = this.#older[slot] as number
    const after = this.#newer[slot] as number
    if (before === -1) this.#oldest[segment] = after
    else this.#newer[before] = after
    if (after === -1) this.#newest[segment] = before
    else this.#older[after] = before
    if (segment === PROTECTED) this.#protectedCount--
  }
}

const PROBATION = 0
const PROTECTED = 1

/**
 * The share of `max` that sessions read again may take. 80%, the split of segmented LRU caches in
 * common use: it leaves new sessions a fifth of the store, which at the rate of a flood that fills the
 * whole store in seconds is still time enough for a real visitor's next request (the page after the
 * login) to come and protect the session.
 */
const PROTECTED_SHARE = 0.8

function grown<T extends Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from)
  return to
}
