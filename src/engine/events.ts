import { EventEmitter } from 'node:events'
import type { SessionError } from '../errors.js'

/**
 * The events both middlewares report on `middleware.on('event', listener)`: what an app needs to count
 * forged cookies, audit logins and logouts, or alert on a failing store. No event carries a session
 * id (a bearer credential); the request goes to the listener beside the event, so that the app can
 * take what it trusts from it (its IP behind its own proxy setup, a user agent).
 */

/** Which middleware reported: `session()` (a store) or `cookieSession()` (a sealed cookie). */
export type SessionMode = 'store' | 'cookie'

/**
 * Why a session cookie was refused. Store mode: `unsigned` (no `s:` signature at all), `bad-signature`
 * (no secret verifies it: forged, altered, or signed by a secret no longer configured). Cookie mode:
 * `malformed` (not a sealed value of this library), `unknown-key` (sealed under a key id no secret
 * derives: forged, or a secret that was retired), `bad-seal` (the key is known but the value does not
 * authenticate: altered or forged).
 */
export type TamperReason = 'unsigned' | 'bad-signature' | 'malformed' | 'unknown-key' | 'bad-seal'

/**
 * Why the session a cookie named could not be used. `not-found`: the store no longer has it (expired
 * there, or destroyed elsewhere); `unusable`: the store's record is corrupt; `lifetime`: a sealed
 * cookie past its sealed expiry; `absolute`: past `absoluteTimeout`.
 */
export type ExpiryReason = 'not-found' | 'unusable' | 'lifetime' | 'absolute'

/** One event; `type` tells them apart. */
export type SessionEvent =
  /** A session new to the store was first written (store mode), or a new session's cookie first sent (cookie mode); the one `regenerate()` makes counts. */
  | { readonly type: 'created'; readonly mode: SessionMode }
  /** The app ended a session: `destroy()`, `req.session = null` in cookie mode, `unset: 'destroy'` in store mode. */
  | { readonly type: 'destroyed'; readonly mode: SessionMode }
  /** `regenerate()` replaced the session (and its id) with a new one. */
  | { readonly type: 'regenerated'; readonly mode: SessionMode }
  /** A valid cookie named a session that has ended; the request gets a new one. */
  | { readonly type: 'expired'; readonly mode: SessionMode; readonly reason: ExpiryReason }
  /** Cookie mode: the app's `revoked` function refused a sealed session (a logout everywhere, a password change). */
  | { readonly type: 'revoked'; readonly mode: 'cookie' }
  /** A cookie of the session's name that did not verify or open: count these per client to spot guessing. */
  | { readonly type: 'tampered'; readonly mode: SessionMode; readonly reason: TamperReason }
  /** A store error that did not fail the response (a touch after it was sent), its message without ids and without the store's error as cause; also emitted, unchanged, as `'storeError'`. */
  | { readonly type: 'storeError'; readonly mode: 'store'; readonly operation: 'touch'; readonly error: SessionError }

/** The names of the events. */
export type SessionEventType = SessionEvent['type']

/**
 * Listens for every {@link SessionEvent}; `req` is the request it happened on, as the server gives it
 * (Node's `IncomingMessage` under Express, the `Request` under the Web API).
 */
export type SessionEventListener<Req extends object = object> = (event: SessionEvent, req: Req) => void

/** An event as a lifecycle reports it: the hub adds the mode. @internal */
export type ReportedEvent = SessionEvent extends infer E ? (E extends SessionEvent ? Omit<E, 'mode'> : never) : never

/**
 * One middleware's events. A listener that throws is reported as a process warning and does not
 * disturb the request: an audit hook must not be able to fail a login. @internal
 */
export class SessionEvents {
  readonly emitter = new EventEmitter()

  constructor(readonly mode: SessionMode) {}

  /** Whether anyone listens: events are only built when someone does. */
  get listened(): boolean {
    return this.emitter.listenerCount('event') > 0
  }

  report(event: ReportedEvent, req: object): void {
    if (!this.listened) return
    const full = { mode: this.mode, ...event } as SessionEvent
    for (const listener of this.emitter.listeners('event') as SessionEventListener[]) {
      try {
        listener(full, req)
      } catch (err) {
        process.emitWarning(`sessionkit: a listener of '${full.type}' events threw: ${err instanceof Error ? err.message : String(err)}`, { code: 'SESSIONKIT_LISTENER' })
      }
    }
  }
}
