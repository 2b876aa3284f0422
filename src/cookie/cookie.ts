import { serialize, type SerializeOptions } from 'cookie'

/** The `SameSite` values a session cookie may carry; `true` means `Strict`, as in the `cookie` package. */
export type SameSite = boolean | 'lax' | 'strict' | 'none'

/**
 * Options of the session cookie, as `express-session` takes them in its `cookie` option.
 * `secure: 'auto'` and `sameSite: 'auto'` are resolved per request by the middleware.
 */
export interface CookieOptions {
  /** Lifetime in milliseconds from now ([RFC 6265 §5.2.2](https://www.rfc-editor.org/rfc/rfc6265#section-5.2.2)); `null` makes a browser-session cookie. */
  maxAge?: number | null
  /** Absolute expiry date; prefer `maxAge`, which is refreshed on every touch. */
  expires?: Date | null
  domain?: string
  /** Default `/`. A request outside it (RFC 6265 §5.1.4: `/admin` covers `/admin/x`, not `/administrator`) gets no session. */
  path?: string
  /** Default `true`: scripts in the page cannot read the cookie. */
  httpOnly?: boolean
  /** `'auto'`: secure exactly when the request arrived over HTTPS (see the `proxy` option). */
  secure?: boolean | 'auto'
  /** `'auto'`: `none` over HTTPS, `lax` otherwise. */
  sameSite?: SameSite | 'auto'
  partitioned?: boolean
  priority?: 'low' | 'medium' | 'high'
}

/** The shape a store receives and gives back under `session.cookie` (dates may come back as strings). */
export interface CookieRecord {
  originalMaxAge: number | null
  expires?: Date | string | null
  domain?: string
  path?: string
  httpOnly?: boolean
  secure?: boolean
  sameSite?: SameSite
  partitioned?: boolean
  priority?: 'low' | 'medium' | 'high'
  /** Set with the `absoluteTimeout` option: the session ends then, however often it is used. */
  absoluteExpires?: Date | string | null
}

/**
 * The session's cookie: its attributes and its expiry. `maxAge` is live (milliseconds left from now),
 * `originalMaxAge` is the lifetime it was given, and `expires` the date it runs out, or `null` for a
 * cookie that lives as long as the browser session. Serializes to the shape stores persist.
 */
export class Cookie {
  path = '/'
  httpOnly = true
  domain: string | undefined
  secure: boolean | undefined
  sameSite: SameSite | undefined
  partitioned: boolean | undefined
  priority: 'low' | 'medium' | 'high' | undefined
  originalMaxAge: number | null = null
  #expires: Date | null = null
  #absoluteExpires: Date | null = null

  constructor(options?: CookieOptions | CookieRecord) {
    if (options === undefined || options === null) return
    if (typeof options !== 'object') throw new TypeError('argument options must be an object')
    if (options.path !== undefined) this.path = options.path
    if (options.httpOnly !== undefined) this.httpOnly = options.httpOnly
    this.domain = options.domain
    this.secure = options.secure === 'auto' ? undefined : options.secure
    this.sameSite = options.sameSite === 'auto' ? undefined : options.sameSite
    this.partitioned = options.partitioned
    this.priority = options.priority
    if ('originalMaxAge' in options) {
      // A stored record: keep its expiry date and the lifetime it was given.
      this.#expires = options.expires === undefined || options.expires === null ? null : new Date(options.expires)
      this.originalMaxAge = options.originalMaxAge ?? null
      const absolute = (options as CookieRecord).absoluteExpires
      if (absolute !== undefined && absolute !== null) this.#absoluteExpires = new Date(absolute)
    } else if (options.maxAge !== undefined) {
      this.maxAge = options.maxAge
    } else if (options.expires !== undefined && options.expires !== null) {
      // The Date itself, as express-session keeps it: an app may compare it or move it later.
      this.expires = options.expires
    }
  }

  /** The expiry date; setting it also records the lifetime left as `originalMaxAge`. */
  get expires(): Date | null {
    return this.#expires
  }

  set expires(date: Date | null) {
    this.#setExpires(date, 'expires')
  }

  /**
   * express-session apps write `cookie.expires = false` for a browser-session cookie ("remember me"
   * off), and JavaScript may hand over a date as text; both worked there and must not throw here. A
   * value that is no date at all is refused now, naming the field the app set: left in, it would fail
   * later, at the commit, under the name of another field.
   */
  #setExpires(date: unknown, field: 'expires' | 'maxAge'): void {
    const expires = date instanceof Date ? date : date ? new Date(date as string) : null
    if (expires !== null && Number.isNaN(expires.getTime())) {
      throw new TypeError(`cookie.${field} must be a valid Date${field === 'expires' ? ', a date string Date can read' : ''} or null (got ${describeValue(date)})`)
    }
    this.#expires = expires
    this.originalMaxAge = this.maxAge
  }

  /** Milliseconds until the cookie expires, or `null` for a browser-session cookie. */
  get maxAge(): number | null {
    return this.#expires === null ? null : this.#expires.getTime() - Date.now()
  }

  set maxAge(value: number | null) {
    // express-session apps also write undefined or false for "until the browser closes", and (long
    // deprecated) a Date for the expiry itself.
    if ((value as unknown) instanceof Date) {
      this.#setExpires(value, 'maxAge')
      return
    }
    const ms = value === undefined || (value as unknown) === false ? null : value
    if (ms !== null && (typeof ms !== 'number' || !Number.isFinite(ms))) {
      throw new TypeError('cookie.maxAge must be a finite number of milliseconds or null')
    }
    // Set both fields directly: going through the `expires` setter would recompute originalMaxAge
    // from the clock and let it drift by a millisecond on every touch.
    this.#expires = this.#capped(ms === null ? null : new Date(Date.now() + ms))
    this.originalMaxAge = ms
  }

  /**
   * When the session ends however often it is used (OWASP's absolute timeout), or `null`. The cookie's
   * expiry never runs past it; a browser-session cookie gets it as its expiry. Set it on one session
   * to give it a longer or shorter life ("remember me").
   */
  get absoluteExpires(): Date | null {
    return this.#absoluteExpires
  }

  set absoluteExpires(date: Date | null) {
    this.#absoluteExpires = date
    this.#expires = this.#capped(this.originalMaxAge === null ? this.#expires : new Date(Date.now() + this.originalMaxAge))
  }

  #capped(expires: Date | null): Date | null {
    const limit = this.#absoluteExpires
    if (limit === null) return expires
    return expires === null || expires.getTime() > limit.getTime() ? limit : expires
  }

  /** The attributes as the `cookie` package serializes them. */
  get data(): SerializeOptions & { originalMaxAge: number | null } {
    return {
      originalMaxAge: this.originalMaxAge,
      partitioned: this.partitioned,
      priority: this.priority,
      expires: this.#expires ?? undefined,
      secure: this.secure,
      httpOnly: this.httpOnly,
      domain: this.domain,
      path: this.path,
      sameSite: this.sameSite,
    }
  }

  /** A `Set-Cookie` header value for `name=value` with these attributes (RFC 6265 §4.1). */
  serialize(name: string, value: string): string {
    const known = serializedAsBefore(this, name, value, this.#expires)
    if (known !== undefined) return known
    // The one-object form: given (name, value, options) the `cookie` package copies the options with an
    // object spread, which costs about three times the rest of the work (bench/micro.mjs).
    const header = serialize({
      name,
      value,
      partitioned: this.partitioned,
      priority: this.priority,
      expires: this.#expires ?? undefined,
      secure: this.secure,
      httpOnly: this.httpOnly,
      domain: this.domain,
      path: this.path,
      sameSite: this.sameSite,
    })
    accepted = { name, path: this.path, domain: this.domain }
    return header
  }

  /** What stores persist: the attributes, `expires` as a date and `originalMaxAge`. */
  toJSON(): CookieRecord {
    const record: CookieRecord = { originalMaxAge: this.originalMaxAge, expires: this.#expires }
    if (this.partitioned !== undefined) record.partitioned = this.partitioned
    if (this.priority !== undefined) record.priority = this.priority
    if (this.secure !== undefined) record.secure = this.secure
    record.httpOnly = this.httpOnly
    if (this.domain !== undefined) record.domain = this.domain
    record.path = this.path
    if (this.sameSite !== undefined) record.sameSite = this.sameSite
    if (this.#absoluteExpires !== null) record.absoluteExpires = this.#absoluteExpires
    return record
  }
}

/**
 * Whether a browser sends a cookie of path `cookiePath` with a request for `requestPath` (RFC 6265
 * §5.1.4 path-match): the same path, or one below it. A plain prefix is not enough: `/admin` covers
 * `/admin` and `/admin/x`, but not `/administrator`, where the browser would not send the cookie.
 */
export function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (!requestPath.startsWith(cookiePath)) return false
  return requestPath.length === cookiePath.length || cookiePath.endsWith('/') || requestPath.charCodeAt(cookiePath.length) === 0x2f
}

/** The name, path and domain the `cookie` package last accepted: the same ones need no new check. */
let accepted: { name: string; path: string; domain: string | undefined } | undefined
/** `Expires` changes once a second, and formatting a date was most of a Set-Cookie's cost. */
let expiresSecond = NaN
let expiresText = ''

const PRIORITIES: ReadonlyMap<string, string> = new Map([
  ['low', 'Low'],
  ['medium', 'Medium'],
  ['high', 'High'],
])
const SAME_SITES: ReadonlyMap<string, string> = new Map([
  ['strict', 'Strict'],
  ['lax', 'Lax'],
  ['none', 'None'],
])

/**
 * The Set-Cookie the `cookie` package would give for `cookie` (RFC 6265 §4.1: the pair, then Domain,
 * Path, Expires, HttpOnly, Secure, Partitioned, Priority, SameSite), when every attribute it would check
 * was already accepted in an earlier call: the name, path and domain, the same as last time; the value,
 * percent-encoded, which always gives valid cookie octets. Undefined sends anything else to the package,
 * so that what it refuses is refused with its own message.
 */
function serializedAsBefore(cookie: Cookie, name: string, value: string, expires: Date | null): string | undefined {
  if (accepted === undefined || accepted.name !== name || accepted.path !== cookie.path || accepted.domain !== cookie.domain) return undefined
  let header = name + '=' + (value ? encodeURIComponent(value) : '')
  if (cookie.domain) header += '; Domain=' + cookie.domain
  if (cookie.path) header += '; Path=' + cookie.path
  if (expires !== null) {
    const time = expires.getTime()
    if (!Number.isFinite(time)) return undefined
    const second = Math.floor(time / 1000)
    if (second !== expiresSecond) {
      expiresSecond = second
      expiresText = expires.toUTCString()
    }
    header += '; Expires=' + expiresText
  }
  if (cookie.httpOnly) header += '; HttpOnly'
  if (cookie.secure) header += '; Secure'
  if (cookie.partitioned) header += '; Partitioned'
  if (cookie.priority) {
    const priority = typeof cookie.priority === 'string' ? PRIORITIES.get(cookie.priority.toLowerCase()) : undefined
    if (priority === undefined) return undefined
    header += '; Priority=' + priority
  }
  if (cookie.sameSite) {
    const sameSite = cookie.sameSite === true ? 'Strict' : typeof cookie.sameSite === 'string' ? SAME_SITES.get(cookie.sameSite.toLowerCase()) : undefined
    if (sameSite === undefined) return undefined
    header += '; SameSite=' + sameSite
  }
  return header
}

/** A value for an error message: its type, and for a short string or a number the value itself. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`
  if (typeof value === 'number') return String(value)
  return value instanceof Date ? 'an invalid Date' : typeof value
}
