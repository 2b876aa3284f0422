import type { Session } from '../../engine/session.js'
import type { SessionHandle, WebSession } from './web-sessions.js'

/**
 * A view of `handle.session` rather than the Session itself, for the adapters that hand the app one
 * object to keep (Hono's `c.get('session')`, the session `sessionkit/next`'s `change()` passes), for
 * two reasons. Reading `handle.session` makes a new session (an id, a response to hold), which a
 * request that never uses it should not pay for; and `regenerate()` or a replacement puts a new
 * Session on the handle, which a value kept once would not follow: a change made to it after
 * `regenerate()` would be lost. `unset` is the message of the error a use after
 * `handle.session = null` throws. Undefined when the handle has no session (outside cookie.path,
 * store disconnected). @internal
 */
export function currentSession(handle: SessionHandle, unset: string): WebSession {
  // No lazy property on the handle: there is no session (outside cookie.path, store disconnected).
  if (Object.getOwnPropertyDescriptor(handle, 'session') === undefined) return undefined as unknown as WebSession
  const current = (): Session => {
    const value = handle.session
    if (value === null || value === undefined) throw new TypeError(unset)
    return value
  }
  // Node's inspect shows a proxy's target: make that the session, so a logged session shows its data.
  const target = { [Symbol.for('nodejs.util.inspect.custom')]: (_depth: number, options: object, inspect: (value: unknown, options: object) => string) => inspect(current(), options) }
  return new Proxy(target, {
    get(_, key) {
      const session = current()
      const value: unknown = Reflect.get(session, key, session)
      // Methods run on the Session itself: the engine finds a session's request through it.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(session) : value
    },
    set: (_, key, value) => Reflect.set(current(), key, value),
    has: (_, key) => Reflect.has(current(), key),
    deleteProperty: (_, key) => Reflect.deleteProperty(current(), key),
    ownKeys: () => Reflect.ownKeys(current()),
    getOwnPropertyDescriptor(_, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(current(), key)
      // A proxy may not call a property non-configurable that its target lacks (the frozen session's are).
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true }
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(current(), key, descriptor),
    getPrototypeOf: () => Reflect.getPrototypeOf(current()),
  }) as unknown as WebSession
}
