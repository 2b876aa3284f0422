import { createHash } from 'node:crypto'
import { SessionError } from '../errors.js'
import type { CookieRecord } from '../cookie/cookie.js'
import { debug } from '../engine/lifecycle.js'
import { COOKIE_DOMAIN, COOKIE_PATH } from '../options/cookie-options.js'

/**
 * What the store mode accepts from a store's `get`, and how it names sessions in debug output. @internal
 */

/** Why a store's answer cannot be used as a session, or undefined when it can. */
export function recordProblem(record: unknown): string | undefined {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return `not an object but ${typeof record}`
  const cookie = (record as { cookie?: unknown }).cookie
  if (cookie === null || typeof cookie !== 'object') return 'no cookie'
  const { expires, originalMaxAge } = cookie as CookieRecord
  if (originalMaxAge !== undefined && originalMaxAge !== null && typeof originalMaxAge !== 'number') return 'cookie.originalMaxAge is not a number'
  if (expires !== undefined && expires !== null) {
    const time = expires instanceof Date ? expires.getTime() : typeof expires === 'string' ? Date.parse(expires) : NaN
    // No expiry check here: stores such as connect-redis and connect-pg-simple move only their own TTL
    // on touch and leave the stored cookie.expires behind, so the store decides what is still alive.
    if (Number.isNaN(time)) return 'cookie.expires is not a date'
  }
  // Attributes the cookie serializer would refuse when the headers go out.
  const { path, domain, sameSite, priority } = cookie as Record<string, unknown>
  if (path !== undefined && path !== null && (typeof path !== 'string' || !COOKIE_PATH.test(path))) return 'cookie.path cannot be sent'
  if (domain !== undefined && domain !== null && (typeof domain !== 'string' || (domain !== '' && !COOKIE_DOMAIN.test(domain)))) return 'cookie.domain cannot be sent'
  if (sameSite !== undefined && sameSite !== null && typeof sameSite !== 'boolean' && !(typeof sameSite === 'string' && /^(lax|strict|none)$/i.test(sameSite))) {
    return 'cookie.sameSite is not valid'
  }
  if (priority !== undefined && priority !== null && !(typeof priority === 'string' && /^(low|medium|high)$/i.test(priority))) return 'cookie.priority is not valid'
  const absolute = (cookie as CookieRecord).absoluteExpires
  if (absolute !== undefined && absolute !== null) {
    const time = absolute instanceof Date ? absolute.getTime() : typeof absolute === 'string' ? Date.parse(absolute) : NaN
    if (Number.isNaN(time)) return 'cookie.absoluteExpires is not a date'
    if (time <= Date.now()) return 'past its absolute lifetime'
  }
  return undefined
}

/** How debug output names a session: a short hash, never the id, which is a bearer credential. */
export function sessionLabel(sid: string): string {
  return debug.enabled ? createHash('sha256').update(sid).digest('hex').slice(0, 8) : ''
}

/** The error for a session whose data, as `json`, is over the `maxSessionBytes` limit. */
export function oversizeError(json: string, limit: number): SessionError {
  return new SessionError('SESSION_SERIALIZE', `sessionkit: the session's data is ${Buffer.byteLength(json)} bytes as JSON, over the maxSessionBytes limit of ${limit}`)
}
