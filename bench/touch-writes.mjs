// Store writes per 1,000 read requests of one unchanged session, with touchAfter off and on, for
// MemoryStore, connect-redis (Redis on 127.0.0.1:6379) and connect-pg-simple (PostgreSQL on
// 127.0.0.1:5432, db test). Run on demand: `npm run build && node bench/touch-writes.mjs`.
// A "write" is a set or touch, or a load that also moves the expiry (getVersioned with touch).
import { createRequire } from 'node:module'
import { Agent, request } from 'node:http'

const require = createRequire(import.meta.url)
const express = require('express')
const session = require('../dist/cjs/sessionkit.cjs')
const { RedisStore } = require('connect-redis')
const { createClient } = require('redis')
const pg = require('pg')
const connectPgSimple = require('connect-pg-simple')

const READS = Number(process.argv.find((a) => a.startsWith('--reads='))?.slice(8) ?? 1000)
const TOUCH_AFTER = 60_000
const run = `${process.pid}`

function counted(store) {
  const counts = { writes: 0, calls: 0 }
  for (const method of ['get', 'set', 'touch', 'destroy', 'getVersioned', 'setIfVersion']) {
    const original = store[method]
    if (typeof original !== 'function') continue
    const wrapped = function (...args) {
      counts.calls++
      if (method === 'set' || method === 'touch' || method === 'setIfVersion' || (method === 'getVersioned' && args[1]?.touch === true)) counts.writes++
      return original.apply(this, args)
    }
    Object.defineProperty(wrapped, 'length', { value: original.length })
    // On the prototype chain's level, not the instance, so a versioned store stays versioned.
    const level = Object.create(Object.getPrototypeOf(store))
    level[method] = wrapped
    Object.setPrototypeOf(store, level)
  }
  return counts
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 })
const get = (port, path, cookie) =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: cookie ? { cookie } : {} }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.headers['set-cookie']?.[0]?.split(';')[0]))
    })
    req.on('error', reject)
    req.end()
  })

async function measure(store, touchAfter) {
  const app = express()
  app.use(session({ secret: 'bench', store, resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 }, touchAfter }))
  app.get('/login', (req, res) => {
    req.session.user = 'ada'
    res.send('in')
  })
  app.get('/read', (req, res) => res.send(String(req.session.user)))
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const port = server.address().port
  const cookie = await get(port, '/login')
  await new Promise((resolve) => setTimeout(resolve, 50))
  const counts = counted(store)
  for (let i = 0; i < READS; i++) await get(port, '/read', cookie)
  await new Promise((resolve) => setTimeout(resolve, 100))
  server.close()
  return counts
}

const redis = createClient({ url: 'redis://127.0.0.1:6379' })
await redis.connect()
const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres', max: 4 })
// connect-pg-simple names its primary key "session_pkey": a schema of its own avoids a clash.
const schema = `bench_touch_${run}`
await pool.query(`CREATE SCHEMA "${schema}"`)
const PgStore = connectPgSimple(session)
const stores = {
  MemoryStore: () => new session.MemoryStore(),
  'connect-redis': () => new RedisStore({ client: redis, prefix: `bench-touch-${run}:` }),
  'connect-pg-simple': () => new PgStore({ pool, schemaName: schema, createTableIfMissing: true, pruneSessionInterval: false }),
}
console.log(`store writes per ${READS} reads of one unchanged session (touchAfter ${TOUCH_AFTER} ms)`)
console.log('| store | touchAfter off | touchAfter on |\n| --- | --- | --- |')
for (const [name, make] of Object.entries(stores)) {
  const off = await measure(make(), 0)
  const on = await measure(make(), TOUCH_AFTER)
  console.log(`| ${name} | ${off.writes} | ${on.writes} |`)
}
await pool.query(`DROP SCHEMA "${schema}" CASCADE`)
await pool.end()
await redis.close()
agent.destroy()
