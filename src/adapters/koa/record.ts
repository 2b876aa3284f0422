import type { CookieOptions } from '../../cookie/cookie.js'
import { RESERVED_KEYS } from '../../engine/session.js'

/**
 * A session's data between koa-session's shape and the engine's. koa-session keeps the app's keys as
 * they are, beside its bookkeeping (`_expire` and `_maxAge`, or `_session` for a cookie that ends with
 * the browser); the engine keeps them beside `cookie`, and reserves a few names for the Session's own
 * members. A koa-session app may well keep `ctx.session.id`: such a key is kept under an escaped name
 * inside the engine, and comes back under its own name to the app and to a koa-session-shaped store.
 */

/** The prefix of an app key whose own name the engine reserves. */
const ESCAPE = 'koa:'

/** The engine's name for the app's key `key`. @internal */
export function engineKey(key: string): string {
  return RESERVED_KEYS.has(key) || key.startsWith(ESCAPE) ? ESCAPE + key : key
}

/** The app's name for the engine's key `key`. @internal */
export function appKey(key: string): string {
  return key.startsWith(ESCAPE) ? key.slice(ESCAPE.length) : key
}

/**
 * Whether koa-session would keep `key` of the data: it leaves out its own `_`-prefixed bookkeeping
 * (and so any key of the app that starts with `_`) and functions. @internal
 */
export function keptKey(key: string, value: unknown): boolean {
  return key[0] !== '_' && typeof value !== 'function'
}

/** A record as koa-session keeps it in a store, and the `maxAge` its `set` is given. @internal */
export interface KoaRecord {
  readonly record: Record<string, unknown>
  /** koa-session gives the store 10 s more than the cookie, so that the record outlives it; `'session'` for a browser-session cookie. */
  readonly maxAge: number | 'session'
}

/** How long past the cookie a koa-session store keeps a record. */
const STORE_GRACE = 10_000

/**
 * The engine's record (the live Session, or its JSON) as koa-session would have written it: the app's
 * keys, then `_expire` and `_maxAge`, or `_session: true` for a browser-session cookie. @internal
 */
export function toKoaRecord(session: object): KoaRecord {
  const { cookie, ...data } = JSON.parse(JSON.stringify(session)) as { cookie?: { originalMaxAge?: unknown; expires?: unknown } } & Record<string, unknown>
  const record: Record<string, unknown> = {}
  for (const key of Object.keys(data)) record[appKey(key)] = data[key]
  const originalMaxAge = cookie?.originalMaxAge
  if (typeof originalMaxAge !== 'number') {
    record['_session'] = true
    return { record, maxAge: 'session' }
  }
  const expires = typeof cookie?.expires === 'string' ? Date.parse(cookie.expires) : Date.now() + originalMaxAge
  record['_expire'] = expires
  record['_maxAge'] = originalMaxAge
  return { record, maxAge: originalMaxAge + STORE_GRACE }
}

/**
 * A record koa-session (or {@link toKoaRecord}) wrote, as the engine reads records: the app's keys and
 * a `cookie` with this app's attributes and the record's own lifetime. `secure` is the configured
 * value, or, for `'auto'`, whether this request came over HTTPS. @internal
 */
export function fromKoaRecord(record: Record<string, unknown>, cookie: CookieOptions, secure: boolean): Record<string, unknown> {
  const { _expire: expire, _maxAge: maxAge, _session: browserSession, ...data } = record
  const found: Record<string, unknown> = {}
  for (const key of Object.keys(data)) found[engineKey(key)] = data[key]
  const lifetime = browserSession === true || typeof maxAge !== 'number' ? null : maxAge
  found['cookie'] = {
    path: cookie.path ?? '/',
    httpOnly: cookie.httpOnly ?? true,
    secure: cookie.secure === 'auto' || cookie.secure === undefined ? secure : cookie.secure,
    ...(cookie.domain === undefined ? {} : { domain: cookie.domain }),
    ...(cookie.sameSite === undefined ? {} : { sameSite: cookie.sameSite }),
    ...(cookie.partitioned === undefined ? {} : { partitioned: cookie.partitioned }),
    ...(cookie.priority === undefined ? {} : { priority: cookie.priority }),
    originalMaxAge: lifetime,
    expires: lifetime === null || typeof expire !== 'number' ? null : new Date(expire).toISOString(),
  }
  return found
}
