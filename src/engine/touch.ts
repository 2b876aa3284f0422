import { SessionError } from '../errors.js'
import { debug } from '../debug.js'
import type { ReportedEvent } from './events.js'
import type { ParsedOptions } from '../options/session-options.js'
import { sessionLabel } from '../store/record.js'
import type { Session } from './session.js'
import { indexSession } from '../store/owner-index.js'
import type { WriteDone } from './write-queue.js'
import { callStore } from '../store/call.js'
import type { StoreModeContext } from './save-rules.js'

/**
 * How an unchanged session's expiry moves once the response is out (store mode): nothing more after a
 * versioned load that moved it, the store's `touch`, or the session written back. Its failure is
 * reported, never a failed response: the answer is already sent. @internal
 */

/** What the touch needs of the request's lifecycle. */
export interface TouchSteps {
  readonly options: ParsedOptions
  readonly context: StoreModeContext
  /** The session as the request found it; undefined when the app never looked at it. */
  readonly snapshot: unknown
  /** Whether the versioned load already moved this session's expiry in the store. */
  loadTouched(session: Session): boolean
  /** Takes the snapshot of a loaded session the app never looked at. */
  snapshotLoaded(session: Session): void
  /** Writes the session to the store; `merge` onto the latest record or not. */
  write(session: Session, json: undefined, done: WriteDone<void>, merge: boolean): void
  report(event: ReportedEvent): void
}

/** Moves `current`'s expiry in the store, and its owner index entry with it. */
export function touchAfterResponse(steps: TouchSteps, current: Session): void {
  const { options } = steps
  // The owner index entry lives as long as the session it names; nothing else to do after a versioned load.
  const indexed = options.index !== undefined && options.indexBy !== undefined
  if (steps.loadTouched(current) && !indexed) return
  const failed = (err: unknown): void => {
    // A session another request destroyed has nothing left to touch; that is not this request's error.
    if (err instanceof SessionError && err.code === 'SESSION_GONE') return
    const storeError = err instanceof SessionError ? err : new SessionError('SESSION_STORE_FAILED', String(err), { cause: err })
    debug('touching session %s failed: %s', sessionLabel(current.id), storeError.code) // a store's message may name the id
    steps.context.reportStoreError(storeError, 'touch')
    steps.report({ type: 'storeError', operation: 'touch', error: storeError })
  }
  const touched = (err: unknown): void => {
    if (err !== null && err !== undefined) return failed(err)
    if (indexed) indexSession(options, current).catch(failed)
  }
  if (steps.loadTouched(current)) return touched(null)
  const hasTouch = typeof options.store.touch === 'function'
  if (hasTouch && !options.rewriteOnTouch) return callStore(options.store, 'touch', [current.id, current], options.storeTimeout, touched)
  // Writes the data back with the moved expiry: for stores whose touch moves only their own TTL
  // (`rewriteOnTouch`), and for stores without a touch, where an active user would otherwise be logged
  // out `maxAge` after the last change. The latter always merges onto the latest record: a write the app
  // never asked for must not undo another request's change, nor bring back a session destroyed meanwhile.
  if (steps.snapshot === undefined) steps.snapshotLoaded(current)
  steps.write(current, undefined, touched, !hasTouch || options.merge)
}
