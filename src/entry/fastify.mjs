// The ESM entry of `sessionkit/fastify` wraps the CommonJS build: `import fastifySession from
// 'sessionkit/fastify'` is the plugin, as `import fastifySession from '@fastify/session'` is.
import fastify from '../cjs/fastify.cjs'

export const { fastifySession, Store, MemoryStore, SessionError } = fastify
export default fastify
