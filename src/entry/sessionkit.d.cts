// Types of the CommonJS entry, where `module.exports` is the factory itself with the classes on it.
// A function merged with a namespace describes exactly that shape (an `export =` of the ES-module
// namespace of index.js would not be callable). The namespace re-exports each name by alias rather
// than re-declaring it, so `declare module 'sessionkit' { interface SessionData {...} }` in a
// CommonJS consumer merges into the very interface that `req.session` is typed with.
import sk = require('./index.js')
// The types come from the modules that declare them: index.js exports them with `export type`, which
// an import alias cannot follow.
import types = require('./types.js')
import expressRequest = require('./adapters/express/request-types.js')
import middleware = require('./adapters/express/middleware.js')
import options = require('./options/session-options.js')
import cookie = require('./cookie/cookie.js')
import sessionModule = require('./engine/session.js')
import store = require('./store/store.js')
import storeTypes = require('./store/contract.js')
import memoryStore = require('./store/memory/memory-store.js')
import errors = require('./errors.js')
import signature = require('./cookie/signature.js')
import cookieSessionModule = require('./adapters/express/cookie-session.js')
import sessionIndex = require('./store/owner-index.js')
import capabilities = require('./store/capabilities.js')
import events = require('./engine/events.js')
import cookieLifecycle = require('./engine/cookie-mode.js')
import metadata = require('./engine/metadata.js')
import ownerSessions = require('./engine/owner-sessions.js')

// The options are optional in the type, as in @types/express-session, so that store factories typed
// against it (`connectPgSimple(session)`) accept this function.
declare function sessionkit(...args: Parameters<sk.SessionFactory>): ReturnType<sk.SessionFactory>
declare namespace sessionkit {
  export import session = sk.session
  export import Store = sk.Store
  export import MemoryStore = sk.MemoryStore
  export import Cookie = sk.Cookie
  export import Session = sk.Session
  export import SessionError = sk.SessionError
  export import generateSessionId = sk.generateSessionId
  export import cookieSession = sk.cookieSession
  export import COOKIE_SIZE_LIMIT = sk.COOKIE_SIZE_LIMIT
  export import MemoryIndex = sk.MemoryIndex
  export import RedisIndex = sk.RedisIndex
  export import scanSessionsOf = sk.scanSessionsOf
  export import isConditionalStore = sk.isConditionalStore
  export import isOwnerIndexedStore = sk.isOwnerIndexedStore
  export import CookieSessionOptions = cookieSessionModule.CookieSessionOptions
  export import CookieSessionMiddleware = cookieSessionModule.CookieSessionMiddleware
  export import SealedSessionInfo = cookieLifecycle.SealedSessionInfo
  export import SessionEvent = events.SessionEvent
  export import SessionEventListener = middleware.SessionEventListener
  export import SessionEventType = events.SessionEventType
  export import SessionMode = events.SessionMode
  export import TamperReason = events.TamperReason
  export import ExpiryReason = events.ExpiryReason
  export import HashIdsOptions = options.HashIdsOptions
  export import SessionMetadataOptions = metadata.SessionMetadataOptions
  export import SessionInfo = ownerSessions.SessionInfo
  export import SessionDetailsOptions = ownerSessions.SessionDetailsOptions
  export import SessionIndex = sessionIndex.SessionIndex
  export import RedisSetClient = sessionIndex.RedisSetClient
  export import IoRedisSetClient = sessionIndex.IoRedisSetClient
  export import SessionData = types.SessionData
  export import RequestSession = expressRequest.RequestSession
  export import SessionFactory = sk.SessionFactory
  export import SessionOptions = options.SessionOptions
  export import SessionMiddleware = middleware.SessionMiddleware
  export import NextFunction = middleware.NextFunction
  export import CookieOptions = cookie.CookieOptions
  export import CookieRecord = cookie.CookieRecord
  export import SameSite = cookie.SameSite
  export import SessionCallback = sessionModule.SessionCallback
  export import RegenerateOptions = sessionModule.RegenerateOptions
  export import SessionStore = storeTypes.SessionStore
  export import SessionRecord = storeTypes.SessionRecord
  export import StoreCallback = storeTypes.StoreCallback
  export import StoredSession = storeTypes.StoredSession
  export import StoreResultCallback = storeTypes.StoreResultCallback
  export import StoreMethods = storeTypes.StoreMethods
  export import StoreConstructor = store.StoreConstructor
  export import MemoryStoreOptions = memoryStore.MemoryStoreOptions
  export import SessionErrorCode = errors.SessionErrorCode
  export import Secret = signature.Secret
  export import ConditionalStore = capabilities.ConditionalStore
  export import ConditionalWriteOutcome = capabilities.ConditionalWriteOutcome
  export import ImmediateCalls = capabilities.ImmediateCalls
  export import ImmediateStore = capabilities.ImmediateStore
  export import InProcessStore = capabilities.InProcessStore
  export import OwnerIndexedStore = capabilities.OwnerIndexedStore
  export import OwnerCappedStore = capabilities.OwnerCappedStore
  export import VersionedRecord = capabilities.VersionedRecord
}

// While @types/express-session is installed, `req.session` is its Session (see
// express-session-types.d.ts); this gives that Session the app's keys from sessionkit's SessionData and
// sessionkit's promise forms. The directive is for TS6137 (an import of an @types package); when the
// package is missing, the augmentation is ignored without an error, as in any declaration file.
// @ts-ignore
declare module '@types/express-session' {
  interface SessionData extends Omit<types.SessionData, 'cookie'> {}

  interface Session {
    regenerate(): Promise<void>
    regenerate(options: sessionModule.RegenerateOptions): Promise<void>
    regenerate(options: sessionModule.RegenerateOptions, callback: sessionModule.SessionCallback): this
    destroy(): Promise<void>
    reload(): Promise<void>
    save(): Promise<void>
  }
}

export = sessionkit
