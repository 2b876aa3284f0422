/**
 * The Fastify plugin: @fastify/session 11's registration, hooks and `request.session`, over the
 * Web-standard API's sessions. `onRequest` loads the session (a `{ url, headers }` made from the
 * request, its cookie in the engine's form); `onSend` commits it and puts the cookies on the reply in
 * @fastify/session's form. @internal
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { signingKeys, signSessionId } from '../../cookie/signature.js'
import { privateCacheControl } from '../../engine/cache-control.js'
import type { Session } from '../../engine/session.js'
import { MemoryStore } from '../../store/memory/memory-store.js'
import { webSessions, type SessionHandle, type WebRequest } from '../web/web-sessions.js'
import { encryptedId, engineCookieHeader, fastifySetCookie } from './cookie-value.js'
import { cookieFor, parseFastifyOptions, type FastifyConfig } from './options.js'
import { fastifySessionObject, type FastifySession } from './session-object.js'
import type { FastifyCookieOptions, FastifySessionCallback, FastifySessionObject, FastifySessionOptions, FastifySessionPlugin } from './types.js'

/** What onSend needs of each request whose session was loaded. */
interface Loaded {
  readonly handle: SessionHandle
  readonly state: FastifySession
}

/** The loaded session of each request, for onSend to commit. */
const loaded = new WeakMap<FastifyRequest, Loaded>()

/** The Fastify request behind each load's input, for `idGenerator(request)`. */
const origins = new WeakMap<WebRequest, FastifyRequest>()

/** The `{ url, headers }` the engine loads from: the request's headers, its session cookie in the engine's form. */
function loadInput(request: FastifyRequest, config: FastifyConfig): WebRequest {
  const headers = new Headers()
  for (const [name, value] of Object.entries(request.headers)) {
    if (name === 'cookie' || value === undefined) continue
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one)
  }
  const cookie = engineCookieHeader(request.headers.cookie, config.cookieName, config.cookiePrefix)
  if (cookie !== undefined) headers.set('cookie', cookie)
  // The engine reads the URL's scheme and path only; a Host header that makes no URL (a client may send
  // anything there) must not fail the request, so it gives way to a host that does.
  const path = request.url.startsWith('/') ? request.url : `/${request.url}`
  const url = `${request.protocol}://${request.host}${path}`
  return { url: URL.canParse(url) ? url : `${request.protocol}://localhost${path}`, headers }
}

/** Whether the URL's scheme, as the load input gives it, is https. */
function overHttps(input: WebRequest): boolean {
  return input.url.startsWith('https:')
}

function register(fastify: FastifyInstance, options: FastifySessionOptions, done: (err?: Error) => void): void {
  let config: FastifyConfig
  try {
    config = parseFastifyOptions(options)
  } catch (err) {
    done(err as Error)
    return
  }
  const { idGenerator } = config
  const store = config.engine.store ?? new MemoryStore()
  const sessions = webSessions({
    ...config.engine,
    store,
    cookie: (input) => cookieFor(config.cookie, overHttps(input)),
    ...(idGenerator ? { genid: (input: WebRequest) => idGenerator(origins.get(input)) } : {}),
  })
  const [firstSecret] = signingKeys(typeof config.engine.secret === 'string' ? [config.engine.secret] : (config.engine.secret as string[]))
  const sign = (id: string): string => encryptedId(signSessionId(id, firstSecret!))

  fastify.decorateRequest('sessionStore', { getter: () => store })
  fastify.decorateRequest('session', null as unknown as FastifySessionObject)

  /** Sets `carrier.session` (the request's, or the object given to decryptSession) for a loaded handle. */
  const attach = (handle: SessionHandle, carrier: { session: unknown }, https: boolean): FastifySession | undefined => {
    if (handle.session === undefined || handle.session === null) return undefined
    const { session, state } = fastifySessionObject({
      current: () => handle.session as Session,
      sign,
      https,
      destroyed: () => {
        carrier.session = null
      },
    })
    carrier.session = session
    return state
  }

  fastify.decorate('decryptSession', (cookieValue: string, carrier: object, optsOrCallback: FastifyCookieOptions | FastifySessionCallback, callback?: FastifySessionCallback) => {
    const opts = typeof optsOrCallback === 'function' ? {} : optsOrCallback
    const done = (typeof optsOrCallback === 'function' ? optsOrCallback : callback) as FastifySessionCallback
    // A request of its own, at the cookie's path over HTTPS, that carries only this cookie.
    const headers = new Headers()
    const cookie = engineCookieHeader(`${config.cookieName}=${cookieValue}`, config.cookieName, config.cookiePrefix)
    if (cookie !== undefined) headers.set('cookie', cookie)
    const input: WebRequest = { url: `https://localhost${config.cookie.path || '/'}`, headers }
    origins.set(input, carrier as FastifyRequest)
    sessions.load(input, { secure: true }).then(
      (handle) => {
        const target = carrier as { session: FastifySessionObject | null }
        if (attach(handle, target, true) !== undefined && Object.keys(opts).length > 0) target.session?.options(opts)
        done()
      },
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    )
  })

  fastify.addHook('onRequest', async (request) => {
    // As @fastify/session: an empty object until the session is there (outside `cookie.path`, for good).
    request.session = {} as FastifySessionObject
    const input = loadInput(request, config)
    origins.set(input, request)
    const handle = await sessions.load(input, { secure: request.protocol === 'https' })
    const state = attach(handle, request, request.protocol === 'https')
    if (state !== undefined) loaded.set(request, { handle, state })
  })

  fastify.addHook('onSend', async (request, reply, payload) => {
    const found = loaded.get(request)
    if (found === undefined) return payload
    loaded.delete(request)
    const { handle, state } = found
    const session = handle.session
    // @fastify/session neither stores nor sends a Secure cookie's session over plain HTTP.
    if (session && session.cookie.secure === true && request.protocol !== 'https') return payload
    // Read before the commit, which counts a save as no change any more.
    const changed = session ? state.isModified() || state.isSaved() : false
    const commit = await handle.commit()
    const values = commit.setCookie.map((value) => fastifySetCookie(value, config.cookieName, config.cookiePrefix))
    // @fastify/session sends the cookie again whenever the session changed or was saved, which
    // express-session's rules (and so the engine) do without `rolling` only for a new session.
    const named = (value: string): boolean => value.startsWith(`${config.cookieName}=`)
    if (session && changed && !values.some(named)) {
      values.push(fastifySetCookie(session.cookie.serialize(config.cookieName, signSessionId(session.id, firstSecret!)), config.cookieName, config.cookiePrefix))
    }
    // The value @fastify/cookie parsed, which @fastify/session compares too.
    const sent = (request as { cookies?: Record<string, string | undefined> }).cookies?.[config.cookieName]
    if (session && sent !== undefined && !values.some(named) && sent !== config.cookiePrefix + state.encryptedSessionId) {
      // As @fastify/session: a cookie that names another session (a stale or forged one) is cleared.
      values.push(clearingCookie(config))
    }
    addCookies(reply, values)
    if (commit.cacheControl !== undefined) {
      const merged = privateCacheControl(reply.getHeader('cache-control') as string | undefined)
      if (merged !== undefined) reply.header('cache-control', merged)
    }
    return payload
  })
  done()
}

/** The Set-Cookie that makes a browser drop the session cookie, as @fastify/cookie's `clearCookie` writes it. */
function clearingCookie(config: FastifyConfig): string {
  const domain = config.cookie.domain ? `; Domain=${config.cookie.domain}` : ''
  return `${config.cookieName}=; Max-Age=0${domain}; Path=${config.cookie.path || '/'}; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax`
}

/** Adds the session's Set-Cookie values beside any the app or @fastify/cookie set (Fastify appends them). */
function addCookies(reply: FastifyReply, values: readonly string[]): void {
  if (values.length === 0) return
  // One cookie alone stays a string, as @fastify/cookie leaves it: `inject()` and later hooks see the same header.
  reply.header('set-cookie', values.length === 1 ? values[0] : [...values])
}

// Fastify reads these marks, which fastify-plugin would set: the plugin's decorations and hooks reach
// the app (no encapsulation), it needs @fastify/cookie first, and it is registered under the name of
// the plugin it replaces, so that plugins that declare @fastify/session as a dependency accept it.
const marks = register as unknown as Record<symbol, unknown>
marks[Symbol.for('skip-override')] = true
marks[Symbol.for('fastify.display-name')] = '@fastify/session'
marks[Symbol.for('plugin-meta')] = { fastify: '5.x', name: '@fastify/session', dependencies: ['@fastify/cookie'] }

/**
 * `sessionkit/fastify`: a drop-in for @fastify/session 11. Register it after @fastify/cookie with the
 * same options (`secret`, `cookieName`, `cookie`, `store`, `saveUninitialized`, `rolling`,
 * `idGenerator`, `cookiePrefix`) and use `request.session` as there; sessions and cookies that
 * @fastify/session wrote stay valid.
 */
export const fastifySession: FastifySessionPlugin = Object.assign(register as FastifySessionPlugin, { Store: MemoryStore, MemoryStore })
