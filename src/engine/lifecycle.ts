import { Cookie, type CookieOptions } from '../cookie/cookie.js'
import { debug } from '../debug.js'
import { whyBrowserDrops, whyNotSent } from '../cookie/diagnostics.js'
import { SessionError } from '../errors.js'
import type { ReportedEvent, SessionEvents } from './events.js'
import type { CommitSteps, RequestExchange } from './adapter.js'
import { cookieAttributes, sameAttributes, serializeData, type Snapshot } from './snapshot.js'
import { expiredCookie, serializeCookie } from '../cookie/set-cookie.js'
import { headerToken } from '../cookie/signature.js'
import type { ParsedHeaderOption } from '../options/header-option.js'
import { assertIntact, controllerKey, RESERVED_KEYS, Session, type RegenerateOptions, type SessionController, type SessionRequest } from './session.js'

/**
 * The life of one request's session, the same in both modes (a store, a sealed cookie). Top to bottom:
 *
 * 1. `start()`: `req.session` and `req.sessionID` become lazy accessors and the response is held
 *    ({@link holdResponse}); the mode reads the cookie and loads the session (`loading` → `open`).
 * 2. The app runs. A new session is made only when it first reads `req.session` or `req.sessionID`.
 * 3. At the app's first `res.end()`: `commit()` decides what the session needs (the mode's rules) and
 *    does it while the response waits (`committing`), after any regenerate/destroy/reload in flight.
 * 4. Right before the headers go out: `writeHeaders()` adds the Set-Cookie (or the expired cookie).
 * 5. The response goes out (`committed`); `afterEnd()` does what may not delay it (a touch).
 * A failure in 3 or 4 moves to `failed`: the error handler answers instead, or the response is cut off.
 * @internal
 */

export { debug }

/** Where a request's session is in its life. */
export type Phase = 'loading' | 'open' | 'committing' | 'committed' | 'failed'

/** The moves a session's life may make; anything else cannot be written (see {@link RequestLifecycle.advance}). */
const NEXT = {
  loading: ['open', 'committed'],
  open: ['committing', 'committed', 'failed'],
  committing: ['committed', 'failed'],
  committed: [],
  failed: [],
} as const satisfies Record<Phase, readonly Phase[]>

/** The phases `From` may move to. */
export type NextPhase<From extends Phase> = (typeof NEXT)[From][number]

/** A new session that the app has not used yet: nothing is made until it does. */
export const LAZY: unique symbol = Symbol('sessionkit.lazy')
/** What `req.session` holds: a session, the lazy placeholder, or nothing (destroyed, unset). */
export type Slot = Session | typeof LAZY | null | undefined

/** What both modes are configured with. */
export interface LifecycleConfig {
  /** The cookie's name. */
  readonly name: string
  readonly proxy: boolean | undefined
  readonly absoluteTimeout: number
  /** Where this middleware's events go. */
  readonly events: SessionEvents
  /** Whether a response that sets the session cookie is marked private to the browser (`cacheControl` option). */
  readonly cacheControl: boolean
}

/** What carries a request's session for the app, as the lifecycle sees it. */
export interface LifecycleRequest extends SessionRequest {
  [controllerKey]?: RequestLifecycle
}

/** One request's session; the modes (`StoreLifecycle`, `CookieLifecycle`) say where it lives. */
export abstract class RequestLifecycle implements SessionController, CommitSteps {
  #phase: Phase
  /** The current session; LAZY until a new one is first used. */
  slot: Slot = LAZY
  /** The current session id; made on first use. */
  id: string | undefined
  /** The current session as found, taken when the app first looks at it; undefined before. */
  snapshot: Snapshot | undefined
  /** Ids destroyed or replaced during this request: nothing may write them back. */
  goneIds: Set<string> | undefined
  /** The attributes of the client's cookie when its session ended, to clear it with the same path. */
  clearWith: Cookie | undefined
  /** A regenerate(), destroy() or reload() in flight, which the commit waits for. */
  pendingOperation: Promise<void> | undefined
  /** An operation the app had no Promise of failed (the destroy behind `req.session = { ... }`): the response fails with it. */
  unawaitedFailure: unknown
  /** The new sessions already reported as created, so that saving one twice reports it once. */
  #reportedCreated: Set<string> | undefined
  /** The `header` option, when this request carried the session header: the id goes back in it, not in a cookie. */
  viaHeader: ParsedHeaderOption | undefined
  /** Whether the response is held for the commit (see {@link hold}). */
  #held = false
  /** What carries `session` and `sessionID` for the app; every Session of this request names it as its `req`. */
  readonly req: LifecycleRequest

  constructor(
    readonly config: LifecycleConfig,
    readonly exchange: RequestExchange,
    /** Hands the request on to the app (or, with an error, to its error handling). */
    readonly next: (err?: unknown) => void,
    readonly cookieOptions: CookieOptions,
    initial: 'loading' | 'open',
  ) {
    this.#phase = initial
    this.req = exchange.carrier as LifecycleRequest
  }

  get phase(): Phase {
    return this.#phase
  }

  /** Moves from `from` to `to` if the request is still in `from`; the types allow only the moves in NEXT. */
  advance<From extends Phase>(from: From, to: NextPhase<From>): boolean {
    if (this.#phase !== from) return false
    this.#phase = to
    return true
  }

  /** Makes `req.session` lazy and, when the end may have work, holds the response; the mode then reads its cookie. */
  install(): void {
    const { req } = this
    req[controllerKey] = this
    Object.defineProperty(req, 'session', sessionProperty)
    Object.defineProperty(req, 'sessionID', sessionIdProperty)
    const holdNow = this.holdsFromStart()
    this.#held = holdNow
    this.exchange.attach(holdNow, this)
  }

  /**
   * Whether the end of the response may have work even if the app never touches the session: the
   * client sent a session cookie, or new sessions are stored untouched (`saveUninitialized`).
   * Otherwise the response is held only once the app reads or sets `req.session` or `req.sessionID`.
   */
  abstract holdsFromStart(): boolean

  /**
   * Hooks the response's end and headers for the commit, once. A request that never touches its
   * session and brought no cookie has nothing to commit, and so pays nothing for the hooks.
   */
  hold(): void {
    if (this.#held) return
    this.#held = true
    this.exchange.hold()
  }

  // --- what the app sees ----------------------------------------------------------------------

  /** `req.session` read by the app: a new session is made now if none was. */
  abstract getSession(): Session | null | undefined
  /** `req.sessionID` read by the app. */
  abstract getId(): string

  /**
   * `req.session = value`. An object that is not a Session replaces the session, in both modes (apps
   * write `req.session = {}` to start over, a cookie-session habit): a new session under a new id holding
   * that object's own values, the old one ended as `destroy()` ends it. Anything else is {@link unset}.
   */
  assign(value: unknown): void {
    if (value === null || typeof value !== 'object' || value instanceof Session) return this.unset(value)
    this.endReplaced(this.replaceable())
    const created = this.generate() as unknown as Record<string, unknown>
    for (const key of Object.keys(value)) if (!RESERVED_KEYS.has(key)) created[key] = (value as Record<string, unknown>)[key]
  }

  /** `req.session = null`, `undefined`, a non-object, or a Session instance. */
  abstract unset(value: unknown): void
  /** The session an assignment replaces, if any. */
  abstract replaceable(): Session | undefined
  /** Ends the session an assignment replaces (the store mode destroys its record); throws when it cannot be replaced. */
  abstract endReplaced(previous: Session | undefined): void

  /** What `req.session` holds now, without making anything: LAZY for a new session never used. */
  current(): Slot | object {
    const own = Object.getOwnPropertyDescriptor(this.req, 'session')
    if (own === undefined) return undefined // `delete req.session`
    return own.get === sessionProperty.get ? this.slot : (own.value as object | null | undefined)
  }

  /** The current session if there is one, or undefined (never made, destroyed, unset, replaced by a non-session). */
  currentSession(now: Slot | object = this.current()): Session | undefined {
    // An app that set `req.sessionID` to something that is not an id gets nothing saved and no cookie.
    const usable = now instanceof Session && typeof now.id === 'string' && now.id.length > 0 && (this.id === undefined || typeof this.id === 'string')
    if (!usable) return undefined
    // Every commit step starts here: data that replaced a method fails with a SessionError, not a TypeError.
    assertIntact(now)
    return now
  }

  // --- making sessions --------------------------------------------------------------------------

  /** The configured cookie for this request, with `'auto'` attributes resolved and the absolute limit set. */
  newCookie(): Cookie {
    const cookie = new Cookie(this.cookieOptions)
    const { secure, sameSite } = this.cookieOptions
    if (secure === 'auto' || sameSite === 'auto') {
      const overHttps = this.exchange.overHttps(this.config.proxy)
      if (secure === 'auto') cookie.secure = overHttps
      if (sameSite === 'auto') cookie.sameSite = overHttps ? 'none' : 'lax'
    }
    if (this.config.absoluteTimeout > 0) cookie.absoluteExpires = new Date(Date.now() + this.config.absoluteTimeout)
    return cookie
  }

  /** A new, empty session as `req.session`, under a new id, with the configured cookie. */
  abstract generate(): Session

  /** A new, empty session under `id` as `req.session`, its snapshot taken. */
  adoptNew(id: string, cookie: Cookie): Session {
    this.id = id
    const created = new Session(this.req, { cookie })
    this.slot = created
    this.snapshot = { id, json: '{}', attributes: cookieAttributes(cookie) }
    return created
  }

  takeSnapshot(current: Session): Snapshot {
    this.snapshot = { id: current.id, json: serializeData(current), attributes: cookieAttributes(current.cookie) }
    return this.snapshot
  }

  /** Whether `current` (whose data is `json`) differs from the session as found. */
  isModified(current: Session, json: string): boolean {
    const found = this.snapshot
    return found === undefined || found.id !== current.id || found.json !== json || !sameAttributes(found.attributes, current.cookie)
  }

  /** The session is over: nothing may save it, and the client's cookie is cleared unless a new one replaces it. */
  noteGone(target: Session): void {
    ;(this.goneIds ??= new Set()).add(target.id)
    if (target.id === this.clientId()) this.clearWith = target.cookie
  }

  /** The id the client's cookie named, if it named one that opened or verified. */
  abstract clientId(): string | undefined

  /** Whether the session the client's cookie named has ended in this request. */
  clientSessionGone(): boolean {
    const client = this.clientId()
    return client !== undefined && this.goneIds?.has(client) === true
  }

  /** Remembers an operation that replaces or removes the session until it settles, and any still in flight with it. */
  track(operation: Promise<void>): Promise<void> {
    const before = this.pendingOperation
    // Two in flight (an assignment's destroy, then a regenerate()): the commit waits for both.
    const all = before === undefined ? operation : Promise.allSettled([before, operation]).then(() => undefined)
    this.pendingOperation = all
    const settle = (): void => {
      if (this.pendingOperation === all) this.pendingOperation = undefined
    }
    all.then(settle, settle)
    return operation
  }

  // --- the commit (called by the response hold) ---------------------------------------------------

  commit(): Promise<void> | undefined {
    const pending = this.pendingOperation
    if (pending === undefined) return this.commitUnlessFailed()
    // The app ended the response without waiting for regenerate(), destroy() or reload(): decide once
    // it has finished, on the session it leaves; setImmediate lets its own callback have its say first.
    const later = (): Promise<void> => new Promise((resolve) => setImmediate(resolve)).then(() => this.commitUnlessFailed() ?? undefined)
    return pending.then(later, later)
  }

  /** {@link commitNow}, unless an operation the app could not await failed: a session it meant to end may still be live. */
  commitUnlessFailed(): Promise<void> | undefined {
    if (this.unawaitedFailure !== undefined) throw this.unawaitedFailure
    return this.commitNow()
  }

  /** Decides and starts what the session needs at the end of the response. */
  abstract commitNow(): Promise<void> | undefined
  abstract writeHeaders(): void

  afterEnd(): void {
    this.advance('open', 'committed') || this.advance('committing', 'committed')
  }

  failed(err: unknown, replaced: boolean): void {
    debug('committing the session failed (%s): %s', replaced ? 'the error handler answers' : 'the response stands', err instanceof Error ? err.message : String(err))
    this.advance('open', 'failed') || this.advance('committing', 'failed')
  }

  /** The Set-Cookie that makes the browser forget the client's cookie. */
  expiredCookie(): string {
    return expiredCookie(this.config.name, this.clearWith ?? this.newCookie())
  }

  /** Hands the client its session's signed id (`value`, as the cookie carries it): in the session header when it came in one. */
  sendId(cookie: Cookie, value: string): void {
    if (this.viaHeader === undefined) return this.appendSetCookie(serializeCookie(cookie, this.config.name, value))
    this.exchange.setHeader(this.viaHeader.response, headerToken(value))
    if (this.config.cacheControl) this.exchange.keepFromSharedCaches()
  }

  /** Tells the client its session is over: an expired cookie, or an empty session header. */
  sendGone(): void {
    if (this.viaHeader === undefined) return this.appendSetCookie(this.expiredCookie())
    this.exchange.setHeader(this.viaHeader.response, '')
  }

  /** The one place both modes add the session's Set-Cookie; a response that carries it must not sit in a shared cache. */
  appendSetCookie(header: string): void {
    this.exchange.appendSetCookie(header)
    if (this.config.cacheControl) this.exchange.keepFromSharedCaches()
  }

  /**
   * Whether `cookie` may be sent on this request (a Secure cookie needs HTTPS, or a trusted proxy that
   * says so). Every cookie withheld, or that the browser will drop, is said why (see diagnostics.ts).
   */
  canSend(cookie: Cookie): boolean {
    if (cookie.secure !== true || this.exchange.overHttps(this.config.proxy)) {
      whyBrowserDrops(cookie, this.config.name)
      return true
    }
    whyNotSent(this.exchange.forwardedProto(), this.config.proxy)
    return false
  }

  // --- events -----------------------------------------------------------------------------------------

  /** Reports an event of this request to the middleware's listeners; events never carry an id. */
  report(event: ReportedEvent): void {
    if (!this.config.events.listened) return
    this.config.events.report(event.type === 'storeError' ? { ...event, error: this.withoutIds(event.error) } : event, this.exchange.origin)
  }

  /**
   * A store's error as an event may carry it: a store may name the session in its message (a file
   * path, a key), so this request's ids are replaced, and the store's own error (the cause) is left out.
   */
  withoutIds(error: SessionError): SessionError {
    let message = error.message
    for (const id of [this.id, this.clientId(), ...(this.goneIds ?? [])]) {
      if (typeof id === 'string' && id.length > 0) message = message.split(id).join('<session id>')
    }
    return new SessionError(error.code, message, { status: error.status })
  }

  /** Reports that the session a valid cookie named was not found (`record` is what the store answered) or could not be used. */
  reportLoadMiss(record: unknown): void {
    if (!this.config.events.listened) return
    const absolute = (record as { cookie?: { absoluteExpires?: unknown } } | null | undefined)?.cookie?.absoluteExpires
    const pastAbsolute = (typeof absolute === 'string' || absolute instanceof Date) && new Date(absolute).getTime() <= Date.now()
    this.report({ type: 'expired', reason: record === null || record === undefined ? 'not-found' : pastAbsolute ? 'absolute' : 'unusable' })
  }

  /** Reports `id` as created once, unless it is the session the client's cookie already named. */
  reportCreated(id: string): void {
    if (id === this.clientId() || this.#reportedCreated?.has(id) === true || !this.config.events.listened) return
    ;(this.#reportedCreated ??= new Set()).add(id)
    this.report({ type: 'created' })
  }

  // --- the session's methods (SessionController) ---------------------------------------------------

  abstract save(target: Session): Promise<void>
  abstract destroy(target: Session): Promise<void>
  abstract regenerate(target: Session, options: RegenerateOptions): Promise<void>
  abstract reload(target: Session): Promise<void>
}

/** The values of `keep` that `target` holds, to copy into the session that replaces it. */
export function keptValues(target: Session, keep: readonly string[] | undefined): [string, unknown][] {
  const kept: [string, unknown][] = []
  for (const key of keep ?? []) {
    if (Object.hasOwn(target, key) && !RESERVED_KEYS.has(key)) kept.push([key, (target as unknown as Record<string, unknown>)[key]])
  }
  return kept
}

// Accessors shared by every request; `this` is the request, which carries its lifecycle.
const sessionProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: LifecycleRequest) {
    const lifecycle = this[controllerKey] as RequestLifecycle
    lifecycle.hold()
    return lifecycle.getSession()
  },
  set(this: LifecycleRequest, value: unknown) {
    const lifecycle = this[controllerKey] as RequestLifecycle
    lifecycle.hold()
    lifecycle.assign(value)
  },
}

const sessionIdProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: LifecycleRequest) {
    const lifecycle = this[controllerKey] as RequestLifecycle
    lifecycle.hold()
    return lifecycle.getId()
  },
  set(this: LifecycleRequest, value: unknown) {
    const lifecycle = this[controllerKey] as RequestLifecycle
    lifecycle.hold()
    lifecycle.id = value as string
  },
}
