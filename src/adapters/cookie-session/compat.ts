/**
 * `sessionkit/cookie-session`: a drop-in for the `cookie-session` package, with its options and
 * `req.session`, the session sealed (AES-256-GCM) and its expiry enforced by the server.
 *
 * @module sessionkit/cookie-session
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { serialize, type SerializeOptions } from 'cookie'
import onHeaders from 'on-headers'
import { keepFromSharedCaches } from '../express/exchange.js'
import { carriedParts, chunkName, joinSealed, MAX_COOKIES, partOf, splitSealed } from '../../cookie/chunks.js'
import { readLegacyCookie } from './legacy.js'
import { attributeProblem, parseCompatOptions, type CompatConfig, type CookieSessionCompatOptions, type CookieSessionCookieOptions } from './options.js'
import { debug } from '../../debug.js'
import { COOKIE_NOT_SET } from '../../cookie/diagnostics.js'
import { isSecure, type RoutedRequest } from '../express/request.js'
import { openSealed, seal, type SealKey } from '../../cookie/seal.js'
import { COOKIE_SIZE_LIMIT, newSealedId, readPayload, type Payload } from '../../cookie/sealed-payload.js'
import { sessionCookieValues } from '../../cookie/signature.js'
import { warnOnce } from '../../warn-once.js'

export type { CookieSessionCompatOptions, CookieSessionCookieOptions } from './options.js'
export type { KeygripLike } from './legacy.js'

/**
 * `sessionkit/cookie-session`: cookie-session 2's API over sessionkit's sealed cookies. An app written
 * for cookie-session changes only its require line: `req.session` with `isNew`, `isChanged` and
 * `isPopulated`, `req.sessionOptions` per request, `req.session = null`, a Set-Cookie only when the
 * session changed (and is not new and empty). What differs on purpose: the value is encrypted
 * (AES-256-GCM) rather than base64 JSON beside a `.sig` cookie, and its expiry is sealed inside it, so
 * a copied cookie stops working when it expires, whatever the client does with `Expires`.
 */

/** Per-request state kept out of the session's own keys (which are the app's data). */
const contextKey = Symbol('sessionkit.cookieSessionContext')

interface SessionContext {
  isNew: boolean
  /** The data's JSON as the request found it; undefined for a new session. */
  json: string | undefined
}

/** `req.session` under `sessionkit/cookie-session`: the app's keys, and three read-only flags as cookie-session has them. */
export class CookieSessionObject {
  declare [contextKey]: SessionContext;
  [key: string]: unknown

  constructor(data: Record<string, unknown> | undefined, context: SessionContext) {
    Object.defineProperty(this, contextKey, { value: context })
    if (data !== undefined) {
      for (const key of Object.keys(data)) if (!(key in this)) this[key] = data[key]
    }
  }

  /** True when the request brought no valid session, or the app replaced it with `req.session = {...}`. */
  get isNew(): boolean {
    return this[contextKey].isNew
  }

  /** True when the session is new or its data differs from what the request brought. */
  get isChanged(): boolean {
    const context = this[contextKey]
    return context.isNew || context.json !== JSON.stringify(this)
  }

  /** True when the session holds at least one key. */
  get isPopulated(): boolean {
    return Object.keys(this).length > 0
  }
}

/** A request as this middleware leaves it. */
export interface CookieSessionRequest extends IncomingMessage {
  /** The session; null after `req.session = null` (the cookie is cleared). */
  session: CookieSessionObject | null
  /** This request's cookie options, inheriting from the middleware's: change them to change this response's cookie. */
  sessionOptions: CookieSessionCookieOptions
}

/** The middleware `sessionkit/cookie-session` gives; it works with Express 4 and 5, connect and `node:http`. */
export type CookieSessionCompatMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void

/**
 * Creates the middleware, with cookie-session 2's options (`name`, `keys`, `secret`, and the cookie
 * attributes at the top level) and a few of sessionkit's own (`adopt`, `ttl`, `maxCookies`). It throws
 * at startup for options that cannot work, naming what to change.
 */
export function cookieSession(options?: CookieSessionCompatOptions): CookieSessionCompatMiddleware {
  const config = parseCompatOptions(options)
  return function sessionkitCookieSession(req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void {
    const request = new CompatRequest(config, req as RoutedRequest & CookieSessionRequest, res)
    ;(req as CookieSessionRequest).sessionOptions = Object.create(config.defaults) as CookieSessionCookieOptions
    Object.defineProperty(req, 'session', {
      configurable: true,
      enumerable: true,
      get: () => request.getSession(),
      set: (value: unknown) => request.setSession(value),
    })
    onHeaders(res, () => request.writeHeaders())
    next()
  }
}

/** One request: its cookies read lazily, its Set-Cookie decided right before the headers go out. */
class CompatRequest {
  /** undefined: not read yet; null: `req.session = null`. */
  session: CookieSessionObject | null | undefined
  /** Sent even unchanged: adopted from cookie-session, opened by an older key, or past half its `ttl`. */
  mustSend = false
  /** The id and creation time of the sealed session the request brought, kept when it is sealed again. */
  id: string | undefined
  created = 0
  readonly cookieHeader: string | undefined

  constructor(
    readonly config: CompatConfig,
    readonly req: RoutedRequest & CookieSessionRequest,
    readonly res: ServerResponse,
  ) {
    const header = req.headers.cookie
    this.cookieHeader = typeof header === 'string' ? header : undefined
  }

  getSession(): CookieSessionObject | null {
    if (this.session === undefined) this.session = this.open() ?? new CookieSessionObject(undefined, { isNew: true, json: undefined })
    return this.session
  }

  setSession(value: unknown): void {
    if (value === null || value === undefined) {
      this.session = null
      return
    }
    if (typeof value !== 'object') throw new TypeError('req.session can only be set as null or an object')
    this.session = new CookieSessionObject(value as Record<string, unknown>, { isNew: true, json: undefined })
  }

  /** The first value of the request's cookie `name`, as sent. */
  cookie(name: string): string | undefined {
    return sessionCookieValues(this.cookieHeader, name, 1)[0]
  }

  /** The session the request's cookies hold: sealed by sessionkit, or else adopted from cookie-session. */
  open(): CookieSessionObject | undefined {
    const { name, keys, maxCookies } = this.config
    const now = Date.now()
    for (const value of sessionCookieValues(this.cookieHeader, name)) {
      const sealed = joinSealed(value, maxCookies, (index) => partOf(this.cookieHeader, name, index))
      if (sealed === undefined) continue
      const opened = openSealed(sealed, keys, name, maxCookies * COOKIE_SIZE_LIMIT)
      const payload = 'text' in opened ? readPayload(opened.text, now) : undefined
      if (payload === undefined) continue
      this.id = payload.i
      this.created = payload.c
      // Sealed again with the first key, so that older keys can be retired; a browser-session cookie
      // is renewed past half its sealed life, as a store's touch would, so an active user stays in.
      this.mustSend = ('text' in opened && opened.keyIndex > 0) || (payload.e === null && payload.x - now < this.config.ttl / 2)
      return found(payload.d)
    }
    const legacy = this.config.legacy
    const first = this.cookie(name)
    if (legacy === undefined || first === undefined) return undefined
    const data = readLegacyCookie(name, first, this.cookie(`${name}.sig`), legacy)
    if (data === undefined) return undefined
    debug('adopted a cookie-session cookie; it is replaced by a sealed one on this response')
    this.mustSend = true
    return found(data)
  }

  // --- the response ----------------------------------------------------------------------------------

  writeHeaders(): void {
    // An old cookie-session pair is converted on the first response that sees it, read by the app or not.
    if (this.session === undefined && this.config.legacy !== undefined && this.cookie(`${this.config.name}.sig`) !== undefined) this.getSession()
    const session = this.session
    if (session === undefined) return
    const options = this.req.sessionOptions ?? this.config.defaults
    const problem = attributeProblem(options)
    if (problem !== undefined) return say('options', `sessionkit/cookie-session: no cookie was set: req.sessionOptions ${problem}`)
    const secure = options.secure ?? isSecure(this.req, this.config.proxy)
    if (options.secure === true && !isSecure(this.req, this.config.proxy)) {
      return say('secure', "sessionkit/cookie-session: not sending the secure session cookie over plain HTTP; behind a proxy that terminates HTTPS, set app.set('trust proxy', 1)")
    }
    const attributes: SerializeOptions = {
      path: options.path ?? '/',
      httpOnly: options.httpOnly ?? true,
      secure,
      ...(options.domain === undefined ? {} : { domain: options.domain }),
      ...(options.sameSite === undefined || options.sameSite === false ? {} : { sameSite: options.sameSite }),
      ...(options.priority === undefined ? {} : { priority: options.priority }),
      ...(options.partitioned === true ? { partitioned: true } : {}),
    }
    const headers = session === null ? this.leftovers(0, attributes) : this.sealed(session, options, attributes)
    if (headers === undefined || headers.length === 0) return
    const overwrite = options.overwrite ?? true
    setCookies(this.res, headers, overwrite)
    if (this.config.cacheControl) keepFromSharedCaches(this.res)
  }

  /** The Set-Cookie headers for `session`, or undefined when none is due or it cannot be sent. */
  sealed(session: CookieSessionObject, options: CookieSessionCookieOptions, attributes: SerializeOptions): string[] | undefined {
    let json: string
    try {
      json = JSON.stringify(session)
    } catch (err) {
      // Thrown here it would escape from writeHead; the response goes out without the cookie instead.
      return say('serialize', `sessionkit/cookie-session: the session cannot be saved, it is not JSON (${err instanceof Error ? err.message : String(err)}); the client keeps its previous cookie`)
    }
    const { isNew, json: foundJson } = session[contextKey]
    // cookie-session's rule: a changed session is sent unless it is new and empty.
    const due = ((!isNew || session.isPopulated) && (isNew || json !== foundJson)) || (this.mustSend && !isNew)
    if (!due) return this.leftovers(-1, attributes)
    const now = Date.now()
    const maxAge = typeof options.maxAge === 'number' ? options.maxAge : undefined
    const expires = maxAge !== undefined ? new Date(now + maxAge) : options.expires
    if (expires !== undefined) attributes.expires = expires
    const payload: Omit<Payload, 'd'> = { i: this.id ?? newSealedId(), c: this.created || now, x: expires === undefined ? now + this.config.ttl : expires.getTime(), o: maxAge ?? null, e: expires === undefined ? null : expires.getTime() }
    const text = `${JSON.stringify(payload).slice(0, -1)},"d":${json}}`
    const { name, maxCookies } = this.config
    const sealedValue = seal(text, this.config.keys[0] as SealKey, name)
    const room = (index: number): number => COOKIE_SIZE_LIMIT - serialize(chunkName(name, index), '', attributes).length
    const pieces = splitSealed(sealedValue, maxCookies, room)
    if (pieces === undefined) {
      const hint = maxCookies < MAX_COOKIES ? `raise maxCookies (now ${maxCookies}, at most ${MAX_COOKIES}), ` : ''
      return say('size', `sessionkit/cookie-session: the session is too large for ${maxCookies} cookie(s) of ${COOKIE_SIZE_LIMIT} bytes and was not saved; the client keeps its previous cookie. Keep less in it, ${hint}or keep sessions on the server with session({ store })`)
    }
    const headers = pieces.map((piece, index) => serialize(chunkName(name, index), piece, attributes))
    return [...headers, ...this.leftovers(pieces.length, attributes)]
  }

  /**
   * Expired Set-Cookies for what the request brought that this response does not replace: with `sent`
   * cookies sent, the chunks past them; with none sent (-1) only an old `.sig`, since an unchanged
   * session's cookies stay. A nulled session's cookie is cleared whether or not the request had one,
   * as cookie-session does.
   */
  leftovers(sent: number, attributes: SerializeOptions): string[] {
    const { name, maxCookies } = this.config
    const names: string[] = this.session === null ? [name] : []
    if (sent !== -1) names.push(...carriedParts(this.cookieHeader, name, maxCookies, sent))
    if (this.cookie(`${name}.sig`) !== undefined) names.push(`${name}.sig`)
    const gone = { ...attributes, expires: new Date(0) }
    return names.map((cleared) => serialize(cleared, '', gone))
  }
}

/** A session the request brought: not new, and "changed" measured against its data as found. */
function found(data: Record<string, unknown>): CookieSessionObject {
  const context: SessionContext = { isNew: false, json: undefined }
  const session = new CookieSessionObject(data, context)
  context.json = JSON.stringify(session)
  return session
}

/** Adds `headers` to the response's Set-Cookie; with `overwrite`, an earlier one of the same name is dropped. */
function setCookies(res: ServerResponse, headers: string[], overwrite: boolean): void {
  const previous = res.getHeader('Set-Cookie')
  let kept = previous === undefined ? [] : Array.isArray(previous) ? previous.map(String) : [String(previous)]
  if (overwrite) {
    const names = new Set(headers.map((header) => header.slice(0, header.indexOf('=') + 1)))
    kept = kept.filter((header) => !names.has(header.slice(0, header.indexOf('=') + 1)))
  }
  res.setHeader('Set-Cookie', [...kept, ...headers])
}

/** Why no cookie was sent: a debug line every time, a process warning the first time. */
function say(cause: string, message: string): undefined {
  debug(message)
  warnOnce(`compat-not-set-${cause}`, message, COOKIE_NOT_SET)
  return undefined
}
