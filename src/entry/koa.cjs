'use strict'
// The CommonJS entry of `sessionkit/koa`: `require('sessionkit/koa')` is the middleware factory itself,
// with `.default` and `.createSession` on it, so that both ways koa-session has been required keep
// working with only the name changed. Each name is assigned on its own line so that Node's ESM loader
// can see the named exports statically.
const koa = require('./adapters/koa/middleware.js')

module.exports = koa.createSession
module.exports.default = koa.createSession
module.exports.createSession = koa.createSession
module.exports.KoaSessionObject = koa.KoaSessionObject
