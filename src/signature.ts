import { createSecretKey, type KeyObject } from 'node:crypto'
import { parse } from 'cookie'
import { sign, unsign } from 'cookie-signature'

/** A secret as `express-session` takes it: a string or a Buffer. */
export type Secret = string | Buffer

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

/**
 * Like {@link readSessionId}, with the cookie value too when the first secret signed it: the value
 * `signSessionId(id, secrets[0])` would compute again, so a response that sends the same id back
 * reuses it instead of computing another HMAC. With `verified`, a value already verified by this
 * middleware is not checked again.
 */
export function readSignedSessionId(
  header: string | undefined,
  name: string,
  secrets: readonly SigningKey[],
  verified?: VerifiedValues,
): { id: string; value: string | undefined } | undefined {
  if (!header) return undefined
  const first = parse(header)[name]
  if (first === undefined) return undefined
  const known = verified?.get(first)
  if (known !== undefined) return { id: known, value: first }
  if (first.startsWith(SIGNED_PREFIX) && secrets.length > 0) {
    const id = unsign(first.slice(SIGNED_PREFIX.length), secrets[0] as SigningKey)
    if (id !== false) {
      verified?.add(first, id)
      return { id, value: first }
    }
  }
  const sessionId = unsignSessionId(first, secrets.slice(1))
  if (sessionId !== undefined) return { id: sessionId, value: undefined }
  // Rare path: look at each pair on its own, still through the `cookie` parser.
  if (header.indexOf(name, header.indexOf(name) + name.length) === -1) return undefined
  let seenFirst = false
  for (const pair of header.split(';')) {
    const value = parse(pair)[name]
    if (value === undefined) continue
    if (!seenFirst) {
      seenFirst = true
      continue
    }
    const candidate = unsignSessionId(value, secrets)
    if (candidate !== undefined) return { id: candidate, value: undefined }
  }
  return undefined
}
