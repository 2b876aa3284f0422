// sessionkit's first-party stores beside the third-party ones, all under sessionkit: sessionkit/redis
// against connect-redis, sessionkit/postgres against connect-pg-simple. Each cell is one app process
// (this file run with a cell name), driven by autocannon from the parent over 127.0.0.1, interleaved
// in rounds, each connection with a session of its own; reported per cell: req/s (median), and store calls per request (counted in the app, on
// the store's class so that a versioned store stays versioned). Run on demand:
//   npm run build && node bench/stores.mjs [--rounds=3] [--duration=3] [--connections=50]
import { fork } from 'node:child_process'
import { createRequire } from 'node:module'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const CELLS = ['connect-redis', 'sessionkit/redis', 'connect-pg-simple', 'sessionkit/postgres']
const SCENARIOS = { read: '/read', count: '/count' }

if (process.argv[2] === '--cell') await serve(process.argv[3])
else await main()

async function serve(cell) {
  const express = require('express')
  const session = require('../dist/cjs/sessionkit.cjs')
  const prefix = `bench-stores-${process.pid}-`
  let store
  let close = async () => {}
  if (cell.endsWith('redis')) {
    const client = require('redis').createClient({ url: 'redis://127.0.0.1:6379' })
    await client.connect()
    store = cell === 'connect-redis' ? new (require('connect-redis').RedisStore)({ client, prefix }) : new (require('../dist/cjs/store/redis/redis-store.js').RedisStore)({ client, prefix })
    close = async () => {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys)
      await client.close()
    }
  } else {
    const pool = new (require('pg').Pool)({ host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres', max: 10 })
    const schema = prefix.replace(/-/g, '_')
    await pool.query(`CREATE SCHEMA "${schema}"`)
    if (cell === 'connect-pg-simple') store = new (require('connect-pg-simple')(session))({ pool, schemaName: schema, createTableIfMissing: true, pruneSessionInterval: false })
    else store = new (require('../dist/cjs/store/postgres/postgres-store.js').PostgresStore)({ pool, schemaName: schema, createTable: true, pruneInterval: 0 })
    close = async () => {
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`)
      await pool.end()
    }
  }
  const calls = { count: 0 }
  const level = Object.create(Object.getPrototypeOf(store))
  for (const method of ['get', 'set', 'touch', 'destroy', 'getVersioned', 'setIfVersion']) {
    const original = store[method]
    if (typeof original !== 'function') continue
    const counted = function (...args) {
      calls.count++
      return original.apply(this, args)
    }
    Object.defineProperty(counted, 'length', { value: original.length })
    level[method] = counted
  }
  Object.setPrototypeOf(store, level)
  let requests = 0
  const app = express()
  app.use((req, res, next) => (requests++, next()))
  app.use(session({ secret: 'bench', store, resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }))
  app.get('/login', (req, res) => {
    req.session.n = 0
    res.send('in')
  })
  app.get('/read', (req, res) => res.send(String(req.session.n)))
  app.get('/count', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1
    res.send(String(req.session.n))
  })
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
  process.on('message', async (message) => {
    if (message === 'reset') {
      requests = 0
      calls.count = 0
      process.send({ reset: true })
    } else if (message === 'stats') process.send({ requests, calls: calls.count })
    else if (message === 'stop') {
      server.close()
      await close()
      process.exit(0)
    }
  })
}

async function main() {
  const autocannon = require('autocannon')
  const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
  const rounds = Number(args.rounds ?? 3)
  const duration = Number(args.duration ?? 3)
  const connections = Number(args.connections ?? 50)
  const apps = {}
  for (const cell of CELLS) {
    const child = fork(fileURLToPath(import.meta.url), ['--cell', cell])
    const [{ port }] = await once(child, 'message')
    apps[cell] = { child, port, results: {} }
  }
  const ask = async (child, message) => (child.send(message), (await once(child, 'message'))[0])
  for (let round = 0; round < rounds; round++) {
    for (const [scenario, path] of Object.entries(SCENARIOS)) {
      for (const cell of CELLS) {
        const app = apps[cell]
        await ask(app.child, 'reset')
        // A session of its own per connection, as with real users: a login, then 200 requests with its
        // cookie (autocannon starts a connection's sequence, and its context, over when it ends).
        const withCookie = { setupRequest: (req, context) => ({ ...req, path, headers: { ...req.headers, cookie: context.cookie } }) }
        const login = {
          path: '/login',
          onResponse: (status, body, context, headers) => {
            const setCookie = headers?.['Set-Cookie'] ?? headers?.['set-cookie']
            context.cookie = String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0]
          },
        }
        const run = await autocannon({ url: `http://127.0.0.1:${app.port}`, connections, duration, requests: [login, ...Array(200).fill(withCookie)] })
        const stats = await ask(app.child, 'stats')
        ;(app.results[scenario] ??= []).push({ rps: run.requests.average, callsPerRequest: stats.calls / Math.max(1, stats.requests), non2xx: run.non2xx })
      }
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  console.log(`sessionkit with each store, ${connections} connections, median of ${rounds} rounds of ${duration} s`)
  console.log('| store | /read req/s | /read store calls/req | /count req/s | /count store calls/req |\n| --- | --- | --- | --- | --- |')
  for (const cell of CELLS) {
    const r = apps[cell].results
    const cellText = (s) => `${Math.round(median(r[s].map((x) => x.rps)))} | ${median(r[s].map((x) => x.callsPerRequest)).toFixed(2)}`
    console.log(`| ${cell} | ${cellText('read')} | ${cellText('count')} |`)
    const errors = Object.values(r).flat().reduce((sum, x) => sum + x.non2xx, 0)
    if (errors > 0) console.log(`  (${cell}: ${errors} non-2xx responses)`)
  }
  for (const app of Object.values(apps)) app.child.send('stop')
}
