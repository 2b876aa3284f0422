// The ESM entry of `sessionkit/cookie-session` wraps the CommonJS build: `import cookieSession from
// 'sessionkit/cookie-session'` is the factory, as `import cookieSession from 'cookie-session'` is.
import compat from '../cjs/cookie-session.cjs'

export const { cookieSession, CookieSessionObject } = compat
export default compat
