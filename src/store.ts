import { EventEmitter } from 'node:events'
import { Cookie, type CookieRecord } from './cookie.js'
import { Session, type SessionRequest } from './session.js'
import type { SessionData } from './types.js'

/**
 * A session as a store keeps it: the app's data plus `cookie`. On `set` a store receives the live
 * session (with `cookie.expires` as a Date and a live `cookie.maxAge`); on `get` it may hand back a
 * plain object, with `cookie.expires` as a Date or an ISO string.
 */
export type SessionRecord = Partial<Omit<SessionData, 'cookie'>> & {
  cookie: CookieRecord & { readonly maxAge?: number | null }
  [key: string]: unknown
}

/** The callback of every store method: an error, or the result. */
export type StoreCallback<T = void> = (err?: unknown, result?: T) => void

/**
 * What `session({ store })` accepts: any object with `get`, `set` and `destroy`, the rest optional.
 * Each method may complete through its callback, through a returned Promise, or both; sessionkit
 * always passes a callback and takes whichever answer comes first, once.
 */
export interface SessionStore {
  get(sid: string, callback: StoreCallback<SessionRecord | null | undefined>): unknown
  set(sid: string, session: SessionRecord, callback: StoreCallback): unknown
  destroy(sid: string, callback: StoreCallback): unknown
  /** Refresh a session's expiry without rewriting its data. */
  touch?(sid: string, session: SessionRecord, callback: StoreCallback): unknown
  /** Every live session, as an array or an object keyed by id. */
  all?(callback: StoreCallback<SessionRecord[] | Record<string, SessionRecord> | null>): unknown
  /** Every live session id. */
  ids?(callback: StoreCallback<string[]>): unknown
  length?(callback: StoreCallback<number>): unknown
  clear?(callback: StoreCallback): unknown
  /** Stores emit `disconnect` and `connect`; while disconnected requests go on without a session. */
  on?(event: string, listener: (...args: unknown[]) => void): unknown
}

/**
 * The base class of stores, an EventEmitter. It is a plain constructor function rather than an ES class
 * so that stores written in the old style, `function S() { Store.call(this) }` with
 * `util.inherits(S, Store)`, work as well as `class S extends Store {}`.
 */
export interface Store extends EventEmitter {
  get?(sid: string, callback: StoreCallback<SessionRecord | null | undefined>): unknown
  set?(sid: string, session: SessionRecord, callback: StoreCallback): unknown
  destroy?(sid: string, callback: StoreCallback): unknown
  touch?(sid: string, session: SessionRecord, callback: StoreCallback): unknown
  all?(callback: StoreCallback<SessionRecord[] | Record<string, SessionRecord> | null>): unknown
  ids?(callback: StoreCallback<string[]>): unknown
  length?(callback: StoreCallback<number>): unknown
  clear?(callback: StoreCallback): unknown
  /**
   * Loads a session by id as a {@link Session} (for code outside a request, such as a WebSocket
   * handshake), as express-session's `store.load` does. Calls back with nothing when there is none.
   */
  load(sid: string, callback: (err: unknown, session?: Session) => void): void
  /** Turns a record from `get` into a {@link Session} on `req`, as express-session's `store.createSession` does. */
  createSession(req: SessionRequest, record: SessionRecord): Session
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
      callback(null, this.createSession({ sessionID: sid, sessionStore: this as SessionStore } as SessionRequest, record))
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
