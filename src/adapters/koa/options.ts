import type { CookieOptions, SameSite } from '../../cookie/cookie.js'
import type { Secret } from '../../cookie/signature.js'
import { configError } from '../../errors.js'
import type { SessionStore } from '../../store/contract.js'
import { warnOnce } from '../../warn-once.js'
import { isKeygripLike, legacyVerifier, type LegacyVerifier } from '../cookie-session/legacy.js'
import type { KoaApplication, KoaContext } from './koa-types.js'

/**
 * koa-session 7's options, read with its names and defaults, and what sessionkit/koa makes of them:
 * the cookie's attributes, which mode (the whole session in the cookie, or an external store), the
 * keys, and the hooks. What cannot work is refused at startup, naming what to change.
 */

/** One day, koa-session's default `maxAge`. */
export const ONE_DAY = 86_400_000

/** An external store with koa-session's shape: every method may return a Promise. */
export interface KoaStore {
  /** The session stored under `key`, or nothing. `maxAge` is the `maxAge` option as configured. */
  get(key: string, maxAge: number | 'session' | undefined, options: { rolling: boolean; ctx: KoaContext }): unknown
  /** Stores `session` (the data with `_expire` and `_maxAge`, or `_session`) for `maxAge` ms (10 s past the cookie), or `'session'`. */
  set(key: string, session: Record<string, unknown>, maxAge: number | 'session', options: { rolling: boolean; changed: boolean; ctx: KoaContext }): unknown
  /** Removes what is stored under `key`. */
  destroy(key: string, options: { ctx: KoaContext }): unknown
}

/** The `externalKey` option: where the store key travels when not in the cookie (a header, say). */
export interface KoaExternalKey {
  /** The key the request brings, or nothing. */
  get(ctx: KoaContext): string | undefined | null
  /** Hands the response the key of a session that was saved. */
  set(ctx: KoaContext, value: string): void
}

/** The options of `session(opts, app)`: koa-session 7's, and two of sessionkit's own. */
export interface KoaSessionOptions {
  /** The cookie's name. Default `koa.sess`. */
  key?: string
  /**
   * How long a session lasts after it was last saved, in ms, or `'session'` for a cookie that ends with
   * the browser (whose data still lasts a day on the server side, or in the sealed cookie). Default one day.
   */
  maxAge?: number | 'session'
  /** @deprecated koa-session's old spelling of `maxAge`. */
  maxage?: number | 'session'
  /** Commit the session (Set-Cookie, store write) when the middleware chain returns. Default true. */
  autoCommit?: boolean
  /** A Set-Cookie of the same name set earlier in the response is replaced. Default true. */
  overwrite?: boolean
  /** The cookie's HttpOnly attribute: scripts in the page cannot read it. Default true. */
  httpOnly?: boolean
  /** Accepted for compatibility: sessionkit's cookies are always signed (store mode) or sealed (cookie mode). */
  signed?: boolean
  /** Save the session and send the cookie on every response, restarting its lifetime. Default false. */
  rolling?: boolean
  /** Save the session and send the cookie again once less than half its `maxAge` is left. Default false. */
  renew?: boolean
  /** Default: secure exactly when the request came over HTTPS (`ctx.secure`, which follows `app.proxy`). */
  secure?: boolean
  /** `'lax'`, `'strict'`, `'none'`, `true` (strict), or `null`/`false`/undefined for no SameSite attribute. */
  sameSite?: SameSite | null
  /** The cookie's Domain attribute. Default: none (the host alone). */
  domain?: string
  /** The cookie's Path attribute, and where the session lives. Default `/`. */
  path?: string
  /** The cookie's Partitioned attribute (CHIPS). Default false. */
  partitioned?: boolean
  /** The cookie's Priority attribute. Default: none. */
  priority?: 'low' | 'medium' | 'high'
  /** An external store: koa-session's shape, or any express-session store (one with `createSession`). */
  store?: KoaStore | SessionStore
  /** A class of koa-session-shaped stores, constructed once per request with its `ctx`. */
  ContextStore?: new (ctx: KoaContext) => KoaStore
  /** Carries the store key somewhere other than the cookie. */
  externalKey?: KoaExternalKey
  /** Makes a new store key. Default: 24 random bytes in base64url. */
  genid?: (ctx: KoaContext) => string
  /** Put in front of every key the default `genid` makes. */
  prefix?: string
  /** Asked about every session a request brings: false treats it as missing. */
  valid?: (ctx: KoaContext, data: Record<string, unknown>) => unknown
  /** Called with the session right before it is saved. */
  beforeSave?: (ctx: KoaContext, session: object) => void
  /** Not used: the cookie is sealed by sessionkit. Accepted so that existing options load. */
  encode?: (data: Record<string, unknown>) => string
  /** Not used: the cookie is sealed by sessionkit. Accepted so that existing options load. */
  decode?: (text: string) => unknown
  /** sessionkit's: ms to wait for a store call before failing the request with 503. Default 10000. */
  storeTimeout?: number
  /** sessionkit's: the keys to sign or seal with, when they are not `app.keys`. */
  secret?: Secret | readonly Secret[]
}

/** The options as sessionkit/koa uses them. @internal */
export interface KoaConfig {
  readonly key: string
  /** undefined: the cookie ends with the browser. */
  readonly maxAge: number | undefined
  readonly browserSession: boolean
  readonly autoCommit: boolean
  readonly overwrite: boolean
  readonly rolling: boolean
  readonly renew: boolean
  /** The attributes of the session cookie, as sessionkit's `cookie` option takes them. */
  readonly cookie: CookieOptions
  readonly secrets: readonly Secret[]
  /** Verifies koa-session's `<key>.sig` cookies, to adopt what koa-session wrote. */
  readonly verifyLegacy: LegacyVerifier
  readonly store: KoaStore | SessionStore | undefined
  readonly ContextStore: (new (ctx: KoaContext) => KoaStore) | undefined
  readonly externalKey: KoaExternalKey | undefined
  readonly genid: ((ctx: KoaContext) => string) | undefined
  readonly prefix: string
  readonly valid: ((ctx: KoaContext, data: Record<string, unknown>) => unknown) | undefined
  readonly beforeSave: ((ctx: KoaContext, session: object) => void) | undefined
  readonly storeTimeout: number | undefined
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** Checks `opts` against the app and throws a SessionError (SESSION_CONFIG) for what cannot work. @internal */
export function parseKoaOptions(opts: KoaSessionOptions, app: KoaApplication): KoaConfig {
  const key = opts.key ?? 'koa.sess'
  if (typeof key !== 'string' || !COOKIE_NAME.test(key)) throw configError(`option "key" must be a cookie name (got ${JSON.stringify(key)})`)
  const maxAge = opts.maxAge ?? opts.maxage ?? ONE_DAY
  if (maxAge !== 'session' && (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge <= 0)) {
    throw configError(`option "maxAge" must be a positive number of milliseconds or 'session' (got ${JSON.stringify(maxAge)})`)
  }
  for (const flag of ['autoCommit', 'overwrite', 'httpOnly', 'signed', 'rolling', 'renew', 'secure', 'partitioned'] as const) {
    if (opts[flag] !== undefined && typeof opts[flag] !== 'boolean') throw configError(`option "${flag}" must be true or false (got ${JSON.stringify(opts[flag])})`)
  }
  if (opts.signed === false) warnOnce('koa-unsigned', 'sessionkit/koa: "signed: false" is ignored; the session cookie is always signed (with a store) or sealed (without one)')
  // The cookie is sealed rather than base64 JSON, so a custom text format has nothing to apply to.
  if (opts.encode !== undefined || opts.decode !== undefined) warnOnce('koa-encode', 'sessionkit/koa: "encode" and "decode" are ignored; the session is sealed into the cookie by sessionkit')
  const store = opts.ContextStore === undefined ? opts.store : undefined
  if (store !== undefined && !REQUIRED.every((method) => typeof (store as unknown as Record<string, unknown>)[method] === 'function')) {
    throw configError('option "store" must have get, set and destroy functions')
  }
  if (opts.ContextStore !== undefined && !REQUIRED.every((method) => typeof (opts.ContextStore?.prototype as Record<string, unknown> | undefined)?.[method] === 'function')) {
    throw configError('option "ContextStore" must be a class with get, set and destroy methods')
  }
  if (opts.externalKey !== undefined && (typeof opts.externalKey.get !== 'function' || typeof opts.externalKey.set !== 'function')) {
    throw configError('option "externalKey" must have get(ctx) and set(ctx, key) functions')
  }
  if (opts.externalKey !== undefined && store === undefined && opts.ContextStore === undefined) throw configError('option "externalKey" needs a "store": without one the whole session travels in the cookie')
  const sameSite = opts.sameSite === null || opts.sameSite === false ? undefined : opts.sameSite
  const cookie: CookieOptions = {
    path: opts.path ?? '/',
    httpOnly: opts.httpOnly ?? true,
    // Koa's cookies are secure exactly over HTTPS unless told otherwise: 'auto' is that.
    secure: opts.secure ?? 'auto',
    ...(maxAge === 'session' ? {} : { maxAge }),
    ...(sameSite === undefined ? {} : { sameSite }),
    ...(opts.domain === undefined ? {} : { domain: opts.domain }),
    ...(opts.partitioned === undefined ? {} : { partitioned: opts.partitioned }),
    ...(opts.priority === undefined ? {} : { priority: opts.priority }),
  }
  const { secrets, verifyLegacy } = keysOf(opts.secret, app.keys)
  return {
    key,
    maxAge: maxAge === 'session' ? undefined : maxAge,
    browserSession: maxAge === 'session',
    autoCommit: opts.autoCommit ?? true,
    overwrite: opts.overwrite ?? true,
    rolling: opts.rolling ?? false,
    renew: opts.renew ?? false,
    cookie,
    secrets,
    verifyLegacy,
    store,
    ContextStore: opts.ContextStore,
    externalKey: opts.externalKey,
    genid: opts.genid,
    prefix: opts.prefix ?? '',
    valid: opts.valid,
    beforeSave: opts.beforeSave,
    storeTimeout: opts.storeTimeout,
  }
}

const REQUIRED = ['get', 'set', 'destroy'] as const

/**
 * The secrets to seal or sign with (`secret`, else `app.keys`), and a verifier for the keygrip
 * signatures koa-session made with `app.keys` (an array, or a Keygrip instance itself).
 */
function keysOf(secret: unknown, appKeys: unknown): { secrets: Secret[]; verifyLegacy: LegacyVerifier } {
  const given = secret ?? appKeys
  const list = typeof given === 'string' || Buffer.isBuffer(given) ? [given] : given
  if (!(Array.isArray(list) && list.length > 0 && list.every((item) => (typeof item === 'string' || Buffer.isBuffer(item)) && item.length > 0))) {
    if (isKeygripLike(given)) {
      throw configError('app.keys is a Keygrip instance, whose keys sessionkit/koa cannot read: set app.keys to the array of keys, or pass { secret: [...] } to session()')
    }
    throw configError('set app.keys (an array of secret strings) before session(opts, app), as koa-session requires: the first key signs or seals, every one verifies')
  }
  const secrets = list as Secret[]
  // Koa signs its cookies with keygrip's default, HMAC-SHA1, under app.keys.
  const legacyKeys = isKeygripLike(appKeys) ? appKeys : Array.isArray(appKeys) ? (appKeys as Secret[]) : secrets
  return { secrets, verifyLegacy: legacyVerifier(legacyKeys, 'sha1') }
}
