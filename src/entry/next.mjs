// The ESM entry of `sessionkit/next` wraps the CommonJS build, so the sessions, stores and Session class
// are the same whichever way the app loads them. Next.js itself is loaded only when a session is asked
// for in a server component or server action (its `next/headers`).
import next from '../cjs/adapters/next/next-sessions.js'

export const { nextSessions, nextCookieSessions } = next
