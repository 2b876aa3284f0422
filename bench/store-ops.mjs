// What one session write costs each store on its own, without HTTP or the middleware: the store calls
// sessionkit makes for `/count` with a cookie (a load, then a write of the changed session), driven
// directly, `--concurrency` sessions at a time. sessionkit/redis and sessionkit/postgres load with
// getVersioned (with the touch) and write with setIfVersion; connect-redis and connect-pg-simple with get
// and set. Reported per load + write: this process's CPU µs (the client's encoding and parsing, which a
// shared machine distorts least) and the wall time. Redis on 127.0.0.1:6379 (keys under a prefix of the
// run), PostgreSQL on 127.0.0.1:5432 (a schema of the run); both removed afterwards.
// --redis-url points the Redis stores at another server (one of your own, e.g. `redis-server --port 6391
// --save ''`, keeps other users of a shared Redis out of the figures).
//   npm run build && node bench/store-ops.mjs [--n=5000] [--rounds=3] [--concurrency=50] [--stores=connect-redis,sessionkit/redis,connect-pg-simple,sessionkit/postgres] [--cpu-prof-store=sessionkit/redis] [--redis-url=redis://127.0.0.1:6379]
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { Session as InspectorSession } from 'node:inspector/promises'
import { mkdirSync, writeFileSync } from 'node:fs'

const require = createRequire(import.meta.url)
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
const n = Number(args.n ?? 5000)
const rounds = Number(args.rounds ?? 3)
const concurrency = Number(args.concurrency ?? 50)
const stores = (args.stores ?? 'connect-redis,sessionkit/redis,connect-pg-simple,sessionkit/postgres').split(',')
const run = randomBytes(4).toString('hex')
const session = require('../dist/cjs/sessionkit.cjs')

async function open(kind) {
  if (kind.endsWith('redis')) {
    const client = require('redis').createClient({ url: args['redis-url'] ?? 'redis://127.0.0.1:6379' })
    await client.connect()
    const prefix = `bench-store-ops-${run}-${kind.replace('/', '-')}:`
    const store = kind === 'connect-redis' ? new (require('connect-redis').RedisStore)({ client, prefix }) : new (require('../dist/cjs/store/redis/redis-store.js').RedisStore)({ client, prefix })
    return {
      store,
      close: async () => {
        for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
          const list = Array.isArray(keys) ? keys : [keys]
          if (list.length > 0) await client.del(list)
        }
        await client.close()
      },
    }
  }
  const pool = new (require('pg').Pool)({ host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres', max: 10 })
  pool.on('error', (err) => console.error('postgres:', err.message))
  const schema = `bench_store_ops_${run}_${kind.replace(/\W/g, '_')}`
  await pool.query(`CREATE SCHEMA "${schema}"`)
  const store =
    kind === 'connect-pg-simple'
      ? new (require('connect-pg-simple')(session))({ pool, schemaName: schema, createTableIfMissing: true, pruneSessionInterval: false })
      : new (require('../dist/cjs/store/postgres/postgres-store.js').PostgresStore)({ pool, schemaName: schema, createTable: true, pruneInterval: 0 })
  return {
    store,
    close: async () => {
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`)
      await pool.end()
    },
  }
}

const call = (store, method, ...a) => new Promise((resolve, reject) => store[method](...a, (err, result) => (err ? reject(err) : resolve(result))))
const record = (n) => ({ n, cookie: { originalMaxAge: 86_400_000, expires: new Date(Date.now() + 86_400_000).toISOString(), httpOnly: true, path: '/' } })

/** One `/count`: load the session, add one, write it back. */
async function count(kind, store, sid) {
  if (kind.startsWith('sessionkit/')) {
    const found = await call(store, 'getVersioned', sid, { touch: true })
    const outcome = await call(store, 'setIfVersion', sid, record(found.record.n + 1), found.version)
    if (!outcome.written) throw new Error(`${kind}: the write found ${outcome.reason}`)
  } else {
    const found = await call(store, 'get', sid)
    await call(store, 'set', sid, record(found.n + 1))
  }
}

async function measure(kind, store) {
  const ids = Array.from({ length: concurrency }, (_, i) => `${run}-${i}`)
  for (const sid of ids) {
    if (kind.startsWith('sessionkit/')) await call(store, 'setIfVersion', sid, record(0), null)
    else await call(store, 'set', sid, record(0))
  }
  let next = 0
  const cpu = process.cpuUsage()
  const started = performance.now()
  await Promise.all(
    ids.map(async (sid) => {
      while (next < n) {
        next++
        await count(kind, store, sid)
      }
    }),
  )
  const wall = performance.now() - started
  const used = process.cpuUsage(cpu)
  return { cpuMicros: (used.user + used.system) / n, wallMicros: (wall * 1000) / n }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const opened = {}
for (const kind of stores) opened[kind] = await open(kind)
const results = {}
let profiler
try {
  for (let round = 0; round < rounds; round++) {
    for (const kind of stores) {
      if (args['cpu-prof-store'] === kind && round === rounds - 1) {
        profiler = new InspectorSession()
        profiler.connect()
        await profiler.post('Profiler.enable')
        await profiler.post('Profiler.start')
      }
      ;(results[kind] ??= []).push(await measure(kind, opened[kind].store))
      if (profiler !== undefined) {
        const { profile } = await profiler.post('Profiler.stop')
        mkdirSync('bench/profiles', { recursive: true })
        const file = `bench/profiles/store-ops-${kind.replace('/', '-')}-${Date.now()}.cpuprofile`
        writeFileSync(file, JSON.stringify(profile))
        console.log(`wrote ${file} (node bench/profile-summary.mjs ${file})`)
        profiler.disconnect()
        profiler = undefined
      }
    }
  }
} finally {
  for (const { close } of Object.values(opened)) await close()
}
console.log(`one /count (load + write) per store, ${n} per round, ${concurrency} sessions at a time, median of ${rounds} rounds`)
console.log('| store | client CPU µs | wall µs |\n| --- | --: | --: |')
for (const kind of stores) console.log(`| ${kind} | ${median(results[kind].map((r) => r.cpuMicros)).toFixed(1)} | ${median(results[kind].map((r) => r.wallMicros)).toFixed(1)} |`)
