import type { IncomingMessage } from 'node:http'
import type { CookieOptions } from '../cookie/cookie.js'
import { configError, SessionError } from '../errors.js'
import { meantOption } from './spelling.js'
import { warnOnce } from '../warn-once.js'

/**
 * The `cookie` option: which attribute values can be sent, read with the meaning express-session (and
 * the `cookie` package under it) gives them, so that a configuration written for express-session means
 * the same here. A value express-session would fail on at every request is refused at startup instead.
 */

/** RFC 6265 §4.1.1: a cookie name is an RFC 7230 token. @internal */
export const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// RFC 6265 §4.1.1 av-octets: any CHAR except CTLs and ';'.
const ATTRIBUTE_VALUE = /^[\u0020-\u003A\u003C-\u007E]*$/
// What the `cookie` serializer accepts, which is stricter than RFC 6265: a value it refuses would make
// it throw while the response's headers go out, so such values are refused before that. @internal
export const COOKIE_DOMAIN = /^\.?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i
/** @internal */
export const COOKIE_PATH = /^[\u0020-\u003A\u003D-\u007E]*$/
const SAME_SITE = new Set(['lax', 'strict', 'none', 'auto'])
const PRIORITY = new Set(['low', 'medium', 'high'])
/** Unknown cookie option keys already checked for a near miss. */
const spellingChecked = new Set<string>()
const ATTRIBUTES = ['maxAge', 'expires', 'domain', 'path', 'httpOnly', 'secure', 'sameSite', 'partitioned', 'priority']

/**
 * The `cookie` option as a function of the request: a static object is checked once, here; the
 * object a function returns is checked on every request (SESSION_COOKIE_OPTIONS to `next()`).
 * `null`, like a missing option, means the defaults, as in express-session.
 * @internal
 */
export function parseCookieOption(cookieOption: CookieOptions | ((req: IncomingMessage) => CookieOptions) | null | undefined, name: string): (req: IncomingMessage) => CookieOptions {
  const given = cookieOption ?? {}
  if (typeof given === 'function') {
    return (req) => {
      const result = given(req)
      const where = 'the object returned by the cookie option'
      const read = readCookieOptions(result, where)
      const problem = typeof read === 'string' ? read : prefixProblem(name, read, where)
      if (problem) throw new SessionError('SESSION_COOKIE_OPTIONS', `sessionkit: ${problem}`)
      return read as CookieOptions
    }
  }
  if (typeof given !== 'object') throw configError('cookie option must be an object of cookie attributes or a function (req) => object')
  const read = readCookieOptions(given, 'cookie option')
  const problem = typeof read === 'string' ? read : prefixProblem(name, read, 'cookie option')
  if (problem) throw configError(problem)
  const fixed = read as CookieOptions
  return () => fixed
}

/**
 * The attributes to send, or why they cannot be sent. Values express-session passes on as they are
 * come out as the cookie would carry them there: an empty or `null` attribute is left out, and a flag
 * that is not a boolean is on when it is truthy (with a warning, since `httpOnly: 'false'` is then on).
 * A key close to an attribute's name (`maxage`, `httponly`) is reported once; other keys are ignored.
 * @internal
 */
export function readCookieOptions(options: unknown, where: string): CookieOptions | string {
  if (options === null || typeof options !== 'object') return `${where} must be an object of cookie attributes`
  const o = options as Record<string, unknown>
  const read: Record<string, unknown> = {}
  for (const key of Object.keys(o)) {
    // A `cookie(req)` function's object comes back every request: each unknown key is looked at once.
    if (ATTRIBUTES.includes(key) || spellingChecked.has(key)) continue
    if (spellingChecked.size < 1000) spellingChecked.add(key)
    const meant = meantOption(key, ATTRIBUTES)
    if (meant !== undefined) warnOnce(`cookie-${key}`, `sessionkit: cookie attribute "${key}" is not one sessionkit knows and is ignored; did you mean "${meant}"?`)
  }

  const maxAge = o['maxAge']
  if (maxAge instanceof Date) {
    if (Number.isNaN(maxAge.getTime())) return `${where}: maxAge must be a number of milliseconds or null (got an invalid Date)`
    warnOnce('cookie-maxAge-date', `sessionkit: ${where}: maxAge as a Date is taken as the expiry date, as express-session does; pass a number of milliseconds instead`)
    read['maxAge'] = maxAge
  } else if (typeof maxAge === 'number') {
    if (!Number.isFinite(maxAge)) return `${where}: maxAge must be a finite number of milliseconds or null (got ${String(maxAge)})`
    if (maxAge < 0) warnOnce('cookie-maxAge-negative', `sessionkit: ${where}: maxAge ${maxAge} makes every session expire as it is made; use a positive number of milliseconds, or null for a browser-session cookie`)
    read['maxAge'] = maxAge
  } else if (maxAge !== undefined && maxAge !== null && maxAge !== false && maxAge !== '') {
    return `${where}: maxAge must be a number of milliseconds, or null for a browser-session cookie (got ${JSON.stringify(maxAge)})`
  } else if (maxAge !== undefined) {
    read['maxAge'] = null
  }

  const expires = o['expires']
  if (expires instanceof Date && !Number.isNaN(expires.getTime())) read['expires'] = expires
  else if (expires) return `${where}: expires must be a valid Date`

  const path = o['path']
  if (typeof path === 'string' && path !== '') {
    if (!ATTRIBUTE_VALUE.test(path)) return `${where}: path ${JSON.stringify(path)} may not contain ';' or control characters (they would add cookie attributes)`
    if (!COOKIE_PATH.test(path)) return `${where}: path ${JSON.stringify(path)} may not contain '<'`
    if (!path.startsWith('/')) return `${where}: path must start with '/' (got ${JSON.stringify(path)})`
    read['path'] = path
  } else if (path === null || path === '') {
    warnOnce('cookie-path-empty', `sessionkit: ${where}: path ${JSON.stringify(path)} sends the cookie without a Path attribute, so browsers keep it for the folder of the page that set it, as with express-session; use path: '/' for the whole site`)
    read['path'] = ''
  } else if (path !== undefined) {
    return `${where}: path must be a string that starts with '/' (got ${JSON.stringify(path)})`
  }

  const domain = o['domain']
  if (typeof domain === 'string' && domain !== '') {
    if (!ATTRIBUTE_VALUE.test(domain)) return `${where}: domain ${JSON.stringify(domain)} may not contain ';' or control characters (they would add cookie attributes)`
    if (!COOKIE_DOMAIN.test(domain)) return `${where}: domain ${JSON.stringify(domain)} must be a host name such as example.com or .example.com`
    read['domain'] = domain
  } else if (domain !== undefined && domain !== null && domain !== '') {
    return `${where}: domain must be a host name such as example.com (got ${JSON.stringify(domain)})`
  }

  const sameSite = o['sameSite']
  if (typeof sameSite === 'boolean' || (typeof sameSite === 'string' && SAME_SITE.has(sameSite.toLowerCase()))) read['sameSite'] = sameSite
  else if (sameSite !== undefined && sameSite !== null && sameSite !== '') {
    return `${where}: sameSite must be true, false, 'lax', 'strict', 'none' or 'auto' (got ${JSON.stringify(sameSite)})`
  }

  const priority = o['priority']
  if (typeof priority === 'string' && PRIORITY.has(priority.toLowerCase())) read['priority'] = priority
  else if (priority !== undefined && priority !== null && priority !== '') return `${where}: priority must be 'low', 'medium' or 'high' (got ${JSON.stringify(priority)})`

  const secure = o['secure']
  if (secure === 'auto' || typeof secure === 'boolean') read['secure'] = secure
  else if (secure !== undefined && secure !== null) read['secure'] = flag(where, 'secure', secure)
  for (const name of ['httpOnly', 'partitioned'] as const) {
    const value = o[name]
    if (typeof value === 'boolean') read[name] = value
    else if (value === null) read[name] = false
    else if (value !== undefined) read[name] = flag(where, name, value)
  }
  return read as CookieOptions
}

/** A flag given as something other than a boolean: on when truthy, as the `cookie` package reads it. */
function flag(where: string, name: string, value: unknown): boolean {
  const on = Boolean(value)
  warnOnce(`cookie-${name}-${typeof value}`, `sessionkit: ${where}: ${name} ${JSON.stringify(value)} is not true or false; it is taken as ${on}, as express-session takes it`)
  return on
}

/**
 * What a `__Host-` or `__Secure-` name requires of the cookie's attributes (RFC 6265bis §4.1.3), which
 * browsers enforce by dropping the cookie without a word; undefined when the name has no prefix or the
 * attributes fit it. Browsers match the prefixes in any case. @internal
 */
export function prefixProblem(name: string, options: CookieOptions, where: string): string | undefined {
  const lower = name.toLowerCase()
  const host = lower.startsWith('__host-')
  if (!host && !lower.startsWith('__secure-')) return undefined
  const prefix = host ? '__Host-' : '__Secure-'
  if (options.secure !== true) {
    return `${where}: the cookie name ${name} starts with ${prefix}, which browsers keep only with secure: true (got ${JSON.stringify(options.secure)}; 'auto' leaves Secure off over plain HTTP, where the browser then drops it)`
  }
  if (!host) return undefined
  if (options.domain !== undefined && options.domain !== '') return `${where}: the cookie name ${name} starts with __Host-, which browsers keep only without a domain (got ${JSON.stringify(options.domain)})`
  if ((options.path ?? '/') !== '/') return `${where}: the cookie name ${name} starts with __Host-, which browsers keep only with path: '/' (got ${JSON.stringify(options.path)})`
  return undefined
}

/** The names of the cookie's attributes, for telling a top-level option that belongs in `cookie`. @internal */
export const COOKIE_ATTRIBUTE_NAMES: readonly string[] = ATTRIBUTES
