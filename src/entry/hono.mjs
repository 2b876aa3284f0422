// The ESM entry of `sessionkit/hono` wraps the CommonJS build, so the sessions, stores and Session class
// are the same whichever way the app loads them. Hono itself is not loaded: the middleware only uses
// the context Hono hands it.
import hono from '../cjs/adapters/hono/hono.js'

export const { session, cookieSession } = hono
