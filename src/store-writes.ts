import { isConditionalStore, type ConditionalStore, type ConditionalWriteOutcome, type VersionedRecord } from './capabilities.js'
import { conflictError, mergedRecord, WRITE_ATTEMPTS } from './merge.js'
import type { Session } from './session.js'
import { writesOf } from './session-writes.js'
import type { SessionRecord, SessionStore } from './store.js'
import { callStore } from './store-call.js'
import { serializeData } from './request.js'

/**
 * How the store mode reads and writes a session: in order with this process's other writes of the same
 * id, never after its destroy (any store), and, with a store that has the capabilities of
 * `ConditionalStore`, conditional on the version the request read, so that the same holds across
 * processes. @internal
 */

/** What a store call needs besides its arguments. */
export interface StoreAccess {
  readonly store: SessionStore
  readonly timeoutMs: number
}

/**
 * Whether sessionkit uses the store's conditional writes and load-and-touch. A store whose `get`, `set`,
 * `touch` or `destroy` was replaced after its `getVersioned` was defined (a subclass that overrides
 * `get`, an instance whose method a wrapper or a test double replaced) asks for those to be called, so
 * it is used as a plain store.
 */
export function usesVersions(store: SessionStore): store is SessionStore & ConditionalStore {
  if (!isConditionalStore(store)) return false
  for (let level: object | null = store; level !== null && !Object.hasOwn(level, 'getVersioned'); level = Object.getPrototypeOf(level) as object | null) {
    for (const method of PLAIN_METHODS) if (Object.hasOwn(level, method)) return false
  }
  return true
}

const PLAIN_METHODS = ['get', 'set', 'touch', 'destroy'] as const

/** One store call as a Promise; `since` is when its caller asked for it, if it waited in a queue. */
export function call<T>(access: StoreAccess, method: Parameters<typeof callStore>[1], args: unknown[], since?: number): Promise<T> {
  return new Promise((resolve, reject) => {
    callStore<T>(access.store, method, args, access.timeoutMs, (err, result) => (err === null ? resolve(result as T) : reject(err)), since)
  })
}

/** Loads a session with its version, moving its expiry in the same call. */
export function loadVersioned(access: StoreAccess, sid: string, touch: boolean): Promise<VersionedRecord | null | undefined> {
  return call(access, 'getVersioned', [sid, { touch }])
}

/** A session to write and what the request knows about it. */
export interface SessionWrite {
  readonly target: Session
  /** Its data as JSON now. */
  readonly json: string
  /** With `merge`: the JSON this request's changes are measured against; undefined writes everything. */
  readonly mergeBase: string | undefined
  /** The version the request read (null: a session it created); undefined with a plain store. */
  readonly version: string | null | undefined
  /** When the request loaded the session (performance.now()): a destroy here after that wins. */
  readonly loadedAt: number
}

/** What a write did: stored (with the new version, for a versioned store), or found the session gone. */
export type WriteOutcome = { stored: true; version: string | undefined } | { stored: false }

const GONE: WriteOutcome = { stored: false }

/** Writes a session; see the module comment. Rejects with SESSION_CONFLICT after {@link WRITE_ATTEMPTS} changed versions. */
export function writeSession(access: StoreAccess, write: SessionWrite): Promise<WriteOutcome> {
  const writes = writesOf(access.store)
  const sid = write.target.id
  return writes.run(sid, async (since) => {
    if (writes.destroyedSince(sid, write.loadedAt)) return GONE
    if (write.version !== undefined && usesVersions(access.store)) return writeVersioned(access, write, since)
    let record: SessionRecord = write.target as unknown as SessionRecord
    if (write.mergeBase !== undefined) {
      const latest = await call<SessionRecord | null | undefined>(access, 'get', [sid], since)
      if (latest === null || latest === undefined || typeof latest !== 'object') return GONE
      record = mergedRecord(latest, write.mergeBase, write.json, write.target)
    }
    await call(access, 'set', [sid, record], since)
    return { stored: true, version: undefined }
  })
}

async function writeVersioned(access: StoreAccess, write: SessionWrite, since: number): Promise<WriteOutcome> {
  const sid = write.target.id
  const writes = writesOf(access.store)
  let record: SessionRecord = write.target as unknown as SessionRecord
  let expected = write.version ?? null
  // A write of this process since the request's load is newer than what the request read: start there.
  const local = writes.writtenSince(sid, write.loadedAt)
  if (local !== undefined) {
    expected = local.version
    if (write.mergeBase !== undefined) record = mergedRecord(local.record, write.mergeBase, write.json, write.target)
  }
  for (let attempt = 1; ; attempt++) {
    const outcome = await call<ConditionalWriteOutcome>(access, 'setIfVersion', [sid, record, expected], attempt === 1 ? since : undefined)
    if (outcome.written) {
      const written = record
      writes.wrote(sid, outcome.version, () => (written === (write.target as unknown) ? write.json : serializeData(written)), write.target.cookie)
      return { stored: true, version: outcome.version }
    }
    if (outcome.reason === 'gone') return GONE
    if (attempt === WRITE_ATTEMPTS) throw conflictError()
    // Another process wrote meanwhile: with `merge`, this request's own changes go onto its version;
    // without, the last write wins, as with any store, but never over a destroy.
    const latest = outcome.current ?? (await loadVersioned(access, sid, false))
    if (latest === null || latest === undefined) return GONE
    expected = latest.version
    if (write.mergeBase !== undefined) record = mergedRecord(latest.record, write.mergeBase, write.json, write.target)
    // After a few lost rounds, a short random pause lets writers in lockstep part ways.
    if (attempt >= 3) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 10)))
  }
}

/** Destroys a session in order with this process's other writes of it; a request that loaded it before cannot write it back. */
export function destroySession(access: StoreAccess, sid: string): Promise<void> {
  return writesOf(access.store).destroy(sid, (since) => call(access, 'destroy', [sid], since))
}
