import type { SessionRecord, SessionStore } from './store.js'

/** How a write reports its end: an error, or its result. */
export type WriteDone<T> = (err: unknown, result?: T) => void

/**
 * What one process knows about the writes of one store, per session id: they run one after another in
 * the order they were asked for, and a session destroyed here is never written back by a request that
 * loaded it before the destroy. That holds with any store, third-party ones included, whose API is only
 * get/set/destroy; across processes it takes a store with conditional writes (see capabilities.ts).
 * @internal
 */
export class SessionWrites {
  /**
   * The ids with a write running, each with the writes waiting behind it, in the order they were asked
   * for. Callbacks rather than a chain of Promises: a store that answers at once (the MemoryStore)
   * completes the write in the same turn, and the response need not be held for it.
   */
  readonly #queues = new Map<string, (() => void)[] | null>()
  /**
   * When each recent destroy finished (performance.now()); Infinity while it runs. Bounded: the oldest
   * go first, and only requests that loaded the session before the destroy need the entry.
   */
  readonly #destroyed = new Map<string, number>()
  readonly #limit: number
  /**
   * The last versioned write of each id while more of its writes are queued: the next one starts from
   * it rather than from the older version its request read, which would fail for certain.
   */
  readonly #written = new Map<string, { version: string; json: string; cookie: SessionRecord['cookie']; at: number }>()

  /** When this process last moved each session's expiry (Date.now()), for `touchAfter`; bounded like #destroyed. */
  readonly #moved = new Map<string, number>()

  constructor(limit = 10_000) {
    this.#limit = limit
  }

  /** Runs `write` after the writes of `sid` asked for before it; `since` is when it was asked for. */
  run<T>(sid: string, write: (since: number, done: WriteDone<T>) => void, done: WriteDone<T>): void {
    const since = performance.now()
    const start = (): void => {
      let finished = false
      const finish: WriteDone<T> = (err, result) => {
        if (finished) return
        finished = true
        this.#startNext(sid)
        done(err, result)
      }
      try {
        write(since, finish)
      } catch (err) {
        finish(err)
      }
    }
    // null: a write runs and none waits, so a lone save allocates no queue.
    const queue = this.#queues.get(sid)
    if (queue === undefined) {
      this.#queues.set(sid, null)
      start()
    } else if (queue === null) {
      this.#queues.set(sid, [start])
    } else {
      queue.push(start)
    }
  }

  /** A write of `sid` ended: the next one waiting starts, or `sid` has nothing queued any more. */
  #startNext(sid: string): void {
    const following = this.#queues.get(sid)?.shift()
    if (following !== undefined) return following()
    this.#queues.delete(sid)
    this.#written.delete(sid)
  }

  /**
   * Remembers what this process wrote last under `sid` (the data as JSON, and the cookie), for the
   * writes queued behind it; only while some are, so a lone save pays nothing for it.
   */
  wrote(sid: string, version: string, json: () => string, cookie: SessionRecord['cookie']): void {
    // A queue (an array) once a write waited behind another, until the last of them ends.
    if (!Array.isArray(this.#queues.get(sid))) return
    this.#written.set(sid, { version, json: json(), cookie, at: performance.now() })
  }

  /** What this process wrote last under `sid` after `since`, if its writes are still queued. */
  writtenSince(sid: string, since: number): { version: string; record: SessionRecord } | undefined {
    const last = this.#written.get(sid)
    if (last === undefined || last.at <= since) return undefined
    return { version: last.version, record: { ...(JSON.parse(last.json) as Record<string, unknown>), cookie: last.cookie } as SessionRecord }
  }

  /** Destroys `sid` through `destroy`, in order with its other writes; from now on it counts as destroyed. */
  destroy(sid: string, destroy: (since: number, done: WriteDone<void>) => void, done: WriteDone<void>): void {
    this.#mark(sid, Infinity)
    this.run(sid, destroy, (err) => {
      this.#mark(sid, performance.now())
      done(err)
    })
  }

  /** Whether `sid` was destroyed in this process after `loadedAt` (or is being destroyed now). */
  destroyedSince(sid: string, loadedAt: number): boolean {
    const at = this.#destroyed.get(sid)
    return at !== undefined && at >= loadedAt
  }

  /** Remembers that this process moved `sid`'s expiry now. */
  moved(sid: string): void {
    this.#moved.delete(sid)
    this.#moved.set(sid, Date.now())
    if (this.#moved.size > this.#limit) {
      const oldest = this.#moved.keys().next().value
      if (oldest !== undefined) this.#moved.delete(oldest)
    }
  }

  /** When this process last moved `sid`'s expiry (Date.now()), or 0. */
  movedAt(sid: string): number {
    return this.#moved.get(sid) ?? 0
  }

  #mark(sid: string, at: number): void {
    this.#destroyed.delete(sid)
    this.#destroyed.set(sid, at)
    if (this.#destroyed.size > this.#limit) {
      const oldest = this.#destroyed.keys().next().value
      if (oldest !== undefined) this.#destroyed.delete(oldest)
    }
  }
}

const byStore = new WeakMap<SessionStore, SessionWrites>()

/** The process's {@link SessionWrites} for `store`, shared by every middleware that uses it. @internal */
export function writesOf(store: SessionStore): SessionWrites {
  let writes = byStore.get(store)
  if (writes === undefined) byStore.set(store, (writes = new SessionWrites()))
  return writes
}
