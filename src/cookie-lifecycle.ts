import type { ServerResponse } from 'node:http'
import { Cookie, type CookieOptions, type CookieRecord } from './cookie.js'
import { SessionError } from './errors.js'
import { debug, keptValues, LAZY, RequestLifecycle, type LifecycleConfig, type LifecycleRequest } from './lifecycle.js'
import { cookieKey, serializeData } from './request.js'
import { open, type SealKey } from './seal.js'
import { ATTRIBUTES, newSealedId, readPayload, sealedCookie, type Payload } from './sealed-payload.js'
import { RESERVED_KEYS, Session, type RegenerateOptions } from './session.js'
import { sessionCookieValues } from './signature.js'

/** What `cookieSession()` gives each request. @internal */
export interface CookieModeConfig extends LifecycleConfig {
  /** The first seals, every one opens. */
  readonly keys: readonly SealKey[]
  readonly rolling: boolean
  readonly saveUninitialized: boolean
  readonly ttl: number
}

/** The session as the client holds it: what `reload()` goes back to. */
interface ClientCopy {
  id: string
  created: number
  /** The data as JSON, so that changes the app makes to nested objects do not reach this copy. */
  json: string
  cookie: CookieRecord
}

/**
 * A request whose whole session lives in its sealed cookie (`cookieSession()`): nothing is opened until
 * the app reads `req.session`, and "saving" means this response carries a new sealed cookie. @internal
 */
export class CookieLifecycle extends RequestLifecycle {
  /** The cookie values of our name the request carried, in order. */
  readonly values: string[]
  /** The id the request's cookie opened to, if it opened. */
  openedId: string | undefined
  /** When the current session was created. */
  created = 0
  /** The sealed expiry the request's cookie carried. */
  openedExpiry = 0
  /** The client's copy: opened from the cookie, or last sealed by `save()`. */
  clientCopy: ClientCopy | undefined
  /** The session `save()` sealed: this response sends it, changed or not. */
  savedSession: Session | undefined
  /** The app called save() and was told the session cannot be sealed: the end does not fail on it again. */
  refusedJson: string | null | undefined
  /** The Set-Cookie the commit decided on, which the headers carry. */
  outgoing: string | undefined

  constructor(
    readonly cookieConfig: CookieModeConfig,
    req: LifecycleRequest,
    res: ServerResponse,
    next: (err?: unknown) => void,
    cookieOptions: CookieOptions,
  ) {
    super(cookieConfig, req, res, next, cookieOptions, 'open')
    // The same bound and quote rule as the store mode's ids: forged duplicates cost at most four opens.
    this.values = sessionCookieValues(req.headers.cookie, cookieConfig.name).filter((value) => value !== '')
  }

  start(): void {
    this.install()
    this.next()
  }

  clientId(): string | undefined {
    return this.openedId
  }

  // --- lazy access -----------------------------------------------------------------------------------

  getSession(): Session | null | undefined {
    if (this.slot === LAZY) this.slot = this.openOrCreate()
    return this.slot
  }

  getId(): string {
    if (this.id === undefined) this.getSession()
    return (this.id ??= newSealedId())
  }

  /** `req.session = null` ends the session; `req.session = { user }` (cookie-session's habit) starts a new one with that data. */
  assign(value: unknown): void {
    if (value instanceof Session) {
      this.slot = value
      return
    }
    const previous = this.slot === LAZY ? (this.values.length > 0 ? this.getSession() : undefined) : this.slot
    if (previous instanceof Session) this.noteGone(previous)
    if (value === null || value === undefined || typeof value !== 'object') {
      this.slot = value === null ? null : undefined
      return
    }
    const created = this.generate() as unknown as Record<string, unknown>
    for (const key of Object.keys(value)) if (!RESERVED_KEYS.has(key)) created[key] = (value as Record<string, unknown>)[key]
  }

  // --- opening and creating ----------------------------------------------------------------------------

  openOrCreate(): Session {
    const now = Date.now()
    for (const value of this.values) {
      const payload = readPayload(open(value, this.cookieConfig.keys, this.config.name), now)
      if (payload !== undefined) return this.adopt(payload)
    }
    if (this.values.length > 0) debug('cookie session did not open or has expired; starting a new one')
    return this.generate()
  }

  adopt(payload: Payload): Session {
    this.openedId = payload.i
    this.created = payload.c
    this.openedExpiry = payload.x
    const record = this.newCookie().toJSON()
    for (const attribute of ATTRIBUTES) {
      if (payload.a !== undefined && Object.hasOwn(payload.a, attribute)) (record as unknown as Record<string, unknown>)[attribute] = payload.a[attribute] ?? undefined
    }
    record.originalMaxAge = payload.o
    record.expires = payload.e === null ? null : new Date(payload.e)
    record.absoluteExpires = payload.t === undefined ? null : new Date(payload.t)
    this.id = payload.i
    const loaded = new Session(this.req, { ...payload.d, cookie: new Cookie(record) })
    const found = this.takeSnapshot(loaded)
    this.clientCopy = { id: payload.i, created: payload.c, json: found.json, cookie: record }
    return loaded
  }

  generate(): Session {
    this.created = Date.now()
    return this.adoptNew(newSealedId(), this.newCookie())
  }

  // --- the commit -------------------------------------------------------------------------------------

  commitNow(): Promise<void> | undefined {
    if (!this.advance('open', 'committing')) return undefined
    // Decided here, inside the app's end and before anything is written, so that a session that cannot
    // be sealed fails the request cleanly; a streamed response decided it when its headers went out.
    if (!this.res.headersSent) this.outgoing = this.decideCookie()
    return undefined
  }

  writeHeaders(): void {
    if (this.phase !== 'open' && this.phase !== 'committing') return
    const header = this.phase === 'committing' ? this.outgoing : this.decideCookie()
    if (header !== undefined) this.appendSetCookie(header)
  }

  /** The Set-Cookie this response needs, if any. Throws when the session cannot be sealed or is too large. */
  decideCookie(): string | undefined {
    let current = this.current()
    if (current === LAZY) {
      const needed = (this.cookieConfig.rolling && this.values.length > 0) || this.cookieConfig.saveUninitialized
      if (!needed) return undefined
      current = this.getSession()
    }
    const session = this.currentSession()
    const clear = this.values.length > 0 && (session === undefined || this.goneIds !== undefined)
    if (session === undefined || !this.shouldSend(session)) return clear ? this.expiredCookie() : undefined
    if (!this.canSend(session.cookie)) return undefined
    session.touch()
    return sealedCookie(session, { name: this.config.name, ttl: this.cookieConfig.ttl, key: this.cookieConfig.keys[0] as SealKey, created: this.created, base: this.newCookie() })
  }

  shouldSend(current: Session): boolean {
    if (this.goneIds?.has(current.id)) return false
    let json: string
    try {
      json = serializeData(current)
    } catch (err) {
      if (this.refusedJson === null) return false // the app was told, and answered itself
      throw err
    }
    if (json === this.refusedJson) return false
    if (this.savedSession === current) return true
    const found = this.snapshot
    const changed = found === undefined || json !== found.json || cookieKey(current.cookie) !== found.cookieKey
    if (current.id !== this.openedId) return this.cookieConfig.saveUninitialized || changed
    if (this.cookieConfig.rolling || changed) return true
    // A browser-session cookie's sealed life is `ttl` from when it was sent: renew it past half-time,
    // as a store's touch would, so a user active all day is not logged out.
    return current.cookie.expires === null && this.openedExpiry - Date.now() < this.cookieConfig.ttl / 2
  }

  // --- the session's methods ----------------------------------------------------------------------------

  /**
   * There is no store: saving means this response will carry the cookie. It is sealed now so that a
   * session too large for a cookie is reported to the caller, not only at the end.
   */
  async save(target: Session): Promise<void> {
    if (this.goneIds?.has(target.id)) throw new SessionError('SESSION_GONE', 'sessionkit: cannot save a session that was destroyed or regenerated')
    if (this.res.headersSent) {
      throw new SessionError('SESSION_GONE', 'sessionkit: cannot save a cookie session after the response headers were sent; save before writing the body')
    }
    if (target !== this.current()) throw new SessionError('SESSION_GONE', 'sessionkit: cannot save a session that is no longer req.session')
    let json: string
    try {
      json = serializeData(target)
    } catch (err) {
      this.refusedJson = null
      throw err
    }
    try {
      sealedCookie(target, { name: this.config.name, ttl: this.cookieConfig.ttl, key: this.cookieConfig.keys[0] as SealKey, created: this.created, base: this.newCookie() })
    } catch (err) {
      this.refusedJson = json
      throw err
    }
    this.refusedJson = undefined
    this.clientCopy = { id: target.id, created: this.created, json, cookie: target.cookie.toJSON() }
    this.savedSession = target
  }

  async destroy(target: Session): Promise<void> {
    if (this.slot === target) this.slot = undefined
    this.noteGone(target)
  }

  async regenerate(target: Session, options: RegenerateOptions): Promise<void> {
    const kept = keptValues(target, options.keep)
    this.noteGone(target)
    this.clientCopy = undefined
    const created = this.generate() as unknown as Record<string, unknown>
    for (const [key, value] of kept) created[key] = value
  }

  async reload(target: Session): Promise<void> {
    const copy = this.clientCopy
    if (copy === undefined || copy.id !== target.id || this.goneIds?.has(target.id)) {
      throw new SessionError('SESSION_NOT_FOUND', 'sessionkit: failed to load session: the client holds no saved copy of it', { status: 404 })
    }
    const data = JSON.parse(copy.json) as Record<string, unknown>
    this.slot = new Session(this.req, { ...data, cookie: new Cookie(copy.cookie) })
  }
}
