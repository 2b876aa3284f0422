import type { IncomingMessage, ServerResponse } from 'node:http'
import type { SessionError } from '../../errors.js'
import type { SessionEventListener as EventListener } from '../../engine/events.js'
import { debug } from '../../debug.js'
import type { SessionOptions } from '../../options/session-options.js'
import { StoreSessions } from '../../engine/store-sessions.js'
import type { SessionDetailsOptions, SessionInfo } from '../../engine/owner-sessions.js'
import { ExpressExchange } from './exchange.js'
import { enterRequest } from './request.js'

/** Listens for every session event; `req` is the request it happened on (Node's, under Express). */
export type SessionEventListener<Req extends object = IncomingMessage> = EventListener<Req>

/** The `next` of Express and connect: called with an error to hand it to the error handlers. */
export type NextFunction = (err?: unknown) => void

/**
 * Reports a store error that did not fail the response: an unchanged session's expiry is moved after
 * the response was sent (a touch), so its failure cannot change the answer any more.
 */
export type StoreErrorListener = (error: SessionError, operation: 'touch') => void

/** The middleware `session()` returns; it works with Express 4 and 5, connect and plain `http`. */
export interface SessionMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: NextFunction): void
  /**
   * The ids of every session whose `indexBy` key equals `owner`: one lookup with an index, a scan of
   * the store (`ids()`/`all()`) without one.
   */
  sessionsOf(owner: string | number): Promise<string[]>
  /**
   * Every live session of `owner` with what the `metadata` option recorded (created, last active, user
   * agent, client) and a handle for {@link SessionMiddleware.endSession}; `current: req` marks the
   * request's own session. The most recently active first.
   */
  sessionsOf(owner: string | number, options: SessionDetailsOptions): Promise<SessionInfo[]>
  /**
   * Ends the one session of `owner` that `handle` names (a "log out" button beside each session on an
   * account page). Resolves to false when none of `owner`'s sessions has that handle.
   */
  endSession(owner: string | number, handle: string): Promise<boolean>
  /**
   * Destroys every session of `owner` ("log out everywhere", e.g. after a password change), except
   * the one whose id is `except` (the current one, to stay logged in here). Resolves to how many.
   */
  destroySessionsOf(owner: string | number, options?: { except?: string }): Promise<number>
  /** Listens for every {@link SessionEvent} (created, destroyed, regenerated, expired, tampered, storeError). */
  on(event: 'event', listener: SessionEventListener<IncomingMessage>): this
  /** Listens for store errors that did not fail a response (`'storeError'`); `DEBUG=sessionkit` logs them too. */
  on(event: 'storeError', listener: StoreErrorListener): this
  off(event: 'event', listener: SessionEventListener<IncomingMessage>): this
  off(event: 'storeError', listener: StoreErrorListener): this
}


/**
 * Creates the session middleware: the session lives in `options.store` (default: a MemoryStore), the
 * cookie carries its signed id. It is an adapter: what lasts across requests is {@link StoreSessions}'s,
 * one request's session is the engine's; this binds both to Node's `req` and `res`.
 */
export function session(options: SessionOptions): SessionMiddleware {
  const sessions = new StoreSessions(options)
  const { config } = sessions
  const { events } = config

  const middleware = function sessionMiddleware(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    if (!sessions.ready) {
      debug('store is disconnected; continuing without a session')
      next()
      return
    }
    const cookieOptions = enterRequest(req, next, config.cookie, config.name)
    if (cookieOptions === undefined) return
    sessions.begin(new ExpressExchange(req, res), next, cookieOptions)
  }

  const handle: SessionMiddleware = Object.assign(middleware, {
    sessionsOf: ((owner: string | number, options?: SessionDetailsOptions) => sessions.sessionsOf(owner, options)) as SessionMiddleware['sessionsOf'],
    endSession: (owner: string | number, handle: string) => sessions.endSession(owner, handle),
    destroySessionsOf: (owner: string | number, options?: { except?: string }) => sessions.destroySessionsOf(owner, options),
    on(event: 'event' | 'storeError', listener: SessionEventListener<IncomingMessage> | StoreErrorListener) {
      events.emitter.on(event, listener)
      return handle
    },
    off(event: 'event' | 'storeError', listener: SessionEventListener<IncomingMessage> | StoreErrorListener) {
      events.emitter.off(event, listener)
      return handle
    },
  })
  return handle
}
