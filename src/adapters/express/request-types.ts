// What sessionkit adds to Express's request type. It is declared as a base interface of
// `Express.Request` rather than as its own properties, so that @types/express-session's declaration of
// the same properties, when that package is installed too, takes precedence instead of conflicting
// (TS2717); the base then names the same types, so the two agree.
import type { ExpressRequestSession, ExpressSessionStore, ExpressSessionTypesPresent } from './express-session-types.js'
import type { Session } from '../../engine/session.js'
import type { SessionStore } from '../../store/contract.js'
import type { SessionData } from '../../types.js'

/** `req.session`: the session's methods and cookie, and the app's data, every key optional. */
export type RequestSession = Session & Partial<SessionData>

/** The properties the session middleware sets on a request. */
export interface SessionRequestProperties {
  /** The current session; `undefined` when the store is disconnected or the path does not match. */
  session: ExpressSessionTypesPresent extends true ? ExpressRequestSession : RequestSession
  /** The current session's id. */
  sessionID: string
  /** The store behind `req.session`. */
  sessionStore: ExpressSessionTypesPresent extends true ? ExpressSessionStore : SessionStore
}

declare global {
  // Express's types live in the global `Express` namespace; adding to it types `req.session` for
  // every Express app without another package.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-interface
    interface Request extends SessionRequestProperties {}
  }
}
