// Things express-session apps do that are not in its README but that working apps rely on.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import express from 'express'
import session, { MemoryIndex, MemoryStore } from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const idOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
const stored = (store, sid) => new Promise((resolve, reject) => store.get(sid, (err, s) => (err ? reject(err) : resolve(s))))

/** A MemoryStore whose destroy answers late, so that an un-awaited regenerate() is still running. */
function slowDestroyStore() {
  const store = new MemoryStore()
  const destroy = store.destroy.bind(store)
  store.destroy = (sid, callback) => setTimeout(() => destroy(sid, callback), 40)
  return store
}

test('ending the response without waiting for regenerate() saves the new session, not the old', async () => {
  const store = slowDestroyStore()
  const app = express()
  app.use(session({ secret: 'habits', resave: false, saveUninitialized: false, store }))
  app.get('/visit', (req, res) => {
    req.session.visited = true
    res.send('ok')
  })
  app.get('/login', (req, res) => {
    req.session.regenerate((err) => {
      if (!err) req.session.user = 'ada'
    })
    res.redirect('/') // not waiting: the middleware must
  })
  app.get('/me', (req, res) => res.json({ user: req.session.user ?? null, visited: req.session.visited ?? null }))
  const { base, close } = await listen(app)
  try {
    const first = await request(base, '/visit')
    const login = await request(base, '/login', { cookie: first.cookie })
    assert.equal(login.status, 302)
    const sent = login.setCookies.find((c) => c.startsWith('connect.sid=s%3A'))
    assert.ok(sent, 'the new session cookie is sent')
    assert.notEqual(idOf(sent.split(';')[0]), idOf(first.cookie))
    assert.equal(await stored(store, idOf(first.cookie)), null, 'the old session is not brought back')
    const me = await request(base, '/me', { cookie: sent.split(';')[0] })
    assert.deepEqual(JSON.parse(me.text), { user: 'ada', visited: null })
  } finally {
    await close()
  }
})

test('cookie.maxAge = false, undefined or a Date, and cookie.expires = false, work as in express-session', async () => {
  const app = express()
  app.use(session({ secret: 'habits', resave: false, saveUninitialized: false, cookie: { maxAge: 60_000 } }))
  app.get('/:how', (req, res) => {
    const how = req.params.how
    if (how === 'maxage-false') req.session.cookie.maxAge = false
    if (how === 'maxage-undefined') req.session.cookie.maxAge = undefined
    if (how === 'expires-false') req.session.cookie.expires = false
    if (how === 'maxage-date') req.session.cookie.maxAge = new Date(Date.now() + 5_000)
    req.session.x = how
    res.send('ok')
  })
  const { base, close } = await listen(app)
  try {
    for (const how of ['maxage-false', 'maxage-undefined', 'expires-false']) {
      const response = await request(base, `/${how}`)
      assert.equal(response.status, 200, how)
      assert.equal(parseSetCookie(response.setCookies[0]).expires, undefined, `${how}: a browser-session cookie`)
    }
    const dated = await request(base, '/maxage-date')
    assert.equal(dated.status, 200)
    const expires = Date.parse(parseSetCookie(dated.setCookies[0]).expires)
    assert.ok(Math.abs(expires - (Date.now() + 5_000)) < 2_000)
  } finally {
    await close()
  }
})

test('store.load(sid) gives a Session outside a request, as express-session stores do', async () => {
  const store = new MemoryStore()
  const app = express()
  app.use(session({ secret: 'habits', resave: false, saveUninitialized: false, store }))
  app.get('/', (req, res) => {
    req.session.user = 'ada'
    res.send(req.sessionID)
  })
  const { base, close } = await listen(app)
  try {
    const sid = (await request(base, '/')).text
    const loaded = await new Promise((resolve, reject) => store.load(sid, (err, s) => (err ? reject(err) : resolve(s))))
    assert.ok(loaded instanceof session.Session)
    assert.equal(loaded.id, sid)
    assert.equal(loaded.user, 'ada')
    assert.ok(loaded.cookie.expires === null || loaded.cookie.expires instanceof Date)
    const missing = await new Promise((resolve, reject) => store.load('nope', (err, s) => (err ? reject(err) : resolve(s))))
    assert.equal(missing, undefined)
  } finally {
    await close()
  }
})

test('the in-process owner index forgets sessions that expired on their own', async () => {
  const index = new MemoryIndex()
  await index.add('7', 'short', new Date(Date.now() + 30))
  await index.add('7', 'long', new Date(Date.now() + 60_000))
  await index.add('8', 'browser', null)
  assert.deepEqual((await index.ids('7')).sort(), ['long', 'short'])
  await sleep(60)
  assert.deepEqual(await index.ids('7'), ['long'])
  assert.deepEqual(await index.ids('8'), ['browser'])
})
