/**
 * Optional store capabilities the middleware looks for and uses when a store has them. A store that
 * only has get/set/destroy keeps working; one that also has these lets sessionkit make its guarantees
 * across processes (a logout no in-flight request can undo, merges that lose nothing, an owner index
 * that misses no live session), because the store does in one atomic step what the middleware could
 * only do as a read followed by a write; or lets it skip work (a store that answers inside the call,
 * one whose sessions live in this process). Each is found by the members a store has, never by its
 * class, so that any store can offer it.
 */
import type { SessionRecord, SessionStore, StoreCallback } from './contract.js'

/** A session and the version it was read at; versions are opaque strings that change on every data write. */
export interface VersionedRecord {
  record: SessionRecord
  version: string
}

/**
 * The outcome of a conditional write. `'gone'`: the session no longer exists (destroyed, expired);
 * `'changed'`: it exists at another version, given as `current` when the store could read it in the
 * same step (a caller that merges can retry from it without another read).
 */
export type ConditionalWriteOutcome = { written: true; version: string } | { written: false; reason: 'gone' | 'changed'; current?: VersionedRecord }

/**
 * Conditional writes and a load that also moves the expiry. Versions must never repeat for one id,
 * not even after a destroy and a new write under the same id, so that a writer holding a version
 * from before a destroy can never succeed; random tokens or a store-wide counter both do.
 */
export interface ConditionalStore {
  /**
   * Reads a session with its version. With `{ touch: true }` it also moves the session's expiry, in
   * the same store call, as `Cookie.resetMaxAge()` would: to now + `cookie.originalMaxAge`, never past
   * `cookie.absoluteExpires`; a browser-session cookie (`originalMaxAge` null) keeps `expires` null and
   * gets the store's default lifetime again. The returned record's `cookie.expires` is the new one.
   * A touch does not change the version. Calls back with null when there is no live session.
   */
  getVersioned(sid: string, options: { touch: boolean }, callback: StoreCallback<VersionedRecord | null>): unknown
  /**
   * Writes only if the stored version equals `expected`; `expected === null` means: only if no
   * session is stored under sid (a new session). Atomic in the store. Sets the expiry from
   * `record.cookie` as set() does, and the owner index entry when the store keeps one.
   */
  setIfVersion(sid: string, record: SessionRecord, expected: string | null, callback: StoreCallback<ConditionalWriteOutcome>): unknown
}

/**
 * A store that keeps its own owner index, updated in the same atomic step as the session write: the
 * session's `record[indexBy]` (as a string) is its owner. Every write, touch and load-and-touch keeps
 * the entry alive as long as the session; a destroy or an expiry removes it; a changed owner moves it.
 */
export interface OwnerIndexedStore {
  /** The session key whose value is the owner, e.g. `'userId'`. */
  readonly indexBy: string
  /** The ids of the live sessions whose owner is `owner`. */
  idsOf(owner: string, callback: StoreCallback<string[]>): unknown
}

/**
 * A store with its own owner index that can cap an owner's sessions in one atomic step, so that two
 * processes saving new sessions of one owner at the same moment cannot leave more than `max` alive.
 */
export interface OwnerCappedStore extends OwnerIndexedStore {
  /**
   * Ends the least recently active live sessions of `owner` (by when each one's expiry last moved)
   * until at most `max` are left, counting `keep`, which is never ended. Answers the ids it ended.
   */
  capOwner(owner: string, max: number, keep: string, callback: StoreCallback<string[]>): unknown
}

/** Whether a store keeps its own owner index and can cap it atomically. */
export function isOwnerCappedStore(store: unknown): store is SessionStore & OwnerCappedStore {
  return isOwnerIndexedStore(store) && typeof (store as Partial<OwnerCappedStore>).capOwner === 'function'
}

/** Whether a store has the conditional-write capability (both methods). */
export function isConditionalStore(store: unknown): store is SessionStore & ConditionalStore {
  if (store === null || typeof store !== 'object') return false
  const methods = store as Partial<Record<keyof ConditionalStore, unknown>>
  return typeof methods.getVersioned === 'function' && typeof methods.setIfVersion === 'function'
}

/** Whether a store keeps its own owner index (an `indexBy` key and an `idsOf` method). */
export function isOwnerIndexedStore(store: unknown): store is SessionStore & OwnerIndexedStore {
  if (store === null || typeof store !== 'object') return false
  const fields = store as Partial<Record<keyof OwnerIndexedStore, unknown>>
  return typeof fields.indexBy === 'string' && fields.indexBy !== '' && typeof fields.idsOf === 'function'
}

/**
 * The calls a store answers inside the call: each calls its callback before it returns. A store whose
 * data lives in this process (MemoryStore) offers them so that a request never waits a tick for it and
 * its response is never held; its own methods can still answer later, as networked stores do, so that
 * an app's code does not come to rely on synchronous answers. Each method is optional and takes the
 * arguments of the store method of the same name. `set` and `setIfVersion` may be handed one more
 * argument after the callback: the session's data as JSON (`JSON.stringify` of the session without its
 * `cookie` key), which sessionkit computed a moment before; the store may keep that text rather than
 * serialize the session again.
 */
export interface ImmediateCalls {
  /** As the store's `get`, answered before it returns. */
  get?(sid: string, callback: StoreCallback<SessionRecord | null>): void
  /** As the store's `set`, answered before it returns; `dataJson`, when given, is the session's data as JSON. */
  set?(sid: string, session: SessionRecord, callback: StoreCallback, dataJson?: string): void
  /** As the store's `destroy`, answered before it returns. */
  destroy?(sid: string, callback: StoreCallback): void
  /** As the store's `touch`, answered before it returns. */
  touch?(sid: string, session: SessionRecord, callback: StoreCallback): void
  /** As {@link ConditionalStore.getVersioned}, answered before it returns. */
  getVersioned?(sid: string, options: { touch: boolean }, callback: StoreCallback<VersionedRecord | null>): void
  /** As {@link ConditionalStore.setIfVersion}, answered before it returns; `dataJson` as for `set`. */
  setIfVersion?(sid: string, session: SessionRecord, expected: string | null, callback: StoreCallback<ConditionalWriteOutcome>, dataJson?: string): void
}

/**
 * A store that answers sessionkit's calls inside the call (see {@link ImmediateCalls}). sessionkit calls
 * `immediate.get` in place of `get` (and so on for each method `immediate` has) while `store.get` is the
 * `get` defined beside `immediate`; once it is another (a subclass overrides it, a wrapper or a test
 * double replaced it on the instance), that one is called, as for any store. So define `immediate` on
 * the class (a getter), beside the methods it answers for. A call that does not answer inside the call
 * after all gets the store timeout, as any store call does.
 */
export interface ImmediateStore {
  /** The calls answered before they return. */
  readonly immediate: ImmediateCalls
}

/**
 * A store whose sessions live in this process and no other, as MemoryStore's do. With `indexBy` and no
 * `index`, sessionkit then keeps the owner index in this process too (a `MemoryIndex`): it sees every
 * write, so it misses no session.
 */
export interface InProcessStore {
  /** Always `true`: the store's sessions are read and written by this process only. */
  readonly inProcess: true
}

/**
 * The object to call `method` on so that it answers inside the call, or undefined: the store has no
 * such call, or `store[method]` is not the method defined beside `immediate` (see {@link ImmediateStore}).
 */
export function immediateCallsFor(store: SessionStore, method: string): ImmediateCalls | undefined {
  const calls = (store as Partial<ImmediateStore>).immediate
  if (calls === undefined || calls === null || typeof (calls as Record<string, unknown>)[method] !== 'function') return undefined
  let level: object | null = store
  while (level !== null && !Object.hasOwn(level, 'immediate')) level = Object.getPrototypeOf(level) as object | null
  // Compared by value, as seen through the store, so that a Proxy that wraps the methods counts too.
  const own = (store as unknown as Record<string, unknown>)[method]
  return level !== null && own === (level as Record<string, unknown>)[method] ? calls : undefined
}

/** Whether a store says its sessions live in this process only. */
export function isInProcessStore(store: unknown): store is SessionStore & InProcessStore {
  return store !== null && typeof store === 'object' && (store as Partial<InProcessStore>).inProcess === true
}
