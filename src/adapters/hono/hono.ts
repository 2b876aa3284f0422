import type { Context, MiddlewareHandler } from 'hono'
import type { Session } from '../../engine/session.js'
import {
  webCookieSessions,
  webSessions,
  type LoadOptions,
  type SessionCommit,
  type SessionHandle,
  type WebCookieSessionOptions,
  type WebSessionOptions,
  type WebSessions,
  type WebSession,
  type WebStoreSessions,
} from '../web/web-sessions.js'

export type { WebSession } from '../web/web-sessions.js'

/**
 * Sessions for Hono apps, on any runtime Hono runs on: `app.use(session({ secret, store }))`, then
 * `c.get('session')` in the handlers, as `req.session` in Express. Built on `sessionkit/web`; the
 * session is committed after the rest of the app answered, and its cookies put on `c.res`. Hono is
 * only a type here: nothing of it is loaded at run time.
 */

/** What the middleware puts on the context; name it in `new Hono<{ Variables: SessionVariables }>()`. */
export interface SessionVariables {
  /**
   * The request's current session, made on first use. It follows `regenerate()` and a replacement
   * through the handle, as `req.session` does. Undefined outside `cookie.path` or while the store is
   * disconnected.
   */
  session: WebSession
  /** The request's {@link SessionHandle}: set `.session = null` to unset the session, `= {...}` to replace it. */
  sessionHandle: SessionHandle
}

/** The Hono environment the middleware needs: `new Hono<SessionEnv>()`. */
export interface SessionEnv {
  Variables: SessionVariables
}

/** The middleware, with the sessions it runs on (`sessionsOf`, `destroySessionsOf`, events). */
export type SessionMiddleware<S extends WebSessions = WebSessions> = MiddlewareHandler<SessionEnv> & {
  /** The sessions behind the middleware. */
  readonly sessions: S
}

/**
 * Store mode: the session in a store, the cookie carrying a signed id; `session()`'s options. Also
 * takes sessions already made by `webSessions()` or `webCookieSessions()`, to share them with other
 * code. `load.secure` says the request came over HTTPS when its URL cannot tell (default: the URL's
 * scheme, or `X-Forwarded-Proto` with `proxy: true`).
 */
export function session(options: WebSessionOptions, load?: LoadOptions): SessionMiddleware<WebStoreSessions>
export function session<S extends WebSessions>(sessions: S, load?: LoadOptions): SessionMiddleware<S>
export function session(options: WebSessionOptions | WebSessions, load?: LoadOptions): SessionMiddleware {
  return middleware(isSessions(options) ? options : webSessions(options), load)
}

/** Cookie mode: the whole session sealed in the cookie (AES-256-GCM), no store; `cookieSession()`'s options. */
export function cookieSession(options: WebCookieSessionOptions, load?: LoadOptions): SessionMiddleware {
  return middleware(webCookieSessions(options), load)
}

function isSessions(value: WebSessionOptions | WebSessions): value is WebSessions {
  // Anything else, a missing argument included, goes to webSessions(), which says what is wrong with it.
  return typeof value === 'object' && value !== null && typeof (value as Partial<WebSessions>).load === 'function'
}

function middleware<S extends WebSessions>(sessions: S, load: LoadOptions | undefined): SessionMiddleware<S> {
  const handler: MiddlewareHandler<SessionEnv> = async (c, next) => {
    const handle = await sessions.load(c.req.raw, load)
    c.set('sessionHandle', handle)
    c.set('session', currentSession(handle))
    await next()
    let commit: SessionCommit
    try {
      commit = await handle.commit()
    } catch (err) {
      // As sessionkit/web's handle(): the app's own failure answer stands, without the cookie; a
      // success whose session could not be stored must not be sent, so Hono's error handler answers.
      if (c.res.status >= 400) return
      throw err
    }
    // A commit with nothing to send (most requests) leaves c.res alone.
    if (commit.setCookie.length > 0 || commit.headers.length > 0) applyCommit(c, commit)
  }
  return Object.assign(handler, { sessions })
}

/** Puts the commit's headers on `c.res`, on a copy when its headers are immutable (`Response.redirect()`, a `fetch()` answer). */
function applyCommit(c: Context, commit: SessionCommit): void {
  try {
    commit.applyTo(c.res.headers)
  } catch {
    // Hono's setter copies the Response (headers included) into a new one, whose headers can change.
    c.res = new Response(c.res.body, c.res)
    commit.applyTo(c.res.headers)
  }
}

/**
 * `c.get('session')`: a view of `handle.session` rather than the Session itself, for two reasons.
 * Reading `handle.session` makes a new session (an id, a response to hold), which a request that never
 * uses it should not pay for; and `regenerate()` or a replacement puts a new Session on the handle,
 * which a value stored in the context once would not follow.
 */
function currentSession(handle: SessionHandle): WebSession {
  // No lazy property on the handle: there is no session (outside cookie.path, store disconnected).
  if (Object.getOwnPropertyDescriptor(handle, 'session') === undefined) return undefined as unknown as WebSession
  const current = (): Session => {
    const value = handle.session
    if (value === null || value === undefined) throw new TypeError('sessionkit/hono: the session was unset (sessionHandle.session = null)')
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
