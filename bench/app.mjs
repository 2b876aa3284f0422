// The app every implementation is measured with: one Express app, three routes, started in its own
// process by bench/run.mjs so that each implementation gets a fresh heap and a CPU of its own.
//
// Configuration comes from the environment (the parent sets it):
//   BENCH_IMPL       none | step | express-session | sessionkit | sessionkit-own
//                    (step: a middleware that only turns req and res into dictionary mode, the first
//                    thing sessionkit does; the baseline that shows what the session itself costs.
//                    sessionkit-own: sessionkit with its first-party store of BENCH_STORE's kind,
//                    sessionkit/redis or sessionkit/postgres; there is none for memory)
//   BENCH_FRAMEWORK  express4 | express5
//   BENCH_MERGE      1: sessionkit with `merge: true` (the hot-session cells, bench/hot-cells.mjs)
//   BENCH_STORE      memory | redis (connect-redis) | postgres (connect-pg-simple); express-session
//                    and sessionkit get the same store, sessionkit-own its own one of that kind
//   BENCH_REDIS_URL  default redis://127.0.0.1:6379
//   BENCH_PG_URL     default postgres://postgres@127.0.0.1:5432/test
//   BENCH_PREFIX     Redis key prefix for this process, and the name of its PostgreSQL schema
//                    (both removed on exit)
//   BENCH_SESSIONKIT path of the built sessionkit CommonJS entry (a private copy of dist/, so that a
//                    rebuild by someone else in the middle of a run cannot pull the files away); the
//                    store entries are taken from beside it, where package.json's exports map
//                    sessionkit/redis and sessionkit/postgres (store/redis/redis-store.js, store/postgres/postgres-store.js)
// It answers the parent over IPC: { ready: port } once listening; 'reset' empties the store; 'cpu'
// reports the CPU time this process has used, in microseconds, the requests it has seen (and of them
// /count's, the increments asked for) and the store calls made so far by method (the store's methods
// are wrapped to count them).
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
const impl = process.env.BENCH_IMPL ?? 'none'
const framework = process.env.BENCH_FRAMEWORK ?? 'express5'
const storeKind = process.env.BENCH_STORE ?? 'memory'
const prefix = process.env.BENCH_PREFIX ?? `sessionkit-bench:${process.pid}:`

const express = require(framework === 'express4' ? 'express4' : 'express')
const app = express()
app.disable('x-powered-by')
app.disable('etag')

// The same options for both session middlewares: the ones express-session's README recommends, and a
// cookie lifetime so that an unchanged session is touched in the store, as most real apps do.
const sessionOptions = {
  secret: 'bench secret, not a secret',
  resave: false,
  saveUninitialized: false,
  cookie: { maxAge: 86_400_000 },
}

let store
let redisClient
let pgPool
// A schema of this process's own, so that connect-pg-simple's table and index names cannot meet another
// run's; dropped when the app stops.
const pgSchema = prefix.replace(/[^a-z0-9]+/gi, '_').toLowerCase()
// connect-pg-simple's fixed table name, or the first-party store's default one.
const pgTable = impl === 'sessionkit-own' ? 'sessionkit_sessions' : 'session'
const storeCalls = {}
const sessionkitEntry = process.env.BENCH_SESSIONKIT ?? require.resolve('sessionkit')
const hasSession = impl === 'express-session' || impl === 'sessionkit' || impl === 'sessionkit-own'
if (impl === 'sessionkit-own' && storeKind !== 'redis' && storeKind !== 'postgres') {
  // Fail loudly rather than measure sessionkit's MemoryStore a second time under another name.
  throw new Error(`sessionkit-own needs BENCH_STORE=redis or postgres, not ${storeKind}`)
}
if (storeKind === 'redis' && hasSession) {
  const { createClient } = require('redis')
  redisClient = createClient({ url: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' })
  redisClient.on('error', (err) => console.error('redis:', err.message))
  await redisClient.connect()
  // The same client and prefix for both stores, so that only the store differs. sessionkit/redis
  // puts the id in braces after the prefix, still inside this process's own key space.
  const { RedisStore } = require(impl === 'sessionkit-own' ? storeEntry('redis') : 'connect-redis')
  store = new RedisStore({ client: redisClient, prefix })
} else if (storeKind === 'postgres' && hasSession) {
  const { Pool } = require('pg')
  pgPool = new Pool({ connectionString: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 10 })
  await pgPool.query(`CREATE SCHEMA IF NOT EXISTS "${pgSchema}"`)
  if (impl === 'sessionkit-own') {
    const { PostgresStore } = require(storeEntry('postgres'))
    // No pruning timer, as for connect-pg-simple: a prune in the middle of a round would be noise.
    store = new PostgresStore({ pool: pgPool, schemaName: pgSchema, tableName: pgTable, createTable: true, pruneInterval: 0 })
  } else {
    const PgStore = require('connect-pg-simple')(require(impl === 'sessionkit' ? sessionkitEntry : 'express-session'))
    store = new PgStore({ pool: pgPool, schemaName: pgSchema, createTableIfMissing: true, pruneSessionInterval: false })
  }
}

/** A first-party store's CommonJS module in the same private copy of dist/ as the entry (before the source tree was moved into folders, `stores/<kind>.js`). */
function storeEntry(kind) {
  const dir = dirname(sessionkitEntry)
  const moved = join(dir, 'store', kind, `${kind}-store.js`)
  return existsSync(moved) ? moved : join(dir, 'stores', `${kind}.js`)
}

// Requests counted as the app sees them, the divisor of CPU time and store calls: autocannon's count
// leaves out the requests still in flight when it stops, whose work the app has partly done.
let requestsSeen = 0
app.use((req, res, next) => {
  requestsSeen++
  next()
})

if (impl === 'express-session') {
  const session = require('express-session')
  store ??= new session.MemoryStore()
  app.use(session({ ...sessionOptions, store: counted(store) }))
} else if (impl === 'sessionkit' || impl === 'sessionkit-own') {
  const session = require(sessionkitEntry)
  store ??= new session.MemoryStore()
  app.use(session({ ...sessionOptions, merge: process.env.BENCH_MERGE === '1', store: counted(store) }))
} else if (impl === 'step') {
  // Not a public export: the built module itself, next to the entry.
  const { toDictionaryMode } = require(join(dirname(sessionkitEntry), 'adapters/express/request.js'))
  app.use((req, res, next) => {
    toDictionaryMode(req, res)
    next()
  })
}

app.get('/hello', (req, res) => {
  res.send('hello')
})
// Without a session middleware the routes do the same work on a plain object.
const noSession = {}
let counts = 0
app.get('/count', (req, res) => {
  counts++
  const data = req.session ?? noSession
  data.n = (data.n ?? 0) + 1
  res.send(String(data.n))
})
app.get('/read', (req, res) => {
  const data = req.session ?? noSession
  res.send(String(data.n ?? 0))
})

/**
 * Counts the calls the middleware makes to the store, by method. The methods are wrapped where the
 * store's class defines them, not on the instance: sessionkit skips its store-call timeout for a
 * MemoryStore whose methods are MemoryStore's own (they always answer), and a wrapper on the instance
 * would make every call pay for that timeout. Each app runs in a process of its own, so changing the
 * class there changes nothing else.
 */
function counted(target) {
  for (const method of ['get', 'set', 'touch', 'destroy', 'getVersioned', 'setIfVersion']) {
    let owner = target
    while (owner !== null && !Object.prototype.hasOwnProperty.call(owner, method)) owner = Object.getPrototypeOf(owner)
    if (owner === null || typeof owner[method] !== 'function') continue
    const original = owner[method]
    storeCalls[method] = 0
    const wrapped = function (...args) {
      storeCalls[method]++
      return original.apply(this, args)
    }
    Object.defineProperty(wrapped, 'length', { value: original.length })
    owner[method] = wrapped
  }
  return target
}

function clearStore() {
  if (store === undefined) return Promise.resolve()
  if (pgPool !== undefined) {
    // connect-pg-simple has no clear(), and sessionkit/postgres's is a DELETE that would leave dead
    // rows behind for the next round to wade through: TRUNCATE both. The table may not exist yet
    // (connect-pg-simple creates it with the first query).
    return pgPool.query(`TRUNCATE "${pgSchema}"."${pgTable}"`).then(
      () => {},
      (err) => (err.code === '42P01' ? undefined : console.error('truncate:', err.message)),
    )
  }
  return new Promise((resolve) => store.clear((err) => (err ? console.error('clear:', err.message) : undefined, resolve())))
}

/**
 * Resolves once the PostgreSQL pool has been idle for a few polls in a row (at most 5 s). autocannon
 * stops with up to one request per connection in flight, and with PostgreSQL these queue for the
 * pool's 10 connections: a slow cell can still be working through them long after the parent's short
 * wait. Without this their CPU time would count for no request, they would compete with the next
 * cell's measurement, and at the end they would fail against an ended pool.
 */
async function settle() {
  if (pgPool === undefined) return
  const deadline = Date.now() + 5000
  for (let quiet = 0; quiet < 3 && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    quiet = pgPool.waitingCount === 0 && pgPool.idleCount === pgPool.totalCount ? quiet + 1 : 0
  }
}

const server = app.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: server.address().port })
})
server.keepAliveTimeout = 60_000

process.on('message', async (message) => {
  if (message === 'cpu') {
    await settle()
    // CPU time is what a noisy, shared machine distorts least: the parent divides it by the requests.
    const { user, system } = process.cpuUsage()
    process.send?.({ cpu: user + system, requests: requestsSeen, counts, storeCalls: { ...storeCalls } })
  } else if (message === 'reset') {
    await clearStore()
    globalThis.gc?.()
    process.send?.({ reset: true })
  } else if (message === 'stop') {
    await settle()
    await clearStore()
    if (impl === 'sessionkit-own') await store.close?.()
    await redisClient?.quit().catch(() => {})
    await pgPool?.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`).catch((err) => console.error('drop schema:', err.message))
    await pgPool?.end().catch(() => {})
    server.closeAllConnections?.()
    server.close(() => process.exit(0))
    setTimeout(() => process.exit(0), 2000).unref()
  }
})
process.on('disconnect', () => {
  // The parent died: still take this process's Redis keys and PostgreSQL schema with it.
  clearStore()
    .then(() => pgPool?.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`))
    .catch(() => {})
    .finally(() => process.exit(0))
})
