// The ESM entry of `sessionkit/testing` wraps the CommonJS build, so the kit and the app share one
// Cookie and one Session class whichever way each is loaded.
import testing from '../cjs/testing/index.js'

export const { testStore } = testing
