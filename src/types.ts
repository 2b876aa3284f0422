import type { Cookie } from './cookie/cookie.js'
import type { ExpressSessionCookie } from './adapters/express/express-session-types.js'

/**
 * The data an app keeps in its sessions. Extend it by declaration merging, as with
 * `@types/express-session`, and `req.session` is typed accordingly:
 *
 * ```ts
 * declare module 'sessionkit' {          // or 'express-session' when installed under that name
 *   interface SessionData { userId: number; cart: string[] }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface SessionData {
  // While @types/express-session is installed, req.session.cookie is typed as its Cookie.
  cookie: Cookie | ExpressSessionCookie
}
