import { parse } from 'cookie'
import { sign, unsign } from 'cookie-signature'

/** A secret as `express-session` takes it: a string or a Buffer. */
export type Secret = string | Buffer

// express-session writes signed ids as `s:<id>.<hmac>`; keeping the prefix lets apps switch both ways.
const SIGNED_PREFIX = 's:'

/** The cookie value for a session id: `s:` and the id signed with HMAC-SHA256 by the first secret. */
export function signSessionId(sessionId: string, secret: Secret): string {
  return SIGNED_PREFIX + sign(sessionId, secret)
}

/**
 * The session id inside one cookie value, or `undefined` when the value is unsigned or no secret
 * verifies it. Every secret is tried so that a rotated-out secret keeps its sessions alive.
 */
export function unsignSessionId(value: string, secrets: readonly Secret[]): string | undefined {
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
export function readSessionId(header: string | undefined, name: string, secrets: readonly Secret[]): string | undefined {
  if (!header) return undefined
  const first = parse(header)[name]
  if (first === undefined) return undefined
  const sessionId = unsignSessionId(first, secrets)
  if (sessionId !== undefined) return sessionId
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
    if (candidate !== undefined) return candidate
  }
  return undefined
}
