/**
 * @fastify/session's options turned into sessionkit's: the same checks at registration (a secret of 32
 * characters or more), its defaults (`sessionId`, Secure, rolling, saveUninitialized), and its
 * `secure: 'auto'`, which also makes the cookie `SameSite=Lax` over plain HTTP. @internal
 */
import type { FastifyRequest } from 'fastify'
import type { CookieOptions } from '../../cookie/cookie.js'
import { configError } from '../../errors.js'
import type { SessionOptions } from '../../options/session-options.js'
import type { FastifyCookieOptions, FastifySessionOptions } from './types.js'

/** The options after checking, in the form the plugin uses. @internal */
export interface FastifyConfig {
  /** The options of the engine, without `cookie` and `genid`, which need the request. */
  readonly engine: Omit<SessionOptions, 'cookie' | 'genid'>
  readonly cookieName: string
  readonly cookiePrefix: string
  readonly cookie: FastifyCookieOptions
  readonly idGenerator: ((request?: FastifyRequest) => string) | undefined
}

// @fastify/session's own words, so that a test or a log that looks for them still finds them.
const SHORT_SECRET = 'the secret must have length 32 or greater'
const NO_SECRETS = 'at least one secret is required'
const BAD_SECRET = 'the secret option is required, and must be a String or an Array of Strings'

/** Checks the options once, at registration, and throws an Error as @fastify/session does. */
export function parseFastifyOptions(given: FastifySessionOptions | undefined): FastifyConfig {
  const options = given ?? ({} as FastifySessionOptions)
  const secret: unknown = options.secret
  if (typeof secret === 'string') {
    if (secret.length < 32) throw configError(SHORT_SECRET)
  } else if (Array.isArray(secret)) {
    if (secret.length === 0) throw configError(NO_SECRETS)
    if (!secret.every((one) => typeof one === 'string' && one.length > 0)) throw configError(BAD_SECRET)
  } else if (secret !== null && typeof secret === 'object') {
    // A signer object of @fastify/cookie signs in a way of its own, which sessionkit cannot verify.
    throw configError(`${BAD_SECRET}; sessionkit/fastify signs with HMAC-SHA256 itself and takes no signer object`)
  } else {
    throw configError(BAD_SECRET)
  }
  if (options.algorithm !== undefined && options.algorithm !== 'sha256') {
    throw configError(`option "algorithm" must be 'sha256', the HMAC sessionkit signs with (got ${JSON.stringify(options.algorithm)})`)
  }
  const cookiePrefix = options.cookiePrefix ?? ''
  if (typeof cookiePrefix !== 'string') throw configError('option "cookiePrefix" must be a string')
  if (options.idGenerator !== undefined && typeof options.idGenerator !== 'function') throw configError('option "idGenerator" must be a function: (request) => string')
  const { secret: _secret, algorithm: _algorithm, cookieName, cookie, cookiePrefix: _prefix, idGenerator, rolling, saveUninitialized, store, ...passed } = options
  const rolls = rolling ?? true
  return {
    engine: {
      ...passed,
      secret: typeof secret === 'string' ? secret : [...(secret as string[])],
      name: cookieName || 'sessionId',
      ...(store ? { store } : {}),
      rolling: rolls,
      // @fastify/session writes an unchanged session back on every response that rolls its cookie.
      resave: rolls,
      saveUninitialized: saveUninitialized ?? true,
    },
    cookieName: cookieName || 'sessionId',
    cookiePrefix,
    cookie: { ...(cookie ?? {}) },
    idGenerator,
  }
}

/**
 * The cookie's attributes for one request: Secure unless told otherwise, and `secure: 'auto'` made
 * Secure over HTTPS, or not Secure and `SameSite=Lax` over HTTP (a browser drops a `SameSite=None`
 * cookie that is not Secure).
 */
export function cookieFor(options: FastifyCookieOptions, https: boolean): CookieOptions {
  const { maxAge, expires, ...rest } = options
  const resolved: CookieOptions = { ...rest, secure: options.secure ?? true }
  if (maxAge !== undefined) resolved.maxAge = maxAge
  else if (expires !== undefined) resolved.expires = expires
  if (resolved.secure === 'auto') {
    resolved.secure = https
    if (!https) resolved.sameSite = 'lax'
  }
  return resolved
}
