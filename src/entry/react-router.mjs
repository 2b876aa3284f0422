// The ESM entry of `sessionkit/react-router` wraps the CommonJS build, so the sessions, stores and
// Session class are the same whichever way the app loads them.
import storage from '../cjs/adapters/react-router/session-storage.js'

export const { storeSessionStorage, cookieSessionStorage } = storage
