import type { Cookie } from '../cookie/cookie.js'
import { SessionError } from '../errors.js'

/**
 * What a request's session is compared with at its end to know whether it changed: its data's JSON and
 * its cookie's attributes as found. @internal
 */

/** The session as the request found (or made) it: what "modified" is measured against. */
export interface Snapshot {
  readonly id: string
  /** The data as JSON; the JSON text is kept rather than a hash: comparing strings is cheaper. */
  readonly json: string
  readonly attributes: CookieAttributes
}

/** The session's data as JSON, without its cookie: what "modified" is measured on. */
export function serializeData(current: object): string {
  // The cookie is left out so that touching the session does not count as changing it.
  const { cookie: _cookie, ...data } = current as Record<string, unknown>
  try {
    return JSON.stringify(data)
  } catch (err) {
    throw new SessionError('SESSION_SERIALIZE', `sessionkit: the session's data cannot be stored as JSON: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    })
  }
}

/** The cookie's attributes apart from its moving expiry: a change here is a change to save. */
export interface CookieAttributes {
  readonly originalMaxAge: number | null
  readonly absoluteExpires: number | undefined
  readonly path: string
  readonly domain: string | undefined
  readonly secure: boolean | undefined
  readonly httpOnly: boolean
  readonly sameSite: Cookie['sameSite']
  readonly partitioned: boolean | undefined
  readonly priority: Cookie['priority']
}

/** The attributes of `cookie` now, to compare with {@link sameAttributes} later. */
export function cookieAttributes(cookie: Cookie): CookieAttributes {
  const { originalMaxAge, path, domain, secure, httpOnly, sameSite, partitioned, priority } = cookie
  return { originalMaxAge, absoluteExpires: cookie.absoluteExpires?.getTime(), path, domain, secure, httpOnly, sameSite, partitioned, priority }
}

/**
 * Whether `cookie` still has the attributes `found` recorded. Compared field by field: building a key
 * string for each comparison (numbers and all) was a visible part of a request that reads its session.
 */
export function sameAttributes(found: CookieAttributes, cookie: Cookie): boolean {
  return (
    Object.is(found.originalMaxAge, cookie.originalMaxAge) &&
    found.path === cookie.path &&
    found.httpOnly === cookie.httpOnly &&
    found.domain === cookie.domain &&
    found.secure === cookie.secure &&
    found.sameSite === cookie.sameSite &&
    found.partitioned === cookie.partitioned &&
    found.priority === cookie.priority &&
    Object.is(found.absoluteExpires, cookie.absoluteExpires?.getTime())
  )
}
