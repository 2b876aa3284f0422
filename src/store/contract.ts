// The shapes of stores, kept apart from the Store class so that session.ts can name a store without
// importing the module that imports it back: this file has no runtime imports. It also holds the
// contract's method list, once, for the types and for the code that checks a store.
import type { CookieRecord } from '../cookie/cookie.js'
import type { ExpressSessionData } from '../adapters/express/express-session-types.js'
import type { SessionData } from '../types.js'

/**
 * A session as a store may hand it back from `get`: the app's data plus `cookie`, with
 * `cookie.expires` as a Date or an ISO string. On `set` a store receives the live session, a
 * {@link SessionData} (whose `cookie` is a Cookie with a live `maxAge`), which fits this shape too.
 */
export type SessionRecord = Partial<Omit<SessionData, 'cookie'>> & {
  cookie: CookieRecord & { readonly maxAge?: number | null }
  [key: string]: unknown
}

/** The callback of every store method: an error, or the result. */
export type StoreCallback<T = void> = (err?: unknown, result?: T) => void

/**
 * The callback a store answers `get` and `all` with. Its parameters are compared bivariantly (the type
 * is taken from a method, whose parameters TypeScript checks both ways), so that a store typed for
 * its own session shape and a caller expecting sessionkit's records both fit, as with
 * `@types/express-session`'s `(err: any, session?: SessionData | null) => void`.
 */
export type StoreResultCallback<T> = { answer(err: unknown, result?: T): void }['answer']

/**
 * What a store is handed and hands back. It includes `@types/express-session`'s SessionData when that
 * package is installed, so that stores typed against it (connect-pg-simple's, connect-redis's when
 * sessionkit is not installed as express-session) are accepted as they are.
 */
export type StoredSession = SessionData | SessionRecord | ExpressSessionData

/**
 * The methods of the store contract, written once: `get`, `set` and `destroy` required, the rest
 * optional, as express-session calls them. `S` is the session a store is handed and hands back;
 * `Answer` and `AnswerAll` are the callbacks of `get` and `all`, which {@link SessionStore} and the
 * `Store` class type each their own way (see there).
 */
export interface StoreMethods<S, Answer, AnswerAll> {
  /** Calls back with the session, or with nothing (`null` or `undefined`) when there is none. */
  get(sid: string, callback: Answer): unknown
  /** Stores the session, replacing what the store held under `sid`. */
  set(sid: string, session: S, callback?: (err?: unknown) => void): unknown
  /** Removes the session; an id the store does not have is no error. */
  destroy(sid: string, callback?: (err?: unknown) => void): unknown
  /** Refreshes a session's expiry without rewriting its data. */
  touch?(sid: string, session: S, callback?: (err?: unknown) => void): unknown
  /** Every live session, as an array or an object keyed by id. */
  all?(callback: AnswerAll): unknown
  /** Every live session id. */
  ids?(callback: (err: unknown, ids?: string[]) => void): unknown
  /** How many live sessions there are. */
  length?(callback: (err: unknown, length?: number) => void): unknown
  /** Removes every session. */
  clear?(callback?: (err?: unknown) => void): unknown
}

/** The methods of {@link StoreMethods} every store must have. */
export const REQUIRED_STORE_METHODS = ['get', 'set', 'destroy'] as const

/** The names of {@link StoreMethods}, the required ones first. */
export const STORE_METHODS = [...REQUIRED_STORE_METHODS, 'touch', 'all', 'ids', 'length', 'clear'] as const

/** The name of a method of the store contract. */
export type StoreMethodName = (typeof STORE_METHODS)[number]

// The list and the interface name the same methods: adding one to either without the other fails here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never
const sameMethods: Same<StoreMethodName, keyof StoreMethods<unknown, unknown, unknown>> = true
void sameMethods

/**
 * What `session({ store })` accepts: any object with `get`, `set` and `destroy`, the rest optional,
 * typed loosely enough that stores written for express-session fit unchanged. Each method may
 * complete through its callback, through a returned Promise, or both; sessionkit always passes a
 * callback and takes whichever answer comes first, once.
 */
export interface SessionStore
  extends StoreMethods<StoredSession, StoreResultCallback<StoredSession | null>, StoreResultCallback<StoredSession[] | Record<string, StoredSession> | null>> {
  /** Stores emit `disconnect` and `connect`; while disconnected requests go on without a session. */
  on?(event: string, listener: (...args: unknown[]) => void): unknown
}
