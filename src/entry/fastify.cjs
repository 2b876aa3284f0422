'use strict'
// The CommonJS entry of `sessionkit/fastify`: `require('sessionkit/fastify')` is the plugin itself, as
// `require('@fastify/session')` is, so that moving changes one line. Each name is assigned on its own
// line so that Node's ESM loader can see the named exports statically.
const fastify = require('./adapters/fastify/index.js')

module.exports = fastify.fastifySession
module.exports.default = fastify.fastifySession
module.exports.fastifySession = fastify.fastifySession
module.exports.Store = fastify.Store
module.exports.MemoryStore = fastify.MemoryStore
module.exports.SessionError = fastify.SessionError
