import { createSecretKey, type KeyObject } from 'node:crypto'
import { sign, unsign } from 'cookie-signature'
import { SessionError } from '../errors.js'
import type { TamperReason } from '../engine/events.js'

/** A secret as `express-session` takes it: a string or a Buffer. */
export type Secret = string | Buffer

/** A value that can sign: a non-empty string or Buffer. @internal */
export function isSecret(value: unknown): value is Secret {
  return (typeof value === 'string' || Buffer.isBuffer(value)) && value.length > 0
}

/** A secret, or the same secret as a KeyObject (cookie-signature takes both). */
type SigningKey = Secret | KeyObject

/**
 * The secrets as KeyObjects, the form the middleware signs and verifies with. HMAC-SHA256 over the
 * same bytes (a string secret is its UTF-8), so every signature is the one the secret itself gives;
 * Node copies a string or Buffer key into a new key for every HMAC, a KeyObject it takes as it is.
 */
export function signingKeys(secrets: readonly Secret[]): KeyObject[] {
  return secrets.map((secret) => createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret))
}

// express-session writes signed ids as `s:<id>.<hmac>`; keeping the prefix lets apps switch both ways.
const SIGNED_PREFIX = 's:'

/** The cookie value for a session id: `s:` and the id signed with HMAC-SHA256 by the first secret. */
export function signSessionId(sessionId: string, secret: SigningKey): string {
  return SIGNED_PREFIX + sign(sessionId, secret)
}

/**
 * The session id inside one cookie value, or `undefined` when the value is unsigned or no secret
 * verifies it. Every secret is tried so that a rotated-out secret keeps its sessions alive.
 */
export function unsignSessionId(value: string, secrets: readonly SigningKey[]): string | undefined {
  if (!value.startsWith(SIGNED_PREFIX)) return undefined
  const signed = value.slice(SIGNED_PREFIX.length)
  for (const secret of secrets) {
    const sessionId = unsign(signed, secret)
    if (sessionId !== false) return sessionId
  }
  return undefined
}

/**
 * The verified session id that a `Cookie` header carries under `name`, or `undefined`.
 * When a browser sends several cookies of that name (one per path or domain), the first one
 * whose signature verifies wins, so a stale cookie for a wider path cannot shadow a valid one.
 */
export function readSessionId(header: string | undefined, name: string, secrets: readonly SigningKey[]): string | undefined {
  return readSignedSessionId(header, name, secrets)?.id
}

/**
 * How many cookies of the session's name are looked at, first first. A browser sends one per path or
 * domain it holds (RFC 6265 §5.4 puts longer paths first), so more than one is normal; each costs an
 * HMAC per secret, so beyond a few they are only a way to make every request expensive. express-session
 * looks at the first alone.
 */
export const MAX_SESSION_COOKIES = 4

/**
 * The values the `Cookie` header carries under `name`, first first, at most `limit` of them. Read as
 * the `cookie` package reads a pair (spaces and tabs trimmed, %-escapes decoded when they are valid),
 * and a value in double quotes, which RFC 6265 §4.1.1 allows, stands for the value inside them, as
 * express-session's parser has it.
 */
export function sessionCookieValues(header: string | undefined, name: string, limit = MAX_SESSION_COOKIES): string[] {
  const values: string[] = []
  if (!header || !header.includes(name)) return values
  const length = header.length
  let start = 0
  while (start < length && values.length < limit) {
    let end = header.indexOf(';', start)
    if (end === -1) end = length
    const eq = header.indexOf('=', start)
    if (eq !== -1 && eq < end) {
      let keyStart = start
      let keyEnd = eq
      while (keyStart < keyEnd && isBlank(header.charCodeAt(keyStart))) keyStart++
      while (keyEnd > keyStart && isBlank(header.charCodeAt(keyEnd - 1))) keyEnd--
      if (keyEnd - keyStart === name.length && header.startsWith(name, keyStart)) values.push(pairValue(header, eq + 1, end))
    }
    start = end + 1
  }
  return values
}

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09
}

function pairValue(header: string, from: number, to: number): string {
  let start = from
  let end = to
  while (start < end && isBlank(header.charCodeAt(start))) start++
  while (end > start && isBlank(header.charCodeAt(end - 1))) end--
  if (end - start >= 2 && header.charCodeAt(start) === 0x22 && header.charCodeAt(end - 1) === 0x22) {
    start++
    end--
  }
  const value = header.slice(start, end)
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/**
 * Cookie values that the first secret verified, with the id inside each. A browser sends the same
 * cookie with every request, and checking its HMAC again was the largest single cost of loading a
 * session from memory. Only a value that passed cookie-signature's check is ever remembered, so an
 * unverified value is never accepted; the memo belongs to one middleware (one list of secrets), holds
 * at most `limit` values and starts over when full.
 */
export class VerifiedValues {
  readonly #ids = new Map<string, string>()
  readonly #limit: number

  constructor(limit = 4096) {
    this.#limit = limit
  }

  get(value: string): string | undefined {
    return this.#ids.get(value)
  }

  add(value: string, id: string): void {
    if (this.#ids.size >= this.#limit) this.#ids.clear()
    this.#ids.set(value, id)
  }
}

/** A verified session id, with its cookie value when the first secret signed it (see {@link readSignedSessionId}). */
export interface FoundSessionId {
  id: string
  /** The cookie value `signSessionId(id, secrets[0])` would compute again, or undefined. */
  value: string | undefined
}

/**
 * Like {@link readSessionId}, with the cookie value too when the first secret signed it: the value
 * `signSessionId(id, secrets[0])` would compute again, so a response that sends the same id back
 * reuses it instead of computing another HMAC. With `verified`, a value already verified by this
 * middleware is not checked again. Of several cookies of the name, the first
 * {@link MAX_SESSION_COOKIES} are tried in order and the first that verifies wins.
 */
export function readSignedSessionId(
  header: string | undefined,
  name: string,
  secrets: readonly SigningKey[],
  verified?: VerifiedValues,
): FoundSessionId | undefined {
  for (const value of sessionCookieValues(header, name)) {
    const found = verifyValue(value, secrets, verified)
    if (found !== undefined) return found
  }
  return undefined
}

function verifyValue(value: string, secrets: readonly SigningKey[], verified: VerifiedValues | undefined): FoundSessionId | undefined {
  const known = verified?.get(value)
  if (known !== undefined) return { id: known, value }
  if (!value.startsWith(SIGNED_PREFIX) || secrets.length === 0) return undefined
  const signed = value.slice(SIGNED_PREFIX.length)
  const id = unsign(signed, secrets[0] as SigningKey)
  if (id !== false) {
    verified?.add(value, id)
    return { id, value }
  }
  const older = unsignSessionId(value, secrets.slice(1))
  return older === undefined ? undefined : { id: older, value: undefined }
}

/**
 * Why a `Cookie` header's session cookies were all refused, for a request on which none verified:
 * `bad-signature` when one carries a signature (forged, altered, or signed by a retired secret),
 * `unsigned` when none does; undefined when the header has no non-empty cookie of that name. Only
 * string checks: the HMACs were already computed and failed.
 */
export function rejectedCookieReason(header: string | undefined, name: string): TamperReason | undefined {
  const values = sessionCookieValues(header, name).filter((value) => value !== '')
  if (values.length === 0) return undefined
  return values.some((value) => value.startsWith(SIGNED_PREFIX)) ? 'bad-signature' : 'unsigned'
}


/**
 * The session id as a request header carries it (the `header` option): the cookie's signed value
 * without its `s:` prefix, so that it is a valid Bearer token (RFC 6750 §2.1: `:` is not a b64token
 * character). The cookie's value for the same id, signed by the same key.
 */
export function headerToken(cookieValue: string): string {
  return cookieValue.startsWith(SIGNED_PREFIX) ? cookieValue.slice(SIGNED_PREFIX.length) : cookieValue
}

/** The verified session id a header token carries, with its cookie value; undefined when no secret verifies it. */
export function readSessionToken(token: string, secrets: readonly SigningKey[], verified?: VerifiedValues): FoundSessionId | undefined {
  return token === '' ? undefined : verifyValue(SIGNED_PREFIX + token, secrets, verified)
}

/** What a cookie parser that ran before the session left on the request (cookie-parser on Express: `req.cookies`, `req.signedCookies`, `req.secret`). */
export interface ParsedCookies {
  cookies?: Record<string, unknown>
  signedCookies?: Record<string, unknown>
  secret?: unknown
}

/**
 * The verified session id of a request, by express-session's rules: the `Cookie` header first (see
 * {@link readSignedSessionId}); without a verified one there, what cookie-parser mounted before left:
 * `req.signedCookies[name]`, which it verified with its own secret, then `req.cookies[name]`, which
 * must still carry a signature one of `secrets` verifies (an unsigned value is refused).
 */
export function readRequestSessionId(
  cookieHeader: string | undefined,
  parsedCookies: ParsedCookies | undefined,
  name: string,
  secrets: readonly SigningKey[],
  verified?: VerifiedValues,
): FoundSessionId | undefined {
  const fromHeader = readSignedSessionId(cookieHeader, name, secrets, verified)
  if (fromHeader !== undefined) return fromHeader
  const signedByParser = parsedCookies?.signedCookies?.[name]
  if (typeof signedByParser === 'string' && signedByParser !== '') return { id: signedByParser, value: undefined }
  const parsed = parsedCookies?.cookies?.[name]
  return typeof parsed === 'string' ? verifyValue(parsed, secrets, verified) : undefined
}

/** The keys one request signs and verifies with, and the memo of values they verified. */
export interface RequestSigning {
  keys: readonly KeyObject[]
  verified: VerifiedValues
}

/**
 * Where a middleware's signing keys come from: its `secret` option, or, without one, the `req.secret`
 * that `cookieParser(secret)` sets on each request, as express-session does. Keys made from a
 * `req.secret` are kept for the next request (a few secrets at most; an app has one), each with its
 * own memo, so that a value verified with one secret is never taken as verified by another.
 */
export class SigningKeys {
  readonly #fixed: RequestSigning | undefined
  readonly #bySecret = new Map<string, RequestSigning>()

  constructor(secrets: readonly Secret[] | undefined) {
    this.#fixed = secrets === undefined ? undefined : { keys: signingKeys(secrets), verified: new VerifiedValues() }
  }

  /** The keys for `req`, or the error to hand to `next()` when neither the option nor `req.secret` gives one. */
  forRequest(parsedCookies: ParsedCookies | undefined): RequestSigning | SessionError {
    if (this.#fixed !== undefined) return this.#fixed
    const secret = parsedCookies?.secret
    if (!isSecret(secret)) {
      return new SessionError(
        'SESSION_CONFIG',
        'sessionkit: secret option required for sessions: pass session({ secret }), or mount cookieParser(secret) before session() so that req.secret is set',
      )
    }
    const memoKey = typeof secret === 'string' ? `s${secret}` : `b${secret.toString('hex')}`
    let signing = this.#bySecret.get(memoKey)
    if (signing === undefined) {
      if (this.#bySecret.size >= 8) this.#bySecret.clear()
      signing = { keys: signingKeys([secret]), verified: new VerifiedValues() }
      this.#bySecret.set(memoKey, signing)
    }
    return signing
  }
}
