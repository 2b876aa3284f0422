import { randomBytes } from 'node:crypto'
import type { Cookie } from './cookie.js'
import { chunkName, splitSealed } from './chunks.js'
import { SessionError } from '../errors.js'
import { serializeData } from '../engine/snapshot.js'
import { seal, type SealKey } from './seal.js'
import type { Session } from '../engine/session.js'

/**
 * What a cookie session's sealed cookie holds, and how it is written and read back. Short keys: every
 * byte counts against the 4096-byte limit. @internal
 */
export interface Payload {
  /** The session id (random; `req.sessionID`). */
  i: string
  /** When the session was created (ms since the epoch). */
  c: number
  /** When the sealed value stops opening (ms): the cookie's expiry, or the `ttl` for a browser-session cookie. */
  x: number
  /** `cookie.originalMaxAge`: kept per session, so "remember me" survives. */
  o: number | null
  /** `cookie.expires` (ms), or null for a browser-session cookie. */
  e: number | null
  /** `cookie.absoluteExpires` (ms), when set. */
  t?: number
  /** Cookie attributes the app changed on this session, away from the configured ones. */
  a?: Partial<Record<AttributeName, unknown>>
  /** The app's data. */
  d: Record<string, unknown>
}

/** The cookie attributes a session may carry away from the configured ones. */
export const ATTRIBUTES = ['path', 'domain', 'httpOnly', 'secure', 'sameSite', 'partitioned', 'priority'] as const
export type AttributeName = (typeof ATTRIBUTES)[number]

/** Browsers keep cookies up to 4096 bytes (RFC 6265 §6.1); a longer one is dropped without a word. */
export const COOKIE_SIZE_LIMIT = 4096

/** A cookie session's id: 18 random bytes in base64url. */
export function newSealedId(): string {
  return randomBytes(18).toString('base64url')
}

/** How one session is sealed: the configured cookie, the sealed life of a browser-session cookie, the key. */
export interface SealContext {
  readonly name: string
  readonly ttl: number
  readonly key: SealKey
  /** When the session was created. */
  readonly created: number
  /** The configured cookie, to tell which attributes the session changed. */
  readonly base: Cookie
  /** How many cookies the sealed value may be split over (`maxCookies`); 1 when not given. */
  readonly maxCookies?: number
}

/**
 * The Set-Cookie headers for `current`, sealed: one, or with `maxCookies` the parts of a split value.
 * Throws a SESSION_SERIALIZE error when one header would exceed 4096 bytes, or the parts `maxCookies`.
 */
export function sealedCookie(current: Session, context: SealContext): string[] {
  const { cookie } = current
  const expires = cookie.expires
  const absolute = cookie.absoluteExpires
  let sealedExpiry = expires === null ? Date.now() + context.ttl : expires.getTime()
  if (absolute !== null) sealedExpiry = Math.min(sealedExpiry, absolute.getTime())
  const payload: Omit<Payload, 'd'> = { i: current.id, c: context.created, x: sealedExpiry, o: cookie.originalMaxAge, e: expires === null ? null : expires.getTime() }
  if (absolute !== null) payload.t = absolute.getTime()
  for (const attribute of ATTRIBUTES) {
    if (cookie[attribute] !== context.base[attribute]) (payload.a ??= {})[attribute] = cookie[attribute] ?? null
  }
  // The data goes in as the JSON already made for it, not parsed and made again.
  const text = `${JSON.stringify(payload).slice(0, -1)},"d":${serializeData(current)}}`
  const sealed = seal(text, context.key, context.name)
  const maxCookies = context.maxCookies ?? 1
  if (maxCookies > 1) return splitCookie(cookie, context.name, sealed, maxCookies)
  const header = cookie.serialize(context.name, sealed)
  const size = Buffer.byteLength(header)
  if (size > COOKIE_SIZE_LIMIT) {
    const err = new SessionError(
      'SESSION_SERIALIZE',
      `sessionkit: the session cookie would be ${size} bytes, over the ${COOKIE_SIZE_LIMIT}-byte limit browsers keep (they drop larger cookies silently); keep less in the session, or use session() with a store`,
    )
    throw Object.assign(err, { limit: COOKIE_SIZE_LIMIT, size })
  }
  return [header]
}

/** The headers of `sealed` split over at most `maxCookies` cookies, each within the limit. */
function splitCookie(cookie: Cookie, name: string, sealed: string, maxCookies: number): string[] {
  // The value is ASCII, so its length is its bytes; the rest of each header is its name and attributes.
  const room = (index: number): number => COOKIE_SIZE_LIMIT - Buffer.byteLength(cookie.serialize(chunkName(name, index), ''))
  const pieces = splitSealed(sealed, maxCookies, room)
  if (pieces === undefined) {
    const limit = maxCookies * COOKIE_SIZE_LIMIT
    const err = new SessionError(
      'SESSION_SERIALIZE',
      `sessionkit: the session does not fit in ${maxCookies} cookies of ${COOKIE_SIZE_LIMIT} bytes (maxCookies: ${maxCookies}, the sealed value is ${sealed.length} bytes); keep less in the session, or use session() with a store`,
    )
    throw Object.assign(err, { limit, size: sealed.length })
  }
  return pieces.map((piece, index) => cookie.serialize(chunkName(name, index), piece))
}

/**
 * The payload inside an opened value, or undefined when it has the wrong shape (a value sealed by
 * another version) or its sealed expiry has passed (a replayed old cookie).
 */
export function readPayload(text: string | undefined, now: number): Payload | undefined {
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (value === null || typeof value !== 'object') return undefined
  const p = value as Record<string, unknown>
  const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
  if (typeof p['i'] !== 'string' || p['i'].length === 0 || !isTime(p['c']) || !isTime(p['x'])) return undefined
  if (!(p['o'] === null || isTime(p['o'])) || !(p['e'] === null || isTime(p['e']))) return undefined
  if (p['t'] !== undefined && !isTime(p['t'])) return undefined
  if (p['a'] !== undefined && (p['a'] === null || typeof p['a'] !== 'object')) return undefined
  if (p['d'] === null || typeof p['d'] !== 'object' || Array.isArray(p['d'])) return undefined
  if (p['x'] <= now || (p['t'] !== undefined && p['t'] <= now)) return undefined
  return value as Payload
}
