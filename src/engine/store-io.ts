import { isConditionalStore, type ConditionalStore, type ConditionalWriteOutcome, type VersionedRecord } from '../store/capabilities.js'
import { SessionError } from '../errors.js'
import { conflictError, mergedRecord, WRITE_ATTEMPTS } from './merge.js'
import type { Session } from './session.js'
import { writesOf, type WriteDone } from './write-queue.js'
import type { SessionRecord, SessionStore } from '../store/store.js'
import { callStore, storeCall } from '../store/call.js'
import { serializeData } from './snapshot.js'
import { recordProblem } from '../store/record.js'

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

/** Loads a session with its version, moving its expiry in the same call. */
export function loadVersioned(access: StoreAccess, sid: string, touch: boolean): Promise<VersionedRecord | null | undefined> {
  return storeCall(access.store, 'getVersioned', [sid, { touch }], access)
}

/**
 * Loads a request's session with its version; with `touch`, moving its expiry in the same call, unless
 * another load of it in this process is doing that right now: then this one only reads, as the expiry
 * moves once for both at the same moment. A hot session's loads so do not wait behind each other's write
 * (in PostgreSQL, the row lock of each `UPDATE … RETURNING`).
 */
export function loadForRequest(access: StoreAccess, sid: string, touch: boolean, done: (err: SessionError | null, found?: VersionedRecord | null) => void): void {
  const writes = writesOf(access.store)
  const touching = touch && writes.touchStarted(sid)
  callStore<VersionedRecord | null | undefined>(access.store, 'getVersioned', [sid, { touch: touching }], access.timeoutMs, (err, found) => {
    if (touching) writes.touchEnded(sid)
    done(err, found)
  })
}

/** Reads a session for `reload()`: its record (and version), or SESSION_NOT_FOUND when the store has no usable one. */
export async function readSession(access: StoreAccess, sid: string, versioned: boolean): Promise<{ record: SessionRecord; version: string | undefined }> {
  const found = versioned
    ? await loadVersioned(access, sid, false)
    : await storeCall<SessionRecord | null | undefined>(access.store, 'get', [sid], access).then((record) => (record === null || record === undefined ? record : { record, version: undefined }))
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
const STORED: WriteOutcome = { stored: true, version: undefined }

/** A save waiting for the store write that carries it: what it writes, when it was asked for, its end. */
interface PendingSave {
  readonly write: SessionWrite
  readonly since: number
  readonly done: WriteDone<WriteOutcome>
}

const accesses = new WeakMap<SessionStore, Map<number, StoreAccess>>()

/**
 * The one {@link StoreAccess} for a store and a timeout: the saves of a session join one write (group
 * commit) only when they go through the same one, as one store call with one timeout can carry them.
 */
export function storeAccess(store: SessionStore, timeoutMs: number): StoreAccess {
  let byTimeout = accesses.get(store)
  if (byTimeout === undefined) accesses.set(store, (byTimeout = new Map()))
  let access = byTimeout.get(timeoutMs)
  if (access === undefined) byTimeout.set(timeoutMs, (access = { store, timeoutMs }))
  return access
}

/**
 * Writes a session; see the module comment. Saves of one session that queue behind a write in flight
 * become one write of the newest state (with `merge`, each save's own changes onto the latest), whose
 * outcome answers each of them. Reports SESSION_CONFLICT after {@link WRITE_ATTEMPTS} changed versions.
 * With a store that answers at once, `done` is called before this returns.
 */
export function writeSession(access: StoreAccess, write: SessionWrite, done: WriteDone<WriteOutcome>): void {
  // A write that starts before save() returns was asked for just now, alone: its JSON is the session's own.
  let askedNow = true
  writesOf(access.store).save<PendingSave, WriteOutcome>(write.target.id, access, { write, since: performance.now(), done }, (saves, answer, finish) =>
    writeGroup(access, saves, askedNow, answer, finish),
  )
  askedNow = false
}

/** One store write for `saves` (oldest first), each checked first as it would be alone. */
function writeGroup(
  access: StoreAccess,
  saves: readonly PendingSave[],
  askedNow: boolean,
  answer: (save: PendingSave, err: unknown, result?: WriteOutcome) => void,
  finish: WriteDone<WriteOutcome>,
): void {
  const writes = writesOf(access.store)
  const now = performance.now()
  // A new array only when a save is left out: a lone save (the common case) allocates none.
  let kept: PendingSave[] | undefined
  let versioned = false
  for (let i = 0; i < saves.length; i++) {
    const save = saves[i] as PendingSave
    // A destroy here after its load wins over it; one that waited past its own timeout is not written,
    // as a lone save's store call would not be made (see callStore): the write's timeout counts from
    // the oldest save it carries.
    const gone = writes.destroyedSince(save.write.target.id, save.write.loadedAt)
    if (!gone && !(access.timeoutMs > 0 && now - save.since >= access.timeoutMs)) {
      kept?.push(save)
      versioned ||= save.write.version !== undefined
      continue
    }
    kept ??= saves.slice(0, i)
    if (gone) answer(save, null, GONE)
    else answer(save, timedOut(save.write, access.timeoutMs))
  }
  const carried = kept ?? saves
  const first = carried[0]
  if (first === undefined) return finish(null, GONE) // every save was answered above
  if (versioned) return writeVersioned(access, carried, askedNow, finish)
  // Without a version: one set of the newest state; with `merge`, onto the session as the store holds it.
  const sid = first.write.target.id
  const set = (latest: SessionRecord | undefined): void => {
    let record = latest
    try {
      for (const save of carried) {
        const { mergeBase, json, target } = save.write
        if (mergeBase === undefined) record = target as unknown as SessionRecord
        else if (record === undefined) answer(save, null, GONE) // its changes have no session to go onto
        else record = mergedRecord(record, mergeBase, json, target)
      }
    } catch (mergeError) {
      return finish(mergeError)
    }
    if (record === undefined) return finish(null, GONE)
    // As for a versioned write: the JSON computed a moment ago, when the session is written now, as it stands.
    const dataJson = askedNow && record === (first.write.target as unknown) ? first.write.json : undefined
    callStore(access.store, 'set', [sid, record], access.timeoutMs, (err) => (err === null ? finish(null, STORED) : finish(err)), first.since, dataJson)
  }
  if (first.write.mergeBase === undefined) return set(undefined)
  callStore<SessionRecord | null | undefined>(access.store, 'get', [sid], access.timeoutMs, (err, latest) => {
    if (err !== null) return finish(err)
    set(latest === null || latest === undefined || typeof latest !== 'object' ? undefined : latest)
  }, first.since)
}

/** The error of a save that waited in the queue past its own timeout. */
function timedOut(write: SessionWrite, timeoutMs: number): SessionError {
  const method = write.version !== undefined ? 'setIfVersion' : write.mergeBase !== undefined ? 'get' : 'set'
  return new SessionError('SESSION_STORE_TIMEOUT', `sessionkit: store.${method} did not answer within ${timeoutMs} ms`, { status: 503 })
}

/** `record` with the changes of `saves` from `from` on, in order: a save without a merge base writes its whole state. */
function withChanges(record: SessionRecord, saves: readonly PendingSave[], from: number): SessionRecord {
  let changed = record
  for (let i = from; i < saves.length; i++) {
    const save = (saves[i] as PendingSave).write
    changed = save.mergeBase === undefined ? (save.target as unknown as SessionRecord) : mergedRecord(changed, save.mergeBase, save.json, save.target)
  }
  return changed
}

/**
 * A conditional write of `saves` (oldest first), retried from the latest version while another process
 * wins. It starts from what the first save read, with its state (its own changes onto that) and the
 * others' changes on top, or from this process's own last write when that came after its load.
 */
function writeVersioned(access: StoreAccess, saves: readonly PendingSave[], askedNow: boolean, done: WriteDone<WriteOutcome>): void {
  const first = saves[0] as PendingSave
  const target = first.write.target
  const sid = target.id
  const writes = writesOf(access.store)
  let record: SessionRecord | undefined
  let expected: string | null | undefined = first.write.version
  // A write of this process since the first request's load is newer than what it read: start there.
  const local = writes.writtenSince(sid, first.write.loadedAt)
  try {
    if (local !== undefined) {
      expected = local.version
      record = withChanges(local.record, saves, 0)
    } else if (expected !== undefined) {
      record = withChanges(target as unknown as SessionRecord, saves, 1)
    }
  } catch (mergeError) {
    return done(mergeError)
  }
  const attempt = (number: number): void => {
    const written = record as SessionRecord
    // The JSON computed a moment ago is the session's own when it is written now, as it stands: a store
    // that answers inside the call takes it rather than serialize the session again.
    const dataJson = askedNow && number === 1 && written === (target as unknown) ? first.write.json : undefined
    callStore<ConditionalWriteOutcome>(access.store, 'setIfVersion', [sid, written, expected ?? null], access.timeoutMs, (err, outcome) => {
      if (err !== null) return done(err)
      if (outcome === undefined || outcome === null) return done(new SessionError('SESSION_STORE_FAILED', 'sessionkit: store.setIfVersion answered nothing', { status: 503 }))
      if (outcome.written) {
        writes.wrote(sid, outcome.version, () => jsonOf(written, saves), written.cookie)
        return done(null, { stored: true, version: outcome.version })
      }
      if (outcome.reason === 'gone') return done(null, GONE)
      if (number === WRITE_ATTEMPTS) return done(conflictError())
      if (outcome.current !== undefined) return retry(outcome.current, number)
      readLatest(number)
    }, number === 1 ? first.since : undefined, dataJson)
  }
  // Another process wrote meanwhile: with `merge`, each save's own changes go onto its version; without,
  // the last write wins, as with any store, but never over a destroy.
  const retry = (latest: VersionedRecord | null | undefined, number: number): void => {
    if (latest === null || latest === undefined) return done(null, GONE)
    expected = latest.version
    try {
      record = withChanges(latest.record, saves, 0)
    } catch (mergeError) {
      return done(mergeError)
    }
    // After a few lost rounds, a short random pause lets writers in lockstep part ways.
    if (number >= 3) setTimeout(attempt, Math.random() * Math.min(number, 10), number + 1)
    else attempt(number + 1)
  }
  const readLatest = (number: number): void => {
    const since = number === 0 ? first.since : undefined
    callStore<VersionedRecord | null | undefined>(access.store, 'getVersioned', [sid, { touch: false }], access.timeoutMs, (err, latest) => (err === null ? retry(latest, number) : done(err)), since)
  }
  // Without a version to start from (the first save read none), the latest is read first.
  if (record === undefined) readLatest(0)
  else attempt(1)
}

/** The data JSON of a record written for `saves`: a save's own when the record is its session. */
function jsonOf(record: SessionRecord, saves: readonly PendingSave[]): string {
  for (let i = saves.length - 1; i >= 0; i--) {
    const save = (saves[i] as PendingSave).write
    if (save.target === (record as unknown)) return save.json
  }
  return serializeData(record)
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
