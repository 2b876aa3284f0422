import { createHmac, getHashes, timingSafeEqual } from 'node:crypto'

/**
 * Reading the cookies the `cookie-session` package wrote, once, so that an app moving to sessionkit
 * logs no one out: its value is base64 JSON in plain sight, and a second cookie `<name>.sig` holds a
 * keygrip signature (HMAC of `<name>=<value>`, SHA-1 by default, base64 without padding, `+/` as `-_`).
 * A pair that verifies under one of the app's keys is the session's data; anything else is no session.
 * koa-session's cookie mode writes the same pair (`koa.sess`, `koa.sess.sig`), with its own bookkeeping
 * in the data: `_expire` and `_maxAge`, or `_session` for a browser-session cookie.
 */

/** A Keygrip instance, as cookie-session takes in `keys`: only `index` is used, to verify old cookies. */
export interface KeygripLike {
  /** The index of the key that signed `data` with `digest`, or -1. */
  index(data: string, digest: string): number
}

/** Checks an old cookie's signature: whether `digest` signs `data` under one of the app's keys. */
export type LegacyVerifier = (data: string, digest: string) => boolean

/** Whether `value` looks like a Keygrip instance rather than a list of keys. */
export function isKeygripLike(value: unknown): value is KeygripLike {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { index?: unknown }).index === 'function'
}

/** A verifier for keygrip signatures made with `keys` (or by the Keygrip instance itself) and `algorithm`. */
export function legacyVerifier(keys: readonly (string | Buffer)[] | KeygripLike, algorithm: string): LegacyVerifier {
  if (isKeygripLike(keys)) {
    return (data, digest) => {
      try {
        return keys.index(data, digest) >= 0
      } catch {
        return false // a Keygrip that throws on odd input verifies nothing
      }
    }
  }
  if (!getHashes().includes(algorithm.toLowerCase())) throw new Error(`unknown hash "${algorithm}"`)
  return (data, digest) => {
    const given = Buffer.from(digest, 'utf8')
    for (const key of keys) {
      const expected = Buffer.from(createHmac(algorithm, key).update(data).digest('base64url'), 'utf8')
      // Every key is tried whatever the first gave, and compared in constant time.
      if (expected.length === given.length && timingSafeEqual(expected, given)) return true
    }
    return false
  }
}

/** The largest old cookie read: cookie-session's own cookies cannot be larger than a browser keeps. */
const MAX_LEGACY_CHARS = 8192

/**
 * The data of an old cookie-session cookie `name=value` signed by `signature`, or undefined when it is
 * unsigned, does not verify, or is not base64 JSON of an object. Never throws.
 */
export function readLegacyCookie(name: string, value: string, signature: string | undefined, verify: LegacyVerifier): Record<string, unknown> | undefined {
  if (signature === undefined || signature === '' || value.length > MAX_LEGACY_CHARS) return undefined
  if (!verify(`${name}=${value}`, signature)) return undefined
  let data: unknown
  try {
    data = JSON.parse(Buffer.from(value, 'base64').toString('utf8'))
  } catch {
    return undefined
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined
  return withoutKoaBookkeeping(data as Record<string, unknown>, Date.now())
}

/**
 * koa-session's data without its bookkeeping keys, or undefined when its `_expire` has passed (koa-session
 * refuses such a cookie too). Only a cookie that carries them as koa-session writes them is changed.
 */
function withoutKoaBookkeeping(data: Record<string, unknown>, now: number): Record<string, unknown> | undefined {
  const { _expire: expire, _maxAge: maxAge, _session: browserSession, ...rest } = data
  if (typeof expire === 'number' && typeof maxAge === 'number') return expire < now ? undefined : rest
  if (browserSession === true && expire === undefined && maxAge === undefined) return rest
  return data
}
