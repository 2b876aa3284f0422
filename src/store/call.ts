import { immediateCallsFor, type ConditionalStore, type OwnerCappedStore } from './capabilities.js'
import { SessionError } from '../errors.js'
import type { SessionStore, StoreMethodName } from './contract.js'

/** A store method sessionkit calls: the contract's, and the capabilities'. */
export type StoreMethod = StoreMethodName | keyof ConditionalStore | Exclude<keyof OwnerCappedStore, 'indexBy'>

/**
 * Calls one store method and reports its outcome exactly once, however the store completes: through
 * the callback, through a returned Promise, both, synchronously, by throwing, or never (then after
 * `timeoutMs` with a SESSION_STORE_TIMEOUT error; a late answer is ignored). A store is never tested
 * with `instanceof`, so stores built on express-session's own `Store` work unchanged; one that answers
 * inside the call (an `ImmediateStore`) is called through its `immediate` calls.
 */
export function callStore<T>(
  store: SessionStore,
  method: StoreMethod,
  args: unknown[],
  timeoutMs: number,
  done: (err: SessionError | null, result?: T) => void,
  /** When the caller asked for this call (performance.now()), if it waited in a queue first: the timeout counts from then. */
  since?: number,
  /** For `set` and `setIfVersion`: the session's data as JSON, for a store that answers inside the call. */
  dataJson?: string,
): void {
  // invoke hands `done` a SessionError or null when asked to wrap (no closure per call on this path).
  invoke<T>(store, method, args, timeoutMs, done as (err: unknown, result?: T) => void, since, true, dataJson)
}

/** How {@link storeCall} calls the store. */
export interface StoreCallOptions {
  /** Milliseconds before a SESSION_STORE_TIMEOUT error; 0 (the default) waits as long as the store takes. */
  readonly timeoutMs?: number
  /** When the caller asked for this call (performance.now()), if it waited in a queue first. */
  readonly since?: number
  /**
   * Rejects with the store's own error, and takes a falsy error for none, as a store's callback is
   * read by express-session, rather than with a SESSION_STORE_FAILED error: for the calls an app makes
   * through sessionkit outside a request, where the app sees what its store said.
   */
  readonly storeErrors?: boolean
}

/** One store call as a Promise of its answer; see {@link callStore}, and {@link StoreCallOptions} for the options. */
export function storeCall<T>(store: SessionStore, method: StoreMethod, args: unknown[], options: StoreCallOptions = {}): Promise<T> {
  const { timeoutMs = 0, since, storeErrors = false } = options
  return new Promise((resolve, reject) => {
    invoke<T>(store, method, args, timeoutMs, (err, result) => (err ? reject(err) : resolve(result as T)), since, !storeErrors)
  })
}

/**
 * Makes the call. `done` gets null for no error, else, with `wrap`, a SessionError (a store's own error
 * becomes SESSION_STORE_FAILED), without it the store's own error, a falsy one counting as none, as
 * express-session reads a store's callback.
 */
function invoke<T>(
  store: SessionStore,
  method: StoreMethod,
  args: unknown[],
  timeoutMs: number,
  done: (err: unknown, result?: T) => void,
  since: number | undefined,
  wrap: boolean,
  dataJson?: string,
): void {
  let settled = false
  let watched: Deadlines | undefined
  let watch: Watch | undefined

  const finish = (err: unknown, result?: T): void => {
    if (settled) return
    settled = true
    if (watch !== undefined) watched?.forget(watch)
    if (wrap) done(err === undefined || err === null ? null : storeError(method, err), result)
    else done(err ? err : null, result)
  }

  // A call that waited in a queue past its own timeout is not made: its caller has waited long enough.
  if (since !== undefined && timeoutMs > 0 && performance.now() - since >= timeoutMs) {
    finish(new SessionError('SESSION_STORE_TIMEOUT', `sessionkit: store.${method} did not answer within ${timeoutMs} ms`, { status: 503 }))
    return
  }
  const immediate = immediateCallsFor(store, method)
  const target = (immediate ?? store) as unknown as Record<StoreMethod, (...a: unknown[]) => unknown>
  const fn = target[method]
  // A method that names a callback parameter answers through it; its returned Promise may resolve
  // early (an `async` function that hands the work to a callback API), so only its rejection counts.
  const answersByCallback = fn.length > args.length
  let returned: unknown
  // An answer given during the call is handed on after it, outside the try: what the caller then does
  // (the app's handlers, when the request goes on) may throw, and that is not the store's error.
  let calling = true
  let answered: { err: unknown; result: T | undefined } | undefined
  const callback = (err: unknown, result?: T): void => {
    if (calling) answered ??= { err, result }
    else finish(err, result)
  }
  try {
    if (immediate !== undefined && dataJson !== undefined) returned = fn.call(target, ...args, callback, dataJson)
    else returned = fn.call(target, ...args, callback)
  } catch (err) {
    calling = false
    if (answered !== undefined) finish(answered.err, answered.result)
    else finish(err ?? new Error(`store.${method} threw ${String(err)}`))
    return
  }
  calling = false
  if (answered !== undefined) finish(answered.err, answered.result)
  if (isThenable(returned)) {
    returned.then(
      (result) => {
        if (!answersByCallback || result !== undefined) finish(null, result as T)
      },
      (err: unknown) => finish(err ?? new Error(`store.${method} rejected without a reason`)),
    )
  }
  // A call answered inside it (as an ImmediateStore's are) is settled by now, and needs no watch.
  if (!settled && timeoutMs > 0 && Number.isFinite(timeoutMs)) {
    watched = deadlinesFor(timeoutMs)
    watch = watched.watch(since, () => {
      finish(new SessionError('SESSION_STORE_TIMEOUT', `sessionkit: store.${method} did not answer within ${timeoutMs} ms`, { status: 503 }))
    })
  }
}

/** One store call waiting for its answer. */
interface Watch {
  readonly due: number
  readonly expire: () => void
}

/**
 * The store calls in flight with one timeout length, watched by one shared timer. A setTimeout per
 * call (and its clearTimeout) cost about as much as the in-memory store's whole get, twice a request;
 * a Set entry costs a fraction of that. The timer ticks every eighth of the timeout while calls are in
 * flight, so a call times out between `timeoutMs` and `timeoutMs` plus one tick after it started. It
 * keeps the process alive only while some call is waiting, as that call's own timer would have: a
 * script (or `sessionkit/testing`) awaiting a store that never answers gets its timeout error rather
 * than an exit with the Promise pending.
 */
class Deadlines {
  readonly #waiting = new Set<Watch>()
  readonly #timeoutMs: number
  readonly #tickMs: number
  #timer: NodeJS.Timeout | undefined

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs
    this.#tickMs = Math.max(1, Math.ceil(timeoutMs / 8))
  }

  watch(since: number | undefined, expire: () => void): Watch {
    const entry: Watch = { due: (since ?? performance.now()) + this.#timeoutMs, expire }
    this.#waiting.add(entry)
    if (this.#timer === undefined) this.#timer = setInterval(() => this.#check(), this.#tickMs)
    else if (this.#waiting.size === 1) this.#timer.ref()
    return entry
  }

  forget(entry: Watch): void {
    this.#waiting.delete(entry)
    if (this.#waiting.size === 0) this.#timer?.unref()
  }

  #check(): void {
    const now = performance.now()
    for (const entry of this.#waiting) {
      if (entry.due <= now) {
        this.#waiting.delete(entry)
        entry.expire()
      }
    }
    if (this.#waiting.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }
}

const deadlines = new Map<number, Deadlines>()

function deadlinesFor(timeoutMs: number): Deadlines {
  let found = deadlines.get(timeoutMs)
  if (found === undefined) deadlines.set(timeoutMs, (found = new Deadlines(timeoutMs)))
  return found
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'
}

function storeError(method: StoreMethod, err: unknown): SessionError {
  if (err instanceof SessionError) return err
  const message = err instanceof Error ? err.message : String(err)
  // A store that cannot load a session is an outage, not a bug in the app: 503 lets clients retry.
  return new SessionError('SESSION_STORE_FAILED', `sessionkit: store.${method} failed: ${message}`, { status: 503, cause: err })
}
