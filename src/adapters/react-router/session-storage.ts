import { pathMatches } from '../../cookie/cookie.js'
import { RESERVED_KEYS, type Session } from '../../engine/session.js'
import { SessionError } from '../../errors.js'
import { webCookieSessions, webSessions, type SessionCommit, type SessionHandle, type WebCookieSessionOptions, type WebRequest, type WebSessionOptions, type WebSessions } from '../web/web-sessions.js'

/**
 * React Router's session API (`getSession` / `commitSession` / `destroySession`, and a `Session` with
 * `get/set/has/unset/flash`) on sessionkit's engine: code written for React Router's
 * `createCookieSessionStorage` or `createSessionStorage` keeps its loaders and actions, and gets
 * sessionkit's stores, save rules and failure handling. Nothing here imports react-router.
 */

/** The key a flashed value is kept under, as React Router names it, so that `data` has the same shape. */
type FlashKey<Key extends string> = `__flash_${Key}__`

/** A session's data as {@link RouterSession.data} shows it: the values, and the flashed values under their flash keys. */
export type FlashSessionData<Data, FlashData> = Partial<Data & { [Key in keyof FlashData as FlashKey<Key & string>]: FlashData[Key] }>

/**
 * React Router's `Session` interface: what `commitSession` and `destroySession` take, so that code
 * typed with React Router's own `Session` type passes its sessions. `Data` are the values kept until
 * unset, `FlashData` the values read once (`flash`, then `get` removes them).
 */
export interface SessionLike<Data = Record<string, unknown>, FlashData = Data> {
  /** The session's id: the store's key in store mode, the sealed session's id in cookie mode. */
  readonly id: string
  /** A copy of the session's values (flashed ones under `__flash_<name>__`). */
  readonly data: FlashSessionData<Data, FlashData>
  /** Whether `name` has a value, kept or flashed. */
  has(name: (keyof Data | keyof FlashData) & string): boolean
  /** The value of `name`; a flashed value is removed as it is read (commit to make that stick). */
  get<Key extends (keyof Data | keyof FlashData) & string>(name: Key): (Key extends keyof Data ? Data[Key] : undefined) | (Key extends keyof FlashData ? FlashData[Key] : undefined) | undefined
  /** Sets `name` until it is unset. */
  set<Key extends keyof Data & string>(name: Key, value: Data[Key]): void
  /** Sets `name` for the next read only. */
  flash<Key extends keyof FlashData & string>(name: Key, value: FlashData[Key]): void
  /** Removes `name`. */
  unset(name: keyof Data & string): void
}

/** A request's session as `getSession` gives it: React Router's `Session`, and sessionkit's extras. */
export interface RouterSession<Data = Record<string, unknown>, FlashData = Data> extends SessionLike<Data, FlashData> {
  /**
   * Moves the session to a new id, keeping its values (or only `keep`), and destroys the old id in the
   * store: call it at login so that an id known before it is worth nothing.
   */
  regenerate(options?: { keep?: readonly string[] }): Promise<void>
  /** sessionkit's handle behind this session, for what React Router's API has no word for. */
  readonly handle: SessionHandle
}

/** The cookie attributes `commitSession` and `destroySession` may change for one response (React Router's names). */
export interface CommitOptions {
  /** Seconds until the cookie expires, as React Router counts (sessionkit's `cookie.maxAge` is in milliseconds). */
  maxAge?: number
  /** When the cookie expires. */
  expires?: Date
}

/** What the storages return: React Router's `SessionStorage`, and sessionkit's full commit. */
export interface RouterSessionStorage<Data = Record<string, unknown>, FlashData = Data> {
  /**
   * Loads the session of a request: pass the `Request` (its URL says whether it came over HTTPS and
   * which path it is for), or, as React Router's own storages take it, its `Cookie` header; with a
   * header alone the request counts as HTTPS, so the cookie is sent as its options describe it.
   * Rejects when the store fails, or when no session can be had (a store that is disconnected).
   */
  getSession(request?: Request | WebRequest | string | null): Promise<RouterSession<Data, FlashData>>
  /**
   * Saves the session by sessionkit's rules and resolves to the `Set-Cookie` value to send, or to ''
   * when the browser's cookie is already right. Rejects when the store fails (nothing is lost
   * silently), and when the response needs more than one cookie (use {@link commit} then).
   */
  commitSession(session: SessionLike<Data, FlashData>, options?: CommitOptions): Promise<string>
  /** Destroys the session (in the store too) and resolves to the `Set-Cookie` value that clears it ('' when the request had none). */
  destroySession(session: SessionLike<Data, FlashData>, options?: CommitOptions): Promise<string>
  /** The commit itself: every `Set-Cookie` value, the Cache-Control rule, and `applyTo(headers)`. */
  commit(session: SessionLike<Data, FlashData>, options?: CommitOptions): Promise<SessionCommit>
  /** The Web API underneath (`sessionsOf`, `destroySessionsOf` and events in store mode). */
  readonly sessions: WebSessions
}

const FLASH_PREFIX = '__flash_'
const flashKey = (name: string): string => `${FLASH_PREFIX}${name}__`

function storage<Data, FlashData, S extends WebSessions>(sessions: S, cookiePath: string): RouterSessionStorage<Data, FlashData> & { readonly sessions: S } {
  const handles = new WeakMap<object, SessionHandle>()

  const handleOf = (session: SessionLike<Data, FlashData>): SessionHandle => {
    const handle = handles.get(session)
    if (handle === undefined) throw new TypeError('sessionkit: this session was not made by this storage\'s getSession()')
    return handle
  }

  const commit = async (session: SessionLike<Data, FlashData>, options: CommitOptions = {}): Promise<SessionCommit> => {
    const handle = handleOf(session)
    const current = handle.session
    if (current !== null && current !== undefined && !Object.isFrozen(current)) applyCookieOptions(current, options)
    return handle.commit()
  }

  const commitSession = async (session: SessionLike<Data, FlashData>, options?: CommitOptions): Promise<string> => {
    const { setCookie } = await commit(session, options)
    // React Router's API carries one header value; a second cookie dropped here would be a lost write.
    if (setCookie.length > 1) throw new SessionError('SESSION_COOKIE_OPTIONS', `sessionkit: this response needs ${setCookie.length} Set-Cookie headers (a session split by maxCookies); use commit(session).applyTo(headers) instead of commitSession()`)
    return setCookie[0] ?? ''
  }

  return {
    sessions,
    async getSession(request) {
      const input = toRequest(request, cookiePath)
      const handle = await sessions.load(input)
      if (handle.session === undefined || handle.session === null) {
        // React Router's storages always give a session; a missing one here would drop every write.
        const pathname = new URL(input.url).pathname
        if (!pathMatches(pathname, cookiePath)) throw new SessionError('SESSION_CONFIG', `sessionkit: ${pathname} is outside cookie.path (${cookiePath}): no session can be loaded or saved for it`)
        throw new SessionError('SESSION_STORE_FAILED', 'sessionkit: no session for this request: the store is disconnected', { status: 503 })
      }
      const session = routerSession<Data, FlashData>(handle)
      handles.set(session, handle)
      return session
    },
    commit,
    commitSession,
    async destroySession(session, options) {
      const current = handleOf(session).session
      if (current !== null && current !== undefined && !Object.isFrozen(current)) await current.destroy()
      return commitSession(session, options)
    },
  }
}

/** A request for the Web API: the request itself, or one made from a Cookie header (counted as HTTPS, at the cookie's path). */
function toRequest(request: Request | WebRequest | string | null | undefined, cookiePath: string): WebRequest {
  if (request !== null && typeof request === 'object') return request
  const headers = new Headers()
  if (typeof request === 'string' && request !== '') headers.set('cookie', request)
  return { url: `https://localhost${cookiePath}`, headers }
}

function applyCookieOptions(session: Session, options: CommitOptions): void {
  for (const key of Object.keys(options)) {
    // Another attribute for one response (a path, a domain) would be ignored here: say so rather than drop it.
    if (key !== 'maxAge' && key !== 'expires') throw new TypeError(`sessionkit: commitSession() takes only maxAge and expires; set "${key}" in the storage's cookie options`)
  }
  if (options.maxAge !== undefined) session.cookie.maxAge = options.maxAge * 1000
  if (options.expires !== undefined) session.cookie.expires = options.expires
}

/** A Session in React Router's shape over the handle's current session (read each time: regenerate() replaces it). */
function routerSession<Data, FlashData>(handle: SessionHandle): RouterSession<Data, FlashData> {
  const values = (): Record<string, unknown> => {
    const current = handle.session
    if (current === null || current === undefined) throw new SessionError('SESSION_GONE', 'sessionkit: the session was destroyed or unset')
    return current as unknown as Record<string, unknown>
  }
  const writable = (name: string): Record<string, unknown> => {
    // A key the Session class owns (cookie, save, ...) cannot hold a value: it would be lost or break the session.
    if (RESERVED_KEYS.has(name)) throw new TypeError(`sessionkit: "${name}" is reserved and cannot be a session key`)
    const current = values()
    if (Object.isFrozen(current)) throw new SessionError('SESSION_COMMITTED', 'sessionkit: the session was already committed; change it before commitSession()')
    return current
  }
  const own = (record: Record<string, unknown>, name: string): boolean => !RESERVED_KEYS.has(name) && Object.hasOwn(record, name)
  return {
    get id() {
      return handle.sessionID
    },
    get data() {
      const record = values()
      const copy: Record<string, unknown> = {}
      for (const key of Object.keys(record)) if (!RESERVED_KEYS.has(key)) copy[key] = record[key]
      return copy as FlashSessionData<Data, FlashData>
    },
    has(name) {
      const record = values()
      return own(record, name) || own(record, flashKey(name))
    },
    get(name) {
      const record = values()
      if (own(record, name)) return record[name] as never
      const key = flashKey(name)
      if (!own(record, key)) return undefined
      const value = record[key]
      writable(key)
      delete record[key]
      return value as never
    },
    set(name, value) {
      writable(name)[name] = value
    },
    flash(name, value) {
      writable(flashKey(name))[flashKey(name)] = value
    },
    unset(name) {
      delete writable(name)[name]
    },
    async regenerate(options = {}) {
      const current = values() as unknown as Session
      await current.regenerate({ keep: options.keep ?? Object.keys(current).filter((key) => !RESERVED_KEYS.has(key)) })
    },
    get handle() {
      return handle
    },
  }
}

/** The path a header-only request is taken to be for: the cookie's own, so that it is never outside it. */
function staticPath(cookie: WebSessionOptions['cookie']): string {
  return typeof cookie === 'object' && cookie !== null && typeof cookie.path === 'string' ? cookie.path : '/'
}

/**
 * React Router's `SessionStorage` kept in a store (any express-session-compatible store; MemoryStore
 * when none is given): `session()`'s options, the cookie carrying only the signed id.
 */
export function storeSessionStorage<Data = Record<string, unknown>, FlashData = Data>(options: WebSessionOptions): RouterSessionStorage<Data, FlashData> & { readonly sessions: ReturnType<typeof webSessions> } {
  return storage<Data, FlashData, ReturnType<typeof webSessions>>(webSessions(options), staticPath(options.cookie))
}

/** React Router's `SessionStorage` with the whole session sealed (AES-256-GCM) in the cookie: `cookieSession()`'s options. */
export function cookieSessionStorage<Data = Record<string, unknown>, FlashData = Data>(options: WebCookieSessionOptions): RouterSessionStorage<Data, FlashData> {
  return storage<Data, FlashData, WebSessions>(webCookieSessions(options), staticPath(options.cookie))
}
