/**
 * The session cookie's value as @fastify/session writes it, and as sessionkit's engine reads it. Both
 * sign the id the same way (HMAC-SHA256, base64 without padding, after a dot: @fastify/cookie's Signer
 * and cookie-signature agree), but @fastify/session writes `<cookiePrefix><id>.<sig>` with the
 * `cookie` package's minimal encoding, where the engine writes express-session's `s:<id>.<sig>`,
 * URI-encoded. These two functions translate at the edge, so the engine stays the one it is. @internal
 */

// The engine's mark of a signed value (express-session's).
const ENGINE_PREFIX = 's:'

// Characters outside RFC 6265's cookie-octet, and `%`, which the `cookie` package encodes in a value.
const NEEDS_ENCODING = /[^\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]|%/

function decode(value: string): string {
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/**
 * The request's `Cookie` header as the engine reads it: each cookie of the session's name that carries
 * `prefix` given as `s:<id>.<sig>`, in the order the browser sent them; the others are left out (the
 * engine reads only its own cookie). Undefined when there is none.
 */
export function engineCookieHeader(header: string | undefined, name: string, prefix: string): string | undefined {
  if (header === undefined) return undefined
  const pairs: string[] = []
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue
    let value = decode(part.slice(eq + 1).trim())
    if (value.startsWith('"') && value.endsWith('"') && value.length > 1) value = value.slice(1, -1)
    // @fastify/session takes a value without the prefix for no session at all.
    if (!value.startsWith(prefix)) continue
    pairs.push(`${name}=${encodeURIComponent(ENGINE_PREFIX + value.slice(prefix.length))}`)
  }
  return pairs.length === 0 ? undefined : pairs.join('; ')
}

/**
 * One `Set-Cookie` value of the engine as @fastify/session would send it: the session cookie's value
 * becomes `<prefix><id>.<sig>`, encoded only where the `cookie` package would encode it. A cookie of
 * another name, or one that clears (empty value), is passed as it is.
 */
export function fastifySetCookie(setCookie: string, name: string, prefix: string): string {
  const eq = setCookie.indexOf('=')
  if (eq === -1 || setCookie.slice(0, eq) !== name) return setCookie
  const end = setCookie.indexOf(';', eq)
  const raw = end === -1 ? setCookie.slice(eq + 1) : setCookie.slice(eq + 1, end)
  const value = decode(raw)
  if (!value.startsWith(ENGINE_PREFIX)) return setCookie
  const written = prefix + value.slice(ENGINE_PREFIX.length)
  const encoded = NEEDS_ENCODING.test(written) ? encodeURIComponent(written) : written
  return `${name}=${encoded}${end === -1 ? '' : setCookie.slice(end)}`
}

/** The signed id as the session's `encryptedSessionId` gives it: the cookie's value without any prefix. */
export function encryptedId(engineValue: string): string {
  return engineValue.startsWith(ENGINE_PREFIX) ? engineValue.slice(ENGINE_PREFIX.length) : engineValue
}
