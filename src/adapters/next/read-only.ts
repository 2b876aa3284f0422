import { SessionError } from '../../errors.js'
import type { WebSession } from '../web/web-sessions.js'

/**
 * A read-only view of a session, for the places Next.js lets code read cookies but not set them
 * (server components, the proxy or middleware), and for `get()` everywhere: a change
 * there could be stored but its cookie never sent, so each one throws a `SessionError` that
 * says where to make it instead. @internal
 */

/** Why the view refuses a change, and where the change belongs. */
export const READ_ONLY_MESSAGE =
  'sessionkit/next: the session is read-only here; Next.js lets only server actions and route handlers set cookies, so change the session there, with sessions.change() or sessions.route()'

/** The error every refused change throws. */
export function readOnlyError(cause?: unknown): SessionError {
  return new SessionError('SESSION_READ_ONLY', READ_ONLY_MESSAGE, cause === undefined ? {} : { cause })
}

/** Session methods that change it or its store: refused in the view. */
const MUTATORS = new Set<PropertyKey>(['regenerate', 'destroy', 'save', 'reload', 'touch', 'resetMaxAge'])

const refuse = (): never => {
  throw readOnlyError()
}

/**
 * The view of `session`: its data and cookie read as usual, nested objects and arrays included
 * (an array's `push` is refused like an assignment). A `Date` is given as it is.
 */
export function readOnlySession(session: WebSession): WebSession {
  return view(session, new WeakMap()) as WebSession
}

function view(target: object, seen: WeakMap<object, object>): object {
  const known = seen.get(target)
  if (known !== undefined) return known
  const proxy: object = new Proxy(target, {
    get(object, key) {
      // The real object as receiver: the Session's and its cookie's getters read their own fields.
      const value: unknown = Reflect.get(object, key, object)
      if (typeof value === 'function') {
        if (MUTATORS.has(key) && !Array.isArray(object)) return refuse
        // An array's methods run on the view, so that push() or sort() meets the set trap; the
        // Session's and the cookie's run on themselves (their private fields are not on a proxy).
        return Array.isArray(object)
          ? (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(proxy, args)
          : (value as (...a: unknown[]) => unknown).bind(object)
      }
      if (typeof value === 'object' && value !== null && !(value instanceof Date)) return view(value, seen)
      return value
    },
    set: refuse,
    deleteProperty: refuse,
    defineProperty: refuse,
    setPrototypeOf: refuse,
  })
  seen.set(target, proxy)
  return proxy
}
