import { sessionCookieValues, signSessionId, type Secret } from '../../cookie/signature.js'
import { readLegacyCookie, type LegacyVerifier } from '../cookie-session/legacy.js'

/**
 * Opening what koa-session wrote, so that moving to sessionkit/koa logs no one out. koa-session sets
 * `<key>` and, through Koa's cookies, `<key>.sig`: a keygrip signature of `<key>=<value>` under
 * `app.keys`. With a store the value is the store key; without one it is the whole session as base64
 * JSON. A pair that verifies is read here and handed to the engine in the form the engine reads:
 * the store key as a signed id in the Cookie header the engine sees, or the data for a new sealed
 * session. `readLegacyCookie` (sessionkit/cookie-session's reader) reads the data, since koa-session
 * writes the same pair as cookie-session.
 */

/** What a request's cookies become for the engine. @internal */
export interface Adoption {
  /** The Cookie header the engine is given. */
  readonly cookieHeader: string | undefined
  /** Cookie mode: the data of koa-session's cookie, which becomes a sealed session on this response. */
  readonly data: Record<string, unknown> | undefined
  /** The request carried `<key>.sig`, which is cleared once sessionkit's own cookie replaces the pair. */
  readonly sig: boolean
}

/** What reading koa-session's cookies needs. @internal */
export interface AdoptionKeys {
  readonly key: string
  readonly verifyLegacy: LegacyVerifier
  /** Signs an adopted store key as the engine's own cookies are signed. */
  readonly signWith: Secret
}

/** The request's cookies as the engine should see them, with koa-session's pair, if it verifies, adopted. @internal */
export function adoptKoaCookies(header: string | undefined, keys: AdoptionKeys, storeMode: boolean): Adoption {
  const { key, verifyLegacy } = keys
  const sig = first(header, `${key}.sig`)
  const value = first(header, key)
  if (sig === undefined || value === undefined) return { cookieHeader: header, data: undefined, sig: sig !== undefined }
  if (storeMode) {
    // A pair that does not verify is left as it is: sessionkit's own cookie beside a stale .sig, or a
    // forgery, which the engine then refuses as it refuses any cookie it did not sign.
    if (!verifyLegacy(`${key}=${value}`, sig)) return { cookieHeader: header, data: undefined, sig: true }
    return { cookieHeader: withCookie(header, key, encodeURIComponent(signSessionId(value, keys.signWith))), data: undefined, sig: true }
  }
  const data = readLegacyCookie(key, value, sig, verifyLegacy)
  if (data === undefined) return { cookieHeader: header, data: undefined, sig: true }
  return { cookieHeader: withCookie(header, key, undefined), data, sig: true }
}

/** The first value of cookie `name` in `header`. */
function first(header: string | undefined, name: string): string | undefined {
  return sessionCookieValues(header, name, 1)[0]
}

/**
 * `header` with its `name` cookie given `value` (or removed, for undefined) and `<name>.sig` removed;
 * the other pairs are kept as they came.
 */
export function withCookie(header: string | undefined, name: string, value: string | undefined): string | undefined {
  const pairs: string[] = []
  let placed = value === undefined
  for (const part of (header ?? '').split(';')) {
    const pair = part.trim()
    if (pair === '') continue
    const pairName = pair.slice(0, Math.max(pair.indexOf('='), 0)).trim()
    if (pairName === `${name}.sig`) continue
    if (pairName === name) {
      if (!placed) pairs.push(`${name}=${value}`)
      placed = true
      continue
    }
    pairs.push(pair)
  }
  if (!placed) pairs.push(`${name}=${value}`)
  return pairs.length === 0 ? undefined : pairs.join('; ')
}
