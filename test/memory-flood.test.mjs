// A capped MemoryStore under a flood of new sessions: sessions that came back for a second request
// (a user reading a page, idle meanwhile) are not evicted by a stream of sessions that never come back,
// however many; the store never holds more than `max`; and what can still evict a session in use.
import assert from 'node:assert/strict'
import { Agent, request as httpRequest } from 'node:http'
import { describe, test } from 'node:test'
import express from 'express'
import session, { MemoryStore } from 'sessionkit'
import { listen, request } from './support/http.mjs'

/** Calls a callback-style store method and resolves with its result. */
function call(store, method, ...args) {
  return new Promise((resolve, reject) => store[method](...args, (err, result) => (err ? reject(err) : resolve(result))))
}

/** A session record as the middleware hands it to a store, expiring in an hour. */
function record(data = {}) {
  return { ...data, cookie: { originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000), path: '/', httpOnly: true } }
}

const quiet = (options) => new MemoryStore({ checkPeriod: 0, ...options })

/** A session as a request that makes it leaves it, then as a second request (the load) leaves it. */
async function seenTwice(store, sid, data) {
  await call(store, 'set', sid, record(data))
  assert.equal((await call(store, 'get', sid)).user, data.user)
}

/** `count` users, each session seen on two requests; their ids. */
async function usersSeenTwice(store, count) {
  const users = Array.from({ length: count }, (_, i) => `user-${i}`)
  for (const sid of users) await seenTwice(store, sid, { user: sid })
  return users
}

describe('MemoryStore with max under a flood of one-request sessions', () => {
  test('sessions used on two requests all survive twenty times max new sessions, and the store never exceeds max', async () => {
    const max = 1000
    const store = quiet({ max })
    const users = await usersSeenTwice(store, 50)
    for (let i = 0; i < 20 * max; i++) {
      await call(store, 'set', `flood-${i}`, record({ visits: 1 }))
      if (i % 997 === 0) assert.ok((await call(store, 'length')) <= max, `more than ${max} sessions after ${i + 1} new ones`)
    }
    assert.equal(await call(store, 'length'), max)
    const kept = []
    for (const sid of users) if ((await call(store, 'get', sid))?.user === sid) kept.push(sid)
    assert.equal(kept.length, users.length, `${users.length - kept.length} of ${users.length} idle users were evicted by the flood`)
    // The rest of the store is the newest of the flood: the oldest new sessions went first.
    assert.ok((await call(store, 'get', `flood-${20 * max - 1}`)) !== null)
    assert.equal(await call(store, 'get', 'flood-0'), null)
  })

  test('a versioned load (what the middleware does) protects as a get does', async () => {
    const store = quiet({ max: 100 })
    await call(store, 'set', 'user', record({ user: 'user' }))
    await call(store, 'getVersioned', 'user', { touch: true })
    for (let i = 0; i < 1000; i++) await call(store, 'set', `flood-${i}`, record())
    assert.equal((await call(store, 'get', 'user'))?.user, 'user')
  })

  test('writes alone do not protect: a session saved twice in one request is as new as any', async () => {
    const store = quiet({ max: 100 })
    await call(store, 'set', 'once', record({ user: 'once' }))
    await call(store, 'set', 'once', record({ user: 'once' }))
    await call(store, 'touch', 'once', record({ user: 'once' }))
    for (let i = 0; i < 1000; i++) await call(store, 'set', `flood-${i}`, record())
    assert.equal(await call(store, 'get', 'once'), null)
  })

  test('new sessions keep room when every session held was used twice', async () => {
    const max = 10
    const store = quiet({ max })
    await usersSeenTwice(store, 3 * max)
    assert.equal(await call(store, 'length'), max)
    // A new session, then its own second request: it was not evicted in between.
    await call(store, 'set', 'newcomer', record({ user: 'newcomer' }))
    assert.equal((await call(store, 'get', 'newcomer'))?.user, 'newcomer')
    assert.equal(await call(store, 'length'), max)
  })
})

describe('MemoryStore with max: what can still evict a session in use', () => {
  test('a new session is kept while fewer than max / 5 sessions come after it, even with protected full', async () => {
    const max = 100
    const store = quiet({ max })
    await usersSeenTwice(store, 2 * max) // protected holds its 80, the rest went back among the new
    await call(store, 'set', 'newcomer', record({ user: 'newcomer' }))
    const held = async () => (await call(store, 'ids')).includes('newcomer') // ids() does not put it in use
    for (let i = 0; i < max / 5 - 1; i++) await call(store, 'set', `flood-${i}`, record())
    assert.ok(await held(), `evicted before ${max / 5} newer sessions`)
    await call(store, 'set', 'one-more', record())
    assert.ok(!(await held()), 'kept past the fifth of max that new sessions have')
  })

  // Protected sessions take at most 80% of max, so that new sessions always have room; the least
  // recently used of them moves back among the new ones when more are protected. So a flood whose
  // sessions each come back for a second request evicts idle users once it has protected more sessions
  // than that share of max: the bound on memory holds, whatever the traffic.
  test('a flood of two-request sessions beyond 80% of max evicts the idle users, and the store never exceeds max', async () => {
    const max = 100
    const store = quiet({ max })
    const users = await usersSeenTwice(store, 20)

    // Fewer two-request sessions than the protected share leaves room for: every user kept.
    for (let i = 0; i < 60; i++) {
      await seenTwice(store, `returning-${i}`, { user: `returning-${i}` })
      assert.ok((await call(store, 'length')) <= max)
    }
    for (const sid of users) assert.notEqual(await call(store, 'get', sid), null, `${sid} evicted early`)

    // Far more: the idle users are the least recently used of the protected ones, and go.
    for (let i = 60; i < 1000; i++) {
      await seenTwice(store, `returning-${i}`, { user: `returning-${i}` })
      assert.ok((await call(store, 'length')) <= max, `more than ${max} sessions`)
    }
    for (const sid of users) assert.equal(await call(store, 'get', sid), null, `${sid} kept`)
    assert.equal(await call(store, 'length'), max)
  })
})

describe('over HTTP: a capped MemoryStore and a flood of new-session requests', () => {
  test('100 users logged in and idle stay logged in through a flood of four times max new sessions', async () => {
    const max = 250
    const store = new MemoryStore({ max })
    const app = express()
    app.use(session({ secret: 'flood test secret', store, resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }))
    app.get('/login', (req, res, next) => {
      req.session.regenerate((err) => {
        if (err) return next(err)
        req.session.user = String(req.query.user)
        res.send('logged in')
      })
    })
    app.get('/me', (req, res) => (req.session.user === undefined ? res.status(401).send('anonymous') : res.send(req.session.user)))
    app.get('/visit', (req, res) => {
      req.session.visits = (req.session.visits ?? 0) + 1
      res.send('hello')
    })
    const { base, close } = await listen(app)
    try {
      const users = []
      for (let i = 0; i < 100; i++) {
        const login = await request(base, `/login?user=u${i}`)
        assert.equal(login.status, 200)
        assert.ok(login.cookie, 'the login sets the session cookie')
        const me = await request(base, '/me', { cookie: login.cookie })
        assert.equal(me.text, `u${i}`)
        users.push({ name: `u${i}`, cookie: login.cookie })
      }

      // The flood: clients that never send a cookie back, each request a new session.
      const FLOOD = 4 * max
      const CLIENTS = 16
      const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS })
      let sent = 0
      let created = 0
      try {
        await Promise.all(
          Array.from({ length: CLIENTS }, async () => {
            while (sent < FLOOD) {
              sent++
              const { status, setCookie } = await visit(base, agent)
              assert.equal(status, 200)
              if (setCookie) created++
            }
          }),
        )
      } finally {
        agent.destroy()
      }
      assert.equal(created, FLOOD, 'each flood request made a session')
      assert.ok((await call(store, 'length')) <= max, `the store holds more than ${max} sessions`)

      const loggedOut = []
      for (const user of users) {
        const me = await request(base, '/me', { cookie: user.cookie })
        if (me.text !== user.name) loggedOut.push(user.name)
      }
      assert.deepEqual(loggedOut, [], `${loggedOut.length} of ${users.length} idle users were logged out by the flood`)
    } finally {
      store.close()
      await close()
    }
  })
})

/** GET /visit without a cookie, over a keep-alive agent (lighter than fetch, so the flood is quick). */
function visit(base, agent) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/visit`, { agent, timeout: 10_000 }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode, setCookie: res.headers['set-cookie'] !== undefined }))
    })
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')))
    req.on('error', reject)
    req.end()
  })
}
