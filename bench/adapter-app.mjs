// One app of the adapter benchmark (bench/adapters.mjs), in a child process of its own: a Fastify, Koa
// or Hono app with the session library its users have now, or with sessionkit's adapter in its place,
// configured alike. Routes: /hello never touches the session, /count increments `n`, /read reads it.
//
//   BENCH_FRAMEWORK  fastify | koa | hono
//   BENCH_IMPL       theirs (@fastify/session, koa-session, hono-sessions) | sessionkit
//   BENCH_STORE      memory (each library's in-memory store) | redis (connect-redis, or a store of
//                    koa-session's shape, over one client) | cookie (the session in the cookie)
//
// It answers the parent over IPC as bench/app.mjs does: { ready: port }, then 'cpu' (CPU time in µs and
// requests seen), 'stop'.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const framework = process.env.BENCH_FRAMEWORK
const impl = process.env.BENCH_IMPL
const storeKind = process.env.BENCH_STORE
const prefix = process.env.BENCH_PREFIX ?? `sessionkit-adapter-bench:${process.pid}:`
const SECRET = 'a benchmark secret of at least 32 characters'
const DAY = 24 * 60 * 60 * 1000

let requestsSeen = 0
let redisClient
if (storeKind === 'redis') {
  const { createClient } = require('redis')
  redisClient = createClient({ url: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' })
  redisClient.on('error', (err) => console.error('redis:', err.message))
  await redisClient.connect()
}

/** A store of koa-session's shape over Redis: what a koa-session app on Redis writes itself. */
function koaRedisStore() {
  return {
    async get(key) {
      const value = await redisClient.get(prefix + key)
      return value === null ? undefined : JSON.parse(value)
    },
    async set(key, session, maxAge) {
      await redisClient.set(prefix + key, JSON.stringify(session), { PX: typeof maxAge === 'number' ? maxAge : DAY })
    },
    async destroy(key) {
      await redisClient.del(prefix + key)
    },
  }
}

function connectRedis() {
  const { RedisStore } = require('connect-redis')
  return new RedisStore({ client: redisClient, prefix })
}

let server
let close
if (framework === 'fastify') {
  const Fastify = require('fastify')
  const app = Fastify()
  app.addHook('onRequest', async () => {
    requestsSeen++
  })
  app.register(require('@fastify/cookie'))
  const plugin = impl === 'sessionkit' ? require('sessionkit/fastify') : require('@fastify/session')
  const options = { secret: SECRET, saveUninitialized: false, cookie: { secure: false, maxAge: DAY } }
  if (storeKind === 'redis') options.store = connectRedis()
  app.register(plugin, options)
  app.get('/hello', async () => 'hello')
  app.get('/count', async (request) => {
    const n = (request.session.get('n') ?? 0) + 1
    request.session.set('n', n)
    return String(n)
  })
  app.get('/read', async (request) => String(request.session.get('n') ?? 0))
  await app.listen({ port: 0, host: '127.0.0.1' })
  server = app.server
  close = () => app.close()
} else if (framework === 'koa') {
  const Koa = require('koa')
  const app = new Koa()
  app.keys = [SECRET]
  const session = impl === 'sessionkit' ? require('sessionkit/koa') : require('koa-session').createSession
  app.use(async (ctx, next) => {
    requestsSeen++
    await next()
  })
  app.use(session({ maxAge: DAY, ...(storeKind === 'redis' ? { store: koaRedisStore() } : {}) }, app))
  app.use(async (ctx) => {
    if (ctx.path === '/hello') ctx.body = 'hello'
    else if (ctx.path === '/count') ctx.body = String((ctx.session.n = (ctx.session.n ?? 0) + 1))
    else ctx.body = String(ctx.session.n ?? 0)
  })
  server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  close = () => new Promise((resolve) => server.close(resolve))
} else if (framework === 'hono') {
  const { Hono } = require('hono')
  const { serve } = require('@hono/node-server')
  const app = new Hono()
  app.use(async (c, next) => {
    requestsSeen++
    await next()
  })
  let read
  let write
  if (impl === 'sessionkit') {
    const hono = require('sessionkit/hono')
    const { MemoryStore } = require('sessionkit')
    app.use(storeKind === 'cookie' ? hono.cookieSession({ secret: SECRET, cookie: { maxAge: DAY } }) : hono.session({ secret: SECRET, store: new MemoryStore(), resave: false, saveUninitialized: false, cookie: { maxAge: DAY } }))
    read = (c) => c.get('session').n
    write = (c, n) => {
      c.get('session').n = n
    }
  } else {
    const { sessionMiddleware, MemoryStore, CookieStore } = require('hono-sessions')
    app.use(sessionMiddleware({ store: storeKind === 'cookie' ? new CookieStore() : new MemoryStore(), encryptionKey: SECRET, expireAfterSeconds: DAY / 1000, cookieOptions: { path: '/', httpOnly: true, sameSite: 'Lax' } }))
    read = (c) => c.get('session').get('n')
    write = (c, n) => c.get('session').set('n', n)
  }
  app.get('/hello', (c) => c.text('hello'))
  app.get('/count', (c) => {
    const n = (read(c) ?? 0) + 1
    write(c, n)
    return c.text(String(n))
  })
  app.get('/read', (c) => c.text(String(read(c) ?? 0)))
  server = await new Promise((resolve) => {
    const listening = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(listening))
  })
  close = () => new Promise((resolve) => server.close(resolve))
} else {
  throw new Error(`BENCH_FRAMEWORK must be fastify, koa or hono, not ${framework}`)
}

process.on('message', async (message) => {
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send({ cpu: user + system, requests: requestsSeen })
  } else if (message === 'stop') {
    await close()
    if (redisClient !== undefined) {
      for await (const keys of redisClient.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) for (const key of keys) await redisClient.del(key)
      await redisClient.close()
    }
    process.exit(0)
  }
})
process.send({ ready: server.address().port })
