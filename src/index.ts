/**
 * sessionkit: session middleware for Express, connect and `node:http`, a drop-in replacement for
 * express-session. `require('sessionkit')` and `import session from 'sessionkit'` give the factory;
 * `session.Store`, `session.MemoryStore`, `session.Cookie` and `session.Session` are on it for stores
 * written as `require('some-store')(session)`.
 *
 * @module sessionkit
 */
import { Cookie as CookieClass } from './cookie.js'
import { cookieSession } from './cookie-session.js'
import { SessionError } from './errors.js'
import type { ExpressSessionCookie, ExpressSessionOptions } from './express-session-types.js'
import { MemoryStore } from './memory-store.js'
import { session as createSession, type SessionMiddleware } from './middleware.js'
import type { SessionOptions } from './options.js'
import { Session } from './session.js'
import { Store } from './store.js'

/**
 * Creates the session middleware. The options are optional in the type, as in
 * `@types/express-session`, so that `connectPgSimple(session)` and other store factories typed
 * against it accept this function; without `secret` it throws at startup. While
 * `@types/express-session` is installed its SessionOptions are accepted too.
 */
export type SessionFactory = (options?: SessionOptions | ExpressSessionOptions) => SessionMiddleware

/** The session cookie's class: `new Cookie(options)`, `instanceof Cookie`. */
export const Cookie = CookieClass
/**
 * A session's cookie. While @types/express-session is installed `req.session.cookie` is typed as its
 * Cookie, so the type admits that one too; otherwise it is the class.
 */
export type Cookie = CookieClass | ExpressSessionCookie

/** `session(options)` creates the middleware; the classes stores and apps need hang off it. */
const session = Object.assign(createSession as SessionFactory, { Store, MemoryStore, Cookie, Session, SessionError, cookieSession })

export default session
export { session, Store, MemoryStore, Session, SessionError }
export { cookieSession, COOKIE_SIZE_LIMIT } from './cookie-session.js'
export type { CookieSessionOptions, CookieSessionMiddleware, SealedSessionInfo } from './cookie-session.js'
export type { SessionEvent, SessionEventListener, SessionEventType, SessionMode, TamperReason, ExpiryReason } from './events.js'
export { generateSessionId } from './middleware.js'
export { MemoryIndex, RedisIndex, scanSessionsOf } from './session-index.js'
export type { SessionIndex, RedisSetClient, IoRedisSetClient } from './session-index.js'
export type { NextFunction, SessionMiddleware } from './middleware.js'
export type { SessionOptions, HashIdsOptions } from './options.js'
export type { CookieOptions, CookieRecord, SameSite } from './cookie.js'
export type { SessionCallback, RegenerateOptions } from './session.js'
export type { SessionStore, SessionRecord, StoreCallback, StoreResultCallback, StoredSession, StoreMethods } from './store-types.js'
export type { StoreConstructor } from './store.js'
export type { MemoryStoreOptions } from './memory-store.js'
export { isConditionalStore, isOwnerIndexedStore } from './capabilities.js'
export type { ConditionalStore, ConditionalWriteOutcome, ImmediateCalls, ImmediateStore, InProcessStore, OwnerIndexedStore, VersionedRecord } from './capabilities.js'
export type { SessionErrorCode } from './errors.js'
export type { SessionData } from './types.js'
export type { RequestSession } from './express-request.js'
export type { Secret } from './signature.js'
