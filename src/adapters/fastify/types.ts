/**
 * The public types of `sessionkit/fastify`: the plugin's options and `request.session`, in the shape
 * @fastify/session 11 gives them, so that an app's `declare module 'fastify' { interface Session }`
 * types `request.session` here as it did there.
 */
// `Session` is the interface this file adds to 'fastify' below, which the app's own declaration extends.
import type { FastifyPluginCallback, FastifyRequest, Session } from 'fastify'
import type { Cookie, SameSite } from '../../cookie/cookie.js'
import type { SessionOptions } from '../../options/session-options.js'
import type { SessionStore } from '../../store/contract.js'
import type { MemoryStore } from '../../store/memory/memory-store.js'

declare module 'fastify' {
  /**
   * The session's data, for the app to declare its keys in, as with @fastify/session:
   * `declare module 'fastify' { interface Session { userId: string } }`.
   */
  interface Session {
    /** The session cookie's attributes and expiry. */
    cookie: Cookie
  }

  interface FastifyInstance {
    /**
     * Opens the session that a cookie value (`fastify.parseCookie(header)[cookieName]`) names outside a
     * request's hooks, and sets it as `request.session`; `cookieOpts` are set on it as `options()` does.
     */
    decryptSession<Request extends object = FastifyRequest>(sessionId: string, request: Request, cookieOpts: FastifyCookieOptions, callback: FastifySessionCallback): void
    decryptSession<Request extends object = FastifyRequest>(sessionId: string, request: Request, callback: FastifySessionCallback): void
  }

  interface FastifyRequest {
    /** The request's session: its data as properties, and the methods of @fastify/session's. */
    session: FastifySessionObject
    /** The store the sessions live in. */
    sessionStore: Readonly<SessionStore>
  }
}

/** The callback of the session's asynchronous methods: called with the error, or with nothing. */
export type FastifySessionCallback = (err?: Error) => void

/** The session cookie's attributes, as @fastify/session's `cookie` option and `session.options()` take them. */
export interface FastifyCookieOptions {
  /** Default `/`. A request outside it gets no session. */
  path?: string
  /** Lifetime in milliseconds, sent as `Expires`. */
  maxAge?: number
  /** An absolute expiry date, when there is no `maxAge`. */
  expires?: Date
  /** Default `true`. */
  httpOnly?: boolean
  /** Default `true`: no cookie over plain HTTP. `'auto'`: Secure over HTTPS, `SameSite=Lax` without Secure over HTTP. */
  secure?: boolean | 'auto'
  sameSite?: SameSite
  domain?: string
  partitioned?: boolean
  priority?: 'low' | 'medium' | 'high'
}

/** sessionkit options the plugin passes on as they are; see the `session()` options of sessionkit. */
export type FastifySessionkitOptions = Pick<
  SessionOptions,
  'storeTimeout' | 'absoluteTimeout' | 'merge' | 'hashIds' | 'maxSessionBytes' | 'touchAfter' | 'indexBy' | 'index' | 'cacheControl' | 'rewriteOnTouch'
>

/** The plugin's options: @fastify/session 11's, with the same names and defaults, and a few of sessionkit's. */
export interface FastifySessionOptions extends FastifySessionkitOptions {
  /**
   * Signs the session cookie (HMAC-SHA256, as @fastify/cookie's Signer does): a string of 32
   * characters or more, or an array whose first secret signs and every one verifies.
   */
  secret: string | readonly string[]
  /** Only `'sha256'`, the default of @fastify/session. */
  algorithm?: 'sha256'
  /** The cookie's name. Default `sessionId`. */
  cookieName?: string
  /** The cookie's attributes. */
  cookie?: FastifyCookieOptions
  /** Where sessions live: any store made for express-session or @fastify/session. Default: a MemoryStore. */
  store?: SessionStore
  /** Store new sessions the request did not change. Default `true`. */
  saveUninitialized?: boolean
  /** Send the cookie on every response and restart its lifetime. Default `true`. */
  rolling?: boolean
  /** Makes a session id from the request. Default: 24 random bytes in base64url. */
  idGenerator?(request?: FastifyRequest): string
  /** Written before the signed id in the cookie's value (`'s:'` reads express-session's cookies). Default `''`. */
  cookiePrefix?: string
}

/** `request.session`: the data the app declared in `Session`, and @fastify/session's methods. */
export interface FastifySessionObject extends Session {
  /** The session's id, as the store knows it. */
  readonly sessionId: string
  /** The id signed, as the cookie carries it (without `cookiePrefix`). */
  readonly encryptedSessionId: string
  /** Restarts the cookie's lifetime from now. */
  touch(): void
  /** Sets cookie attributes for this session from now on, such as `{ maxAge }` (milliseconds). */
  options(opts: Partial<FastifyCookieOptions>): void
  /** Replaces the session by a new one under a new id, keeping the keys named in `ignoreFields`; the old one is destroyed. */
  regenerate(): Promise<void>
  regenerate(ignoreFields: readonly string[]): Promise<void>
  regenerate(callback: FastifySessionCallback): void
  regenerate(ignoreFields: readonly string[], callback: FastifySessionCallback): void
  /** Removes the session from the store; `request.session` becomes `null`. */
  destroy(): Promise<void>
  destroy(callback: FastifySessionCallback): void
  /** Replaces the session's data with what the store holds now. */
  reload(): Promise<void>
  reload(callback: FastifySessionCallback): void
  /** Writes the session to the store now (it is also written when the response is sent). */
  save(): Promise<void>
  save(callback: FastifySessionCallback): void
  /** Sets one key of the session's data. */
  set<K extends keyof Session>(key: K, value: Session[K]): void
  /** Reads one key of the session's data. */
  get<K extends keyof Session>(key: K): Session[K] | undefined
  /** Whether the data changed since it was loaded, created or saved. */
  isModified(): boolean
  /** Whether this request saved the session (with `save()`). */
  isSaved(): boolean
}

/** The plugin, with the store classes on it as @fastify/session has them. */
export type FastifySessionPlugin = FastifyPluginCallback<FastifySessionOptions> & {
  /** The in-memory store (sessionkit's, bounded). */
  Store: typeof MemoryStore
  /** The in-memory store (sessionkit's, bounded). */
  MemoryStore: typeof MemoryStore
}
