import type { SessionRecord, SessionStore } from '../store/store.js'

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
  readonly #state: WriteState
  /**
   * The key each id is known by here: the id itself, or with `hashIds` its store key, so that a
   * request (which knows ids) and `destroySessionsOf` (which knows store keys) share one queue and one
   * record of destroys per stored session.
   */
  readonly #keyOf: (sid: string) => string

  constructor(limit = 10_000, keyOf: (sid: string) => string = (sid) => sid, state: WriteState = newState(limit)) {
    this.#state = state
    this.#keyOf = keyOf
  }

  /** These writes as a store that keeps `sid` under `keyOf(sid)` in this one sees them (see {@link shareWrites}). */
  keyed(keyOf: (sid: string) => string): SessionWrites {
    const outer = this.#keyOf
    return new SessionWrites(this.#state.limit, (sid) => outer(keyOf(sid)), this.#state)
  }

  /** Runs `write` after the writes of `sid` asked for before it, on its own; `since` is when it was asked for. */
  run<T>(sid: string, write: (since: number, done: WriteDone<T>) => void, done: WriteDone<T>): void {
    const key = this.#keyOf(sid)
    enqueue(this.#state, key, alone(this.#state, key, write, done))
  }

  /**
   * Saves `save` of `sid` after the writes asked for before it, with group commit: the saves that wait
   * next to each other behind a write in flight, with the same `through` (one store, one timeout), start
   * as one store write, `write(saves, answer, finish)`, oldest first. While one write is in flight the
   * next one gathers every save asked for meanwhile, so a hot session is written once per store round
   * trip whatever the number of its requests, and each request waits for one write, not for a line.
   */
  save<S extends QueuedSave<T>, T>(sid: string, through: object, save: S, write: GroupWrite<S, T>): void {
    const state = this.#state
    const key = this.#keyOf(sid)
    enqueue(state, key, { joins: through, item: save, start: (saves) => startGroup(state, key, saves as S[], write) })
  }

  /**
   * Remembers what this process wrote last under `sid` (the data as JSON, and the cookie), for the
   * writes queued behind it; only while some are, so a lone save pays nothing for it.
   */
  wrote(sid: string, version: string, json: () => string, cookie: SessionRecord['cookie']): void {
    const key = this.#keyOf(sid)
    // A queue (an array) once a write waited behind another, until the last of them ends.
    if (!Array.isArray(this.#state.queues.get(key))) return
    this.#state.written.set(key, { version, json: json(), cookie, at: performance.now() })
  }

  /** What this process wrote last under `sid` after `since`, if its writes are still queued. */
  writtenSince(sid: string, since: number): { version: string; record: SessionRecord } | undefined {
    const last = this.#state.written.get(this.#keyOf(sid))
    if (last === undefined || last.at <= since) return undefined
    return { version: last.version, record: { ...(JSON.parse(last.json) as Record<string, unknown>), cookie: last.cookie } as SessionRecord }
  }

  /** Destroys `sid` through `destroy`, in order with its other writes; from now on it counts as destroyed. */
  destroy(sid: string, destroy: (since: number, done: WriteDone<void>) => void, done: WriteDone<void>): void {
    const state = this.#state
    const key = this.#keyOf(sid)
    remember(state, state.destroyed, key, Infinity)
    const destroyed: WriteDone<void> = (err) => {
      remember(state, state.destroyed, key, performance.now())
      done(err)
    }
    enqueue(state, key, alone(state, key, destroy, destroyed))
  }

  /** Whether `sid` was destroyed in this process after `loadedAt` (or is being destroyed now). */
  destroyedSince(sid: string, loadedAt: number): boolean {
    const at = this.#state.destroyed.get(this.#keyOf(sid))
    return at !== undefined && at >= loadedAt
  }

  /**
   * Marks a load of `sid` that moves its expiry as started: true when no other is in flight here, so
   * this one does it; false when one is, and the caller loads without (see {@link touchEnded}).
   */
  touchStarted(sid: string): boolean {
    const key = this.#keyOf(sid)
    if (this.#state.touching.has(key)) return false
    this.#state.touching.add(key)
    return true
  }

  /** The load that {@link touchStarted} let move `sid`'s expiry has answered. */
  touchEnded(sid: string): void {
    this.#state.touching.delete(this.#keyOf(sid))
  }

  /** Remembers that this process moved `sid`'s expiry now. */
  moved(sid: string): void {
    remember(this.#state, this.#state.moved, this.#keyOf(sid), Date.now())
  }

  /** When this process last moved `sid`'s expiry (Date.now()), or 0. */
  movedAt(sid: string): number {
    return this.#state.moved.get(this.#keyOf(sid)) ?? 0
  }
}

/** A save waiting in a queue: `done` reports its own outcome. */
export interface QueuedSave<T> {
  readonly done: WriteDone<T>
}

/**
 * One store write that carries one or more saves of a session, oldest first. `answer(save, ...)` answers
 * one of them on its own, before the write (one a destroy won over, one that waited past its timeout);
 * `finish` ends the write: the next write of the session starts, then every save not answered yet gets
 * `finish`'s outcome, so a request is answered when the write that carries its state is.
 */
export type GroupWrite<S extends QueuedSave<T>, T> = (saves: readonly S[], answer: (save: S, err: unknown, result?: T) => void, finish: WriteDone<T>) => void

/** A write waiting in a queue. */
interface Waiting {
  /** Saves with the same (defined) value that wait next to each other start as one; undefined: a write that runs alone. */
  readonly joins: object | undefined
  /** The save, for one that joins others. */
  readonly item: unknown
  /** Starts the write; `items` are the items of the waiting writes that start with it, its own first. */
  readonly start: (items: unknown[]) => void
}

/** What a {@link SessionWrites} and its keyed views share, per store key. */
interface WriteState {
  /**
   * The keys with a write running, each with the writes waiting behind it, in the order they were
   * asked for. Callbacks rather than a chain of Promises: a store that answers at once (the
   * MemoryStore) completes the write in the same turn, and the response need not be held for it.
   */
  readonly queues: Map<string, Waiting[] | null>
  /**
   * When each recent destroy finished (performance.now()); Infinity while it runs. Bounded: the oldest
   * go first, and only requests that loaded the session before the destroy need the entry.
   */
  readonly destroyed: Map<string, number>
  /**
   * The last versioned write of each key while more of its writes are queued: the next one starts from
   * it rather than from the older version its request read, which would fail for certain.
   */
  readonly written: Map<string, { version: string; json: string; cookie: SessionRecord['cookie']; at: number }>
  /**
   * The keys with a load in flight that moves the session's expiry: a load of the same session that
   * starts meanwhile reads only. The expiry moves once for both, at the same moment, and a hot session's
   * loads do not queue behind each other's write (in PostgreSQL, the row lock of each `UPDATE`).
   */
  readonly touching: Set<string>
  /** When this process last moved each session's expiry (Date.now()), for `touchAfter`; bounded like `destroyed`. */
  readonly moved: Map<string, number>
  readonly limit: number
}

function newState(limit: number): WriteState {
  return { queues: new Map(), destroyed: new Map(), written: new Map(), touching: new Set(), moved: new Map(), limit }
}

/** A write that runs on its own (a destroy): it never joins, nor is joined. */
function alone<T>(state: WriteState, key: string, write: (since: number, done: WriteDone<T>) => void, done: WriteDone<T>): Waiting {
  const since = performance.now()
  const start = (): void => {
    let finished = false
    const finish: WriteDone<T> = (err, result) => {
      if (finished) return
      finished = true
      startNext(state, key)
      done(err, result)
    }
    try {
      write(since, finish)
    } catch (err) {
      finish(err)
    }
  }
  return { joins: undefined, item: undefined, start }
}

function enqueue(state: WriteState, key: string, waiting: Waiting): void {
  // null: a write runs and none waits, so a lone save allocates no queue.
  const queue = state.queues.get(key)
  if (queue === undefined) {
    state.queues.set(key, null)
    waiting.start([waiting.item])
  } else if (queue === null) {
    state.queues.set(key, [waiting])
  } else {
    queue.push(waiting)
  }
}

/**
 * A write of `key` ended: the next one waiting starts, together with the saves that wait right behind
 * it and join it, or `key` has nothing queued any more.
 */
function startNext(state: WriteState, key: string): void {
  const queue = state.queues.get(key)
  const head = queue?.[0]
  if (queue === undefined || queue === null || head === undefined) {
    state.queues.delete(key)
    state.written.delete(key)
    return
  }
  let count = 1
  if (head.joins !== undefined) while (count < queue.length && queue[count]?.joins === head.joins) count++
  const items = queue.splice(0, count).map((waiting) => waiting.item)
  head.start(items)
}

/** Runs one group write (see {@link GroupWrite}): each save is answered once, the next write starts first. */
function startGroup<S extends QueuedSave<T>, T>(state: WriteState, key: string, saves: readonly S[], write: GroupWrite<S, T>): void {
  let ended = false
  let answered: Set<S> | undefined
  const answer = (save: S, err: unknown, result?: T): void => {
    if (ended || answered?.has(save) === true) return
    ;(answered ??= new Set()).add(save)
    save.done(err, result)
  }
  const finish: WriteDone<T> = (err, result) => {
    if (ended) return
    ended = true
    startNext(state, key)
    // Every save is answered even if one's callback throws; the first such error is rethrown after.
    let thrown: { error: unknown } | undefined
    for (const save of saves) {
      if (answered?.has(save) === true) continue
      try {
        save.done(err, result)
      } catch (error) {
        thrown ??= { error }
      }
    }
    if (thrown !== undefined) throw thrown.error
  }
  try {
    write(saves, answer, finish)
  } catch (err) {
    finish(err)
  }
}

/** Sets `key` in a bounded map as its newest entry, dropping the oldest past the limit. */
function remember(state: WriteState, map: Map<string, number>, key: string, value: number): void {
  map.delete(key)
  map.set(key, value)
  if (map.size > state.limit) {
    const oldest = map.keys().next().value
    if (oldest !== undefined) map.delete(oldest)
  }
}

const byStore = new WeakMap<SessionStore, SessionWrites>()

/** The process's {@link SessionWrites} for `store`, shared by every middleware that uses it. @internal */
export function writesOf(store: SessionStore): SessionWrites {
  let writes = byStore.get(store)
  if (writes === undefined) byStore.set(store, (writes = new SessionWrites()))
  return writes
}

/**
 * Makes `outer`, a store that keeps each session `sid` in `inner` under `keyOf(sid)`, share `inner`'s
 * writes: a write through `outer` and a destroy of the key in `inner` queue behind each other, and the
 * destroy counts for the write. @internal
 */
export function shareWrites(outer: SessionStore, inner: SessionStore, keyOf: (sid: string) => string): void {
  byStore.set(outer, writesOf(inner).keyed(keyOf))
}
