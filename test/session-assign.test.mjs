// `req.session = { ... }` (assigning an object) means one thing in both modes: a new session under a
// new id holding that object's values, the old one ended as destroy() ends it (in store mode its record
// is removed from the store). `req.session = null` keeps its meaning in each mode. Over real HTTP on
// Express 5, with the in-memory store.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import express from 'express'
import session, { cookieSession, MemoryStore } from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'

const SECRET = 'a long random secret for the assignment tests, 32+ bytes'

/** An Express 5 app on `middleware` with the routes these tests use; `events` collects its event types. */
async function start(middleware) {
  const events = []
  middleware.on('event', (event) => events.push(event.type))
  const app = express()
  app.use(middleware)
  app.post('/login', (req, res) => {
    req.session.user = 'amy'
    req.session.cart = [1, 2]
    res.send('logged in')
  })
  app.get('/whoami', (req, res) => res.json({ user: req.session.user ?? null, cart: req.session.cart ?? null, note: req.session.note ?? null, id: req.sessionID }))
  app.post('/reset', (req, res) => {
    req.session = {}
    res.send('reset')
  })
  app.post('/reset-with', (req, res) => {
    const before = req.sessionID
    req.session = { note: 'hello', cookie: 'not a cookie', id: 'not an id' }
    // Read back in the same request: the new session, with the object's values and a new id.
    res.json({ before, after: req.sessionID, sessionId: req.session.id, note: req.session.note, user: req.session.user ?? null, cookieIsObject: typeof req.session.cookie === 'object' })
  })
  app.post('/null', (req, res) => {
    req.session = null
    res.send('nulled')
  })
  app.use((err, req, res, next) => {
    res.status(err.status ?? 500).json({ code: err.code ?? null, message: err.message })
  })
  const { base, close } = await listen(app)
  return { base, close, events }
}

const stored = (store, sid) => new Promise((resolve, reject) => store.get(sid, (err, record) => (err ? reject(err) : resolve(record ?? null))))
const isCleared = (header) => header !== undefined && Date.parse(parseSetCookie(header).expires) <= Date.now()
const sessionCookieOf = (response, name) => response.setCookies.find((header) => header.startsWith(`${name}=`))

async function logIn(base) {
  const login = await request(base, '/login', { method: 'POST' })
  assert.equal(login.status, 200)
  assert.ok(login.cookie, 'the login sends a cookie')
  const who = JSON.parse((await request(base, '/whoami', { cookie: login.cookie })).text)
  assert.equal(who.user, 'amy')
  return { cookie: login.cookie, id: who.id }
}

const modes = [
  { name: 'store mode, session()', cookieName: 'connect.sid', create: (store, extra = {}) => session({ secret: SECRET, store, resave: false, saveUninitialized: false, ...extra }) },
  { name: 'cookie mode, cookieSession()', cookieName: 'session', create: (store, extra = {}) => cookieSession({ secret: SECRET, name: 'session', ...extra }) },
]

for (const mode of modes) {
  describe(`req.session = { ... } in ${mode.name}`, () => {
    test('req.session = {} logs the user out: the next request has none of the old values', async () => {
      const store = new MemoryStore()
      const { base, close, events } = await start(mode.create(store))
      try {
        const old = await logIn(base)
        events.length = 0
        const reset = await request(base, '/reset', { method: 'POST', cookie: old.cookie })
        assert.equal(reset.status, 200)
        // An empty new session is not stored (saveUninitialized: false): the old cookie is cleared.
        assert.ok(isCleared(sessionCookieOf(reset, mode.cookieName)), `the old cookie is cleared: ${reset.setCookies}`)
        assert.deepEqual(events, ['destroyed'])
        // What a browser holds after the response: no cookie.
        const after = JSON.parse((await request(base, '/whoami')).text)
        assert.deepEqual([after.user, after.cart], [null, null])
        if (mode.cookieName === 'connect.sid') {
          // The old session is gone from the store, so the old cookie, replayed, is worth nothing.
          assert.equal(await stored(store, old.id), null)
          const replayed = JSON.parse((await request(base, '/whoami', { cookie: old.cookie })).text)
          assert.deepEqual([replayed.user, replayed.cart], [null, null])
          assert.notEqual(replayed.id, old.id)
        }
      } finally {
        await close()
      }
    })

    test('req.session = { note } starts a new session under a new id holding that data, and only that', async () => {
      const store = new MemoryStore()
      const { base, close } = await start(mode.create(store))
      try {
        const old = await logIn(base)
        const replaced = await request(base, '/reset-with', { method: 'POST', cookie: old.cookie })
        const body = JSON.parse(replaced.text)
        assert.equal(body.before, old.id)
        assert.notEqual(body.after, old.id)
        assert.equal(body.sessionId, body.after)
        assert.equal(body.note, 'hello')
        assert.equal(body.user, null)
        assert.equal(body.cookieIsObject, true, 'the session\'s own members are not overwritten')
        const cookie = sessionCookieOf(replaced, mode.cookieName)
        assert.ok(cookie && !isCleared(cookie), 'the new session\'s cookie is sent')
        const who = JSON.parse((await request(base, '/whoami', { cookie: cookie.split(';')[0] })).text)
        assert.deepEqual(who, { user: null, cart: null, note: 'hello', id: body.after })
        if (mode.cookieName === 'connect.sid') {
          assert.equal(await stored(store, old.id), null, 'the old record is destroyed')
          assert.equal((await stored(store, body.after)).note, 'hello')
          assert.equal(JSON.parse((await request(base, '/whoami', { cookie: old.cookie })).text).user, null)
        }
      } finally {
        await close()
      }
    })

    test('without a session cookie, req.session = { note } is a new session as any other', async () => {
      const store = new MemoryStore()
      const { base, close, events } = await start(mode.create(store))
      try {
        const replaced = await request(base, '/reset-with', { method: 'POST' })
        const body = JSON.parse(replaced.text)
        assert.equal(body.note, 'hello')
        const cookie = sessionCookieOf(replaced, mode.cookieName)
        assert.equal(JSON.parse((await request(base, '/whoami', { cookie: cookie.split(';')[0] })).text).note, 'hello')
        assert.equal(events.includes('destroyed'), false, 'nothing was ended')
      } finally {
        await close()
      }
    })
  })
}

describe('req.session = null keeps its meaning', () => {
  test('store mode, unset "keep" (the default): the session stays in the store, as in express-session', async () => {
    const store = new MemoryStore()
    const { base, close } = await start(modes[0].create(store))
    try {
      const old = await logIn(base)
      const nulled = await request(base, '/null', { method: 'POST', cookie: old.cookie })
      assert.equal(nulled.status, 200)
      assert.deepEqual(nulled.setCookies, [])
      assert.equal((await stored(store, old.id)).user, 'amy')
    } finally {
      await close()
    }
  })

  test('store mode, unset "destroy": the session is destroyed', async () => {
    const store = new MemoryStore()
    const { base, close } = await start(modes[0].create(store, { unset: 'destroy' }))
    try {
      const old = await logIn(base)
      await request(base, '/null', { method: 'POST', cookie: old.cookie })
      assert.equal(await stored(store, old.id), null)
    } finally {
      await close()
    }
  })

  test('cookie mode: the cookie is cleared', async () => {
    const { base, close } = await start(modes[1].create())
    try {
      const old = await logIn(base)
      const nulled = await request(base, '/null', { method: 'POST', cookie: old.cookie })
      assert.ok(isCleared(sessionCookieOf(nulled, 'session')))
    } finally {
      await close()
    }
  })
})

describe('when the old session cannot be ended', () => {
  test('a store whose destroy fails fails the response: no new cookie, the old session stays as it was', async () => {
    class FailingDestroy extends MemoryStore {
      destroy(sid, callback) {
        setImmediate(() => callback(new Error('destroy refused by the test store')))
      }
    }
    const store = new FailingDestroy()
    const { base, close } = await start(modes[0].create(store))
    try {
      const old = await logIn(base)
      const replaced = await request(base, '/reset-with', { method: 'POST', cookie: old.cookie })
      assert.equal(replaced.status, 503, replaced.text)
      assert.equal(JSON.parse(replaced.text).code, 'SESSION_STORE_FAILED')
      assert.deepEqual(replaced.setCookies, [], 'no cookie for a session whose predecessor is still live')
      assert.equal(JSON.parse((await request(base, '/whoami', { cookie: old.cookie })).text).user, 'amy')
    } finally {
      await close()
    }
  })

  test('with an async genid, the assignment throws and says what to call instead', async () => {
    const store = new MemoryStore()
    let n = 0
    const { base, close } = await start(modes[0].create(store, { genid: async () => `async-id-${++n}` }))
    try {
      const old = await logIn(base)
      const replaced = await request(base, '/reset-with', { method: 'POST', cookie: old.cookie })
      assert.equal(replaced.status, 500)
      const body = JSON.parse(replaced.text)
      assert.equal(body.code, 'SESSION_CONFIG')
      assert.match(body.message, /regenerate\(\)/)
      assert.equal((await stored(store, old.id)).user, 'amy', 'nothing was destroyed')
    } finally {
      await close()
    }
  })
})
