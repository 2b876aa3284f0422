import { isConditionalStore, type ConditionalStore, type ConditionalWriteOutcome, type VersionedRecord } from './capabilities.js'
import { SessionError } from './errors.js'
import { conflictError, mergedRecord, WRITE_ATTEMPTS } from './merge.js'
import type { Session } from './session.js'
import { writesOf, type WriteDone } from './session-writes.js'
import type { SessionRecord, SessionStore } from './store.js'
import { answersAtOnce, callStore } from './store-call.js'
import { knownDataJson } from './memory-entry.js'
import { serializeData } from './request.js'
import { recordProblem } from './record.js'

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

/** Reads a session for `reload()`: its record (and version), or SESSION_NOT_FOUND when the store has no usable one. */
export async function readSession(access: StoreAccess, sid: string, versioned: boolean): Promise<{ record: SessionRecord; version: string | undefined }> {
  const found = versioned
    ? await loadVersioned(access, sid, false)
    : await call<SessionRecord | null | undefined>(access, 'get', [sid]).then((record) => (record === null || record === undefined ? record : { record, version: undefined }))
  if (found === null || found === undefined || recordProblem(found.record) !== undefined) {
    throw new SessionError('SESSION_NOT_FOUND', 'sessionkit: failed to load session: the store no longer has it', { status: 404 })
  }
  return found
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

/**
 * Writes a session; see the module comment. Reports SESSION_CONFLICT after {@link WRITE_ATTEMPTS}
 * changed versions. With a store that answers at once, `done` is called before this returns.
 */
export function writeSession(access: StoreAccess, write: SessionWrite, done: WriteDone<WriteOutcome>): void {
  const writes = writesOf(access.store)
  const sid = write.target.id
  // A write that starts before run() returns was asked for just now: its JSON is the session's own.
  let askedNow = true
  writes.run<WriteOutcome>(
    sid,
    (since, finish) => {
      if (writes.destroyedSince(sid, write.loadedAt)) return finish(null, GONE)
      if (write.version !== undefined) return writeVersioned(access, write, since, askedNow, finish)
      const set = (record: SessionRecord): void => {
        callStore(access.store, 'set', [sid, record], access.timeoutMs, (err) => (err === null ? finish(null, STORED) : finish(err)), since)
      }
      if (write.mergeBase === undefined) return set(write.target as unknown as SessionRecord)
      const mergeBase = write.mergeBase
      callStore<SessionRecord | null | undefined>(access.store, 'get', [sid], access.timeoutMs, (err, latest) => {
        if (err !== null) return finish(err)
        if (latest === null || latest === undefined || typeof latest !== 'object') return finish(null, GONE)
        let merged: SessionRecord
        try {
          merged = mergedRecord(latest, mergeBase, write.json, write.target)
        } catch (mergeError) {
          return finish(mergeError)
        }
        set(merged)
      }, since)
    },
    done,
  )
  askedNow = false
}

const STORED: WriteOutcome = { stored: true, version: undefined }

/** A conditional write from the version the request read, retried from the latest one while another process wins. */
function writeVersioned(access: StoreAccess, write: SessionWrite, since: number, askedNow: boolean, done: WriteDone<WriteOutcome>): void {
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
  const attempt = (number: number): void => {
    // The in-memory store answers during the call: it can take the JSON computed a moment ago.
    const hinted = askedNow && number === 1 && record === (write.target as unknown) && answersAtOnce(access.store, 'setIfVersion')
    if (hinted) knownDataJson.set(record, write.json)
    callStore<ConditionalWriteOutcome>(access.store, 'setIfVersion', [sid, record, expected], access.timeoutMs, (err, outcome) => {
      if (hinted) knownDataJson.delete(record)
      if (err !== null) return done(err)
      if (outcome === undefined || outcome === null) return done(new SessionError('SESSION_STORE_FAILED', 'sessionkit: store.setIfVersion answered nothing', { status: 503 }))
      if (outcome.written) {
        const written = record
        writes.wrote(sid, outcome.version, () => (written === (write.target as unknown) ? write.json : serializeData(written)), write.target.cookie)
        return done(null, { stored: true, version: outcome.version })
      }
      if (outcome.reason === 'gone') return done(null, GONE)
      if (number === WRITE_ATTEMPTS) return done(conflictError())
      // Another process wrote meanwhile: with `merge`, this request's own changes go onto its version;
      // without, the last write wins, as with any store, but never over a destroy.
      const retry = (latest: VersionedRecord | null | undefined): void => {
        if (latest === null || latest === undefined) return done(null, GONE)
        expected = latest.version
        try {
          if (write.mergeBase !== undefined) record = mergedRecord(latest.record, write.mergeBase, write.json, write.target)
        } catch (mergeError) {
          return done(mergeError)
        }
        // After a few lost rounds, a short random pause lets writers in lockstep part ways.
        if (number >= 3) setTimeout(attempt, Math.random() * Math.min(number, 10), number + 1)
        else attempt(number + 1)
      }
      if (outcome.current !== undefined) return retry(outcome.current)
      callStore<VersionedRecord | null | undefined>(access.store, 'getVersioned', [sid, { touch: false }], access.timeoutMs, (loadError, latest) => (loadError === null ? retry(latest) : done(loadError)))
    }, number === 1 ? since : undefined)
  }
  attempt(1)
}

/** Destroys a session in order with this process's other writes of it; a request that loaded it before cannot write it back. */
export function destroySessionNow(access: StoreAccess, sid: string, done: WriteDone<void>): void {
  writesOf(access.store).destroy(sid, (since, finish) => callStore(access.store, 'destroy', [sid], access.timeoutMs, (err) => finish(err), since), done)
}

/** {@link destroySessionNow} as a Promise. */
export function destroySession(access: StoreAccess, sid: string): Promise<void> {
  return new Promise((resolve, reject) => destroySessionNow(access, sid, (err) => (err === null || err === undefined ? resolve() : reject(err))))
}

/**
 * Starts work that reports through a callback: undefined when it ended before this returns (its error
 * is thrown), otherwise a Promise of its end. A response whose commit ends at once need not be held.
 */
export function atOnceOrLater(start: (done: WriteDone<void>) => void): Promise<void> | undefined {
  let ended = false
  let failure: unknown = null
  let settle: ((err: unknown) => void) | undefined
  start((err) => {
    if (ended) return
    ended = true
    failure = err ?? null
    settle?.(failure)
  })
  if (ended) {
    if (failure !== null) throw failure
    return undefined
  }
  return new Promise((resolve, reject) => {
    settle = (err) => (err === null ? resolve() : reject(err))
  })
}
