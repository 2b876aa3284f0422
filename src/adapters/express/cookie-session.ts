import type { IncomingMessage, ServerResponse } from 'node:http'
import { CookieLifecycle } from '../../engine/cookie-mode.js'
import type { SessionEventListener } from '../../engine/events.js'
import { parseCookieSessionOptions, type CookieSessionOptions } from '../../options/sealed-cookie-options.js'
import { ExpressExchange } from './exchange.js'
import type { NextFunction } from './middleware.js'
import { enterRequest } from './request.js'

export type { SealedSessionInfo } from '../../engine/cookie-mode.js'
export { CookieSessionOptions } from '../../options/sealed-cookie-options.js'

/** The middleware `cookieSession()` returns; it works with Express 4 and 5, connect and `node:http`. */
export interface CookieSessionMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: NextFunction): void
  /** Listens for every {@link SessionEvent} of this middleware (created, destroyed, regenerated, expired, revoked, tampered). */
  on(event: 'event', listener: SessionEventListener<IncomingMessage>): this
  off(event: 'event', listener: SessionEventListener<IncomingMessage>): this
}

export { COOKIE_SIZE_LIMIT } from '../../cookie/sealed-payload.js'

/**
 * Creates the cookie-session middleware: `req.session` as with `session()`, but the whole session
 * is sealed into the cookie, so the server keeps nothing. Per request:
 *
 * 1. A request that already has a session, or whose path is outside `cookie.path`, passes through.
 * 2. Nothing is decrypted until the app touches `req.session` (or `rolling` needs the session).
 *    A cookie that does not open, or whose sealed expiry has passed, yields a new session.
 * 3. Before the headers go out the session is sealed into Set-Cookie when it is new and changed
 *    (or `saveUninitialized`), changed, saved, or `rolling`; a destroyed or nulled session's cookie
 *    is cleared. A cookie over 4096 bytes fails the request with an error instead.
 */
export function cookieSession(options: CookieSessionOptions): CookieSessionMiddleware {
  const config = parseCookieSessionOptions(options)
  const middleware = function cookieSessionMiddleware(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    const cookieOptions = enterRequest(req, next, config.cookie, config.name)
    if (cookieOptions === undefined) return
    new CookieLifecycle(config, new ExpressExchange(req, res), next, cookieOptions).start()
  }
  const handle: CookieSessionMiddleware = Object.assign(middleware, {
    on(event: 'event', listener: SessionEventListener<IncomingMessage>) {
      config.events.emitter.on(event, listener)
      return handle
    },
    off(event: 'event', listener: SessionEventListener<IncomingMessage>) {
      config.events.emitter.off(event, listener)
      return handle
    },
  })
  return handle
}
