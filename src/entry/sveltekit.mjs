// The ESM entry of `sessionkit/sveltekit` wraps the CommonJS build, so the sessions, stores and
// Session class are the same whichever way the app loads them.
import hook from '../cjs/adapters/sveltekit/handle.js'

export const { sessionHandle } = hook
