import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parse } from 'cookie'
import createDebug from 'debug'
import onHeaders from 'on-headers'
import { Cookie, type CookieOptions, type CookieRecord } from './cookie.js'
import {
  appendSetCookie,
  cookieKey,
  enterRequest,
  expiredCookie,
  isSecure,
  RESPONSE_HEADERS,
  serializeData,
  toDictionaryMode,
} from './request.js'
import { configError, SessionError } from './errors.js'
import type { NextFunction } from './middleware.js'
import { COOKIE_NAME, parseCookieOption } from './options.js'
import { deriveKeys, open, seal, type SealKey } from './seal.js'
import { controllerKey, RESERVED_KEYS, Session, type RegenerateOptions, type SessionController, type SessionRequest } from './session.js'
import type { Secret } from './signature.js'

const debug = createDebug('sessionkit:cookie')

/** The options of `cookieSession()`: the session lives in an encrypted cookie, no store. */
export interface CookieSessionOptions {
  /**
   * Derives the encryption keys (HKDF-SHA256, then AES-256-GCM). An array rotates secrets: the first
   * seals, every one opens. Use at least 32 random bytes. Required.
   */
  secret: Secret | readonly Secret[]
  /** The cookie's name, authenticated with its value. Default `session`. */
  name?: string
  /**
   * Old name of `name`, read as `session({ key })` reads it.
   * @deprecated Use `name`.
   */
  key?: string
  /** The cookie's attributes, or a function of the request that returns them, as in `session()`. */
  cookie?: CookieOptions | ((req: IncomingMessage) => CookieOptions)
  /** Send the cookie on every response that has a session, restarting its lifetime. Default `false`. */
  rolling?: boolean
  /** Send a cookie for a new session the request did not change. Default `false`: no empty cookies. */
  saveUninitialized?: boolean
  /** Trust `X-Forwarded-Proto` for secure cookies: `true`, `false`, or undefined to follow Express's `trust proxy`. */
  proxy?: boolean
  /**
   * How long, in milliseconds, a cookie without `maxAge` (a browser-session cookie) stays valid
   * after it was last sent; the browser is not told, the sealed payload is. It is sent again once
   * half of that has passed on a request that uses the session. Default one day, as stores keep
   * such sessions.
   */
  ttl?: number
  /** Milliseconds after its creation when a session ends however often it is used. Default 0: none. */
  absoluteTimeout?: number
}

/** The middleware `cookieSession()` returns; it works with Express 4 and 5, connect and `node:http`. */
export type CookieSessionMiddleware = (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void

/** Browsers keep cookies up to 4096 bytes (RFC 6265 §6.1); a longer one is dropped without a word. */
export const COOKIE_SIZE_LIMIT = 4096

interface CookieConfig {
  keys: SealKey[]
  name: string
  cookie: (req: IncomingMessage) => CookieOptions
  rolling: boolean
  saveUninitialized: boolean
  proxy: boolean | undefined
  ttl: number
  absoluteTimeout: number
}

const KNOWN = new Set(['secret', 'name', 'key', 'cookie', 'rolling', 'saveUninitialized', 'proxy', 'ttl', 'absoluteTimeout'])
// Options of session() that have no meaning without a store: said once rather than ignored silently.
const STORE_ONLY = new Set(['resave', 'genid', 'unset', 'merge', 'indexBy', 'index', 'storeTimeout'])
const warned = new Set<string>()

/**
 * Creates the cookie-session middleware: `req.session` as with `session()`, but the whole session
 * is sealed into the cookie, so the server keeps nothing. Per request:
 *
 * 1. A request that already has a session, or whose path is outside `cookie.path`, passes through.
 * 2. Nothing is decrypted until the app touches `req.session` (or `rolling` needs the session).
 *    A cookie that does not open, or whose sealed expiry has passed, yields a new session.
 * 3. Before the headers go out the session is sealed into Set-Cookie when it is new and changed
 *    (or `saveUninitialized`), changed, saved, or `rolling`; a destroyed or nulled session's cookie
 *    is cleared. A cookie over 4096 bytes fails the request with an error instead.
 */
export function cookieSession(options: CookieSessionOptions): CookieSessionMiddleware {
  const config = parseCookieSessionOptions(options)
  return function cookieSessionMiddleware(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    const request = req as CookieRequest
    const cookieOptions = enterRequest(request, next, config.cookie, debug)
    if (cookieOptions === undefined) return
    new CookieFlow(config, request, res, next, cookieOptions).start()
  }
}

function parseCookieSessionOptions(options: CookieSessionOptions | undefined): CookieConfig {
  if (options === undefined || options === null || typeof options !== 'object') {
    throw configError('cookieSession() needs an options object with at least { secret }')
  }
  if ('store' in options) {
    throw configError('cookieSession() keeps the whole session in the cookie and takes no "store"; use session({ store }) to keep sessions on the server')
  }
  for (const key of Object.keys(options)) {
    if (STORE_ONLY.has(key)) warnOnce(`cookie-${key}`, `sessionkit: option "${key}" of session() has no effect in cookieSession() and is ignored`)
    else if (!KNOWN.has(key)) warnOnce(`cookie-unknown-${key}`, `sessionkit: unknown option "${key}" of cookieSession() is ignored; check its spelling`)
  }
  const secrets = Array.isArray(options.secret) ? (options.secret as unknown[]) : [options.secret]
  if (secrets.length === 0) throw configError('option "secret" is an empty array; give at least one secret (the first one seals)')
  for (const item of secrets) {
    if (!((typeof item === 'string' && item.length > 0) || (Buffer.isBuffer(item) && item.length > 0))) {
      throw configError('option "secret" is required: a non-empty string, a Buffer, or an array of them (the first seals, all open), e.g. secret: process.env.SESSION_SECRET')
    }
  }
  const name = options.name ?? options.key ?? 'session'
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
    throw configError(`option "name" must be a cookie name made of letters, digits and !#$%&'*+-.^_\`|~ (got ${JSON.stringify(name)})`)
  }
  const cookie = parseCookieOption(options.cookie)
  for (const flag of ['rolling', 'saveUninitialized', 'proxy'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw configError(`option "${flag}" must be true or false (got ${JSON.stringify(options[flag])})`)
  }
  const ttl = options.ttl ?? 86_400_000
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) throw configError(`option "ttl" must be a positive number of milliseconds (got ${JSON.stringify(ttl)})`)
  const absoluteTimeout = options.absoluteTimeout ?? 0
  if (typeof absoluteTimeout !== 'number' || !Number.isFinite(absoluteTimeout) || absoluteTimeout < 0) {
    throw configError(`option "absoluteTimeout" must be a number of milliseconds, 0 for none (got ${JSON.stringify(absoluteTimeout)})`)
  }
  return {
    keys: deriveKeys(secrets as Secret[]),
    name,
    cookie,
    rolling: options.rolling ?? false,
    saveUninitialized: options.saveUninitialized ?? false,
    proxy: options.proxy,
    ttl,
    absoluteTimeout,
  }
}

/** What a sealed cookie holds. Short keys: every byte counts against the 4096-byte limit. */
interface Payload {
  /** The session id (random; `req.sessionID`). */
  i: string
  /** When the session was created (ms since the epoch). */
  c: number
  /** When the sealed value stops opening (ms): the cookie's expiry, or the `ttl` for a browser-session cookie. */
  x: number
  /** `cookie.originalMaxAge`: kept per session, so "remember me" survives. */
  o: number | null
  /** `cookie.expires` (ms), or null for a browser-session cookie. */
  e: number | null
  /** `cookie.absoluteExpires` (ms), when set. */
  t?: number
  /** Cookie attributes the app changed on this session, away from the configured ones. */
  a?: Partial<Record<AttributeName, unknown>>
  /** The app's data. */
  d: Record<string, unknown>
}

const ATTRIBUTES = ['path', 'domain', 'httpOnly', 'secure', 'sameSite', 'partitioned', 'priority'] as const
type AttributeName = (typeof ATTRIBUTES)[number]

interface CookieRequest extends SessionRequest {
  [controllerKey]?: CookieFlow
  originalUrl?: string
  secure?: boolean
}

const LAZY: unique symbol = Symbol('sessionkit.cookie.lazy')
type Slot = Session | typeof LAZY | null | undefined

/** The session as the client holds it: what `reload()` goes back to. */
interface Held {
  id: string
  created: number
  /** The data as JSON, so that changes the app makes to nested objects do not reach this copy. */
  json: string
  cookie: CookieRecord
}

/** One request's cookie session, from the Cookie header to the Set-Cookie; the controller behind `req.session`'s methods. */
class CookieFlow implements SessionController {
  slot: Slot = LAZY
  id: string | undefined
  peeking = false
  /** The cookie values of our name the request carried, in order. */
  values: string[] = []
  /** The id the request's cookie opened to, if it opened. */
  openedId: string | undefined
  /** When the current session was created. */
  created = 0
  /** The sealed expiry the request's cookie carried. */
  openedExpiry = 0
  /** What "changed" is measured against: the data and cookie attributes when the session was opened or made. */
  originalJson = '{}'
  originalCookieKey = ''
  /** The client's copy: opened from the cookie, or last saved by `save()`. */
  held: Held | undefined
  /** `save()` was called on the current session: send it whatever changed. */
  saveRequested = false
  /** Ids destroyed or replaced during this request. */
  goneIds: Set<string> | undefined
  /** Send an expired cookie if no new one replaces it. */
  clear = false
  /** The attributes of the cookie to clear, from the session that ended (its path may differ from the configured one). */
  clearWith: Cookie | undefined
  committed = false
  ending = false
  failed = false

  constructor(
    readonly config: CookieConfig,
    readonly req: CookieRequest,
    readonly res: ServerResponse,
    readonly next: NextFunction,
    readonly cookieOptions: CookieOptions,
  ) {}

  start(): void {
    const { req } = this
    toDictionaryMode(req, this.res)
    req[controllerKey] = this
    Object.defineProperty(req, 'session', sessionProperty)
    Object.defineProperty(req, 'sessionID', sessionIdProperty)
    this.values = cookieValues(req.headers.cookie, this.config.name)
    this.hookResponse()
    this.next()
  }

  // --- lazy access -------------------------------------------------------------------------

  getSession(): Session | null | undefined {
    if (this.peeking) return this.slot === LAZY ? undefined : this.slot
    if (this.slot === LAZY) this.slot = this.openOrCreate()
    return this.slot
  }

  getId(): string {
    if (this.id === undefined) this.getSession()
    return this.id ?? (this.id = newId())
  }

  peek(): Slot {
    if (!('session' in this.req)) return undefined
    this.peeking = true
    try {
      const current = this.req.session as Slot
      return current === undefined && this.slot === LAZY ? LAZY : current
    } finally {
      this.peeking = false
    }
  }

  /** Replaces the slot when the app assigns `req.session`: null ends the session, an object becomes the new data. */
  assign(value: unknown): void {
    if (value instanceof Session || value === null || value === undefined) {
      // null (or undefined) ends the session: commit() clears the cookie the client sent.
      if (!(value instanceof Session) && this.slot instanceof Session) this.forget(this.slot)
      this.slot = value as Slot
      return
    }
    if (typeof value === 'object') {
      // cookie-session apps write `req.session = { user }`: a new session holding that data.
      this.forget(this.slot instanceof Session ? this.slot : undefined)
      const created = this.generate() as unknown as Record<string, unknown>
      for (const key of Object.keys(value)) if (!RESERVED_KEYS.has(key)) created[key] = (value as Record<string, unknown>)[key]
      return
    }
    this.slot = undefined
  }

  // --- opening and creating ----------------------------------------------------------------

  openOrCreate(): Session {
    const now = Date.now()
    for (const value of this.values) {
      const payload = readPayload(open(value, this.config.keys, this.config.name), now)
      if (payload !== undefined) return this.adopt(payload)
    }
    if (this.values.length > 0) debug('cookie did not open or has expired; starting a new session')
    return this.generate()
  }

  adopt(payload: Payload): Session {
    this.id = payload.i
    this.openedId = payload.i
    this.created = payload.c
    this.openedExpiry = payload.x
    const record = this.baseCookie().toJSON()
    for (const attribute of ATTRIBUTES) {
      if (payload.a !== undefined && Object.hasOwn(payload.a, attribute)) (record as unknown as Record<string, unknown>)[attribute] = payload.a[attribute] ?? undefined
    }
    record.originalMaxAge = payload.o
    record.expires = payload.e === null ? null : new Date(payload.e)
    if (payload.t !== undefined) record.absoluteExpires = new Date(payload.t)
    const loaded = new Session(this.req, { ...payload.d, cookie: new Cookie(record) })
    this.originalJson = serializeData(loaded)
    this.originalCookieKey = cookieKey(loaded.cookie)
    this.held = { id: payload.i, created: payload.c, json: this.originalJson, cookie: record }
    return loaded
  }

  build(held: Held): Session {
    const data = JSON.parse(held.json) as Record<string, unknown>
    return new Session(this.req, { ...data, cookie: new Cookie(held.cookie) })
  }

  /** The configured cookie for this request, with `'auto'` attributes resolved. */
  baseCookie(): Cookie {
    const cookie = new Cookie(this.cookieOptions)
    const { secure, sameSite } = this.cookieOptions
    if (secure === 'auto' || sameSite === 'auto') {
      const overHttps = isSecure(this.req, this.config.proxy)
      if (secure === 'auto') cookie.secure = overHttps
      if (sameSite === 'auto') cookie.sameSite = overHttps ? 'none' : 'lax'
    }
    return cookie
  }

  generate(): Session {
    this.id = newId()
    this.created = Date.now()
    const cookie = this.baseCookie()
    if (this.config.absoluteTimeout > 0) cookie.absoluteExpires = new Date(this.created + this.config.absoluteTimeout)
    const created = new Session(this.req, { cookie })
    this.slot = created
    this.originalJson = '{}'
    this.originalCookieKey = cookieKey(cookie)
    this.saveRequested = false
    return created
  }

  /** The session is over: it may not be saved, and the client's cookie is cleared unless a new one replaces it. */
  forget(target: Session | undefined): void {
    if (target !== undefined) {
      ;(this.goneIds ??= new Set()).add(target.id)
      this.clearWith = target.cookie
    }
    if (this.values.length > 0) this.clear = true
  }

  // --- the response ------------------------------------------------------------------------

  hookResponse(): void {
    const { res } = this
    const flow = this
    onHeaders(res, () => {
      // The app sent its headers before ending (streaming): the cookie goes now or never.
      if (flow.committed) return
      try {
        flow.commit()
      } catch (err) {
        flow.failed = true
        debug('cannot send the session cookie: %s', err instanceof Error ? err.message : String(err))
        setImmediate(() => {
          flow.next(err)
          if (!res.writableEnded && !res.destroyed) res.destroy()
        })
      }
    })
    const originalEnd = res.end as (...args: unknown[]) => ServerResponse
    res.end = function end(this: ServerResponse, ...args: unknown[]): ServerResponse {
      if (flow.ending || res.headersSent) return originalEnd.apply(this, args)
      flow.ending = true
      try {
        flow.commit()
      } catch (err) {
        flow.fail(err)
        return res
      }
      return originalEnd.apply(this, args)
    } as ServerResponse['end']
  }

  /** The app's answer is dropped and the error goes to `next()`, whose handler answers instead. */
  fail(err: unknown): void {
    debug('cannot send the session cookie: %s', err instanceof Error ? err.message : String(err))
    this.failed = true
    for (const header of RESPONSE_HEADERS) this.res.removeHeader(header)
    setImmediate(() => this.next(err))
  }

  /** Adds the Set-Cookie this response needs, once. Throws when the session cannot be sealed or is too large. */
  commit(): void {
    this.committed = true
    let current = this.peek()
    if (current === LAZY) {
      if (this.config.rolling && this.values.length > 0) current = this.getSession()
      else if (this.config.saveUninitialized) current = this.getSession()
      else return
    }
    if (!(current instanceof Session)) {
      // Destroyed, `req.session = null` or deleted: the session ends, and so does the client's copy.
      if (this.values.length > 0) this.appendSetCookie(this.expiredCookie())
      return
    }
    if (!this.shouldSend(current)) {
      if (this.clear) this.appendSetCookie(this.expiredCookie())
      return
    }
    if (current.cookie.secure === true && !isSecure(this.req, this.config.proxy)) {
      debug('not sending a Secure cookie over plain HTTP')
      return
    }
    current.touch()
    this.appendSetCookie(this.sealedCookie(current))
  }

  shouldSend(current: Session): boolean {
    if (this.goneIds?.has(current.id)) return false
    if (this.saveRequested) return true
    const json = serializeData(current)
    const changed = json !== this.originalJson || cookieKey(current.cookie) !== this.originalCookieKey
    if (current.id !== this.openedId) return this.config.saveUninitialized || changed
    if (this.config.rolling || changed) return true
    // A browser-session cookie's sealed life is `ttl` from when it was sent: renew it past half-time,
    // as a store's touch would, so a user active all day is not logged out.
    return current.cookie.expires === null && this.openedExpiry - Date.now() < this.config.ttl / 2
  }

  /** The Set-Cookie header for `current`, sealed with the first key; throws when it exceeds 4096 bytes. */
  sealedCookie(current: Session): string {
    const cookie = current.cookie
    const now = Date.now()
    const expires = cookie.expires
    const absolute = cookie.absoluteExpires
    let sealedExpiry = expires === null ? now + this.config.ttl : expires.getTime()
    if (absolute !== null) sealedExpiry = Math.min(sealedExpiry, absolute.getTime())
    const payload: Omit<Payload, 'd'> = { i: current.id, c: this.created, x: sealedExpiry, o: cookie.originalMaxAge, e: expires === null ? null : expires.getTime() }
    if (absolute !== null) payload.t = absolute.getTime()
    const base = this.baseCookie()
    for (const attribute of ATTRIBUTES) {
      if (cookie[attribute] !== base[attribute]) (payload.a ??= {})[attribute] = cookie[attribute] ?? null
    }
    // The data goes in as the JSON already made for it, not parsed and made again.
    const text = `${JSON.stringify(payload).slice(0, -1)},"d":${serializeData(current)}}`
    const value = seal(text, this.config.keys[0] as SealKey, this.config.name)
    const header = cookie.serialize(this.config.name, value)
    const size = Buffer.byteLength(header)
    if (size > COOKIE_SIZE_LIMIT) {
      const err = new SessionError(
        'SESSION_SERIALIZE',
        `sessionkit: the session cookie would be ${size} bytes, over the ${COOKIE_SIZE_LIMIT}-byte limit browsers keep (they drop larger cookies silently); keep less in the session, or use session() with a store`,
      )
      throw Object.assign(err, { limit: COOKIE_SIZE_LIMIT, size })
    }
    return header
  }

  expiredCookie(): string {
    return expiredCookie(this.config.name, this.clearWith ?? this.baseCookie())
  }

  appendSetCookie(header: string): void {
    appendSetCookie(this.res, header)
  }

  // --- the session's methods -----------------------------------------------------------------

  /**
   * There is no store: saving means this response will carry the cookie. It is sealed now so that
   * a session too large for a cookie is reported to the caller, not only at the end.
   */
  async save(target: Session): Promise<void> {
    if (this.goneIds?.has(target.id)) throw new SessionError('SESSION_GONE', 'sessionkit: cannot save a session that was destroyed or regenerated')
    if (this.res.headersSent) {
      throw new SessionError('SESSION_GONE', 'sessionkit: cannot save a cookie session after the response headers were sent; save before writing the body')
    }
    const current = this.peek()
    if (target !== current) throw new SessionError('SESSION_GONE', 'sessionkit: cannot save a session that is no longer req.session')
    this.sealedCookie(target)
    this.held = { id: target.id, created: this.created, json: serializeData(target), cookie: target.cookie.toJSON() }
    this.saveRequested = true
  }

  async destroy(target: Session): Promise<void> {
    if (this.slot === target) this.slot = undefined
    this.forget(target)
  }

  async regenerate(target: Session, options: RegenerateOptions): Promise<void> {
    const kept: [string, unknown][] = []
    for (const key of options.keep ?? []) {
      if (Object.hasOwn(target, key) && !RESERVED_KEYS.has(key)) kept.push([key, (target as unknown as Record<string, unknown>)[key]])
    }
    this.forget(target)
    this.held = undefined
    const created = this.generate() as unknown as Record<string, unknown>
    for (const [key, value] of kept) created[key] = value
  }

  async reload(target: Session): Promise<void> {
    const held = this.held
    if (held === undefined || held.id !== target.id || this.goneIds?.has(target.id)) {
      throw new SessionError('SESSION_NOT_FOUND', 'sessionkit: failed to load session: the client holds no saved copy of it', { status: 404 })
    }
    this.slot = this.build(held)
  }
}


const sessionProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: CookieRequest) {
    return (this[controllerKey] as CookieFlow).getSession()
  },
  set(this: CookieRequest, value: unknown) {
    ;(this[controllerKey] as CookieFlow).assign(value)
  },
}

const sessionIdProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: CookieRequest) {
    return (this[controllerKey] as CookieFlow).getId()
  },
  set(this: CookieRequest, value: unknown) {
    ;(this[controllerKey] as CookieFlow).id = value as string
  },
}

function newId(): string {
  return randomBytes(18).toString('base64url')
}

/**
 * The payload inside an opened value, or undefined when it has the wrong shape (a value sealed by
 * another version) or its sealed expiry has passed (a replayed old cookie).
 */
function readPayload(text: string | undefined, now: number): Payload | undefined {
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (value === null || typeof value !== 'object') return undefined
  const p = value as Record<string, unknown>
  const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
  if (typeof p['i'] !== 'string' || p['i'].length === 0 || !isTime(p['c']) || !isTime(p['x'])) return undefined
  if (!(p['o'] === null || isTime(p['o'])) || !(p['e'] === null || isTime(p['e']))) return undefined
  if (p['t'] !== undefined && !isTime(p['t'])) return undefined
  if (p['a'] !== undefined && (p['a'] === null || typeof p['a'] !== 'object')) return undefined
  if (p['d'] === null || typeof p['d'] !== 'object' || Array.isArray(p['d'])) return undefined
  if (p['x'] <= now || (p['t'] !== undefined && p['t'] <= now)) return undefined
  return value as Payload
}

/** Every value the Cookie header carries under `name`, first one first (a browser may send several, one per path). */
function cookieValues(header: string | undefined, name: string): string[] {
  if (!header || !header.includes(name)) return []
  const values: string[] = []
  for (const pair of header.split(';')) {
    const value = parse(pair)[name]
    if (value !== undefined && value !== '') values.push(value)
  }
  return values
}





function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return
  warned.add(key)
  process.emitWarning(message, { code: 'SESSIONKIT_OPTION' })
}
