import {
  webCookieSessions,
  webSessions,
  type LoadOptions,
  type SessionHandle,
  type WebCookieSessionOptions,
  type WebRequest,
  type WebSession,
  type WebSessionOptions,
  type WebSessions,
  type WebStoreSessions,
} from '../web/web-sessions.js'
import { currentSession } from '../web/current-session.js'
import { cookiesWritable } from './phase.js'
import { readOnlyError, readOnlySession } from './read-only.js'
import { parseSetCookie, type NextCookie } from './set-cookie.js'

export type { WebSession } from '../web/web-sessions.js'
export type { NextCookie } from './set-cookie.js'

/**
 * Sessions for Next.js's App Router, on `sessionkit/web`: the same engine, options and stores as
 * the Express middleware. Reading works wherever Next.js runs server code; changing the session
 * works where Next.js lets a response set cookies (server actions and route handlers), and fails
 * elsewhere with a `SessionError` that says so. Next.js is not loaded until a session is
 * asked for outside a route handler, and then only its `next/headers`.
 */

/** The part of Next.js's `cookies()` store the sessions use. */
export interface NextCookieStore {
  /** The request's cookies, values decoded; after a server action, with the ones it set. */
  getAll(): { name: string; value: string }[]
  /** Sets a response cookie; Next.js throws where cookies cannot be set (a server component). */
  set(cookie: NextCookie): unknown
}

/** The part of Next.js's `headers()` the sessions read. */
export interface NextRequestHeaders {
  get(name: string): string | null
  forEach(callback: (value: string, name: string) => void): void
}

/** Where the request's headers and cookies come from: `next/headers` unless given (for tests, other hosts). */
export interface NextRequestScope {
  cookies(): NextCookieStore | Promise<NextCookieStore>
  headers(): NextRequestHeaders | Promise<NextRequestHeaders>
}

/** Options of {@link nextSessions} beyond the session's own. */
export interface NextSessionsOptions extends LoadOptions {
  /**
   * The path the session's request is taken to have where Next.js gives none (server components,
   * server actions): matters only with a `cookie.path` other than `/`. Default `/`.
   */
  path?: string
  /** Replaces `next/headers`'s `cookies()` and `headers()`. */
  scope?: NextRequestScope
}

/** A route handler that also gets the request's session; `context` is Next.js's (its `params`). */
export type NextSessionRouteHandler<R extends Request, C> = (request: R, session: SessionHandle, context: C) => Response | Promise<Response>

/** What {@link nextSessions} and {@link nextCookieSessions} return. */
export interface NextSessions<S extends WebSessions = WebSessions> {
  /** The sessions underneath: `sessionsOf`, `destroySessionsOf` (store mode) and events. */
  readonly sessions: S
  /**
   * The current request's session, read-only: for server components, and anywhere only reading.
   * A change to it throws a `SessionError` (`SESSION_READ_ONLY`). Nothing is saved or touched.
   * Undefined outside `cookie.path` or while the store is disconnected.
   */
  get(): Promise<WebSession | undefined>
  /**
   * In a server action or route handler: loads the session, runs `change` on it (the request's
   * current session, which follows `regenerate()` and `handle.session = {...}`), commits (saves,
   * destroys, by express-session's rules) and sets the cookie through `cookies().set()`. Resolves to
   * what `change` returned. Where Next.js refuses the cookie (a server component), rejects with a
   * `SessionError` (`SESSION_READ_ONLY`). Call `redirect()` after it, not inside: it throws.
   */
  change<T>(change: (session: WebSession, handle: SessionHandle) => T | Promise<T>): Promise<T>
  /**
   * Wraps a route handler: loads the session from its `Request`, runs it, commits, and puts the
   * cookies and `Cache-Control: private` on its `Response`, as `sessionkit/web`'s `handle()` does.
   */
  route<R extends Request, C>(handler: NextSessionRouteHandler<R, C>): (request: R, context: C) => Promise<Response>
  /**
   * For the proxy (`proxy.ts`, `middleware.ts` before Next.js 16): the request's session, read-only,
   * as `get()` gives it. Next.js forwards no cookie set there to the pages it serves.
   */
  read(request: WebRequest): Promise<WebSession | undefined>
}

/**
 * Store mode: the session in a store, the cookie carrying a signed id; `session()`'s options. Also
 * takes sessions already made by `webSessions()` or `webCookieSessions()`, to share them with other
 * servers. Make it once, in a module of its own, and import it where a session is needed.
 */
export function nextSessions(options: WebSessionOptions, next?: NextSessionsOptions): NextSessions<WebStoreSessions>
export function nextSessions<S extends WebSessions>(sessions: S, next?: NextSessionsOptions): NextSessions<S>
export function nextSessions(options: WebSessionOptions | WebSessions, next: NextSessionsOptions = {}): NextSessions {
  return nextApi(isSessions(options) ? options : webSessions(options), next)
}

/** Cookie mode: the whole session sealed in the cookie (AES-256-GCM), no store; `cookieSession()`'s options. */
export function nextCookieSessions(options: WebCookieSessionOptions, next: NextSessionsOptions = {}): NextSessions {
  return nextApi(webCookieSessions(options), next)
}

function isSessions(value: WebSessionOptions | WebSessions): value is WebSessions {
  // Anything else, a missing argument included, goes to webSessions(), which says what is wrong with it.
  return typeof value === 'object' && value !== null && typeof (value as Partial<WebSessions>).load === 'function'
}

function nextApi<S extends WebSessions>(sessions: S, next: NextSessionsOptions): NextSessions<S> {
  const { path = '/', scope: given, ...load } = next
  let scope = given
  const current = (): NextRequestScope => (scope ??= nextHeaders())
  const loadCurrent = async (): Promise<SessionHandle> => sessions.load(await requestOf(current(), path), load)
  const readView = (handle: SessionHandle): WebSession | undefined => {
    const session = handle.session
    return session === null || session === undefined ? undefined : readOnlySession(session)
  }
  return {
    sessions,
    async get() {
      return readView(await loadCurrent())
    },
    async change(change) {
      // Before anything is loaded or stored: in a server component the change could be stored, but
      // its cookie never sent.
      if (cookiesWritable() === false) throw readOnlyError()
      const handle = await loadCurrent()
      // A view that follows the handle: after `await session.regenerate()`, `session.user = name`
      // reaches the new session, as `req.session.user` does in Express.
      const session = currentSession(handle, 'sessionkit/next: the session was unset (handle.session = null)')
      // No session to change (outside cookie.path, store disconnected): the change's own code would
      // meet undefined; say why instead.
      if (session === undefined) throw new TypeError('sessionkit/next: this request has no session (outside cookie.path, or the store is disconnected)')
      const result = await change(session, handle)
      const commit = await handle.commit()
      if (commit.setCookie.length === 0) return result
      const cookies = await current().cookies()
      try {
        for (const value of commit.setCookie) cookies.set(parseSetCookie(value))
      } catch (err) {
        throw readOnlyError(err)
      }
      return result
    },
    route(handler) {
      return (request, context) => sessions.handle((req, handle) => handler(req as typeof request, handle, context), load)(request)
    },
    async read(request) {
      return readView(await sessions.load(request, load))
    },
  }
}

/**
 * The request as the engine reads it: the headers Next.js gives, a URL made of its Host and `path`,
 * and the Cookie header made from `cookies()`, not taken from the headers: when a server action set
 * the session cookie, the page Next.js renders next in the same request sees it only there.
 */
async function requestOf(scope: NextRequestScope, path: string): Promise<WebRequest> {
  const [given, cookies] = await Promise.all([scope.headers(), scope.cookies()])
  const headers = new Headers()
  given.forEach((value, name) => {
    if (name !== 'cookie') headers.append(name, value)
  })
  const pairs = cookies.getAll().map(({ name, value }) => `${name}=${encodeURIComponent(value)}`)
  if (pairs.length > 0) headers.set('cookie', pairs.join('; '))
  // The scheme stays http: whether the request came over HTTPS is the `secure` option's or, with
  // `proxy: true`, X-Forwarded-Proto's to say, as for the other adapters.
  const host = given.get('host') ?? 'localhost'
  let url: string
  try {
    url = new URL(path, `http://${host}`).href
  } catch {
    url = new URL(path, 'http://localhost').href
  }
  return { url, headers }
}

/** `next/headers`, required on first use: the package loads, and its other APIs run, without Next.js. */
function nextHeaders(): NextRequestScope {
  return require('next/headers') as NextRequestScope
}
