import { Cookie, type CookieRecord } from '../cookie/cookie.js'
import { SessionError } from '../errors.js'
import type { SessionStore } from '../store/contract.js'
import { storeCall } from '../store/call.js'

/** A Node-style callback for the session's asynchronous methods. */
export type SessionCallback = (err?: unknown) => void

/** Options of {@link Session.regenerate}. */
export interface RegenerateOptions {
  /** Keys of the old session's data to copy into the new one (a cart that should survive login). */
  keep?: readonly string[]
}

/** What carries a session for the app (Express's `req`, the Web API's handle), as far as a session needs it. */
export interface SessionRequest {
  sessionID?: string
  sessionStore?: SessionStore
  session?: unknown
}

/**
 * What the middleware does for a session's methods. A session built by the middleware finds it on
 * its request; one built by hand (as some stores do) falls back to the bare store calls.
 * @internal
 */
export interface SessionController {
  save(session: Session): Promise<void>
  reload(session: Session): Promise<void>
  destroy(session: Session): Promise<void>
  regenerate(session: Session, options: RegenerateOptions): Promise<void>
}

/** @internal */
export const controllerKey: unique symbol = Symbol('sessionkit.controller')

// Data copied from a store may not shadow the session's own members.
/** @internal */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['id', 'req', 'cookie', 'regenerate', 'destroy', 'reload', 'save', 'touch', 'resetMaxAge', '__proto__', 'constructor', 'prototype'])

/**
 * A session: the app's data as own enumerable properties, `cookie`, and the methods of
 * express-session's `Session`. The asynchronous methods take a Node-style callback and return the
 * session, or, called without one, return a Promise.
 */
export class Session {
  declare readonly id: string
  declare readonly req: SessionRequest
  cookie: Cookie

  constructor(req: SessionRequest, data?: Record<string, unknown> | null) {
    Object.defineProperty(this, 'req', { value: req })
    Object.defineProperty(this, 'id', { value: req.sessionID })
    const record = data ?? undefined
    const cookie = record?.['cookie']
    // A store that keeps objects as given (a Map of them) hands back the Session an earlier request
    // saved, whose Cookie the Web API froze at its commit: this session gets a Cookie of its own.
    this.cookie = cookie instanceof Cookie ? (Object.isFrozen(cookie) ? new Cookie(cookie.toJSON()) : cookie) : new Cookie(cookie as CookieRecord | undefined)
    if (record === undefined) return
    for (const key of Object.keys(record)) {
      if (!RESERVED_KEYS.has(key)) (this as unknown as Record<string, unknown>)[key] = record[key]
    }
  }

  /**
   * Replaces this session with a new one under a new id; the old id is destroyed in the store. Call it
   * after login so that an id planted before it is worth nothing. `{ keep: ['cart'] }` carries the
   * named keys over into the new session.
   */
  regenerate(): Promise<void>
  regenerate(callback: SessionCallback): this
  regenerate(options: RegenerateOptions): Promise<void>
  regenerate(options: RegenerateOptions, callback: SessionCallback): this
  regenerate(optionsOrCallback?: RegenerateOptions | SessionCallback, callback?: SessionCallback): this | Promise<void> {
    const options = typeof optionsOrCallback === 'function' ? {} : (optionsOrCallback ?? {})
    const done = typeof optionsOrCallback === 'function' ? optionsOrCallback : callback
    return complete(controllerOf(this).regenerate(this, options), done, this)
  }

  /** Removes the session from the store and from the request; the response clears the cookie. */
  destroy(): Promise<void>
  destroy(callback: SessionCallback): this
  destroy(callback?: SessionCallback): this | Promise<void> {
    return complete(controllerOf(this).destroy(this), callback, this)
  }

  /** Replaces `req.session` with the copy the store holds now. */
  reload(): Promise<void>
  reload(callback: SessionCallback): this
  reload(callback?: SessionCallback): this | Promise<void> {
    return complete(controllerOf(this).reload(this), callback, this)
  }

  /** Writes the session to the store now; the middleware also does so when the response ends. */
  save(): Promise<void>
  save(callback: SessionCallback): this
  save(callback?: SessionCallback): this | Promise<void> {
    return complete(controllerOf(this).save(this), callback, this)
  }

  /** Restarts the cookie's lifetime from now (`cookie.maxAge = cookie.originalMaxAge`). */
  touch(): this {
    return this.resetMaxAge()
  }

  /** Restarts the cookie's lifetime from now (`cookie.maxAge = cookie.originalMaxAge`). */
  resetMaxAge(): this {
    this.cookie.maxAge = this.cookie.originalMaxAge
    return this
  }
}

/** The session's methods that sessionkit or the app calls on it: data may not take their names. */
const METHODS = ['regenerate', 'destroy', 'reload', 'save', 'touch', 'resetMaxAge'] as const

/**
 * Throws a SessionError (`SESSION_SERIALIZE`, 500) when the app's data replaced one of the session's
 * methods or its cookie, as `Object.assign(req.session, input)` does with a key named `touch`. Without
 * it the commit would fail with a bare TypeError ("touch is not a function"); a stored copy would lose
 * the key anyway, since a load drops reserved keys. Cheap: a property read per method. @internal
 */
export function assertIntact(session: Session): void {
  const members = session as unknown as Record<string, unknown>
  if (!(members['cookie'] instanceof Cookie)) throw replacedMember('cookie', members['cookie'], "the session's Cookie, whose fields (req.session.cookie.maxAge, …) can be set")
  for (const name of METHODS) {
    if (typeof members[name] !== 'function') throw replacedMember(name, members[name], "one of the session's methods")
  }
}

function replacedMember(name: string, value: unknown, role: string): SessionError {
  const got = value === null || value === undefined ? String(value) : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`
  return new SessionError(
    'SESSION_SERIALIZE',
    `sessionkit: req.session.${name} was replaced by data (${got}), but ${name} is ${role}; keep the data under another key (was request input copied into req.session?)`,
  )
}

function controllerOf(session: Session): SessionController {
  const req = session.req as SessionRequest & { [controllerKey]?: SessionController }
  return req[controllerKey] ?? detachedController
}

/**
 * Hands a result to a callback (and returns the session, as express-session does) or returns the
 * Promise. The Promise is marked handled so that an app which ignores it, as express-session apps
 * ignore a missing callback, does not crash on a rejection; the middleware still sees the failure.
 */
function complete<S extends Session>(promise: Promise<void>, callback: SessionCallback | undefined, session: S): S | Promise<void> {
  if (typeof callback === 'function') {
    promise.then(
      () => process.nextTick(callback),
      (err: unknown) => process.nextTick(callback, err),
    )
    return session
  }
  promise.catch(() => {})
  return promise
}

function storeOf(session: Session): SessionStore {
  const store = session.req.sessionStore
  if (!store) throw new SessionError('SESSION_GONE', 'sessionkit: this session has no store (req.sessionStore is not set)')
  return store
}

/**
 * A store call for a session created outside the middleware: no timeout, and the store's own error, as
 * the app's own call of the store would give them; a session without a store is a rejection too.
 */
function detachedCall(session: Session, method: 'set' | 'destroy', args: unknown[]): Promise<void> {
  let store: SessionStore
  try {
    store = storeOf(session)
  } catch (err) {
    return Promise.reject(err)
  }
  return storeCall(store, method, args, { storeErrors: true })
}

// For sessions created outside the middleware: plain store calls, no response bookkeeping.
const detachedController: SessionController = {
  save: (session) => detachedCall(session, 'set', [session.id, session]),
  destroy: (session) => detachedCall(session, 'destroy', [session.id]),
  reload: () => Promise.reject(new SessionError('SESSION_GONE', 'sessionkit: reload() needs a session created by the middleware')),
  regenerate: () => Promise.reject(new SessionError('SESSION_GONE', 'sessionkit: regenerate() needs a session created by the middleware')),
}
