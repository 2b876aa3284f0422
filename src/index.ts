/**
 * sessionkit: session middleware for Express, connect and `node:http`, a drop-in replacement for
 * express-session. `require('sessionkit')` and `import session from 'sessionkit'` give the factory;
 * `session.Store`, `session.MemoryStore`, `session.Cookie` and `session.Session` are on it for stores
 * written as `require('some-store')(session)`.
 */
import { Cookie } from './cookie.js'
import { cookieSession } from './cookie-session.js'
import { SessionError } from './errors.js'
import { MemoryStore } from './memory-store.js'
import { session as createSession } from './middleware.js'
import { Session } from './session.js'
import { Store } from './store.js'

/** `session(options)` creates the middleware; the classes stores and apps need hang off it. */
const session = Object.assign(createSession, { Store, MemoryStore, Cookie, Session, SessionError, cookieSession })

export default session
export { session, Store, MemoryStore, Cookie, Session, SessionError }
export { cookieSession, COOKIE_SIZE_LIMIT } from './cookie-session.js'
export type { CookieSessionOptions, CookieSessionMiddleware, SealedSessionInfo } from './cookie-session.js'
export type { SessionEvent, SessionEventListener, SessionEventType, SessionMode, TamperReason, ExpiryReason } from './events.js'
export { generateSessionId } from './middleware.js'
export { MemoryIndex, RedisIndex, scanSessionsOf } from './session-index.js'
export type { SessionIndex, RedisSetClient } from './session-index.js'
export type { NextFunction, SessionMiddleware } from './middleware.js'
export type { SessionOptions, HashIdsOptions } from './options.js'
export type { CookieOptions, CookieRecord, SameSite } from './cookie.js'
export type { SessionCallback, RegenerateOptions } from './session.js'
export type { SessionStore, SessionRecord, StoreCallback, StoreConstructor } from './store.js'
export type { MemoryStoreOptions } from './memory-store.js'
export { isConditionalStore, isOwnerIndexedStore } from './capabilities.js'
export type { ConditionalStore, ConditionalWriteOutcome, OwnerIndexedStore, VersionedRecord } from './capabilities.js'
export type { SessionErrorCode } from './errors.js'
export type { SessionData, RequestSession } from './types.js'
export type { Secret } from './signature.js'
