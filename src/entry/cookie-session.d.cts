// Types of the CommonJS entry of `sessionkit/cookie-session`, where `module.exports` is the factory:
// a function merged with a namespace, as the package's main entry does it.
import compat = require('./adapters/cookie-session/compat.js')
import options = require('./adapters/cookie-session/options.js')
import legacy = require('./adapters/cookie-session/legacy.js')

declare function cookieSession(...args: Parameters<typeof compat.cookieSession>): ReturnType<typeof compat.cookieSession>
declare namespace cookieSession {
  export import cookieSession = compat.cookieSession
  export import CookieSessionObject = compat.CookieSessionObject
  export import CookieSessionRequest = compat.CookieSessionRequest
  export import CookieSessionCompatMiddleware = compat.CookieSessionCompatMiddleware
  export import CookieSessionCompatOptions = options.CookieSessionCompatOptions
  export import CookieSessionCookieOptions = options.CookieSessionCookieOptions
  export import KeygripLike = legacy.KeygripLike
}

export = cookieSession
