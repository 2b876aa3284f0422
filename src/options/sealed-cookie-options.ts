import type { IncomingMessage } from 'node:http'
import type { CookieOptions } from '../cookie/cookie.js'
import { parseMaxCookies } from '../cookie/chunks.js'
import type { CookieModeConfig, SealedSessionInfo } from '../engine/cookie-mode.js'
import { configError } from '../errors.js'
import { SessionEvents } from '../engine/events.js'
import { COOKIE_NAME, parseCookieOption } from './cookie-options.js'
import { meantOption } from './spelling.js'
import { warnOnce } from '../warn-once.js'
import { deriveKeys } from '../cookie/seal.js'
import type { Secret } from '../cookie/signature.js'

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
  /** As in `session()`: `Cache-Control: private` on responses that set the cookie. Default true. */
  cacheControl?: boolean
  /**
   * Asked, before the app runs, about every cookie that opens: return (or resolve to) true to refuse it,
   * and the request gets a new session and the old cookie is cleared. Keep a "not before" time per
   * owner and compare: `({ owner, issuedAt }) => issuedAt < notBefore(owner)`, and set it to now on a
   * logout everywhere or a password change. Any caching is yours; a throw or a rejection fails the
   * request (to `next(err)`), so a revocation list that is down does not let revoked cookies in.
   */
  revoked?: (session: SealedSessionInfo) => boolean | Promise<boolean>
  /** The session key that names its owner, such as `'userId'`, told to `revoked` as `owner`. */
  indexBy?: string
  /**
   * Split a session too large for one 4096-byte cookie over up to this many cookies (`<name>`,
   * `<name>.1`, `<name>.2`), at most 3, all sent with every request. Only the whole set opens: a
   * missing or reordered part gives a new session. Default 1: a larger session is an error.
   */
  maxCookies?: number
}

/** The cookie mode's options as checked once at startup. @internal */
export interface CookieConfig extends CookieModeConfig {
  cookie: (req: IncomingMessage) => CookieOptions
}

const KNOWN = new Set(['secret', 'name', 'key', 'cookie', 'rolling', 'saveUninitialized', 'proxy', 'ttl', 'absoluteTimeout', 'cacheControl', 'revoked', 'indexBy', 'maxCookies'])
// Options of session() that have no meaning without a store: said once rather than ignored silently.
const STORE_ONLY = new Set(['resave', 'genid', 'unset', 'merge', 'index', 'storeTimeout', 'hashIds'])

/** Checks `cookieSession()`'s options (the same for the Web API's cookie mode) and throws at startup on what cannot work. @internal */
export function parseCookieSessionOptions(options: CookieSessionOptions | undefined): CookieConfig {
  if (options === undefined || options === null || typeof options !== 'object') {
    throw configError('cookieSession() needs an options object with at least { secret }')
  }
  if ('store' in options) {
    throw configError('cookieSession() keeps the whole session in the cookie and takes no "store"; use session({ store }) to keep sessions on the server')
  }
  for (const key of Object.keys(options)) {
    if (STORE_ONLY.has(key)) warnOnce(`cookie-${key}`, `sessionkit: option "${key}" of session() has no effect in cookieSession() and is ignored`)
    else if (!KNOWN.has(key)) {
      // As in session(): only a key that looks like a mistake is said; other keys are a framework's own.
      const meant = meantOption(key, [...KNOWN])
      if (meant !== undefined) warnOnce(`cookie-unknown-${key}`, `sessionkit: option "${key}" is not a cookieSession() option and is ignored; did you mean "${meant}"?`)
    }
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
  const cookie = parseCookieOption(options.cookie, name)
  for (const flag of ['rolling', 'saveUninitialized', 'proxy', 'cacheControl'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw configError(`option "${flag}" must be true or false (got ${JSON.stringify(options[flag])})`)
  }
  const ttl = options.ttl ?? 86_400_000
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) throw configError(`option "ttl" must be a positive number of milliseconds (got ${JSON.stringify(ttl)})`)
  const absoluteTimeout = options.absoluteTimeout ?? 0
  if (typeof absoluteTimeout !== 'number' || !Number.isFinite(absoluteTimeout) || absoluteTimeout < 0) {
    throw configError(`option "absoluteTimeout" must be a number of milliseconds, 0 for none (got ${JSON.stringify(absoluteTimeout)})`)
  }
  if (options.revoked !== undefined && typeof options.revoked !== 'function') throw configError('option "revoked" must be a function ({ owner, issuedAt }) => boolean or Promise<boolean>')
  if (options.indexBy !== undefined && (typeof options.indexBy !== 'string' || options.indexBy === '')) throw configError('option "indexBy" must be the name of a session key, such as "userId"')
  return {
    keys: deriveKeys(secrets as Secret[]),
    name,
    cookie,
    rolling: options.rolling ?? false,
    saveUninitialized: options.saveUninitialized ?? false,
    proxy: options.proxy,
    ttl,
    absoluteTimeout,
    cacheControl: options.cacheControl ?? true,
    revoked: options.revoked,
    indexBy: options.indexBy,
    maxCookies: parseMaxCookies(options.maxCookies),
    events: new SessionEvents('cookie'),
  }
}
