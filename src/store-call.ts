import { SessionError } from './errors.js'
import type { SessionStore } from './store.js'

type StoreMethod = 'get' | 'set' | 'destroy' | 'touch'

/**
 * Calls one store method and reports its outcome exactly once, however the store completes: through
 * the callback, through a returned Promise, both, synchronously, by throwing, or never (then after
 * `timeoutMs` with a SESSION_STORE_TIMEOUT error; a late answer is ignored). A store is never tested
 * with `instanceof`, so stores built on express-session's own `Store` work unchanged.
 */
export function callStore<T>(
  store: SessionStore,
  method: StoreMethod,
  args: unknown[],
  timeoutMs: number,
  done: (err: SessionError | null, result?: T) => void,
): void {
  let settled = false
  let timer: NodeJS.Timeout | undefined

  const finish = (err: unknown, result?: T): void => {
    if (settled) return
    settled = true
    if (timer !== undefined) clearTimeout(timer)
    done(err === undefined || err === null ? null : storeError(method, err), result)
  }

  const fn = store[method] as (...a: unknown[]) => unknown
  // A method that names a callback parameter answers through it; its returned Promise may resolve
  // early (an `async` function that hands the work to a callback API), so only its rejection counts.
  const answersByCallback = fn.length > args.length
  let returned: unknown
  try {
    returned = fn.call(store, ...args, (err: unknown, result?: T) => finish(err, result))
  } catch (err) {
    finish(err ?? new Error(`store.${method} threw ${String(err)}`))
    return
  }
  if (isThenable(returned)) {
    returned.then(
      (result) => {
        if (!answersByCallback || result !== undefined) finish(null, result as T)
      },
      (err: unknown) => finish(err ?? new Error(`store.${method} rejected without a reason`)),
    )
  }
  if (!settled && timeoutMs > 0 && Number.isFinite(timeoutMs)) {
    timer = setTimeout(() => {
      finish(new SessionError('SESSION_STORE_TIMEOUT', `sessionkit: store.${method} did not answer within ${timeoutMs} ms`, { status: 503 }))
    }, timeoutMs)
  }
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
