'use strict'
// The CommonJS entry: `require('sessionkit')` is the session() factory itself, as express-session's
// module is. Each name is assigned on its own line so that Node's ESM loader can see the named
// exports statically (`import { Store } from 'sessionkit'` against this file).
const sessionkit = require('./index.js')

module.exports = sessionkit.session
module.exports.default = sessionkit.session
module.exports.session = sessionkit.session
module.exports.Store = sessionkit.Store
module.exports.MemoryStore = sessionkit.MemoryStore
module.exports.Cookie = sessionkit.Cookie
module.exports.Session = sessionkit.Session
module.exports.SessionError = sessionkit.SessionError
module.exports.generateSessionId = sessionkit.generateSessionId
module.exports.cookieSession = sessionkit.cookieSession
module.exports.COOKIE_SIZE_LIMIT = sessionkit.COOKIE_SIZE_LIMIT
module.exports.MemoryIndex = sessionkit.MemoryIndex
module.exports.RedisIndex = sessionkit.RedisIndex
module.exports.scanSessionsOf = sessionkit.scanSessionsOf
module.exports.isConditionalStore = sessionkit.isConditionalStore
module.exports.isOwnerIndexedStore = sessionkit.isOwnerIndexedStore
