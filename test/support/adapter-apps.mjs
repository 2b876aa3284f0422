// The same small app written once per adapter, each in its framework's own idiom, served for real on
// 127.0.0.1, for test/adapter-guarantees.test.mjs. Every app has these routes:
//   /count   n++ and answers n            /read    answers n, or "none", and changes nothing
//   /noop    never touches the session    /logout  ends the session
//   /big     puts 8000 characters in the session (more than a cookie can carry)
// and a store that records what it was asked and can be told to fail or to never answer.
import { createServer } from 'node:http'
import { serve } from '@hono/node-server'
import fastifyCookie from '@fastify/cookie'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import session, { cookieSession, Store } from 'sessionkit'
import fastifySession from 'sessionkit/fastify'
import { cookieSession as honoCookieSession, session as honoSession } from 'sessionkit/hono'
import koaSession from 'sessionkit/koa'
import { webCookieSessions, webSessions } from 'sessionkit/web'

/** 32 characters or more, as every adapter's checks want. */
export const SECRET = 'one secret for every adapter in the guarantees table'

/** The cookie lifetime every app configures, so that a stored session has an expiry to move. */
export const MAX_AGE = 60_000

/**
 * An express-session store over a Map of JSON strings (what a networked store keeps), which counts the
 * calls it gets and can be told to misbehave: `fail(method, kind)` makes one method answer with an
 * error ('error'), throw where it is called ('throw'), or never answer ('hang'), until `heal()`.
 * `written` is the id of the last record written.
 */
export class RecordingStore extends Store {
  records = new Map()
  calls = { get: 0, set: 0, touch: 0, destroy: 0 }
  fault = undefined
  written = undefined

  fail(method, kind) {
    this.fault = { method, kind }
  }

  /** Back to a store that answers, as the next case expects it. */
  heal() {
    this.fault = undefined
  }

  /** The record stored under `id`, parsed, or undefined. */
  held(id) {
    const text = this.records.get(id)
    return text === undefined ? undefined : JSON.parse(text)
  }

  /** Counts the call, then the fault's answer: 'hang', an error to call back with, or undefined to do the work. */
  #enter(method) {
    this.calls[method]++
    if (this.fault?.method !== method) return undefined
    const error = new Error(`the recording store was told to fail ${method} (${this.fault.kind})`)
    if (this.fault.kind === 'throw') throw error
    return this.fault.kind === 'hang' ? 'hang' : error
  }

  get(id, callback) {
    const fault = this.#enter('get')
    if (fault !== 'hang') setImmediate(callback, fault ?? null, fault ? undefined : (this.held(id) ?? null))
  }

  set(id, record, callback) {
    const fault = this.#enter('set')
    if (fault === undefined) this.#write(id, record)
    if (fault !== 'hang') setImmediate(callback, fault ?? null)
  }

  touch(id, record, callback) {
    const fault = this.#enter('touch')
    if (fault === undefined && this.records.has(id)) this.records.set(id, JSON.stringify(record))
    if (fault !== 'hang') setImmediate(callback, fault ?? null)
  }

  destroy(id, callback) {
    const fault = this.#enter('destroy')
    if (fault === undefined) this.records.delete(id)
    if (fault !== 'hang') setImmediate(callback, fault ?? null)
  }

  #write(id, record) {
    this.records.set(id, JSON.stringify(record))
    this.written = id
  }

  /**
   * The same records seen as a store of koa-session's shape (async get / set / destroy, the record in
   * koa-session's format), for sessionkit/koa as a koa-session app configures it. It has no touch.
   */
  koaShaped() {
    const answer = (method, work) => {
      // A 'throw' fault throws here, where sessionkit/koa calls the method, as a buggy store would.
      const fault = this.#enter(method)
      if (fault === 'hang') return new Promise(() => {})
      return fault === undefined ? Promise.resolve(work()) : Promise.reject(fault)
    }
    return {
      get: (key) => answer('get', () => this.held(key)),
      set: (key, record) => answer('set', () => this.#write(key, record)),
      destroy: (key) => answer('destroy', () => void this.records.delete(key)),
    }
  }
}

/** When a stored record expires, in ms since the epoch, whichever format it is in (express-session's or koa-session's). */
export function expiryOf(record) {
  if (record === undefined) return undefined
  if (typeof record._expire === 'number') return record._expire
  return record.cookie?.expires ? Date.parse(record.cookie.expires) : undefined
}

/** What `/big` stores: more than the 4096 bytes a browser keeps of one cookie. */
const BIG = 'x'.repeat(8000)

/** The session's number as each route answers it. */
const answerOf = (n) => String(n ?? 'none')

/**
 * What a builder returns: `base` to send requests to, `events` (what the adapter's event hub reported,
 * or undefined when the adapter has none), and `close`.
 */
function served(port, events, close) {
  return { base: `http://127.0.0.1:${port}`, events, close }
}

function listenNode(handler) {
  const server = createServer(handler)
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

function closeNode(server) {
  return new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
}

/** The events an adapter's hub reports, as `type` or `type:reason`. */
function recorder(hub) {
  const events = []
  hub.on('event', (event) => events.push(event.reason ? `${event.type}:${event.reason}` : event.type))
  return events
}

/** Express with `session()`, or `cookieSession()` without a store; errors answered by an error handler. */
export async function expressApp({ store, storeTimeout } = {}) {
  const middleware = store
    ? session({ secret: SECRET, store, resave: false, saveUninitialized: false, storeTimeout, cookie: { maxAge: MAX_AGE } })
    : cookieSession({ secret: SECRET, cookie: { maxAge: MAX_AGE } })
  const events = recorder(middleware)
  const app = express()
  app.use(middleware)
  app.get('/count', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1
    res.send(answerOf(req.session.n))
  })
  app.get('/read', (req, res) => res.send(answerOf(req.session.n)))
  app.get('/noop', (req, res) => res.send('ok'))
  app.get('/big', (req, res) => {
    req.session.big = BIG
    res.send('big')
  })
  app.get('/logout', (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.send('bye'))))
  app.use((err, req, res, next) => res.status(err.status ?? 500).send('session error'))
  const server = await listenNode(app)
  return served(server.address().port, events, () => closeNode(server))
}

/** The routes over a Web API session handle (sessionkit/web's `handle`, and Hono's `c.get('session')`). */
async function webRoute(path, current) {
  switch (path) {
    case '/count': {
      const live = current()
      live.n = (live.n ?? 0) + 1
      return answerOf(live.n)
    }
    case '/read':
      return answerOf(current().n)
    case '/big':
      current().big = BIG
      return 'big'
    case '/logout':
      await current().destroy()
      return 'bye'
    default:
      return 'ok'
  }
}

/** As docs/guide/web.md shows it: a failure's own status, where a Node server would give a 500. */
function withErrors(handler) {
  return async (request) => {
    try {
      return await handler(request)
    } catch (err) {
      return new Response('session error', { status: err.status ?? 500 })
    }
  }
}

function serveFetch(fetch) {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve({ server, port: info.port }))
  })
}

/** sessionkit/web's `webSessions()` or `webCookieSessions()` and `handle()`, served by @hono/node-server. */
export async function webApp({ store, storeTimeout } = {}) {
  const sessions = store
    ? webSessions({ secret: SECRET, store, resave: false, saveUninitialized: false, storeTimeout, cookie: { maxAge: MAX_AGE } })
    : webCookieSessions({ secret: SECRET, cookie: { maxAge: MAX_AGE } })
  const events = recorder(sessions)
  const handler = sessions.handle(async (request, handle) => {
    const path = new URL(request.url).pathname
    return new Response(await webRoute(path, () => handle.session))
  })
  const { server, port } = await serveFetch(withErrors(handler))
  return served(port, events, () => closeNode(server))
}

/** Fastify with @fastify/cookie and sessionkit/fastify registered as @fastify/session would be. */
export async function fastifyApp({ store, storeTimeout } = {}) {
  const app = Fastify()
  await app.register(fastifyCookie)
  // @fastify/session's cookie is Secure by default; 'auto' lets it travel over this plain-HTTP server.
  await app.register(fastifySession, { secret: SECRET, store, storeTimeout, saveUninitialized: false, cookie: { secure: 'auto', maxAge: MAX_AGE } })
  app.get('/count', async (request) => {
    request.session.n = (request.session.n ?? 0) + 1
    return answerOf(request.session.n)
  })
  app.get('/read', async (request) => answerOf(request.session.n))
  app.get('/noop', async () => 'ok')
  app.get('/big', async (request) => {
    request.session.big = BIG
    return 'big'
  })
  app.get('/logout', async (request) => {
    await request.session.destroy()
    return 'bye'
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  // The plugin has no event hub of sessionkit's: events stay undefined.
  return served(app.server.address().port, hubOf(fastifySession), () => app.close())
}

/** sessionkit/koa as koa-session is used: `app.keys`, `session(opts, app)`, `ctx.session`; Koa's error handling answers. */
export async function koaApp({ store, storeTimeout } = {}) {
  const app = new Koa()
  app.keys = [SECRET]
  // A listener of our own keeps Koa from printing each expected store failure.
  app.on('error', () => {})
  const middleware = koaSession({ maxAge: MAX_AGE, ...(store ? { store, storeTimeout } : {}) }, app)
  app.use(middleware)
  app.use((ctx) => {
    if (ctx.path === '/count') {
      ctx.session.n = (ctx.session.n ?? 0) + 1
      ctx.body = answerOf(ctx.session.n)
    } else if (ctx.path === '/read') {
      ctx.body = answerOf(ctx.session.n)
    } else if (ctx.path === '/big') {
      ctx.session.big = BIG
      ctx.body = 'big'
    } else if (ctx.path === '/logout') {
      ctx.session = null
      ctx.body = 'bye'
    } else {
      ctx.body = 'ok'
    }
  })
  const server = await listenNode(app.callback())
  return served(server.address().port, hubOf(middleware), () => closeNode(server))
}

/** Hono with sessionkit/hono's middleware, served by @hono/node-server; `app.onError` answers failures. */
export async function honoApp({ store, storeTimeout } = {}) {
  const middleware = store
    ? honoSession({ secret: SECRET, store, resave: false, saveUninitialized: false, storeTimeout, cookie: { maxAge: MAX_AGE } })
    : honoCookieSession({ secret: SECRET, cookie: { maxAge: MAX_AGE } })
  const events = recorder(middleware.sessions)
  const app = new Hono()
  app.use(middleware)
  app.get('*', async (c) => c.text(await webRoute(c.req.path, () => c.get('session'))))
  app.onError((err, c) => c.text('session error', err.status ?? 500))
  const { server, port } = await serveFetch(app.fetch)
  return served(port, events, () => closeNode(server))
}

/** An adapter's own event hub (an `on('event')` method), recorded; undefined when it has none. */
function hubOf(candidate) {
  return typeof candidate.on === 'function' ? recorder(candidate) : undefined
}
