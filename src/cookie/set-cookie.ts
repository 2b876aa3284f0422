import { Cookie } from './cookie.js'
import { SessionError } from '../errors.js'

/** The session cookie's `Set-Cookie` values (RFC 6265 §4.1): the one that carries a value, and the one that clears it. @internal */

/** A Set-Cookie value; an attribute the app set at run time that cannot be sent is a SessionError. */
export function serializeCookie(cookie: Cookie, name: string, value: string): string {
  try {
    return cookie.serialize(name, value)
  } catch (err) {
    throw new SessionError('SESSION_COOKIE_OPTIONS', `sessionkit: the session cookie cannot be sent: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

/** An expired Set-Cookie for `name` with the path, domain and flags of `attributes`: how a browser forgets a cookie. */
export function expiredCookie(name: string, attributes: Cookie): string {
  const cleared = new Cookie({ path: attributes.path, domain: attributes.domain, httpOnly: attributes.httpOnly })
  if (typeof attributes.secure === 'boolean') cleared.secure = attributes.secure
  cleared.sameSite = attributes.sameSite
  cleared.expires = new Date(0)
  return serializeCookie(cleared, name, '')
}
