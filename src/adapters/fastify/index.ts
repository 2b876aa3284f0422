/**
 * `sessionkit/fastify`: a drop-in for @fastify/session 11 on sessionkit's engine. Register it after
 * @fastify/cookie with @fastify/session's options; `request.session` has its API and its types.
 *
 * @module sessionkit/fastify
 */
import { fastifySession } from './plugin.js'

export { fastifySession }
export { MemoryStore, MemoryStore as Store } from '../../store/memory/memory-store.js'
export { SessionError } from '../../errors.js'
export type { FastifyCookieOptions, FastifySessionCallback, FastifySessionkitOptions, FastifySessionObject, FastifySessionOptions, FastifySessionPlugin } from './types.js'
export type { SessionStore } from '../../store/contract.js'
export default fastifySession
