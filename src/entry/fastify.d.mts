// Types of the ESM entry of `sessionkit/fastify`: the same declarations as the CommonJS build.
import fastifySession from '../cjs/fastify.cjs'

export * from '../cjs/adapters/fastify/index.js'
export default fastifySession
