// The ESM entry of `sessionkit/web` wraps the CommonJS build, so the sessions, stores and Session class
// are the same whichever way the app loads them.
import web from '../cjs/adapters/web/web-sessions.js'

export const { webSessions, webCookieSessions, SessionHandle } = web
