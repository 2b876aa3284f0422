// absoluteTimeout: a session ends a fixed time after it was created, however often it is used.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import express from 'express'
import session, { MemoryStore } from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function counterApp(options) {
  const store = new MemoryStore()
  const app = express()
  app.use(session({ secret: 'absolute', resave: false, saveUninitialized: false, store, ...options }))
  app.get('/', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1
    res.json({ n: req.session.n, id: req.sessionID })
  })
  app.get('/remember', (req, res) => {
    req.session.cookie.absoluteExpires = new Date(Date.now() + 60_000)
    res.json({ n: req.session.n })
  })
  return { app, store }
}

test('a session used all the time still ends at its absolute timeout', async () => {
  const { app } = counterApp({ rolling: true, absoluteTimeout: 1500, cookie: { maxAge: 60_000 } })
  const { base, close } = await listen(app)
  try {
    const first = await request(base, '/')
    const created = Date.now()
    const { id } = JSON.parse(first.text)
    let cookie = first.cookie
    let last
    // Requests stop 600 ms before the limit, so that one slowed by a busy machine still arrives inside it.
    while (Date.now() - created < 900) {
      await sleep(80)
      last = await request(base, '/', { cookie })
      cookie = last.cookie ?? cookie
      assert.equal(JSON.parse(last.text).id, id, 'still the same session inside the absolute timeout')
    }
    // The idle expiry (maxAge 60 s) keeps moving, but the cookie never outlives the absolute limit.
    const expires = Date.parse(parseSetCookie(last.setCookies[0]).expires)
    assert.ok(expires <= created + 2500, `cookie expiry ${new Date(expires).toISOString()} is capped near the absolute limit`)
    await sleep(Math.max(0, created + 1650 - Date.now()))
    const after = await request(base, '/', { cookie })
    const body = JSON.parse(after.text)
    assert.equal(body.n, 1, 'past the absolute timeout the old data is gone')
    assert.notEqual(body.id, id, 'and the session has a new id')
  } finally {
    await close()
  }
})

test('the store is given the earlier of the idle and the absolute expiry', async () => {
  const { app, store } = counterApp({ absoluteTimeout: 2_000, cookie: { maxAge: 60_000 } })
  const { base, close } = await listen(app)
  try {
    const before = Date.now()
    const response = await request(base, '/')
    const { id } = JSON.parse(response.text)
    const stored = await new Promise((resolve, reject) => store.get(id, (err, s) => (err ? reject(err) : resolve(s))))
    const expires = new Date(stored.cookie.expires).getTime()
    assert.ok(expires >= before + 1_900 && expires <= Date.now() + 2_000, 'stored expiry is the absolute one')
    assert.equal(new Date(stored.cookie.absoluteExpires).getTime(), expires)
  } finally {
    await close()
  }
})

test('a browser-session cookie gets the absolute limit as its expiry', async () => {
  const { app } = counterApp({ absoluteTimeout: 5_000 })
  const { base, close } = await listen(app)
  try {
    const response = await request(base, '/')
    const attributes = parseSetCookie(response.setCookies[0])
    assert.ok(attributes.expires, 'an Expires attribute is sent')
    const expires = Date.parse(attributes.expires)
    assert.ok(Math.abs(expires - (Date.now() + 5_000)) < 2_000)
  } finally {
    await close()
  }
})

test('one session can be given a longer absolute life ("remember me")', async () => {
  const { app } = counterApp({ absoluteTimeout: 300, cookie: { maxAge: 60_000 } })
  const { base, close } = await listen(app)
  try {
    const first = await request(base, '/')
    const { id } = JSON.parse(first.text)
    const remembered = await request(base, '/remember', { cookie: first.cookie })
    assert.equal(remembered.status, 200)
    assert.equal(remembered.setCookies.length, 1, 'the changed lifetime is sent to the browser')
    await sleep(450)
    const later = await request(base, '/', { cookie: first.cookie })
    assert.equal(JSON.parse(later.text).id, id, 'the remembered session outlives the default absolute timeout')
    assert.equal(JSON.parse(later.text).n, 2)
  } finally {
    await close()
  }
})

test('absoluteTimeout must be a number of milliseconds', () => {
  assert.throws(() => session({ secret: 'x', resave: false, saveUninitialized: false, absoluteTimeout: -1 }), /absoluteTimeout/)
  assert.throws(() => session({ secret: 'x', resave: false, saveUninitialized: false, absoluteTimeout: '1h' }), /absoluteTimeout/)
})
