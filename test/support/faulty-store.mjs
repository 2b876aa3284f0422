// A store that wraps a real one and, on demand, makes one of get/set/touch/destroy misbehave in a
// chosen way. Every way a store can go wrong that we know of from real stores and from bug reports
// against express-session is a "kind" below; the store-fault and save-failure tests run each method
// against each kind.
import { MemoryStore } from 'sessionkit'

export const METHODS = ['get', 'set', 'touch', 'destroy']

/** A date a day ahead, as a stored cookie would carry it. */
const later = () => new Date(Date.now() + 86_400_000).toISOString()

// What a broken store can hand back instead of a session. For get this is the answer; for the other
// methods it is passed as the result after the real work was done (their results are meaningless).
export const GARBAGE = {
  'garbage-empty': () => ({}),
  'garbage-string': () => 'this is not a session',
  'garbage-number': () => 42,
  'garbage-array': () => [{ cookie: { originalMaxAge: 1000, expires: later() } }],
  'garbage-expires': () => ({ n: 5, cookie: { originalMaxAge: 60_000, expires: 'the day after tomorrow' } }),
  'garbage-maxage': () => ({ n: 5, cookie: { originalMaxAge: '60000', expires: later() } }),
  'garbage-expires-object': () => ({ n: 5, cookie: { originalMaxAge: 60_000, expires: {} } }),
  // Attributes that would inject into, or break, the Set-Cookie header if they were sent back.
  'garbage-attributes': () => ({ n: 5, cookie: { originalMaxAge: 60_000, expires: later(), path: '/;Domain=evil.example', domain: 'a b' } }),
  'garbage-samesite': () => ({ n: 5, cookie: { originalMaxAge: 60_000, expires: later(), sameSite: 'sideways' } }),
  // A record as JSON.parse makes it from hostile JSON: own keys named __proto__ and constructor.
  'garbage-proto': () =>
    JSON.parse(
      `{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"n":7,` +
        `"cookie":{"originalMaxAge":60000,"expires":"${later()}","path":"/","__proto__":{"polluted":"yes"}}}`,
    ),
}

/**
 * kinds:
 *  error         answers with an Error
 *  error-value   answers with a non-Error reason (a string), as some callback APIs do
 *  throw         throws synchronously
 *  reject        returns a rejected Promise and never calls back
 *  hang          never answers
 *  late          answers correctly, but only well after the store timeout
 *  twice         answers correctly, then again with an error
 *  twice-error-first  answers with an error, then correctly
 *  garbage-*     see GARBAGE
 */
export const KINDS = ['error', 'error-value', 'throw', 'reject', 'hang', 'late', 'twice', 'twice-error-first', ...Object.keys(GARBAGE)]

/**
 * A store around `inner` (a MemoryStore by default). `store.inject(method, kind)` makes `method`
 * misbehave from then on; `store.heal()` ends it. `lateMs` is how long a `late` answer waits.
 * `store.calls` counts calls per method, `store.pending` is the number of late answers still due.
 */
export function faultyStore({ inner = new MemoryStore(), lateMs = 400 } = {}) {
  let fault
  const late = new Set()
  const store = {
    inner,
    calls: { get: 0, set: 0, touch: 0, destroy: 0 },
    inject(method, kind) {
      if (!METHODS.includes(method) || !KINDS.includes(kind)) throw new Error(`unknown fault ${method}/${kind}`)
      fault = { method, kind }
    },
    heal() {
      fault = undefined
    },
    /** Resolves when every late answer has been delivered, so a test can check they changed nothing. */
    async settled() {
      while (late.size > 0) await Promise.all([...late])
    },
    // Declared arities matter: sessionkit reads fn.length to know that these answer by callback.
    get(sid, callback) {
      return run('get', [sid], callback)
    },
    set(sid, session, callback) {
      return run('set', [sid, session], callback)
    },
    touch(sid, session, callback) {
      return run('touch', [sid, session], callback)
    },
    destroy(sid, callback) {
      return run('destroy', [sid], callback)
    },
  }

  function real(method, args, callback) {
    inner[method](...args, callback)
  }

  function run(method, args, callback) {
    store.calls[method]++
    if (fault === undefined || fault.method !== method) return real(method, args, callback)
    const { kind } = fault
    const failure = new Error(`injected ${kind} in store.${method}`)
    switch (kind) {
      case 'error':
        return setImmediate(callback, failure)
      case 'error-value':
        return setImmediate(callback, `injected ${kind} in store.${method}`)
      case 'throw':
        throw failure
      case 'reject':
        return Promise.reject(failure)
      case 'hang':
        return undefined
      case 'late': {
        const due = new Promise((resolve) => {
          setTimeout(() => real(method, args, (...answer) => {
            callback(...answer)
            resolve()
          }), lateMs)
        })
        late.add(due)
        due.then(() => late.delete(due))
        return undefined
      }
      case 'twice':
        return real(method, args, (...answer) => {
          callback(...answer)
          setImmediate(callback, failure)
        })
      case 'twice-error-first':
        return real(method, args, (...answer) => {
          callback(failure)
          setImmediate(callback, ...answer)
        })
      default: {
        const garbage = GARBAGE[kind]()
        if (method === 'get') return setImmediate(callback, null, garbage)
        return real(method, args, (err) => callback(err, garbage))
      }
    }
  }

  return store
}

/** The inner store's copy of a session, or undefined. */
export function stored(inner, sid) {
  return new Promise((resolve, reject) => inner.get(sid, (err, session) => (err ? reject(err) : resolve(session ?? undefined))))
}

/** How many sessions the inner store holds. */
export function storedCount(inner) {
  return new Promise((resolve, reject) => inner.length((err, n) => (err ? reject(err) : resolve(n))))
}
