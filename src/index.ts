/**
 * sessionkit: session middleware for Express, connect and `node:http`, a drop-in replacement for
 * express-session. `require('sessionkit')` and `import session from 'sessionkit'` give the factory;
 * `session.Store`, `session.MemoryStore`, `session.Cookie` and `session.Session` are on it for stores
 * written as `require('some-store')(session)`.
 *
 * @module sessionkit
 */
import { Cookie as CookieClass } from './cookie/cookie.js'
import { cookieSession } from './adapters/express/cookie-session.js'
import { SessionError } from './errors.js'
import type { ExpressSessionCookie, ExpressSessionOptions } from './adapters/express/express-session-types.js'
import { MemoryStore } from './store/memory/memory-store.js'
import { session as createSession, type SessionMiddleware } from './adapters/express/middleware.js'
import type { SessionOptions } from './options/session-options.js'
import { Session } from './engine/session.js'
import { Store } from './store/store.js'

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
export { cookieSession, COOKIE_SIZE_LIMIT } from './adapters/express/cookie-session.js'
export type { CookieSessionOptions, CookieSessionMiddleware, SealedSessionInfo } from './adapters/express/cookie-session.js'
export type { SessionEventListener } from './adapters/express/middleware.js'
export type { SessionEvent, SessionEventType, SessionMode, TamperReason, ExpiryReason } from './engine/events.js'
export { generateSessionId } from './engine/genid.js'
export { MemoryIndex, RedisIndex, scanSessionsOf } from './store/owner-index.js'
export type { SessionIndex, RedisSetClient, IoRedisSetClient } from './store/owner-index.js'
export type { NextFunction, SessionMiddleware } from './adapters/express/middleware.js'
export type { SessionOptions, HashIdsOptions } from './options/session-options.js'
export type { SessionMetadataOptions } from './engine/metadata.js'
export type { SessionInfo, SessionDetailsOptions } from './engine/owner-sessions.js'
export type { CookieOptions, CookieRecord, SameSite } from './cookie/cookie.js'
export type { SessionCallback, RegenerateOptions } from './engine/session.js'
export type { SessionStore, SessionRecord, StoreCallback, StoreResultCallback, StoredSession, StoreMethods } from './store/contract.js'
export type { StoreConstructor } from './store/store.js'
export type { MemoryStoreOptions } from './store/memory/memory-store.js'
export { isConditionalStore, isOwnerIndexedStore } from './store/capabilities.js'
export type { ConditionalStore, ConditionalWriteOutcome, ImmediateCalls, ImmediateStore, InProcessStore, OwnerCappedStore, OwnerIndexedStore, VersionedRecord } from './store/capabilities.js'
export type { SessionErrorCode } from './errors.js'
export type { SessionData } from './types.js'
export type { RequestSession } from './adapters/express/request-types.js'
export type { Secret } from './cookie/signature.js'
