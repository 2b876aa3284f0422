import type { SessionError } from '../errors.js'
import type { ParsedOptions } from '../options/session-options.js'
import { sameAttributes, type CookieAttributes } from './snapshot.js'
import type { Session } from './session.js'
import type { OwnerSessions } from './owner-sessions.js'

/**
 * express-session's rules for a store-mode session at the end of a response, as pure functions of what
 * the request knows: when it is saved, and when its expiry moves (`touchAfter`). @internal
 */

/** What the request knows when it decides. */
export interface SaveFacts {
  /** The session as found: its id, data JSON and cookie attributes; undefined when never looked at. */
  readonly found: { readonly id: string; readonly json: string; readonly attributes: CookieAttributes } | undefined
  /** What the store holds for it as far as the request knows; undefined for nothing. */
  readonly saved: { readonly json: string; readonly attributes: CookieAttributes } | undefined
  /** The id the client's cookie named. */
  readonly cookieId: string | undefined
  readonly saveUninitialized: boolean
}

/** Whether `current`, whose data is `json` and which `modified` says changed, must be written. */
export function shouldSave(facts: SaveFacts, current: Session, json: string, modified: boolean): boolean {
  // A new session the app did not change is not stored without saveUninitialized.
  if (!facts.saveUninitialized && facts.saved === undefined && facts.cookieId !== current.id) return modified
  const stored = facts.found?.id === current.id && facts.saved?.json === json && sameAttributes(facts.saved.attributes, current.cookie)
  return !stored
}

/**
 * Whether an unchanged session's expiry moves on this response: always, unless `touchAfter` says it
 * moved recently enough: its stored expiry (minus its lifetime) or this process's last move of it
 * (`movedAt`, for stores that keep only their own TTL on touch) tell when.
 */
export function expiryDue(current: Session, touchAfter: number, movedAt: number): boolean {
  if (touchAfter === 0) return true
  const { originalMaxAge, expires } = current.cookie
  if (originalMaxAge === null || expires === null) return true
  return Date.now() - Math.max(expires.getTime() - originalMaxAge, movedAt) >= touchAfter
}

/** What `session()` gives each request: its options, and what it keeps across requests. */
export interface StoreModeContext {
  readonly options: ParsedOptions
  /** Reports a store error that did not fail the response (a touch). */
  readonly reportStoreError: (err: SessionError, operation: 'touch') => void
  /** The owners' sessions, for the cap per owner (`maxSessionsPerOwner`). */
  readonly owners?: OwnerSessions | undefined
}

/** What the end of a response does with the store. */
export type EndAction = { kind: 'none' } | { kind: 'save'; session: Session; json: string | undefined } | { kind: 'touch'; session: Session } | { kind: 'destroy'; id: string }
