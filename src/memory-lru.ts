/**
 * The least-recently-used order of MemoryStore's slots, for a store with `max`: a doubly linked list
 * over two Int32Arrays, so that using a session moves it to the front and eviction takes the last one
 * in constant time. (A Map's insertion order did this before, with eviction by a fresh keys() iterator,
 * which walks every slot deleted since the Map last rehashed: eviction grew slower with every eviction,
 * to 60 times an insert at max 1,000,000: bench/memory.mjs evict.) @internal
 */
export class LruOrder {
  #older: Int32Array
  #newer: Int32Array
  /** The most recently used slot, or -1. */
  newest = -1
  /** The least recently used slot, the next to evict, or -1. */
  oldest = -1

  constructor(capacity: number) {
    this.#older = new Int32Array(capacity)
    this.#newer = new Int32Array(capacity)
  }

  /** Makes room for slots up to `capacity`, keeping the order. */
  grow(capacity: number): void {
    this.#older = grown(this.#older, capacity)
    this.#newer = grown(this.#newer, capacity)
  }

  /** Marks a linked slot as the most recently used. */
  used(slot: number): void {
    if (slot === this.newest) return
    this.unlink(slot)
    this.link(slot)
  }

  /** Adds a slot as the most recently used. */
  link(slot: number): void {
    this.#older[slot] = this.newest
    this.#newer[slot] = -1
    if (this.newest === -1) this.oldest = slot
    else this.#newer[this.newest] = slot
    this.newest = slot
  }

  unlink(slot: number): void {
    const before = this.#older[slot] as number
    const after = this.#newer[slot] as number
    if (before === -1) this.oldest = after
    else this.#newer[before] = after
    if (after === -1) this.newest = before
    else this.#older[after] = before
  }
}

function grown(from: Int32Array, capacity: number): Int32Array {
  const to = new Int32Array(capacity)
  to.set(from)
  return to
}
