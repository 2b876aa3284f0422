import type { CookieOptions } from '../../cookie/cookie.js'
import { pathMatches } from '../../cookie/cookie.js'
import { outsidePath } from '../../cookie/diagnostics.js'
import { debug } from '../../debug.js'
import { privateCacheControl } from '../../engine/cache-control.js'
import { CookieLifecycle } from '../../engine/cookie-mode.js'
import type { SessionEventListener, SessionEvents } from '../../engine/events.js'
import { Session } from '../../engine/session.js'
import { StoreSessions } from '../../engine/store-sessions.js'
import type { SessionDetailsOptions, SessionInfo } from '../../engine/owner-sessions.js'
import { configError, SessionError } from '../../errors.js'
import { parseCookieSessionOptions, type CookieSessionOptions } from '../../options/sealed-cookie-options.js'
import type { SessionOptions } from '../../options/session-options.js'
import type { SessionStore } from '../../store/contract.js'
import type { SessionData } from '../../types.js'
import type { StoreErrorListener } from '../express/middleware.js'
import { WebExchange, type WebRequest } from './exchange.js'

export type { WebRequest } from './exchange.js'

/**
 * Sessions for servers that speak the Fetch API's `Request` / `Response` (Bun, Deno, Hono, Next.js
 * route handlers, a Node server through an adapter): the same engine, options, stores and guarantees
 * as the Express middleware. There is no `res.end` to hold, so the commit point is explicit:
 * {@link SessionHandle.commit}, which {@link WebSessions.handle} calls after the handler returned.
 */

/** `session()`'s options, with the request the functions receive being the Fetch API's `Request`. */
export type WebSessionOptions = Omit<SessionOptions, 'cookie' | 'genid'> & {
  /** The cookie's attributes, or a function of the request that returns them. */
  cookie?: CookieOptions | ((request: WebRequest) => CookieOptions)
  /** Makes a new session's id (default: 24 random bytes, base64url). */
  genid?: (request: WebRequest) => string | Promise<string>
}

/** `cookieSession()`'s options (the whole session sealed in the cookie), with the Fetch API's `Request`. */
export type WebCookieSessionOptions = Omit<CookieSessionOptions, 'cookie'> & {
  cookie?: CookieOptions | ((request: WebRequest) => CookieOptions)
}

/** What the request's facts cannot say and the caller knows: whether it came over HTTPS, and from where. */
export interface LoadOptions {
  /** Default: the request URL's scheme is `https:` (or, with `proxy: true`, `X-Forwarded-Proto: https`). */
  secure?: boolean
  /**
   * The client's address (Bun's `server.requestIP(request)?.address`, Deno's `info.remoteAddr.hostname`,
   * a framework's `ip`), for the `metadata` option, which keeps only a truncated or hashed form of it.
   */
  clientAddress?: string
}

/** The end of a request's session: what the response must carry. */
export interface SessionCommit {
  /** The `Set-Cookie` values to send (RFC 6265 §4.1), each its own header. */
  readonly setCookie: readonly string[]
  /** Other headers to set: the session header's new token (the `header` option), empty when the session ended. */
  readonly headers: readonly (readonly [name: string, value: string])[]
  /** `'private'` when the response carries the session cookie and must not be kept by shared caches (RFC 9111 §5.2.2.7). */
  readonly cacheControl: 'private' | undefined
  /** Appends {@link setCookie} to `headers`, sets {@link headers}, and makes Cache-Control private when it must be. */
  applyTo(headers: Headers): void
}

/** The session a handle gives: its methods and cookie, and the app's `SessionData`, every key optional. */
export type WebSession = Session & Partial<SessionData>

/**
 * One request's session. `session` and `sessionID` are read and set as `req.session` and
 * `req.sessionID` are in Express (lazily: nothing is made until first read). After {@link commit},
 * the session is frozen: a change would not be stored, so it throws rather than be lost.
 */
export class SessionHandle {
  /** The session; undefined outside `cookie.path` or while the store is disconnected, null once unset. */
  declare session: WebSession | null | undefined
  /** The session's id (made on first read for a new session). */
  declare sessionID: string
  /** The store behind the session (store mode). */
  declare sessionStore: SessionStore | undefined
  readonly #exchange: WebExchange | undefined
  #commit: Promise<SessionCommit> | undefined

  /** @internal */
  constructor(
    /** The request this session was loaded for. */
    readonly request: WebRequest,
    exchange: WebExchange | undefined,
  ) {
    this.#exchange = exchange
  }

  /**
   * Whether the current session is one the client did not bring: made in this request, or given a new
   * id by `regenerate()`. False for the session the request's cookie (or session header) opened.
   */
  get isNew(): boolean {
    const client = this.#exchange?.steps?.clientId()
    const current = this.session
    return client === undefined || current === null || current === undefined || current.id !== client
  }

  /**
   * Decides and does what the session needs (save, touch, destroy, by express-session's rules) and
   * gives the `Set-Cookie` values. Rejects with a {@link SessionError} (its `status` says what to
   * answer) when the session could not be stored: a failed save is never a success. Called once; a
   * second call gives the first one's result.
   */
  commit(): Promise<SessionCommit> {
    return (this.#commit ??= this.#run())
  }

  async #run(): Promise<SessionCommit> {
    const exchange = this.#exchange
    const steps = exchange?.steps
    if (exchange === undefined || steps === undefined) return committed([], [], false)
    if (exchange.held) {
      try {
        const work = steps.commit()
        if (work !== undefined) await work
        steps.writeHeaders()
      } catch (err) {
        steps.failed(err, true)
        this.#seal()
        throw err
      }
    }
    exchange.headersSent = true
    this.#seal()
    // Work that may not delay the response (a touch): it runs now, and its failure is an event.
    steps.afterEnd()
    return committed(exchange.setCookie, [...exchange.headers], exchange.private)
  }

  /** After the commit the session can be read, not changed: a change would be lost. */
  #seal(): void {
    const own = Object.getOwnPropertyDescriptor(this, 'session')
    // Read on first use, not now: reading a session the request never touched would make one (an id
    // from genid, a cookie) on every such request, only to freeze it.
    let read = false
    let current: WebSession | null | undefined
    const sealed = (): WebSession | null | undefined => {
      if (read) return current
      read = true
      current = (own?.get !== undefined ? own.get.call(this) : own?.value) as WebSession | null | undefined
      if (current !== null && current !== undefined && typeof current === 'object') {
        Object.freeze(current)
        Object.freeze(current.cookie)
      }
      return current
    }
    // A session the app already holds (`const s = handle.session` before the commit) is frozen now: a
    // change through that reference would be lost as surely as one through the handle.
    if (this.#exchange?.steps?.current() instanceof Session) sealed()
    Object.defineProperty(this, 'session', {
      configurable: true,
      enumerable: true,
      get: sealed,
      set: () => {
        throw new SessionError('SESSION_COMMITTED', 'sessionkit: the session was already committed; set it before commit() (or before the handler returns)')
      },
    })
  }
}

function committed(setCookie: readonly string[], headersSet: readonly [string, string][], keepPrivate: boolean): SessionCommit {
  const cacheControl = keepPrivate && (setCookie.length > 0 || headersSet.length > 0) ? 'private' : undefined
  return {
    setCookie,
    headers: headersSet,
    cacheControl,
    applyTo(headers: Headers): void {
      for (const value of setCookie) headers.append('set-cookie', value)
      for (const [name, value] of headersSet) headers.set(name, value)
      if (cacheControl === undefined) return
      const merged = privateCacheControl(headers.get('cache-control'))
      if (merged !== undefined) headers.set('cache-control', merged)
    },
  }
}

/** A `(request) => Response` handler that also gets the request's session. */
export type SessionHandler = (request: Request, session: SessionHandle) => Response | Promise<Response>

/** What {@link webSessions} and {@link webCookieSessions} return. */
export interface WebSessions {
  /** Loads the request's session (or prepares a new one); rejects when the store fails or times out. */
  load(request: WebRequest, options?: LoadOptions): Promise<SessionHandle>
  /**
   * Wraps a handler: loads the session, runs the handler, commits, and puts the cookies on its
   * Response. A failed commit rejects (the server's error handling answers), unless the handler's
   * own answer is a failure (status 400 or more), which then stands without the cookie.
   */
  handle(handler: SessionHandler, options?: LoadOptions): (request: Request) => Promise<Response>
  /** Listens for every session event; the listener receives the request it happened on. */
  on(event: 'event', listener: SessionEventListener<WebRequest>): this
  off(event: 'event', listener: SessionEventListener<WebRequest>): this
}

/** The store mode's extras, as `session()` has them. */
export interface WebStoreSessions extends WebSessions {
  /** The store keys of `owner`'s sessions, as `session().sessionsOf(owner)` gives them. */
  sessionsOf(owner: string | number): Promise<string[]>
  /** `owner`'s live sessions with their metadata and handles; `current: handle` marks this request's own. */
  sessionsOf(owner: string | number, options: SessionDetailsOptions): Promise<SessionInfo[]>
  /** Ends the one session of `owner` that `handle` names; false when there is none. */
  endSession(owner: string | number, handle: string): Promise<boolean>
  destroySessionsOf(owner: string | number, options?: { except?: string }): Promise<number>
  on(event: 'event', listener: SessionEventListener<WebRequest>): this
  on(event: 'storeError', listener: StoreErrorListener): this
  off(event: 'event', listener: SessionEventListener<WebRequest>): this
  off(event: 'storeError', listener: StoreErrorListener): this
}

/** What both modes share: how a request becomes a handle. */
interface Mode {
  name: string
  cookie: (req: never) => CookieOptions
  events: SessionEvents
  /** Whether sessions can be loaded now (a store that said it is disconnected: no). */
  ready(): boolean
  begin(exchange: WebExchange, next: (err?: unknown) => void, cookieOptions: CookieOptions): void
}

function webApi<T extends WebSessions>(mode: Mode, extras: object): T {
  const load = (request: WebRequest, options: LoadOptions = {}): Promise<SessionHandle> => {
    if (!mode.ready()) {
      debug('store is disconnected; continuing without a session')
      return Promise.resolve(new SessionHandle(request, undefined))
    }
    let cookieOptions: CookieOptions
    let pathname: string
    try {
      cookieOptions = (mode.cookie as (req: WebRequest) => CookieOptions)(request)
      pathname = new URL(request.url).pathname
    } catch (err) {
      return Promise.reject(err)
    }
    const path = cookieOptions.path ?? '/'
    if (!pathMatches(pathname, path)) {
      outsidePath(mode.name, path, request.headers.get('cookie')?.includes(`${mode.name}=`) === true)
      return Promise.resolve(new SessionHandle(request, undefined))
    }
    const secure = options.secure ?? request.url.startsWith('https:')
    return new Promise((resolve, reject) => {
      const exchange = new WebExchange(request, secure, options.clientAddress)
      const handle = new SessionHandle(request, exchange)
      exchange.carrier = handle
      mode.begin(exchange, (err) => (err === undefined || err === null ? resolve(handle) : reject(err)), cookieOptions)
    })
  }
  const api = {
    load,
    handle(handler: SessionHandler, options?: LoadOptions) {
      return async (request: Request): Promise<Response> => {
        const session = await load(request, options)
        const response = await handler(request, session)
        let commit: SessionCommit
        try {
          commit = await session.commit()
        } catch (err) {
          if (response.status >= 400) return response
          throw err
        }
        return withCommit(response, commit)
      }
    },
    on(event: string, listener: (...args: unknown[]) => void) {
      mode.events.emitter.on(event, listener)
      return api
    },
    off(event: string, listener: (...args: unknown[]) => void) {
      mode.events.emitter.off(event, listener)
      return api
    },
    ...extras,
  }
  return api as unknown as T
}

/** `response` with the commit's headers; a Response whose headers are immutable (`Response.redirect`, a fetch) is copied. */
function withCommit(response: Response, commit: SessionCommit): Response {
  if (commit.setCookie.length === 0 && commit.headers.length === 0) return response
  try {
    commit.applyTo(response.headers)
    return response
  } catch {
    const copy = new Response(response.body, { status: response.status, statusText: response.statusText, headers: new Headers(response.headers) })
    commit.applyTo(copy.headers)
    return copy
  }
}

/**
 * Sessions kept in a store, the cookie carrying a signed id: `session()`'s options, stores and rules,
 * for `Request` / `Response` servers.
 */
export function webSessions(options: WebSessionOptions): WebStoreSessions {
  // Express's session() may sign with cookie-parser's req.secret; nothing sets one for a Request, so
  // without a secret every request would fail: say so at startup instead.
  if (options === null || typeof options !== 'object' || !('secret' in options)) {
    throw configError('webSessions() needs an options object with a secret, such as { secret, store, resave: false, saveUninitialized: false }')
  }
  const sessions = new StoreSessions(options as SessionOptions)
  const { config } = sessions
  return webApi<WebStoreSessions>(
    {
      name: config.name,
      cookie: config.cookie,
      events: config.events,
      ready: () => sessions.ready,
      begin: (exchange, next, cookieOptions) => sessions.begin(exchange, next, cookieOptions),
    },
    {
      sessionsOf: (owner: string | number, options?: SessionDetailsOptions) => sessions.sessionsOf(owner, options),
      endSession: (owner: string | number, handle: string) => sessions.endSession(owner, handle),
      destroySessionsOf: (owner: string | number, options?: { except?: string }) => sessions.destroySessionsOf(owner, options),
    },
  )
}

/** Sessions sealed whole into the cookie (AES-256-GCM), no store: `cookieSession()`'s options and rules. */
export function webCookieSessions(options: WebCookieSessionOptions): WebSessions {
  const config = parseCookieSessionOptions(options as CookieSessionOptions)
  return webApi<WebSessions>(
    {
      name: config.name,
      cookie: config.cookie,
      events: config.events,
      ready: () => true,
      begin: (exchange, next, cookieOptions) => new CookieLifecycle(config, exchange, next, cookieOptions).start(),
    },
    {},
  )
}
