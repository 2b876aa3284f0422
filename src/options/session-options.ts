import type { IncomingMessage } from 'node:http'
import { parseHeaderOption, type ParsedHeaderOption, type SessionHeaderOption } from './header-option.js'
import { types } from 'node:util'
import type { CookieOptions } from '../cookie/cookie.js'
import { COOKIE_ATTRIBUTE_NAMES, COOKIE_NAME, parseCookieOption } from './cookie-options.js'
import { isInProcessStore } from '../store/capabilities.js'
import { configError, SessionError } from '../errors.js'
import { SessionEvents } from '../engine/events.js'
import { MemoryStore } from '../store/memory/memory-store.js'
import { meantOption } from './spelling.js'
import { MemoryIndex, type SessionIndex } from '../store/owner-index.js'
import { isSecret, type Secret } from '../cookie/signature.js'
import type { SessionStore } from '../store/store.js'
import { REQUIRED_STORE_METHODS } from '../store/contract.js'
import { warnOnce } from '../warn-once.js'
import { parseMetadata, type ParsedMetadata, type SessionMetadataOptions } from '../engine/metadata.js'

/** The options of `session()`: express-session's, with the same names and defaults, and a few more. */
export interface SessionOptions {
  /**
   * Signs the session-id cookie. An array rotates secrets: the first signs, every one verifies.
   * Required by the types; a JavaScript app that leaves it out gets cookie-parser's `req.secret`
   * (`cookieParser(secret)` mounted first), as with express-session, and a warning at startup.
   */
  secret: Secret | readonly Secret[]
  /** Where sessions live. Default: a {@link MemoryStore}. */
  store?: SessionStore
  /** The session cookie's attributes, or a function of the request that returns them. */
  cookie?: CookieOptions | ((req: IncomingMessage) => CookieOptions)
  /** The cookie's name. Default `connect.sid`. */
  name?: string
  /**
   * Old name of `name`, still read by express-session; kept so that an app migrating with it does not
   * log every user out.
   * @deprecated Use `name`.
   */
  key?: string
  /**
   * Makes a session id; default 24 random bytes in base64url, from the CSPRNG. An `async function` works
   * too: its id is then made before the app runs, on every request that has no session yet.
   */
  genid?: (req: IncomingMessage) => string | Promise<string>
  /** Trust `X-Forwarded-Proto` for secure cookies: `true`, `false`, or undefined to follow Express's `trust proxy`. */
  proxy?: boolean
  /** Save the session on every request even when unchanged. Default `true`, with a warning, as in express-session. */
  resave?: boolean
  /** Send the cookie on every response, restarting its lifetime. Default `false`. */
  rolling?: boolean
  /** Store new sessions that the request did not change. Default `true`, with a warning, as in express-session. */
  saveUninitialized?: boolean
  /** What `delete req.session` / `req.session = null` does: `keep` the stored session (default) or `destroy` it. */
  unset?: 'keep' | 'destroy'
  /**
   * Milliseconds after its creation when a session ends however often it is used (OWASP's absolute
   * timeout), next to the idle expiry of `cookie.maxAge`. Default 0: none.
   */
  absoluteTimeout?: number
  /**
   * Save only the keys a request changed, onto the session as the store holds it at that moment, so
   * that parallel requests changing different keys keep both changes, and a session destroyed by
   * another request (a logout) is not brought back by a late save. Costs a store read per save.
   * Default false: last write wins, as in express-session.
   */
  merge?: boolean
  /**
   * The session key that names its owner, such as `'userId'`: lets `destroySessionsOf(owner)` log a
   * user out everywhere. With `index` (or with the default MemoryStore, which gets an in-process
   * index) that is one lookup; otherwise the store is scanned with `ids()` or `all()`.
   */
  indexBy?: string
  /**
   * Touch an unchanged session by writing it back (`set`) rather than with `store.touch`, so that the
   * stored `cookie.expires` moves together with the store's TTL (connect-redis and connect-pg-simple
   * move only the TTL on touch; connect-redis #251, #259). Pair it with `merge` so that the write
   * cannot undo a parallel request's change. Default false.
   */
  rewriteOnTouch?: boolean
  /**
   * Milliseconds during which an unchanged session's expiry is not moved again (connect-mongo's
   * `touchAfter`): at most one store write per interval for a session that is only read, instead of
   * one per request. The cookie's `Expires` moves with the store's (with `rolling`, the cookie is sent
   * again when the expiry moved, not on every response). For sessions with a `maxAge`; a session the
   * request changed is saved as always. Default 0: every request moves it, as in express-session.
   */
  touchAfter?: number
  /** Where the owner index lives: `new RedisIndex(client)` for several processes sharing Redis. */
  index?: SessionIndex
  /** Milliseconds to wait for any store call before failing the request with a 503. Default 10000; 0 waits for ever. */
  storeTimeout?: number
  /**
   * Largest size in bytes of a session's data as JSON (without its cookie) that a save may write; a
   * larger session fails the request with a SESSION_SERIALIZE error instead of filling the store. Default 0: no limit.
   */
  maxSessionBytes?: number
  /**
   * Mark every response that sets the session cookie `Cache-Control: private` (unless it already says
   * `private` or `no-store`), so that no shared cache hands it to another visitor. Default true;
   * `false` leaves the header to the app.
   */
  cacheControl?: boolean
  /**
   * Also accept the signed session id in a request header, for clients that keep no cookies (an API,
   * a mobile app): a request that carries the header (empty to start a session) uses it instead of the
   * cookie, and a new id goes back in the response header. See {@link SessionHeaderOption}.
   */
  header?: SessionHeaderOption
  /**
   * Keep sessions in the store under a keyed hash of their id (HMAC-SHA256), not the id itself, so
   * that a store dump or backup cannot be replayed; the cookie still carries the id. `true` derives
   * the key from each `secret` (the first hashes, the others are read, for rotation); `{ key }` gives
   * keys of its own. A session stored under its raw id before is still found, and moved to its hashed
   * key, unless `migrateRawIds: false`. Default false.
   */
  hashIds?: boolean | HashIdsOptions
  /**
   * Record, inside each new session's record, when it was made, its `User-Agent` and a truncated (or
   * hashed) client address, for `sessionsOf(owner, { details: true })`: an account page's list of where
   * a user is logged in. Costs no store write of its own. Default false.
   */
  metadata?: boolean | SessionMetadataOptions
  /**
   * At most this many live sessions per owner (`indexBy`): when a session is saved for an owner who
   * already has this many, the least recently active of the others are ended. Default 0: no cap.
   */
  maxSessionsPerOwner?: number
}

/** The `hashIds` option as an object. */
export interface HashIdsOptions {
  /** The keys of the hash: the first hashes new writes, every one is read. Default: derived from `secret`. */
  key?: Secret | readonly Secret[]
  /** Also look a session up under its raw id and move it to its hashed key. Default true; false once the old sessions have expired saves a store read per miss. */
  migrateRawIds?: boolean
}

/** The options after checking, in the form the middleware uses. @internal */
export interface ParsedOptions {
  /** undefined: no `secret` option, so each request signs with its `req.secret` (see {@link SigningKeys}). */
  secrets: readonly Secret[] | undefined
  store: SessionStore
  cookie: (req: IncomingMessage) => CookieOptions
  name: string
  genid: (req: IncomingMessage) => string | Promise<string>
  genidIsAsync: boolean
  proxy: boolean | undefined
  resave: boolean
  rolling: boolean
  saveUninitialized: boolean
  unsetDestroy: boolean
  storeTimeout: number
  maxSessionBytes: number
  absoluteTimeout: number
  merge: boolean
  indexBy: string | undefined
  rewriteOnTouch: boolean
  touchAfter: number
  index: SessionIndex | undefined
  cacheControl: boolean
  header: ParsedHeaderOption | undefined
  /** The keys of `hashIds` (the first hashes), or undefined when ids are stored as they are. */
  hashIdKeys: readonly Secret[] | undefined
  migrateRawIds: boolean
  events: SessionEvents
  /** The `metadata` option, or undefined when it is off. */
  metadata: ParsedMetadata | undefined
  /** 0: no cap. */
  maxSessionsPerOwner: number
}

const KNOWN = ['key', 'secret', 'store', 'cookie', 'name', 'genid', 'proxy', 'resave', 'rolling', 'saveUninitialized', 'unset', 'storeTimeout', 'maxSessionBytes', 'absoluteTimeout', 'merge', 'indexBy', 'index', 'rewriteOnTouch', 'touchAfter', 'cacheControl', 'hashIds', 'header', 'metadata', 'maxSessionsPerOwner']
// Other session libraries' names (cookie-session, @fastify/session) for an option of session(). Store
// options (ttl, prefix, client) are not among them: Sails passes its store's options in the same object.
const MEANT_ELSEWHERE: Readonly<Record<string, string>> = { keys: 'secret', secrets: 'secret', cookieName: 'name' }

/**
 * Checks `session()`'s options once, at startup, and throws a SessionError (code SESSION_CONFIG)
 * whose message names each invalid option, in express-session's words where it has them, and what
 * to change. Every option is checked on its own, so that fixing one error does not uncover the next.
 * Missing `resave`, `saveUninitialized` or `secret` only warns, once per process, because
 * express-session accepts them with a deprecation.
 * @internal
 */
export function parseOptions(given: SessionOptions | undefined, defaultGenid: (req: IncomingMessage) => string): ParsedOptions {
  // express-session takes session() with no argument at all: the same as an object without a secret.
  const options = (given ?? {}) as SessionOptions
  if (typeof options !== 'object') throw configError('session() takes an options object such as { secret, resave: false, saveUninitialized: false }')
  warnMisspelledOptions(options)
  const problems: string[] = []
  const check = <T>(parse: () => T, fallback: T): T => {
    try {
      return parse()
    } catch (err) {
      problems.push(err instanceof SessionError ? err.message.replace(/^sessionkit: /, '') : String(err))
      return fallback
    }
  }

  // express-session reads these with `||`: an empty or null value means the default, as kraken-js's
  // configuration (`key: ""`) relies on.
  const genid = options.genid || defaultGenid
  if (typeof genid !== 'function') problems.push(`genid option must be a function: (req) => string, or an async one (got ${kindOf(genid)})`)
  const unset = options.unset || 'keep'
  if (unset !== 'keep' && unset !== 'destroy') problems.push(`unset option must be "destroy" or "keep" (got ${JSON.stringify(unset)})`)
  const secrets = check(() => parseSecret(options.secret, 'secret' in options), undefined)
  const givenName: unknown = options.name || options.key || 'connect.sid'
  const name = typeof givenName === 'number' ? String(givenName) : givenName
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
    problems.push(`option "name" must be a cookie name made of letters, digits and !#$%&'*+-.^_\`|~ (got ${JSON.stringify(name)})`)
  }
  const cookie = check(() => parseCookieOption(options.cookie || undefined, typeof name === 'string' ? name : ''), () => ({}))
  const hashIdKeys = check(() => parseHashIds(options.hashIds, secrets), undefined)
  const store = options.store || new MemoryStore()
  const missing = REQUIRED_STORE_METHODS.find((method) => typeof (store as unknown as Record<string, unknown>)[method] !== 'function')
  if (missing !== undefined) problems.push(`option "store" must have a ${missing}(sid, ..., callback) method; pass a store such as new MemoryStore() or connect-redis`)
  for (const flag of ['merge', 'rewriteOnTouch', 'cacheControl'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') problems.push(`option "${flag}" must be true or false (got ${JSON.stringify(options[flag])})`)
  }
  const storeTimeout = options.storeTimeout ?? 10_000
  if (typeof storeTimeout !== 'number' || !(storeTimeout >= 0)) {
    problems.push(`option "storeTimeout" must be a number of milliseconds, 0 for none (got ${JSON.stringify(storeTimeout)})`)
  }
  const indexBy = options.indexBy
  if (indexBy !== undefined && (typeof indexBy !== 'string' || indexBy.length === 0)) problems.push('option "indexBy" must be the name of a session key, such as "userId"')
  let index = options.index
  if (index !== undefined) {
    if (indexBy === undefined) problems.push('option "index" needs "indexBy": the session key that names the owner')
    const absent = (['add', 'remove', 'ids'] as const).find((method) => typeof (index as unknown as Record<string, unknown>)[method] !== 'function')
    if (absent !== undefined) problems.push(`option "index" must have an ${absent}() method (use MemoryIndex or RedisIndex)`)
  } else if (indexBy !== undefined && isInProcessStore(store)) {
    // The store's sessions live in this process (MemoryStore's do), so an index in this process sees every session.
    index = new MemoryIndex()
  }
  const maxSessionBytes = options.maxSessionBytes ?? 0
  if (typeof maxSessionBytes !== 'number' || !Number.isInteger(maxSessionBytes) || maxSessionBytes < 0) {
    problems.push(`option "maxSessionBytes" must be a whole number of bytes, 0 for no limit (got ${JSON.stringify(maxSessionBytes)})`)
  }
  const absoluteTimeout = options.absoluteTimeout ?? 0
  if (typeof absoluteTimeout !== 'number' || !Number.isFinite(absoluteTimeout) || absoluteTimeout < 0) {
    problems.push(`option "absoluteTimeout" must be a number of milliseconds, 0 for none (got ${JSON.stringify(absoluteTimeout)})`)
  }
  const touchAfter = options.touchAfter ?? 0
  if (typeof touchAfter !== 'number' || !Number.isFinite(touchAfter) || touchAfter < 0) {
    problems.push(`option "touchAfter" must be a number of milliseconds, 0 to move the expiry on every request (got ${JSON.stringify(touchAfter)})`)
  }
  const header = parseHeaderOption(options.header, problems)
  const metadata = parseMetadata(options.metadata, secrets, problems)
  const maxSessionsPerOwner = options.maxSessionsPerOwner ?? 0
  if (typeof maxSessionsPerOwner !== 'number' || !Number.isInteger(maxSessionsPerOwner) || maxSessionsPerOwner < 0) {
    problems.push(`option "maxSessionsPerOwner" must be a whole number of sessions, 0 for no cap (got ${JSON.stringify(maxSessionsPerOwner)})`)
  } else if (maxSessionsPerOwner > 0 && indexBy === undefined) problems.push('option "maxSessionsPerOwner" needs "indexBy": the session key that names the owner')
  if (problems.length === 1) throw configError(problems[0] as string)
  if (problems.length > 1) throw configError(`${problems.length} options are invalid: ${problems.join('; ')}`)

  // Warned only for options that are otherwise valid, so a broken setup gets its error alone.
  if (options.resave === undefined) warnOnce('resave', 'sessionkit: option "resave" is not set; defaulting to true as express-session does. Set resave: false unless your store needs it.')
  if (options.saveUninitialized === undefined) {
    warnOnce('saveUninitialized', 'sessionkit: option "saveUninitialized" is not set; defaulting to true as express-session does. Set saveUninitialized: false to store only sessions you write to.')
  }
  if (secrets === undefined) {
    warnOnce(
      'secret',
      'sessionkit: secret option is not set; session ids are signed with req.secret, which cookieParser(secret) sets, as express-session does. Requests without it fail with an error. Pass session({ secret }) to sign with a secret of its own.',
      'SESSIONKIT_REQ_SECRET',
    )
  }

  return {
    absoluteTimeout,
    merge: options.merge ?? false,
    indexBy,
    index,
    rewriteOnTouch: options.rewriteOnTouch ?? false,
    touchAfter,
    secrets,
    store,
    cookie,
    name: name as string,
    genid: genid as (req: IncomingMessage) => string | Promise<string>,
    genidIsAsync: types.isAsyncFunction(genid),
    proxy: trustedProxy(options.proxy),
    resave: options.resave === undefined ? true : truthy('resave', options.resave),
    rolling: truthy('rolling', options.rolling ?? false),
    saveUninitialized: options.saveUninitialized === undefined ? true : truthy('saveUninitialized', options.saveUninitialized),
    unsetDestroy: unset === 'destroy',
    storeTimeout,
    maxSessionBytes,
    cacheControl: options.cacheControl ?? true,
    hashIdKeys,
    header,
    migrateRawIds: typeof options.hashIds === 'object' && options.hashIds !== null ? options.hashIds.migrateRawIds !== false : true,
    events: new SessionEvents('store'),
    metadata,
    maxSessionsPerOwner,
  }
}

/**
 * Keys of the options object that sessionkit does not know are ignored, as express-session ignores
 * them: frameworks (Sails, kraken-js) keep keys of their own in the same object. Only a key that looks
 * like a mistake is reported, once per process: a cookie attribute given at the top level, another
 * library's name for an option, or a near miss of an option's name.
 */
function warnMisspelledOptions(options: object): void {
  for (const key of Object.keys(options)) {
    if (KNOWN.includes(key)) continue
    const attribute = COOKIE_ATTRIBUTE_NAMES.includes(key) ? key : undefined
    const elsewhere = MEANT_ELSEWHERE[key]
    const meant = attribute === undefined && elsewhere === undefined ? meantOption(key, KNOWN) : undefined
    let hint: string | undefined
    if (attribute !== undefined) hint = `it is a cookie attribute: session({ cookie: { ${attribute} } })`
    else if (elsewhere !== undefined) hint = `sessionkit takes this as "${elsewhere}"`
    else if (meant !== undefined) hint = `did you mean "${meant}"?`
    if (hint !== undefined) warnOnce(`unknown-${key}`, `sessionkit: option "${key}" is not a session() option and is ignored; ${hint}`)
  }
}

/**
 * express-session's reading of `resave`, `rolling` and `saveUninitialized`: any value, taken as true
 * when truthy. One that is not a boolean or null is likely a mistake (`resave: 'false'` is true), so it
 * is said once.
 */
function truthy(name: string, value: unknown): boolean {
  const on = Boolean(value)
  if (typeof value !== 'boolean' && value !== null) {
    warnOnce(`flag-${name}-${typeof value}`, `sessionkit: option "${name}" is ${JSON.stringify(value)}, not true or false; it is taken as ${on}, as express-session takes it`)
  }
  return on
}

/** `proxy` as express-session reads it: only `true` and `false` mean anything; anything else follows Express's `trust proxy`. */
function trustedProxy(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (value !== undefined && value !== null) {
    warnOnce(`proxy-${typeof value}`, `sessionkit: option "proxy" is ${JSON.stringify(value)}, not true or false; it is ignored (Express's trust proxy setting decides), as express-session ignores it`)
  }
  return undefined
}

/** The keys of the `hashIds` option: its own `key`, or the `secret`s; undefined when it is off. */
function parseHashIds(hashIds: unknown, secrets: readonly Secret[] | undefined): readonly Secret[] | undefined {
  if (hashIds === undefined || hashIds === false) return undefined
  if (hashIds !== true && (hashIds === null || typeof hashIds !== 'object')) throw configError('option "hashIds" must be true, false or { key, migrateRawIds }')
  const given = hashIds === true ? undefined : (hashIds as HashIdsOptions)
  if (given?.migrateRawIds !== undefined && typeof given.migrateRawIds !== 'boolean') throw configError('option "hashIds.migrateRawIds" must be true or false')
  if (given?.key === undefined) {
    if (secrets === undefined) throw configError('option "hashIds" needs a key: pass hashIds: { key } when the secret comes from cookie-parser\'s req.secret')
    return secrets
  }
  const keys: unknown[] = Array.isArray(given.key) ? given.key : [given.key]
  if (keys.length === 0 || !keys.every(isSecret)) throw configError(`option "hashIds.key" must be a non-empty string, a Buffer, or an array of them (got ${kindOf(given.key)})`)
  return keys as Secret[]
}

/**
 * The `secret` option as a list, or undefined when it is left out (the request's `req.secret` is used
 * then). A secret given but empty is refused: `secret: process.env.SESSION_SECRET` with the variable
 * unset must stop the app at startup, not answer every request with an error.
 */
function parseSecret(secret: unknown, given: boolean): readonly Secret[] | undefined {
  if (secret === undefined && !given) return undefined
  if (secret === undefined || secret === null || secret === '') {
    throw configError(
      `secret option is ${secret === '' ? 'an empty string' : String(secret)}: is the environment variable it comes from (such as SESSION_SECRET) unset? Pass a secret, or leave the option out to sign with cookie-parser's req.secret`,
    )
  }
  if (Array.isArray(secret) && secret.length === 0) {
    throw configError('secret option array must contain one or more strings (or Buffers); the first signs, every one verifies')
  }
  const list: unknown[] = Array.isArray(secret) ? secret : [secret]
  const bad = list.findIndex((item) => !isSecret(item))
  if (bad !== -1) {
    // The value itself is never shown: it may be a real secret, one character off.
    throw configError(`secret option must be a non-empty string, a Buffer, or an array of them (got ${kindOf(list[bad])}), e.g. secret: process.env.SESSION_SECRET`)
  }
  return list as Secret[]
}

/** What an invalid option value is, for a message that must not print it. */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (value === '') return 'an empty string'
  if (Buffer.isBuffer(value)) return value.length === 0 ? 'an empty Buffer' : 'a Buffer'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

