// Types of the ESM entry of `sessionkit/cookie-session`: the same declarations as the CommonJS build.
import cookieSession from '../cjs/cookie-session.cjs'

export * from '../cjs/adapters/cookie-session/compat.js'
export default cookieSession
