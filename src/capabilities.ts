/**
 * Optional store capabilities the middleware looks for and uses when a store has them. A store that
 * only has get/set/destroy keeps working; one that also has these lets sessionkit make its guarantees
 * across processes (a logout no in-flight request can undo, merges that lose nothing, an owner index
 * that misses no live session), because the store does in one atomic step what the middleware could
 * only do as a read followed by a write.
 */
import type { SessionRecord, SessionStore, StoreCallback } from './store.js'

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
