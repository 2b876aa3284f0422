import type { Session } from '../../engine/session.js'
import { webSessions, type SessionHandle, type WebSessionOptions, type WebSessions } from '../web/web-sessions.js'

/**
 * A SvelteKit `handle` hook on sessionkit's Web API: the session is on `event.locals.session` for
 * loads, actions and endpoints, and is committed once `resolve(event)` has made the response, whose
 * headers then get the cookie. Nothing here imports @sveltejs/kit: the types below are the parts of
 * its `Handle` that the hook uses, so any Kit version whose `handle` has this shape fits.
 */

/**
 * What the hook puts on `event.locals`; declare it in `src/app.d.ts`:
 * `interface Locals extends SessionLocals<{ userId: string }> {}` inside `namespace App`.
 */
export interface SessionLocals<Data extends object = Record<string, unknown>> {
  /**
   * The request's session, as `req.session` in Express: set values on it, `regenerate()` at login,
   * `destroy()` or `= null` at logout. It is undefined outside `cookie.path` or while the store is
   * disconnected, and read-only once the response is made.
   */
  session: Session & Partial<Data>
  /** The session's id. */
  readonly sessionID: string
}

/** The part of SvelteKit's `RequestEvent` the hook reads and writes. */
export interface SessionEvent {
  readonly request: Request
  locals: object
}

/** The part of SvelteKit's `handle` input the hook uses. */
export interface SessionHandleInput<Event extends SessionEvent> {
  event: Event
  resolve(event: Event): Response | Promise<Response>
}

/** A SvelteKit `handle` hook; combine it with others through Kit's `sequence()`. */
export type SessionHook = <Event extends SessionEvent>(input: SessionHandleInput<Event>) => Promise<Response>

/**
 * The `handle` hook: `export const handle = sessionHandle({ secret, store })` in `src/hooks.server.ts`.
 * Takes `session()`'s options (store mode), or sessions already made with `webSessions()` or
 * `webCookieSessions()` (to keep them for `destroySessionsOf`, or for the cookie mode).
 *
 * A failed commit (the store failed or timed out) throws, so SvelteKit answers 500 rather than a page
 * whose change was not kept; a response that is itself a failure (400 or more) stands without the cookie.
 */
export function sessionHandle(options: WebSessionOptions | WebSessions): SessionHook {
  const sessions = isSessions(options) ? options : webSessions(options)
  return <Event extends SessionEvent>({ event, resolve }: SessionHandleInput<Event>): Promise<Response> =>
    sessions.handle(async (_request, handle) => {
      bindLocals(event.locals, handle)
      return resolve(event)
    })(event.request)
}

function isSessions(value: WebSessionOptions | WebSessions): value is WebSessions {
  return typeof (value as Partial<WebSessions>).load === 'function' && typeof (value as Partial<WebSessions>).handle === 'function'
}

/**
 * `locals.session` reads and sets the handle's session each time, as `req.session` does on Express:
 * `regenerate()` and `= null` replace it, and a copy taken once would go stale.
 */
function bindLocals(locals: object, handle: SessionHandle): void {
  Object.defineProperties(locals, {
    session: {
      configurable: true,
      enumerable: true,
      get: () => handle.session,
      set: (value: unknown) => {
        handle.session = value as Session | null
      },
    },
    sessionID: { configurable: true, enumerable: true, get: () => handle.sessionID },
  })
}
