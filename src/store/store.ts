import { EventEmitter } from 'node:events'
import { Cookie } from '../cookie/cookie.js'
import { Session, type SessionRequest } from '../engine/session.js'
import type { ExpressRequestSession, ExpressSessionData } from '../adapters/express/express-session-types.js'
import type { SessionRecord, SessionStore, StoreMethods } from './contract.js'
import type { SessionData } from '../types.js'

export type { SessionRecord, SessionStore, StoreCallback, StoredSession, StoreMethods } from './contract.js'

/** What a store is handed on `set` (the live session) or hands back from `get` (a plain record). */
type StoreSession = SessionData | SessionRecord

// The methods a store provides come from the one list in store-types.ts; get, set and destroy are
// required in the type, as @types/express-session's abstract methods are, so that code holding a Store
// can call them. Its callbacks are plain function types, as @types/express-session writes them.
/**
 * The base class of stores, an EventEmitter. It is a plain constructor function rather than an ES class
 * so that stores written in the old style, `function S() { Store.call(this) }` with
 * `util.inherits(S, Store)`, work as well as `class S extends Store {}`. The methods a store provides
 * are typed as `@types/express-session` types them, so a store written against those types (as
 * connect-redis and connect-pg-simple are) extends this class unchanged.
 */
export interface Store
  extends EventEmitter,
    StoreMethods<
      StoreSession,
      (err: unknown, session?: StoreSession | null) => void,
      (err: unknown, sessions?: StoreSession[] | { [sid: string]: StoreSession } | null) => void
    > {
  /**
   * Loads a session by id as a {@link Session} (for code outside a request, such as a WebSocket
   * handshake), as express-session's `store.load` does. Calls back with nothing when there is none.
   * (The union admits stores typed against @types/express-session, when it is installed.)
   */
  load(sid: string, callback: (err: unknown, session?: Session | ExpressSessionData) => void): void
  /** Turns a record from `get` into a {@link Session} on `req`, as express-session's `store.createSession` does. */
  createSession(req: SessionRequest, record: SessionRecord | ExpressSessionData): Session | ExpressRequestSession
}

/** The constructor of {@link Store}: callable with `new`, with `Store.call(this)`, and extendable. */
export interface StoreConstructor {
  new (options?: unknown): Store
  (this: Store, options?: unknown): void
  readonly prototype: Store
}

function StoreFunction(this: Store): void {
  EventEmitter.call(this)
}
Object.setPrototypeOf(StoreFunction.prototype, EventEmitter.prototype)
Object.setPrototypeOf(StoreFunction, EventEmitter)

// The middleware never calls these (stores built on express-session's Store lack ours); they are
// here for apps that call them on `req.sessionStore`, as they could with express-session.
StoreFunction.prototype.load = function load(this: Store, sid: string, callback: (err: unknown, session?: Session) => void): void {
  if (typeof this.get !== 'function') return callback(new TypeError('this store has no get() method'))
  this.get(sid, (err, record) => {
    if (err) return callback(err)
    if (record === null || record === undefined) return callback(null)
    try {
      callback(null, this.createSession({ sessionID: sid, sessionStore: this as SessionStore } as SessionRequest, record as SessionRecord))
    } catch (createError) {
      callback(createError)
    }
  })
}

StoreFunction.prototype.createSession = function createSession(this: Store, req: SessionRequest, record: SessionRecord): Session {
  const created = new Session(req, { ...record, cookie: new Cookie(record.cookie) })
  req.session = created
  return created
}

/** The store base class; see {@link StoreConstructor}. */
export const Store = StoreFunction as unknown as StoreConstructor
