import { SessionError } from './errors.js'
import type { Session } from './session.js'
import type { SessionRecord, SessionStore } from './store.js'
import { callStore } from './store-call.js'

/** What a merging save did: wrote the merged session, or found it gone (destroyed meanwhile) and wrote nothing. */
export type MergeOutcome = 'written' | 'gone'

// Saves of one session id in this process run one after another, so that two requests merging into
// the same session cannot both read the same version and each drop the other's change.
const queues = new WeakMap<SessionStore, Map<string, Promise<unknown>>>()

/**
 * Saves only what this request changed (express-session #606). The keys whose JSON differs from
 * `baseJson` (the data as the request loaded it) are written onto the session as the store holds it
 * now, and keys the request deleted are deleted there; every other key keeps the store's latest value.
 * A session the store no longer has was destroyed by another request (a logout), and is not
 * brought back.
 */
export function mergeSave(store: SessionStore, target: Session, baseJson: string, currentJson: string, timeoutMs: number): Promise<MergeOutcome> {
  let perStore = queues.get(store)
  if (perStore === undefined) {
    perStore = new Map()
    queues.set(store, perStore)
  }
  const sid = target.id
  const previous = perStore.get(sid) ?? Promise.resolve()
  const run = previous.then(
    () => mergeOnce(store, target, baseJson, currentJson, timeoutMs),
    () => mergeOnce(store, target, baseJson, currentJson, timeoutMs),
  )
  perStore.set(sid, run)
  const release = (): void => {
    if (perStore.get(sid) === run) perStore.delete(sid)
  }
  run.then(release, release)
  return run
}

function mergeOnce(store: SessionStore, target: Session, baseJson: string, currentJson: string, timeoutMs: number): Promise<MergeOutcome> {
  const base = JSON.parse(baseJson) as Record<string, unknown>
  const current = JSON.parse(currentJson) as Record<string, unknown>
  return new Promise((resolve, reject) => {
    callStore<SessionRecord | null | undefined>(store, 'get', [target.id], timeoutMs, (err, latest) => {
      if (err !== null) return reject(err)
      if (latest === null || latest === undefined || typeof latest !== 'object') return resolve('gone')
      const merged: Record<string, unknown> = {}
      for (const key of Object.keys(latest)) {
        if (key !== '__proto__') merged[key] = (latest as Record<string, unknown>)[key]
      }
      for (const key of Object.keys(current)) {
        if (JSON.stringify(current[key]) !== JSON.stringify(base[key])) merged[key] = current[key]
      }
      for (const key of Object.keys(base)) {
        if (!Object.hasOwn(current, key)) delete merged[key]
      }
      merged['cookie'] = target.cookie
      callStore(store, 'set', [target.id, merged], timeoutMs, (setError) => {
        if (setError !== null) reject(setError)
        else resolve('written')
      })
    })
  })
}

/** The error a save gets when merging found the session destroyed by another request. */
export function goneError(): SessionError {
  return new SessionError('SESSION_GONE', 'sessionkit: the session was destroyed by another request (a logout); the change was not saved', {
    status: 409,
  })
}
