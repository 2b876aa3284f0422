// Types of the CommonJS entry of `sessionkit/fastify`, where `module.exports` is the plugin: a function
// merged with a namespace, as @fastify/session's own types do it.
import plugin = require('./adapters/fastify/plugin.js')
import types = require('./adapters/fastify/types.js')
import memory = require('./store/memory/memory-store.js')
import errors = require('./errors.js')
import contract = require('./store/contract.js')

declare function fastifySession(...args: Parameters<typeof plugin.fastifySession>): ReturnType<typeof plugin.fastifySession>
declare namespace fastifySession {
  export import fastifySession = plugin.fastifySession
  export import Store = memory.MemoryStore
  export import MemoryStore = memory.MemoryStore
  export import SessionError = errors.SessionError
  export import FastifyCookieOptions = types.FastifyCookieOptions
  export import FastifySessionCallback = types.FastifySessionCallback
  export import FastifySessionkitOptions = types.FastifySessionkitOptions
  export import FastifySessionObject = types.FastifySessionObject
  export import FastifySessionOptions = types.FastifySessionOptions
  export import FastifySessionPlugin = types.FastifySessionPlugin
  export import SessionStore = contract.SessionStore
}

export = fastifySession
