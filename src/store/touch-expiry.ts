import type { SessionRecord } from './store.js'

/** Where a load-and-touch moves a session: the cookie's new `expires` and how long the store keeps it. */
export interface TouchedExpiry {
  /** The cookie's new expiry in ms since the epoch, or null for a browser-session cookie. */
  cookieExpires: number | null
  /** When the store lets the session go, in ms since the epoch. */
  storeExpires: number
}

/**
 * The expiry a load-and-touch gives a stored cookie, by the rule `Cookie.resetMaxAge()` follows in the
 * middleware, so that a store touching in its own step agrees with a touch made by the app: now plus
 * `originalMaxAge`, never past `absoluteExpires`; a cookie without a lifetime keeps its `expires`
 * (null, or the absolute cap it was given) and the store's default ttl starts again when it has none.
 * The Redis script and the PostgreSQL statement implement this same rule in their own language.
 */
export function touchedExpiry(cookie: SessionRecord['cookie'] | undefined, now: number, defaultTtl: number): TouchedExpiry {
  const lifetime = cookie?.originalMaxAge
  const absolute = timeOf(cookie?.absoluteExpires)
  if (typeof lifetime === 'number' && Number.isFinite(lifetime)) {
    const expires = absolute === null ? now + lifetime : Math.min(now + lifetime, absolute)
    return { cookieExpires: expires, storeExpires: expires }
  }
  const kept = timeOf(cookie?.expires)
  return { cookieExpires: kept, storeExpires: kept ?? now + defaultTtl }
}

/** A date-like value (Date, ISO string, ms) as ms since the epoch; null when absent or unreadable. */
export function timeOf(value: unknown): number | null {
  if (value === null || value === undefined) return null
  const time = new Date(value as string | number | Date).getTime()
  return Number.isNaN(time) ? null : time
}
