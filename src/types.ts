import type { Cookie } from './cookie.js'
import type { Session } from './session.js'
import type { SessionStore } from './store.js'

/**
 * The data an app keeps in its sessions. Extend it by declaration merging, as with
 * `@types/express-session`, and `req.session` is typed accordingly:
 *
 * ```ts
 * declare module 'sessionkit' {
 *   interface SessionData { userId: number; cart: string[] }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface SessionData {
  cookie: Cookie
}

/** `req.session`: the session's methods and cookie, and the app's data, every key optional. */
export type RequestSession = Session & Partial<SessionData>

declare global {
  // Express's types live in the global `Express` namespace; adding to it types `req.session` for
  // every Express app without another package.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The current session; `undefined` when the store is disconnected or the path does not match. */
      session: RequestSession
      /** The current session's id. */
      sessionID: string
      /** The store behind `req.session`. */
      sessionStore: SessionStore
    }
  }
}
