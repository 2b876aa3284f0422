// A store without `touch` (only get, set and destroy), with `resave: false` and `rolling`: an active
// user stays logged in past `maxAge`, because an unchanged session whose expiry is due is written back
// after the response. That write goes onto the latest record: it neither undoes a change another
// process made meanwhile nor brings back a session destroyed meanwhile. Over real HTTP on Express 5.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import express from 'express'
import session from 'sessionkit'
import { listen, request } from './support/http.mjs'

const SECRET = 'a long random secret for the touch-less store tests'

/**
 * A store with get, set and destroy only, keeping each record as JSON until its cookie's expiry, as a
 * store with a TTL does. `records` is the backend, which the tests change as another process would.
 */
function touchlessStore() {
  const records = new Map()
  const live = (sid) => {
    const entry = records.get(sid)
    if (entry === undefined) return null
    if (entry.expires <= Date.now()) {
      records.delete(sid)
      return null
    }
    return JSON.parse(entry.json)
  }
  return {
    records,
    live,
    sets: 0,
    get(sid, callback) {
      setImmediate(() => callback(null, live(sid)))
    },
    set(sid, record, callback) {
      this.sets++
      const expires = record.cookie?.expires ? new Date(record.cookie.expires).getTime() : Date.now() + 86_400_000
      records.set(sid, { json: JSON.stringify(record), expires })
      setImmediate(() => callback(null))
    },
    destroy(sid, callback) {
      records.delete(sid)
      setImmediate(() => callback(null))
    },
  }
}

async function start(store, maxAge, gate) {
  const app = express()
  app.use(session({ secret: SECRET, store, resave: false, saveUninitialized: false, rolling: true, cookie: { maxAge } }))
  app.post('/login', (req, res) => {
    req.session.user = 'amy'
    res.send('logged in')
  })
  app.get('/whoami', (req, res) => res.json({ user: req.session.user ?? null, id: req.sessionID }))
  // Reads the session, then waits for the test before answering: the test plays another process meanwhile.
  app.get('/slow', async (req, res) => {
    const user = req.session.user ?? null
    await gate?.()
    res.json({ user })
  })
  return listen(app)
}

/** Waits (bounded) until `check()` is true. */
async function eventually(check, what) {
  for (let tries = 0; tries < 80 && !check(); tries++) await sleep(25)
  assert.ok(check(), what)
}

test('an active user stays logged in past maxAge: the expiry moves by a write when the store has no touch', async () => {
  const store = touchlessStore()
  const maxAge = 1000
  const { base, close } = await start(store, maxAge)
  try {
    const login = await request(base, '/login', { method: 'POST' })
    const started = Date.now()
    // Active for 2.5 maxAge, one request every 150 ms (bounded: at most 40 requests).
    for (let i = 0; i < 40 && Date.now() - started < 2.5 * maxAge; i++) {
      await sleep(150)
      const who = JSON.parse((await request(base, '/whoami', { cookie: login.cookie })).text)
      assert.equal(who.user, 'amy', `logged out ${Date.now() - started} ms after the login, with maxAge ${maxAge}`)
    }
    // Idle for longer than maxAge: then the session does end.
    await sleep(maxAge + 200)
    assert.equal(JSON.parse((await request(base, '/whoami', { cookie: login.cookie })).text).user, null)
  } finally {
    await close()
  }
})

/**
 * Logs in, then runs a request that reads the session and waits in the route while `meanwhile(id)`
 * plays another process on the backend; resolves once the response is in.
 */
async function whileRequestRuns(store, meanwhile) {
  let release
  const { base, close } = await start(store, 60_000, () => new Promise((resolve) => (release = resolve)))
  try {
    const login = await request(base, '/login', { method: 'POST' })
    const { id } = JSON.parse((await request(base, '/whoami', { cookie: login.cookie })).text)
    const before = store.records.get(id).expires
    const answer = request(base, '/slow', { cookie: login.cookie })
    await eventually(() => release !== undefined, 'the request reached the route')
    meanwhile(id)
    release()
    assert.equal(JSON.parse((await answer).text).user, 'amy')
    return { id, before }
  } finally {
    await close()
  }
}

test('the write-back does not undo a change another process made while the request ran', async () => {
  const store = touchlessStore()
  const { id, before } = await whileRequestRuns(store, (sid) => {
    store.records.set(sid, { json: JSON.stringify({ ...store.live(sid), cart: [1, 2, 3] }), expires: store.records.get(sid).expires })
  })
  await eventually(() => store.records.get(id).expires > before, 'the expiry moved')
  assert.deepEqual(store.live(id).cart, [1, 2, 3], 'the other change stands')
  assert.equal(store.live(id).user, 'amy')
})

test('the write-back does not bring back a session destroyed while the request ran', async () => {
  const store = touchlessStore()
  let sets
  const { id } = await whileRequestRuns(store, (sid) => {
    store.records.delete(sid) // a logout in another process
    sets = store.sets
  })
  // The write-back reads the latest record first: give it the time to have written, then check.
  await sleep(200)
  assert.equal(store.records.has(id), false, 'the destroyed session stays destroyed')
  assert.equal(store.sets, sets)
})
