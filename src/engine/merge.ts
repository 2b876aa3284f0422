import { SessionError } from '../errors.js'
import type { Session } from './session.js'
import type { SessionRecord } from '../store/store.js'

/**
 * Merging saves (express-session #606): only the keys a request changed are written, onto the session
 * as the store holds it at that moment, so parallel requests changing different keys keep both changes.
 * @internal
 */

/**
 * `latest` (the session as the store holds it now) with this request's own changes: the keys whose JSON
 * differs from `baseJson` (the data as the request found it) take this request's value, keys the request
 * deleted are deleted, every other key keeps the store's latest value; the cookie is this request's.
 */
export function mergedRecord(latest: SessionRecord, baseJson: string, currentJson: string, target: Session): SessionRecord {
  const base = JSON.parse(baseJson) as Record<string, unknown>
  const current = JSON.parse(currentJson) as Record<string, unknown>
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
  return merged as SessionRecord
}

/** The error a save gets when the session was destroyed meanwhile (a logout): the change was not saved. */
export function goneError(): SessionError {
  return new SessionError('SESSION_GONE', 'sessionkit: the session was destroyed by another request (a logout); the change was not saved', {
    status: 409,
  })
}

/** How many times a conditional write is tried again after the session changed under it. */
export const WRITE_ATTEMPTS = 30

/** The error a save gets when the session changed under it on every one of its attempts. */
export function conflictError(): SessionError {
  return new SessionError('SESSION_CONFLICT', `sessionkit: the session changed under this save ${WRITE_ATTEMPTS} times in a row; the change was not saved`, {
    status: 409,
  })
}
