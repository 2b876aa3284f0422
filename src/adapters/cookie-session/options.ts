import { parseMaxCookies } from '../../cookie/chunks.js'
import { isKeygripLike, legacyVerifier, type KeygripLike, type LegacyVerifier } from './legacy.js'
import { configError } from '../../errors.js'
import { COOKIE_NAME } from '../../options/cookie-options.js'
import { meantOption } from '../../options/spelling.js'
import { deriveKeys, type SealKey } from '../../cookie/seal.js'
import { isSecret, type Secret } from '../../cookie/signature.js'
import { warnOnce } from '../../warn-once.js'

/**
 * The cookie attributes of `sessionkit/cookie-session`, as cookie-session takes them at the top level
 * of its options and per request in `req.sessionOptions`.
 */
export interface CookieSessionCookieOptions {
  /** Milliseconds from when the cookie is sent until it expires, in the browser and on the server. Default: none (a browser-session cookie). */
  maxAge?: number | undefined
  /** When the cookie expires, when `maxAge` is not set. */
  expires?: Date | undefined
  /** Default `/`. */
  path?: string | undefined
  /** No default: the host that set it. */
  domain?: string | undefined
  /** CHIPS: the cookie is kept per top-level site. Default false. */
  partitioned?: boolean | undefined
  /** `low`, `medium` or `high`. */
  priority?: 'low' | 'medium' | 'high' | undefined
  /** `true` means `strict`. Default false (no SameSite attribute). */
  sameSite?: boolean | 'strict' | 'lax' | 'none' | undefined
  /** Default: whether the request came over HTTPS (Express's `trust proxy` is followed). */
  secure?: boolean | undefined
  /** Default true. */
  httpOnly?: boolean | undefined
  /** Accepted for cookie-session's sake: the cookie is always sealed (encrypted and authenticated), so there is no `.sig` cookie. */
  signed?: boolean | undefined
  /** Replace a Set-Cookie of the same name set earlier in the response. Default true. */
  overwrite?: boolean | undefined
}

/** The options of `sessionkit/cookie-session`: cookie-session 2's, and a few of sessionkit's own. */
export interface CookieSessionCompatOptions extends CookieSessionCookieOptions {
  /** The cookie's name. Default `session`. */
  name?: string
  /**
   * The keys: the first seals (AES-256-GCM, keys derived by HKDF), every one opens, and cookies that
   * cookie-session signed with any of them are adopted. Use long random keys. A Keygrip instance is
   * accepted to verify cookie-session's old cookies; then `secret` gives the sealing keys.
   */
  keys?: readonly Secret[] | KeygripLike
  /** One key, used when `keys` is not given (as cookie-session does); with a Keygrip in `keys`, the sealing keys. */
  secret?: Secret | readonly Secret[]
  /** Read a cookie that cookie-session signed (`<name>` and `<name>.sig`) once and replace it with a sealed one. Default true. */
  adopt?: boolean
  /** The HMAC hash cookie-session signed with (keygrip's default `sha1`), for adopted cookies. */
  legacyAlgorithm?: string
  /**
   * How long, in milliseconds, a cookie without `maxAge` or `expires` stays valid after it was last
   * sent; it is sent again once half of that has passed on a request that reads the session. Default one day.
   */
  ttl?: number
  /** Split a session too large for one cookie over up to this many cookies (at most 3). Default 1: no splitting. */
  maxCookies?: number
  /** Trust `X-Forwarded-Proto` for `secure`: `true`, `false`, or undefined to follow Express's `trust proxy`. */
  proxy?: boolean
  /** `Cache-Control: private` and `Vary: Cookie` on responses that set the cookie. Default true. */
  cacheControl?: boolean
}

/** The parsed options. @internal */
export interface CompatConfig {
  readonly name: string
  readonly keys: readonly SealKey[]
  /** Verifies cookie-session's old signatures; undefined when `adopt` is off. */
  readonly legacy: LegacyVerifier | undefined
  readonly ttl: number
  readonly maxCookies: number
  readonly proxy: boolean | undefined
  readonly cacheControl: boolean
  /** What each request's `req.sessionOptions` inherits from. */
  readonly defaults: CookieSessionCookieOptions & { name: string }
}

const OWN = new Set(['name', 'keys', 'secret', 'adopt', 'legacyAlgorithm', 'ttl', 'maxCookies', 'proxy', 'cacheControl'])
const ATTRIBUTES = new Set(['maxAge', 'expires', 'path', 'domain', 'partitioned', 'priority', 'sameSite', 'secure', 'httpOnly', 'signed', 'overwrite'])

/** Checks the options once, at startup: anything that cannot work throws with what to change. @internal */
export function parseCompatOptions(given: CookieSessionCompatOptions | undefined): CompatConfig {
  const options: CookieSessionCompatOptions = given ?? {}
  if (typeof options !== 'object') throw configError('cookieSession() takes an options object, e.g. cookieSession({ name: "session", keys: [process.env.SESSION_KEY] })')
  for (const key of Object.keys(options)) {
    if (OWN.has(key) || ATTRIBUTES.has(key)) continue
    // cookie-session ignores keys it does not know; only one that looks like a mistake is said.
    const meant = meantOption(key, [...OWN, ...ATTRIBUTES])
    if (meant !== undefined) warnOnce(`compat-unknown-${key}`, `sessionkit/cookie-session: option "${key}" is not a cookieSession() option and is ignored; did you mean "${meant}"?`)
  }
  const name = options.name ?? 'session'
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) throw configError(`option "name" must be a cookie name made of letters, digits and !#$%&'*+-.^_\`|~ (got ${JSON.stringify(name)})`)
  const keygrip = isKeygripLike(options.keys) ? options.keys : undefined
  const sealing = sealingSecrets(options, keygrip !== undefined)
  for (const flag of ['adopt', 'proxy', 'cacheControl', 'partitioned', 'secure', 'httpOnly', 'signed', 'overwrite'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw configError(`option "${flag}" must be true or false (got ${JSON.stringify(options[flag])})`)
  }
  const ttl = options.ttl ?? 86_400_000
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) throw configError(`option "ttl" must be a positive number of milliseconds (got ${JSON.stringify(ttl)})`)
  const maxCookies = parseMaxCookies(options.maxCookies)
  const problem = attributeProblem(options)
  if (problem !== undefined) throw configError(`option ${problem}`)
  let legacy: LegacyVerifier | undefined
  if (options.adopt !== false) {
    const algorithm = options.legacyAlgorithm ?? 'sha1'
    try {
      legacy = legacyVerifier(keygrip ?? sealing, algorithm)
    } catch {
      throw configError(`option "legacyAlgorithm" must be a hash Node's crypto knows, such as "sha1" (cookie-session's default) or "sha256" (got ${JSON.stringify(algorithm)})`)
    }
  }
  const defaults: CookieSessionCookieOptions & { name: string } = { name, path: '/', httpOnly: true, overwrite: true, signed: true }
  for (const key of ATTRIBUTES) {
    const value = (options as Record<string, unknown>)[key]
    if (value !== undefined) (defaults as unknown as Record<string, unknown>)[key] = value
  }
  return { name, keys: deriveKeys(sealing), legacy, ttl, maxCookies, proxy: options.proxy, cacheControl: options.cacheControl ?? true, defaults }
}

/** The secrets the cookie is sealed with: `keys`, or `secret` alone, or `secret` beside a Keygrip. */
function sealingSecrets(options: CookieSessionCompatOptions, keygrip: boolean): Secret[] {
  const fromSecret = options.secret === undefined ? undefined : Array.isArray(options.secret) ? [...(options.secret as Secret[])] : [options.secret as Secret]
  const secrets = keygrip || options.keys === undefined ? fromSecret : Array.isArray(options.keys) ? [...(options.keys as Secret[])] : undefined
  if (secrets === undefined) {
    if (keygrip) throw configError('option "keys" is a Keygrip instance, whose keys sessionkit cannot read to derive its encryption keys: also give secret: [the same keys] (the first seals, all open)')
    if (options.keys !== undefined) throw configError('option "keys" must be an array of keys (strings or Buffers), the first of which seals, e.g. keys: [process.env.SESSION_KEY]')
    throw configError('sessionkit/cookie-session needs keys: e.g. cookieSession({ keys: [process.env.SESSION_KEY] }); the cookie is always encrypted, so there is no unsigned mode')
  }
  if (secrets.length === 0 || !secrets.every(isSecret)) throw configError('option "keys" must be a non-empty array of non-empty strings or Buffers (the first seals, all open)')
  return secrets
}

/** What is wrong with the cookie attributes in `options` (at startup or in `req.sessionOptions`), or undefined. @internal */
export function attributeProblem(options: CookieSessionCookieOptions): string | undefined {
  const { maxAge, expires, sameSite, priority, path, domain } = options
  if (maxAge !== undefined && maxAge !== null && (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge <= 0)) return `"maxAge" must be a positive number of milliseconds (got ${JSON.stringify(maxAge)})`
  if (expires !== undefined && expires !== null && (!(expires instanceof Date) || Number.isNaN(expires.getTime()))) return `"expires" must be a valid Date (got ${JSON.stringify(expires)})`
  if (sameSite !== undefined && typeof sameSite !== 'boolean' && !['strict', 'lax', 'none'].includes(String(sameSite).toLowerCase())) return `"sameSite" must be true, false, 'strict', 'lax' or 'none' (got ${JSON.stringify(sameSite)})`
  if (priority !== undefined && !['low', 'medium', 'high'].includes(String(priority).toLowerCase())) return `"priority" must be 'low', 'medium' or 'high' (got ${JSON.stringify(priority)})`
  if (path !== undefined && (typeof path !== 'string' || !/^[\u0020-\u003A\u003C-\u007E]*$/.test(path))) return `"path" must be a URL path without ';' (got ${JSON.stringify(path)})`
  if (domain !== undefined && (typeof domain !== 'string' || !/^\.?[a-z0-9.-]+$/i.test(domain))) return `"domain" must be a host name (got ${JSON.stringify(domain)})`
  return undefined
}
