// Types of the CommonJS entry, where `module.exports` is the factory itself with the classes on it.
// A function merged with a namespace describes exactly that shape (an `export =` of the ES-module
// namespace of index.js would not be callable). The namespace re-exports each name by alias rather
// than re-declaring it, so `declare module 'sessionkit' { interface SessionData {...} }` in a
// CommonJS consumer merges into the very interface that `req.session` is typed with.
import sk = require('./index.js')
// The types come from the modules that declare them: index.js exports them with `export type`, which
// an import alias cannot follow.
import types = require('./types.js')
import middleware = require('./middleware.js')
import options = require('./options.js')
import cookie = require('./cookie.js')
import sessionModule = require('./session.js')
import store = require('./store.js')
import memoryStore = require('./memory-store.js')
import errors = require('./errors.js')
import signature = require('./signature.js')
import cookieSessionModule = require('./cookie-session.js')
import sessionIndex = require('./session-index.js')
import capabilities = require('./capabilities.js')
import events = require('./events.js')
import cookieLifecycle = require('./cookie-lifecycle.js')

declare function sessionkit(...args: Parameters<typeof sk.session>): ReturnType<typeof sk.session>
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
  export import SessionEventListener = events.SessionEventListener
  export import SessionEventType = events.SessionEventType
  export import SessionMode = events.SessionMode
  export import TamperReason = events.TamperReason
  export import ExpiryReason = events.ExpiryReason
  export import HashIdsOptions = options.HashIdsOptions
  export import SessionIndex = sessionIndex.SessionIndex
  export import RedisSetClient = sessionIndex.RedisSetClient
  export import SessionData = types.SessionData
  export import RequestSession = types.RequestSession
  export import SessionOptions = options.SessionOptions
  export import SessionMiddleware = middleware.SessionMiddleware
  export import NextFunction = middleware.NextFunction
  export import CookieOptions = cookie.CookieOptions
  export import CookieRecord = cookie.CookieRecord
  export import SameSite = cookie.SameSite
  export import SessionCallback = sessionModule.SessionCallback
  export import RegenerateOptions = sessionModule.RegenerateOptions
  export import SessionStore = store.SessionStore
  export import SessionRecord = store.SessionRecord
  export import StoreCallback = store.StoreCallback
  export import StoreConstructor = store.StoreConstructor
  export import MemoryStoreOptions = memoryStore.MemoryStoreOptions
  export import SessionErrorCode = errors.SessionErrorCode
  export import Secret = signature.Secret
  export import ConditionalStore = capabilities.ConditionalStore
  export import ConditionalWriteOutcome = capabilities.ConditionalWriteOutcome
  export import OwnerIndexedStore = capabilities.OwnerIndexedStore
  export import VersionedRecord = capabilities.VersionedRecord
}

export = sessionkit
