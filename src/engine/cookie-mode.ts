import { Cookie, type CookieOptions, type CookieRecord } from '../cookie/cookie.js'
import { SessionError } from '../errors.js'
import type { ExpiryReason, TamperReason } from './events.js'
import { debug, keptValues, LAZY, RequestLifecycle, type LifecycleConfig } from './lifecycle.js'
import type { RequestExchange } from './adapter.js'
import { carriedParts, joinSealed, partOf } from '../cookie/chunks.js'
import { sameAttributes, serializeData } from './snapshot.js'
import { expiredCookie as expiredHeader } from '../cookie/set-cookie.js'
import { openSealed, type SealKey } from '../cookie/seal.js'
import { ATTRIBUTES, COOKIE_SIZE_LIMIT, newSealedId, readPayload, sealedCookie, type Payload } from '../cookie/sealed-payload.js'
import { Session, type RegenerateOptions } from './session.js'
import { sessionCookieValues } from '../cookie/signature.js'

/** What `cookieSession()` gives each request. @internal */
export interface CookieModeConfig extends LifecycleConfig {
  /** The first seals, every one opens. */
  readonly keys: readonly SealKey[]
  readonly rolling: boolean
  readonly saveUninitialized: boolean
  readonly ttl: number
  /** The app's revocation check (`revoked` option), asked before the app runs about every cookie that opens. */
  readonly revoked: ((session: SealedSessionInfo) => boolean | Promise<boolean>) | undefined
  /** The session key that names its owner (`indexBy`), told to `revoked`. */
  readonly indexBy: string | undefined
  /** How many cookies a sealed session may be split over (`maxCookies`); 1: never split. */
  readonly maxCookies: number
}

/** What the `revoked` option of `cookieSession()` is told about a sealed session that opened. */
export interface SealedSessionInfo {
  /** The session's `indexBy` value as a string; undefined without `indexBy` or when the session has none. */
  readonly owner: string | undefined
  /** When the session was created: a new one is created at a login (`regenerate()`), not on every change. */
  readonly issuedAt: Date
}

/** A cookie value that opened to a valid payload, and whether an older secret's key opened it. */
interface OpenedCookie {
  readonly payload: Payload
  readonly olderKey: boolean
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
  /** The Set-Cookie headers the commit decided on, which the headers carry. */
  outgoing: string[] | undefined
  /** The cookie opened before the app ran (for `revoked`): null when none is usable, undefined when not opened yet. */
  opened: OpenedCookie | null | undefined
  /** The client's cookie was revoked: it is cleared unless a new session replaces it. */
  revokedCookie = false
  /** The client's session was sealed with an older secret: it is sealed again with the first. */
  olderKey = false

  constructor(
    readonly cookieConfig: CookieModeConfig,
    exchange: RequestExchange,
    next: (err?: unknown) => void,
    cookieOptions: CookieOptions,
  ) {
    super(cookieConfig, exchange, next, cookieOptions, 'open')
    // The same bound and quote rule as the store mode's ids: forged duplicates cost at most four opens.
    this.values = sessionCookieValues(exchange.cookieHeader, cookieConfig.name).filter((value) => value !== '')
  }

  start(): void {
    this.install()
    const check = this.cookieConfig.revoked
    if (check === undefined || this.values.length === 0) return this.next()
    // `req.session` is read synchronously, so an asynchronous check has to be asked before the app runs.
    const opened = (this.opened = this.openCookie())
    if (opened === null) return this.next()
    const owner = this.cookieConfig.indexBy === undefined ? undefined : opened.payload.d[this.cookieConfig.indexBy]
    let answer: boolean | Promise<boolean>
    try {
      answer = check({ owner: owner === undefined || owner === null ? undefined : String(owner), issuedAt: new Date(opened.payload.c) })
    } catch (err) {
      return this.next(err)
    }
    if (typeof answer === 'boolean') return this.afterRevocationCheck(answer)
    Promise.resolve(answer).then(
      (revoked) => this.afterRevocationCheck(revoked),
      (err: unknown) => this.next(err),
    )
  }

  afterRevocationCheck(revoked: boolean): void {
    if (revoked === true) {
      debug('cookie session was revoked by the revoked option; starting a new one')
      this.opened = null
      this.revokedCookie = true
      this.report({ type: 'revoked' })
    }
    this.next()
  }

  clientId(): string | undefined {
    return this.openedId
  }

  holdsFromStart(): boolean {
    return this.values.length > 0 || this.cookieConfig.saveUninitialized
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

  /** `req.session = null` (or `undefined`) ends the session and clears the cookie; a Session is kept as it is. */
  unset(value: unknown): void {
    if (value instanceof Session) {
      this.slot = value
      return
    }
    this.endReplaced(this.replaceable())
    this.slot = value === null ? null : undefined
  }

  /** The current session: the cookie's is opened now if the app never read it. */
  replaceable(): Session | undefined {
    const previous = this.slot === LAZY ? (this.values.length > 0 ? this.getSession() : undefined) : this.slot
    return previous instanceof Session ? previous : undefined
  }

  /** Nothing holds a cookie session but the cookie: it ends by not being sent again (and being cleared). */
  endReplaced(previous: Session | undefined): void {
    if (previous === undefined) return
    this.noteGone(previous)
    if (previous.id === this.clientId()) this.report({ type: 'destroyed' })
  }

  // --- opening and creating ----------------------------------------------------------------------------

  openOrCreate(): Session {
    const opened = this.opened === undefined ? this.openCookie() : this.opened
    return opened === null ? this.generate() : this.adopt(opened.payload, opened.olderKey)
  }

  /** The first of the request's cookies that opens and has not expired; null (and the event that says why) when none does. */
  openCookie(): OpenedCookie | null {
    const now = Date.now()
    let expired: ExpiryReason | undefined
    let tampered: TamperReason | undefined
    const { maxCookies } = this.cookieConfig
    for (const value of this.values) {
      // A split session's first cookie names how many parts follow; only the whole value opens.
      const sealed = maxCookies === 1 ? value : joinSealed(value, maxCookies, (index) => partOf(this.exchange.cookieHeader, this.config.name, index))
      const opened = openSealed(sealed, this.cookieConfig.keys, this.config.name, maxCookies === 1 ? undefined : maxCookies * COOKIE_SIZE_LIMIT)
      if ('failure' in opened) {
        tampered ??= opened.failure
        continue
      }
      const payload = readPayload(opened.text, now)
      if (payload !== undefined) return { payload, olderKey: opened.keyIndex > 0 }
      expired ??= expiryReason(opened.text, now)
    }
    if (this.values.length > 0) debug('cookie session did not open or has expired; starting a new one')
    if (expired !== undefined) this.report({ type: 'expired', reason: expired })
    else if (tampered !== undefined) this.report({ type: 'tampered', reason: tampered })
    return null
  }

  adopt(payload: Payload, olderKey: boolean): Session {
    this.olderKey = olderKey
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
    if (!this.exchange.headersSent) this.outgoing = this.decideCookie()
    return undefined
  }

  writeHeaders(): void {
    if (this.phase !== 'open' && this.phase !== 'committing') return
    const headers = this.phase === 'committing' ? this.outgoing : this.decideCookie()
    for (const header of headers ?? []) this.appendSetCookie(header)
  }

  /** The Set-Cookie headers this response needs, if any. Throws when the session cannot be sealed or is too large. */
  decideCookie(): string[] | undefined {
    let current = this.current()
    if (current === LAZY) {
      const needed = (this.cookieConfig.rolling && this.values.length > 0) || this.cookieConfig.saveUninitialized
      if (!needed) return undefined
      current = this.getSession()
    }
    const session = this.currentSession(current) // read once: a descriptor read allocates
    const clear = this.values.length > 0 && (session === undefined || this.goneIds !== undefined || this.revokedCookie)
    if (session === undefined || !this.shouldSend(session)) return clear ? [this.expiredCookie(), ...this.staleParts(0, this.clearWith ?? this.newCookie())] : undefined
    if (!this.canSend(session.cookie)) return undefined
    session.touch()
    const headers = this.sealed(session)
    this.reportCreated(session.id)
    return [...headers, ...this.staleParts(headers.length, session.cookie)]
  }

  /** `target` sealed into its Set-Cookie headers (more than one only when `maxCookies` splits it). */
  sealed(target: Session): string[] {
    const { ttl, keys, maxCookies } = this.cookieConfig
    return sealedCookie(target, { name: this.config.name, ttl, key: keys[0] as SealKey, created: this.created, base: this.newCookie(), maxCookies })
  }

  /** Expired cookies for the parts of a split session that the request brought past the first `kept`. */
  staleParts(kept: number, attributes: Cookie): string[] {
    const { maxCookies } = this.cookieConfig
    if (maxCookies === 1) return []
    return carriedParts(this.exchange.cookieHeader, this.config.name, maxCookies, kept).map((part) => expiredHeader(part, attributes))
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
    const changed = found === undefined || json !== found.json || !sameAttributes(found.attributes, current.cookie)
    if (current.id !== this.openedId) return this.cookieConfig.saveUninitialized || changed
    // Sealed again with the first secret, so that the older one can be retired without logging anyone out.
    if (this.cookieConfig.rolling || changed || this.olderKey) return true
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
    if (this.exchange.headersSent) {
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
      this.sealed(target)
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
    this.report({ type: 'destroyed' })
  }

  async regenerate(target: Session, options: RegenerateOptions): Promise<void> {
    const kept = keptValues(target, options.keep)
    this.noteGone(target)
    this.report({ type: 'regenerated' })
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

/** Why a sealed value that opened was not accepted: past `absoluteTimeout`, past its sealed life, or not a payload this version reads. */
function expiryReason(text: string, now: number): ExpiryReason {
  try {
    const payload = JSON.parse(text) as { x?: unknown; t?: unknown }
    if (typeof payload.t === 'number' && payload.t <= now) return 'absolute'
    if (typeof payload.x === 'number' && payload.x <= now) return 'lifetime'
  } catch {
    // not JSON: an unusable payload
  }
  return 'unusable'
}
