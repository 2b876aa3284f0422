/**
 * `sessionkit/koa`: a drop-in for koa-session 7. `app.use(session(opts, app))` with `app.keys`, then
 * `ctx.session` as koa-session has it (`isNew`, `maxAge`, `externalKey`, `save()`, `regenerate()`,
 * `manuallyCommit()`, `ctx.session = null`), both of its modes: the whole session in the cookie (sealed
 * with AES-256-GCM rather than base64 JSON), or in an external store, of koa-session's shape or any
 * express-session store. Cookies and store records koa-session wrote open the same sessions.
 *
 * @module sessionkit/koa
 */
import { generateSessionId } from '../../engine/genid.js'
import { webCookieSessions, webSessions, type WebSessions } from '../web/web-sessions.js'
import { isExpressStore, koaScope, koaStoreAdapter } from './koa-store.js'
import type { KoaApplication, KoaContext, KoaMiddleware } from './koa-types.js'
import { ONE_DAY, parseKoaOptions, type KoaConfig, type KoaSessionOptions } from './options.js'
import { KoaRequestSession, type KoaShared } from './request-session.js'
import type { KoaSessionObject } from './session.js'

export { KoaSessionObject, type KoaSessionCallback } from './session.js'
export type { KoaSessionOptions, KoaStore, KoaExternalKey } from './options.js'
export type { KoaApplication, KoaContext, KoaMiddleware } from './koa-types.js'

/** Where a request's session lives on its `ctx`. */
const requestKey = Symbol('sessionkit.koaRequestSession')

/** A context as this middleware leaves it. */
interface ContextWithSession {
  [requestKey]?: KoaRequestSession
}

/**
 * Creates the middleware: `session(opts, app)`, or `session(app, opts)` and `session(app)` as
 * koa-session also takes them. It defines `ctx.session` on the app's context. Throws at startup for
 * options that cannot work, and when `app.keys` (or the `secret` option) is missing.
 */
export function createSession(opts: KoaSessionOptions | undefined, app: KoaApplication): KoaMiddleware
export function createSession(app: KoaApplication, opts?: KoaSessionOptions): KoaMiddleware
export function createSession(first: KoaSessionOptions | KoaApplication | undefined, second?: KoaSessionOptions | KoaApplication): KoaMiddleware {
  const [opts, app] = isApp(first) ? [second as KoaSessionOptions | undefined, first] : [first, second as KoaApplication | undefined]
  if (!isApp(app)) throw new TypeError('app instance required: `session(opts, app)`')
  const shared = sharedOf(parseKoaOptions(opts ?? {}, app))
  defineSessionProperty(app.context)
  const { config } = shared
  const contextStore = config.ContextStore
  const koaStore = config.store !== undefined && !isExpressStore(config.store) ? config.store : undefined
  // Only a koa-session store and koa-session's genid(ctx) need the request's ctx from where the engine
  // calls them: only then does a request pay for an async scope.
  const scoped = koaStore !== undefined || contextStore !== undefined || config.genid !== undefined
  const run = async (request: KoaRequestSession, next: () => Promise<unknown>): Promise<void> => {
    await request.load()
    try {
      await next()
    } finally {
      if (config.autoCommit) await request.commit()
    }
  }
  return async function sessionkitKoa(ctx: KoaContext, next: () => Promise<unknown>): Promise<void> {
    const request = new KoaRequestSession(shared, ctx)
    Object.defineProperty(ctx, requestKey, { value: request, configurable: true })
    if (!scoped) return run(request, next)
    // Everything below runs in this request's scope, so a koa-session store is called with its ctx.
    const store = contextStore === undefined ? koaStore : new contextStore(ctx)
    await koaScope.run({ ctx, store }, () => run(request, next))
  }
}

/** `import session from 'sessionkit/koa'`, as `import session from 'koa-session'`. */
export default createSession

function isApp(value: unknown): value is KoaApplication {
  return typeof value === 'object' && value !== null && typeof (value as { use?: unknown }).use === 'function'
}

/** The Web API's sessions for one middleware: a store's (signed key in the cookie) or sealed cookies. */
function sharedOf(config: KoaConfig): KoaShared {
  const { store, ContextStore } = config
  const storeMode = store !== undefined || ContextStore !== undefined
  let sessions: WebSessions
  if (storeMode) {
    const expressStore = store !== undefined && isExpressStore(store)
    const renewOnly = config.renew && !config.rolling && config.maxAge !== undefined
    sessions = webSessions({
      secret: config.secrets,
      store: expressStore ? store : koaStoreAdapter(config),
      name: config.key,
      cookie: config.cookie,
      // koa-session's rules: a new session is stored once it holds something, a found one when it
      // changed; `rolling` saves and sends on every response, `renew` once half the lifetime is gone.
      resave: false,
      saveUninitialized: false,
      rolling: config.rolling || renewOnly,
      touchAfter: renewOnly ? (config.maxAge as number) / 2 : 0,
      genid: genidOf(config),
      ...(config.storeTimeout === undefined ? {} : { storeTimeout: config.storeTimeout }),
    })
    return { config, sessions, storeMode, validHere: expressStore }
  }
  sessions = webCookieSessions({
    secret: config.secrets,
    name: config.key,
    cookie: config.cookie,
    rolling: config.rolling,
    saveUninitialized: false,
    // A cookie that ends with the browser still lasts no more than a day without a request.
    ttl: ONE_DAY,
  })
  return { config, sessions, storeMode, validHere: true }
}

/** koa-session's `genid(ctx)` and `prefix`, as the engine's `genid`; undefined keeps sessionkit's ids. */
function genidOf(config: KoaConfig): (() => string) | undefined {
  const { genid, prefix } = config
  if (genid !== undefined) {
    return () => {
      const ctx = koaScope.getStore()?.ctx
      if (ctx === undefined) throw new Error('sessionkit/koa: genid was called outside a request')
      return genid(ctx)
    }
  }
  return prefix === '' ? undefined : () => prefix + generateSessionId()
}

/** `ctx.session` on every context of the app, as koa-session defines it; it reads this request's session. */
function defineSessionProperty(context: object): void {
  if (Object.prototype.hasOwnProperty.call(context, requestKey)) return
  Object.defineProperty(context, requestKey, { value: undefined, writable: true, configurable: true })
  Object.defineProperty(context, 'session', {
    configurable: true,
    get(this: ContextWithSession): KoaSessionObject | null | undefined {
      return this[requestKey]?.get()
    },
    set(this: ContextWithSession, value: unknown) {
      const request = this[requestKey]
      if (request === undefined) throw new TypeError('ctx.session can only be set inside the session middleware')
      request.set(value)
    },
  })
}
