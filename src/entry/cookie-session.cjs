'use strict'
// The CommonJS entry of `sessionkit/cookie-session`: `require('sessionkit/cookie-session')` is the
// middleware factory itself, as `require('cookie-session')` is, so that moving changes one line. Each
// name is assigned on its own line so that Node's ESM loader can see the named exports statically.
const compat = require('./adapters/cookie-session/compat.js')

module.exports = compat.cookieSession
module.exports.default = compat.cookieSession
module.exports.cookieSession = compat.cookieSession
module.exports.CookieSessionObject = compat.CookieSessionObject
