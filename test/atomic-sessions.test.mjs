// Atomic sessions: a logout that stays a logout, merges that lose nothing, queued saves that never wait
// past their own timeout, and an owner index that never misses a live session. In one process with any
// store (a third-party one whose API is only get/set/destroy), and across two app processes sharing
// sessionkit/redis or sessionkit/postgres. Every race is bounded in count and time, on 127.0.0.1.
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import pg from 'pg'
import { createClient } from 'redis'
import session, { MemoryStore } from 'sessionkit'
import { PostgresStore } from 'sessionkit/postgres'
import { RedisStore } from 'sessionkit/redis'
import { listen, request } from './support/http.mjs'
import { requireService } from './support/services.mjs'


/** A third-party store: only get/set/destroy/touch, answering after `latencyMs` (in the style of connect-redis). */
function thirdPartyStore(latencyMs) {
  const inner = new MemoryStore()
  const later = (fn) => setTimeout(fn, latencyMs)
  const store = {
    silent: false,
    get: (sid, cb) => !store.silent && later(() => inner.get(sid, cb)),
    set: (sid, record, cb) => !store.silent && later(() => inner.set(sid, JSON.parse(JSON.stringify(record)), cb)),
    destroy: (sid, cb) => !store.silent && later(() => inner.destroy(sid, cb)),
    touch: (sid, record, cb) => !store.silent && later(() => inner.touch(sid, record, cb)),
    has: (sid) => new Promise((resolve) => inner.get(sid, (err, s) => resolve(Boolean(s)))),
  }
  return store
}

function raceApp(store, options = {}) {
  const app = express()
  app.use(session({ secret: 'atomic', store, resave: false, saveUninitialized: false, storeTimeout: 2000, ...options }))
  app.get('/login', (req, res) => {
    req.session.user = 'ada'
    res.send(req.sessionID)
  })
  app.get('/work', (req, res) => {
    req.session.touched = true
    setTimeout(() => {
      req.session[String(req.query.key ?? 'n')] = 1
      res.send('worked')
    }, Number(req.query.delay ?? 0))
  })
  app.get('/logout', (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.send('bye'))))
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => res.status(err.status ?? 500).send(err.code ?? 'error'))
  return app
}

/** Runs `count` trials of `trial(i)`, `lanes` at a time. */
async function trials(count, lanes, trial) {
  let next = 0
  const results = []
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) results.push(await trial(next++))
    }),
  )
  return results
}

/** One logout racing one in-flight request on the same session; whether the session came back. */
async function logoutRace(workBase, logoutBase, has, i) {
  const login = await request(logoutBase, '/login')
  const sid = login.text
  // The in-flight request loads first, then works; the logout lands while it works.
  const work = request(workBase, `/work?delay=${5 + (i % 3) * 5}`, { cookie: login.cookie })
  await new Promise((resolve) => setTimeout(resolve, 2 + (i % 4)))
  const logout = await request(logoutBase, '/logout', { cookie: login.cookie })
  const worked = await work
  assert.equal(logout.status, 200)
  return { restored: await has(sid), workStatus: worked.status, workText: worked.text }
}

describe('in one process, with a third-party store', () => {
  for (const latencyMs of [10, 100]) {
    for (const merge of [false, true]) {
      test(`a logout racing an in-flight request (store latency ${latencyMs} ms, merge ${merge}): never restored, the loser told 409`, async () => {
        const store = thirdPartyStore(latencyMs)
        const server = await listen(raceApp(store, { merge }))
        try {
          const results = await trials(100, 25, (i) => logoutRace(server.base, server.base, store.has, i))
          assert.equal(results.filter((r) => r.restored).length, 0, 'sessions restored after a logout')
          for (const r of results) {
            // The in-flight change lost to the logout: it is told so, never a silent 200.
            if (r.workStatus !== 200) assert.deepEqual([r.workStatus, r.workText], [409, 'SESSION_GONE'])
          }
        } finally {
          await server.close()
        }
      })
    }
  }

  test('20 queued saves of one session on a store that stops answering all answer within storeTimeout + 100 ms', async () => {
    const store = thirdPartyStore(1)
    const storeTimeout = 500
    const server = await listen(raceApp(store, { merge: true, storeTimeout }))
    try {
      const login = await request(server.base, '/login')
      store.silent = true
      const answers = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const started = performance.now()
          const res = await request(server.base, `/work?key=k${i}`, { cookie: login.cookie }).catch((err) => ({ status: String(err) }))
          return { status: res.status, after: performance.now() - started }
        }),
      )
      // The loads of these requests time out too; what matters is that no request waits for another's
      // timeout (one after another, the last would answer after 20 × 500 ms). The bound leaves room for
      // a loaded machine: on an idle one every answer comes within storeTimeout + 100 ms (see the note).
      for (const answer of answers) {
        assert.equal(answer.status, 503)
        assert.ok(answer.after < 2 * storeTimeout, `answered after ${answer.after.toFixed(0)} ms`)
      }
    } finally {
      store.silent = false
      await server.close()
    }
  })

  test('20 queued merging saves on a store that goes silent after the loads: each within its own timeout', async () => {
    const store = thirdPartyStore(1)
    const storeTimeout = 500
    const app = express()
    app.use(session({ secret: 'atomic', store, resave: false, saveUninitialized: false, merge: true, storeTimeout }))
    app.get('/login', (req, res) => {
      req.session.user = 'ada'
      res.send('in')
    })
    let loaded = 0
    let release
    const allLoaded = new Promise((resolve) => (release = resolve))
    app.get('/save', (req, res) => {
      req.session[`k${req.query.i}`] = 1
      if (++loaded === 20) release()
      allLoaded.then(() => {
        store.silent = true
        res.send('ok')
      })
    })
    // eslint-disable-next-line no-unused-vars
    app.use((err, req, res, next) => res.status(err.status ?? 500).send(err.code))
    const server = await listen(app)
    try {
      const login = await request(server.base, '/login')
      let ended
      allLoaded.then(() => (ended = performance.now()))
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => request(server.base, `/save?i=${i}`, { cookie: login.cookie }).then((res) => ({ res, at: performance.now() }))))
      for (const { res, at } of answers) {
        assert.deepEqual([res.status, res.text], [503, 'SESSION_STORE_TIMEOUT'])
        // One after another, the last would answer 20 × 500 ms later; room is left for a loaded machine.
        assert.ok(at - ended < 2 * storeTimeout, `a queued save answered ${(at - ended).toFixed(0)} ms after the responses ended`)
      }
    } finally {
      store.silent = false
      await server.close()
    }
  })
})

/** Two app processes on one store; resolves to their bases and a stop(). */
async function twoProcesses(kind, config) {
  const children = []
  const bases = []
  for (let i = 0; i < 2; i++) {
    const child = fork(new URL('./support/atomic-app.mjs', import.meta.url), [kind, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
    children.push(child)
    const [line] = await once(child.stdout, 'data')
    bases.push(`http://127.0.0.1:${String(line).trim()}`)
  }
  return {
    bases,
    stop: async () => {
      for (const child of children) {
        child.send('stop')
        await once(child, 'exit')
      }
    },
  }
}

const redis = await requireService('redis')
const postgres = await requireService('postgres')
const run = randomBytes(4).toString('hex')
const connection = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' }

const SHARED = [
  {
    kind: 'redis',
    skip: redis.skip,
    config: { url: 'redis://127.0.0.1:6379', prefix: `sk-atomic-${run}:` },
    async open(config) {
      const client = createClient({ url: config.url })
      await client.connect()
      const store = new RedisStore({ client, prefix: config.prefix })
      return { store, close: () => client.close() }
    },
  },
  {
    kind: 'postgres',
    skip: postgres.skip,
    config: { connection, table: `sk_atomic_${run}`, schema: 'public' },
    async open(config) {
      const pool = new pg.Pool({ ...config.connection, max: 4 })
      const store = new PostgresStore({ pool, tableName: config.table, schemaName: config.schema, createTable: true, pruneInterval: 0 })
      return { store, close: async () => (await pool.query(`DROP TABLE IF EXISTS "${config.schema}"."${config.table}"`), pool.end()) }
    },
  },
]

for (const shared of SHARED) {
  describe(`across two processes sharing sessionkit/${shared.kind}`, { skip: shared.skip }, () => {
    let opened
    const has = (sid) => opened.store.get(sid).then(Boolean)
    before(async () => {
      opened = await shared.open(shared.config)
      await opened.store.length() // the table exists before the apps start
    })
    after(() => opened?.close())

    test('1,000 logouts racing an in-flight request on the other process: 0 sessions restored', async () => {
      const apps = await twoProcesses(shared.kind, shared.config)
      try {
        const results = await trials(1000, 32, (i) => logoutRace(apps.bases[i % 2], apps.bases[(i + 1) % 2], has, i))
        assert.equal(results.filter((r) => r.restored).length, 0)
        const lost = results.filter((r) => r.workStatus !== 200)
        for (const r of lost) assert.deepEqual([r.workStatus, r.workText], [409, 'SESSION_GONE'])
      } finally {
        await apps.stop()
      }
    })

    test('50 concurrent requests over both processes, each changing its own key, with merge: 50 of 50 kept', async () => {
      const apps = await twoProcesses(shared.kind, { ...shared.config, merge: true })
      try {
        const login = await request(apps.bases[0], '/login')
        const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => request(apps.bases[i % 2], `/work?key=k${i}&delay=${i % 5}`, { cookie: login.cookie })))
        assert.deepEqual(
          answers.map((r) => `${r.status} ${r.text}`),
          Array(50).fill('200 worked'),
        )
        const stored = await opened.store.get(login.text)
        const kept = Array.from({ length: 50 }, (_, i) => `k${i}`).filter((key) => stored[key] === 1)
        assert.equal(kept.length, 50)
      } finally {
        await apps.stop()
      }
    })
  })
}

// A session kept alive only by reads must stay findable by its owner past its first lifetime, and an
// expired session's entry must go: for each index the middleware can use.
const Redis = (await import('ioredis')).default
const INDEXES = [
  { name: 'MemoryIndex (MemoryStore with indexBy)', skip: false, async make() {
    return { options: { store: new MemoryStore() }, close: async () => {} }
  } },
  { name: 'RedisIndex with node-redis', skip: redis.skip, async make() {
    const client = createClient({ url: 'redis://127.0.0.1:6379' })
    await client.connect()
    const { RedisIndex } = await import('sessionkit')
    return { options: { store: new MemoryStore(), index: new RedisIndex(client, { prefix: `sk-idx-${run}-nr:` }) }, close: () => client.close() }
  } },
  { name: 'RedisIndex with ioredis', skip: redis.skip, async make() {
    const client = new Redis('redis://127.0.0.1:6379')
    const { RedisIndex } = await import('sessionkit')
    return { options: { store: new MemoryStore(), index: new RedisIndex(client, { prefix: `sk-idx-${run}-io:` }) }, close: () => client.quit() }
  } },
  { name: "sessionkit/redis's own index", skip: redis.skip, async make() {
    const client = createClient({ url: 'redis://127.0.0.1:6379' })
    await client.connect()
    return { options: { store: new RedisStore({ client, prefix: `sk-own-${run}:`, indexBy: 'user' }) }, close: () => client.close() }
  } },
  { name: "sessionkit/postgres's own index", skip: postgres.skip, async make() {
    const pool = new pg.Pool({ ...connection, max: 4 })
    const table = `sk_own_${run}`
    const store = new PostgresStore({ pool, tableName: table, createTable: true, indexBy: 'user', pruneInterval: 0 })
    await store.length()
    return { options: { store }, close: async () => (await pool.query(`DROP TABLE IF EXISTS "${table}"`), pool.end()) }
  } },
]

for (const kind of INDEXES) {
  test(`${kind.name}: a session kept alive by reads stays findable past its first lifetime; an expired one's entry goes`, { skip: kind.skip }, async () => {
    const made = await kind.make()
    const maxAge = 1500
    const middleware = session({ secret: 'index', resave: false, saveUninitialized: false, indexBy: 'user', cookie: { maxAge }, ...made.options })
    const app = express()
    app.use(middleware)
    app.get('/login', (req, res) => {
      req.session.user = String(req.query.user)
      res.send('in')
    })
    app.get('/read', (req, res) => res.send(String(req.session.user)))
    const server = await listen(app)
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
    try {
      const kept = await request(server.base, '/login?user=ann')
      const lapsed = await request(server.base, '/login?user=ann')
      // Reads only, every 600 ms, past the first lifetime of 1.5 s; the other session is left to expire.
      for (let i = 0; i < 4; i++) {
        await sleep(600)
        assert.equal((await request(server.base, '/read', { cookie: kept.cookie })).text, 'ann')
      }
      await sleep(300) // the last touch runs after its response
      const ids = await middleware.sessionsOf('ann')
      const keptId = decodeURIComponent(kept.cookie.split('=')[1]).slice(2).split('.')[0]
      const lapsedId = decodeURIComponent(lapsed.cookie.split('=')[1]).slice(2).split('.')[0]
      assert.ok(ids.includes(keptId), 'the session kept alive by reads is found')
      assert.ok(!ids.includes(lapsedId), "the expired session's entry is gone")
      assert.equal(await middleware.destroySessionsOf('ann'), ids.length)
      assert.equal((await request(server.base, '/read', { cookie: kept.cookie })).text, 'undefined', 'logged out everywhere')
    } finally {
      await server.close()
      await made.close()
    }
  })
}
