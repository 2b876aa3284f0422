// "Log out everywhere" racing a request of the same user that is in flight, in one process: the
// request loaded the session before destroySessionsOf ran and saves it after, and the session must stay
// destroyed. Checked with and without hashIds (the store then holds a keyed hash of the id, and
// destroySessionsOf works in those store keys while the request works in ids), on MemoryStore and on
// connect-redis, found by a scan of the store or through a RedisIndex. Bounded: 200 trials per case,
// every key under a prefix of this run's own on the Redis at 127.0.0.1:6379.
import assert from 'node:assert/strict'
import { createHmac, hkdfSync, randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'
import { setImmediate as turn } from 'node:timers/promises'
import express from 'express'
import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'
import session, { MemoryStore, RedisIndex } from 'sessionkit'
import { listen, request } from './support/http.mjs'
import { requireService } from './support/services.mjs'

const TRIALS = 200
const SECRET = 'a race between a logout everywhere and a save'
const { skip: noRedis } = await requireService('redis')
const prefix = `sk-hashed-race-${randomUUID()}:`
let client

before(async () => {
  if (noRedis) return
  client = createClient({ url: 'redis://127.0.0.1:6379' })
  await client.connect()
})
after(async () => {
  if (!client) return
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    const list = Array.isArray(keys) ? keys : [keys]
    if (list.length > 0) await client.del(list)
  }
  await client.close()
})

/** A server whose /work request holds its loaded session until the test lets it go, then changes and saves it. */
function raceServer(options) {
  const middleware = session({ secret: SECRET, resave: false, saveUninitialized: false, indexBy: 'userId', ...options })
  const app = express()
  app.use(middleware)
  const waiting = new Map()
  app.get('/login/:user', (req, res) => {
    req.session.userId = req.params.user
    res.send(req.sessionID)
  })
  app.get('/work/:user', async (req, res) => {
    req.session.visits = (req.session.visits ?? 0) + 1
    await new Promise((release) => waiting.get(req.params.user)?.(release))
    res.send('worked')
  })
  app.get('/me', (req, res) => res.send(String(req.session.userId ?? 'nobody')))
  // The save refused because the session was destroyed meanwhile answers 409 SESSION_GONE.
  app.use((err, req, res, next) => res.status(err.status ?? 500).send(err.code))
  /** Resolves with the function that lets user's /work request go on, once that request has loaded its session. */
  const reached = (user) => new Promise((resolve) => waiting.set(user, resolve))
  return { app, middleware, reached }
}

/** The store key of a session id: the id, or with hashIds the keyed hash sessionkit documents. */
function storeKeyOf(sid, hashIds) {
  if (!hashIds) return sid
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(SECRET), Buffer.from('sessionkit ids at rest'), 'store key v1', 32))
  return createHmac('sha256', key).update(sid).digest('base64url')
}

/**
 * One trial: the user logs in; a /work request loads the session and waits; destroySessionsOf runs and
 * the request is let go at a varying point (with the destroy, a few turns into it, after it). Returns
 * whether the session is alive afterwards, to the app or in the store.
 */
async function trial(server, base, holds, hashIds, i) {
  const user = `u${i}`
  const login = await request(base, `/login/${user}`)
  const reached = server.reached(user)
  const work = request(base, `/work/${user}`, { cookie: login.cookie })
  const release = await reached
  const destroyed = server.middleware.destroySessionsOf(user)
  const mode = i % 3
  if (mode === 1) for (let n = 0; n < i % 7; n++) await turn()
  if (mode === 2) await destroyed
  release()
  assert.equal(await destroyed, 1, 'the session was found and destroyed')
  await work
  const seen = (await request(base, '/me', { cookie: login.cookie })).text
  return seen !== 'nobody' || Boolean(await holds(storeKeyOf(login.text, hashIds)))
}

const cases = [
  {
    name: 'MemoryStore',
    make: () => {
      const store = new MemoryStore()
      return { options: { store }, holds: (key) => new Promise((resolve, reject) => store.get(key, (err, found) => (err ? reject(err) : resolve(found)))) }
    },
  },
  {
    name: 'connect-redis, found by a scan of the store',
    redis: true,
    make: (run) => {
      const store = new RedisStore({ client, prefix: `${prefix}${run}:sess:` })
      return { options: { store }, holds: (key) => client.exists(`${prefix}${run}:sess:${key}`).then((n) => n > 0) }
    },
  },
  {
    name: 'connect-redis with a RedisIndex',
    redis: true,
    make: (run) => {
      const store = new RedisStore({ client, prefix: `${prefix}${run}:sess:` })
      const index = new RedisIndex(client, { prefix: `${prefix}${run}:owner:` })
      return { options: { store, index }, holds: (key) => client.exists(`${prefix}${run}:sess:${key}`).then((n) => n > 0) }
    },
  },
]

for (const kind of cases) {
  for (const hashIds of [false, true]) {
    const run = `${kind.name.replace(/\W+/g, '-')}-${hashIds ? 'hashed' : 'raw'}`
    test(`${TRIALS} logouts everywhere racing a save in flight, ${hashIds ? 'with' : 'without'} hashIds — ${kind.name}: 0 sessions alive`, { skip: kind.redis ? noRedis : false }, async (t) => {
      const made = kind.make(run)
      const server = raceServer({ ...made.options, hashIds })
      const { base, close } = await listen(server.app)
      let alive = 0
      try {
        for (let i = 0; i < TRIALS; i++) if (await trial(server, base, made.holds, hashIds, i)) alive++
      } finally {
        await close()
      }
      t.diagnostic(`sessions alive after ${TRIALS} races: ${alive}`)
      assert.equal(alive, 0, 'no session destroyed by destroySessionsOf may be written back by the request in flight')
    })
  }
}
