// The first-party stores across their database's outages, with servers of this test's own (a
// PostgreSQL made with initdb on 55432, a Redis on 7180 that persists every write): a store made while
// its database is down works once it is up; and the README's set-up of each store, run as written in
// a server process of its own, survives restarts of its database under bounded load with idle pooled
// connections: the process never crashes, requests fail only while the database is away, and every
// session whose save was acknowledged is read back after.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { after, describe, test } from 'node:test'
import pg from 'pg'
import { createClient } from 'redis'
import { Cookie } from 'sessionkit'
import { PostgresStore } from 'sessionkit/postgres'
import { RedisStore } from 'sessionkit/redis'
import { createPostgres, missingPostgresBinaries } from './support/pg-server.mjs'
import { missingRedisBinaries, persistentRedis } from './support/redis-servers.mjs'

const PG_PORT = 55432
const REDIS_PORT = 7180
const pgSkip = missingPostgresBinaries()
const redisSkip = missingRedisBinaries()
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const USERS = 10
// A request that fails must have been in flight during an outage or started within this long after
// the database answered again: node-redis waits up to about 2.2 s between reconnect attempts.
const RECOVERY_MS = 3500

/** The server process: restart-app.mjs running README snippet `name`. Resolves once it listens. */
async function startApp(name, env, t) {
  const child = spawn(process.execPath, [new URL('./support/restart-app.mjs', import.meta.url).pathname, name], {
    env: { ...process.env, ...env, SESSION_SECRET: 'restart test secret', NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const app = { child, stderr: '', exit: null }
  child.stderr.on('data', (chunk) => (app.stderr += chunk))
  child.once('exit', (code, signal) => (app.exit = { code, signal }))
  t.after(() => {
    if (app.exit === null) child.kill('SIGKILL')
  })
  const lines = createInterface({ input: child.stdout })
  app.base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the app did not start: ${app.stderr}`)), 15_000)
    lines.on('line', (line) => {
      const port = /^listening (\d+)$/.exec(line)?.[1]
      if (port) {
        clearTimeout(timer)
        resolve(`http://127.0.0.1:${port}`)
      }
    })
    child.once('exit', () => reject(new Error(`the app exited before listening: ${app.stderr}`)))
  })
  // The snippet connects its client in the background, as an app does, and with disableOfflineQueue a
  // request before that is a 503: wait (bounded) until a login goes through, as a health check would.
  const ready = Date.now() + 15_000
  while ((await call(app.base, '/login?user=ready-check')).status !== 200) {
    if (Date.now() > ready) throw new Error(`the app's store did not become ready: ${app.stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return app
}

/** One request: its status, its JSON (on a 200), when it started and ended, its cookie. */
async function call(base, path, cookie) {
  const started = Date.now()
  try {
    const response = await fetch(base + path, { headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(5000) })
    const text = await response.text()
    const setCookie = response.headers.getSetCookie()[0]
    return { status: response.status, body: response.status === 200 ? JSON.parse(text) : text, started, ended: Date.now(), cookie: setCookie ? setCookie.split(';')[0] : cookie }
  } catch (err) {
    return { status: 0, body: String(err?.cause?.code ?? err?.message), started, ended: Date.now(), cookie }
  }
}

/**
 * Logs USERS users in, then runs `concurrency` of them at a time, each incrementing its counter over
 * and over, while `outages` (an async function that takes the database away and brings it back,
 * recording when) runs. Resolves with every request, the last counter acknowledged per user, and
 * the outage windows.
 */
async function underLoad(app, { concurrency, outages }) {
  const users = []
  for (let i = 0; i < USERS; i++) {
    const login = await call(app.base, `/login?user=u${i}`)
    assert.equal(login.status, 200, `login before any outage: ${login.body}`)
    users.push({ name: `u${i}`, cookie: login.cookie, acknowledged: 0 })
  }
  // Every user at once: the pool opens several connections, most of them idle during the load below.
  await Promise.all(users.map((user) => call(app.base, '/read', user.cookie)))
  const requests = []
  const windows = []
  let running = true
  const worker = async (first) => {
    for (let round = 0; running && round < 100_000; round++) {
      const user = users[(first + round * concurrency) % USERS]
      const result = await call(app.base, '/count', user.cookie)
      requests.push(result)
      if (result.status === 200) user.acknowledged = Math.max(user.acknowledged, result.body.n)
      else await sleep(20) // a failing store answers at once: no busy loop during the outage
    }
  }
  const workers = Array.from({ length: concurrency }, (_, i) => worker(i))
  await sleep(800)
  await outages(windows)
  await sleep(RECOVERY_MS + 1500)
  running = false
  await Promise.all(workers)
  return { requests, users, windows }
}

/** The checks every restart run makes. */
async function assertSurvived(app, { requests, users, windows }) {
  assert.equal(app.exit, null, `the app process ended: ${JSON.stringify(app.exit)}\n${app.stderr}`)
  assert.doesNotMatch(app.stderr, /Unhandled|uncaught/i)
  const failed = requests.filter((r) => r.status !== 200)
  const outside = failed.filter((r) => !windows.some((w) => r.ended >= w.down && r.started <= w.up + RECOVERY_MS))
  assert.deepEqual(outside.map((r) => `${r.status} ${r.body}`), [], 'requests failed outside the outages')
  assert.ok(failed.length > 0, 'no request met an outage: the test did not test it')
  assert.ok(failed.every((r) => r.status === 503), `failures other than 503: ${failed.filter((r) => r.status !== 503).map((r) => `${r.status} ${r.body}`).slice(0, 5)}`)
  const last = windows.at(-1)
  const after = requests.filter((r) => r.started > last.up + RECOVERY_MS)
  assert.ok(after.length > 0 && after.every((r) => r.status === 200), 'requests after the last outage')
  for (const user of users) {
    const read = await call(app.base, '/read', user.cookie)
    assert.equal(read.status, 200, read.body)
    assert.equal(read.body.userId, user.name)
    // A save the database made but whose answer the outage cut counts higher; never lower.
    assert.ok(read.body.n >= user.acknowledged, `${user.name}: ${read.body.n} stored, ${user.acknowledged} acknowledged`)
  }
  // How long after the database answered again the last failed request ended, per outage.
  const tail = windows.map((w, i) => Math.max(0, ...failed.filter((r) => r.ended >= w.down && r.ended < (windows[i + 1]?.down ?? Infinity)).map((r) => r.ended - w.up)))
  return { requests: requests.length, failed: failed.length, tail }
}

const record = (data) => ({ ...data, cookie: new Cookie({ maxAge: 60_000 }) })

describe('sessionkit/postgres across PostgreSQL restarts', { skip: pgSkip }, () => {
  let server
  after(() => server?.remove())

  test('a store made with createTable while PostgreSQL is down creates its table once it is up', async (t) => {
    server = await createPostgres({ port: PG_PORT })
    const pool = new pg.Pool({ connectionString: server.url, max: 2 })
    pool.on('error', () => {})
    t.after(() => pool.end())
    const store = new PostgresStore({ pool, createTable: true, tableName: 'made_while_down', pruneInterval: 0 })
    await assert.rejects(store.get('early'), /ECONNREFUSED|connect/)
    await assert.rejects(store.set('early', record({ n: 1 })), /ECONNREFUSED|connect/)
    await server.start()
    assert.equal(await store.get('early'), null)
    await store.set('later', record({ n: 2 }))
    assert.equal((await store.get('later')).n, 2)
  })

  test('the README set-up survives a fast and an immediate restart under load, with idle pooled connections', async (t) => {
    if (server === undefined) {
      server = await createPostgres({ port: PG_PORT })
      await server.start()
    }
    const app = await startApp('sessionkit-postgres', { DATABASE_URL: server.url }, t)
    const admin = async (text) => {
      const client = new pg.Client({ connectionString: server.url })
      await client.connect()
      try {
        return (await client.query(text)).rows
      } finally {
        await client.end()
      }
    }
    let idleAtStop = 0
    const result = await underLoad(app, {
      concurrency: 3,
      outages: async (windows) => {
        for (const mode of ['fast', 'immediate']) {
          idleAtStop = Math.max(idleAtStop, Number((await admin(`SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'idle' AND application_name = ''`))[0].n))
          const down = Date.now()
          await server.stop(mode)
          await sleep(1000)
          await server.start()
          windows.push({ mode, down, up: Date.now() })
          await sleep(RECOVERY_MS)
        }
      },
    })
    const counts = await assertSurvived(app, result)
    // "terminating connection due to administrator command" reached idle pooled connections (one is
    // enough to end a process without a listener; the burst after the logins usually leaves 3 to 8).
    assert.ok(idleAtStop >= 1, `no idle pooled connection when PostgreSQL stopped`)
    t.diagnostic(`${counts.requests} requests, ${counts.failed} failed during 2 outages (the last ${counts.tail.join(' and ')} ms after PostgreSQL was back), ${idleAtStop} idle pooled connections at a stop`)
  })
})

describe('sessionkit/redis across Redis restarts', { skip: redisSkip }, () => {
  let server
  after(() => server?.stop())

  test('a store made while Redis is down works once it is up, its scripts sent again', async (t) => {
    server = persistentRedis(REDIS_PORT)
    const client = createClient({ url: `redis://127.0.0.1:${REDIS_PORT}`, disableOfflineQueue: true, socket: { reconnectStrategy: () => 100 } })
    client.on('error', () => {})
    client.connect().catch(() => {})
    t.after(() => client.destroy())
    const store = new RedisStore({ client, prefix: 'restart-test:' })
    await assert.rejects(store.getVersioned('early', { touch: true }))
    await assert.rejects(store.set('early', record({ n: 1 })))
    await server.start()
    for (let i = 0; i < 50 && !client.isReady; i++) await sleep(100)
    assert.equal(await store.getVersioned('early', { touch: true }), null)
    await store.set('later', record({ n: 2 }))
    assert.equal((await store.getVersioned('later', { touch: true })).record.n, 2)
  })

  test('the README set-up survives SIGKILLs of Redis under load', async (t) => {
    if (server === undefined) {
      server = persistentRedis(REDIS_PORT)
      await server.start()
    }
    const app = await startApp('sessionkit-redis', { REDIS_URL: `redis://127.0.0.1:${REDIS_PORT}` }, t)
    const result = await underLoad(app, {
      concurrency: 3,
      outages: async (windows) => {
        for (let i = 0; i < 2; i++) {
          const down = Date.now()
          await server.kill('SIGKILL')
          await sleep(1000)
          await server.start()
          windows.push({ down, up: Date.now() })
          await sleep(RECOVERY_MS)
        }
      },
    })
    const counts = await assertSurvived(app, result)
    t.diagnostic(`${counts.requests} requests, ${counts.failed} failed during 2 outages (the last ${counts.tail.join(' and ')} ms after Redis was back)`)
  })
})
