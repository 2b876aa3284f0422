// merge: parallel requests of one session keep every change, and a logout stays a logout.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import express from 'express'
import session, { MemoryStore } from 'sessionkit'
import { listen, request } from './support/http.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const idOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
const stored = (store, sid) => new Promise((resolve, reject) => store.get(sid, (err, s) => (err ? reject(err) : resolve(s))))

function app(store, merge) {
  const app = express()
  app.use(session({ secret: 'merge', resave: false, saveUninitialized: false, store, merge }))
  app.get('/start', (req, res) => {
    req.session.user = 'ada'
    req.session.drop = 'me'
    res.send('ok')
  })
  app.get('/set/:key', async (req, res) => {
    void req.session.user // load the session before the slow part, as a real handler would
    await sleep(10 + (Number(req.params.key) % 7) * 7)
    req.session[`k${req.params.key}`] = Number(req.params.key)
    res.send('ok')
  })
  app.get('/drop', (req, res) => {
    delete req.session.drop
    res.send('ok')
  })
  app.get('/slow-write', async (req, res) => {
    void req.session.user
    await sleep(150)
    req.session.late = true
    res.send('ok')
  })
  app.get('/logout', async (req, res) => {
    await req.session.destroy()
    res.send('bye')
  })
  app.use((err, req, res, _next) => res.status(err.status ?? 500).send(err.code ?? err.message))
  return app
}

test('with merge, 50 parallel requests each setting its own key all keep their change', async () => {
  const store = new MemoryStore()
  const { base, close } = await listen(app(store, true))
  try {
    const { cookie } = await request(base, '/start')
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => request(base, `/set/${i}`, { cookie })))
    assert.deepEqual(new Set(responses.map((r) => r.status)), new Set([200]))
    const session = await stored(store, idOf(cookie))
    for (let i = 0; i < 50; i++) assert.equal(session[`k${i}`], i, `key k${i} is stored`)
    assert.equal(session.user, 'ada', 'keys nobody changed are kept')
  } finally {
    await close()
  }
})

test('without merge the same requests lose changes (last write wins, as in express-session)', async () => {
  const store = new MemoryStore()
  const { base, close } = await listen(app(store, false))
  try {
    const { cookie } = await request(base, '/start')
    await Promise.all(Array.from({ length: 50 }, (_, i) => request(base, `/set/${i}`, { cookie })))
    const session = await stored(store, idOf(cookie))
    const kept = Object.keys(session).filter((key) => /^k\d+$/.test(key)).length
    assert.ok(kept < 50, `only ${kept} of 50 changes survive without merge`)
  } finally {
    await close()
  }
})

test('with merge, a deleted key is deleted in the store while other keys stay', async () => {
  const store = new MemoryStore()
  const { base, close } = await listen(app(store, true))
  try {
    const { cookie } = await request(base, '/start')
    const [dropped] = await Promise.all([request(base, '/drop', { cookie }), request(base, '/set/3', { cookie })])
    assert.equal(dropped.status, 200)
    const session = await stored(store, idOf(cookie))
    assert.equal('drop' in session, false)
    assert.equal(session.k3, 3)
  } finally {
    await close()
  }
})

test('with merge, a logout during slow requests is not undone by their saves', async () => {
  const store = new MemoryStore()
  const { base, close } = await listen(app(store, true))
  try {
    const { cookie } = await request(base, '/start')
    const slow = Array.from({ length: 5 }, () => request(base, '/slow-write', { cookie }))
    await sleep(40)
    const logout = await request(base, '/logout', { cookie })
    assert.equal(logout.status, 200)
    const late = await Promise.all(slow)
    assert.equal(await stored(store, idOf(cookie)), null, 'the session stays destroyed')
    for (const response of late) {
      assert.equal(response.status, 409, 'the late writer is told its change was not saved')
      assert.equal(response.text, 'SESSION_GONE')
      assert.ok(!response.setCookies.some((c) => c.startsWith('connect.sid=s%3A')), 'and gets no cookie for the dead session')
    }
  } finally {
    await close()
  }
})
