// regenerate({ keep }): a new id after login that carries chosen keys (a cart) along.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import express from 'express'
import session, { MemoryStore } from 'sessionkit'
import { listen, request } from './support/http.mjs'

const idOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
const stored = (store, sid) => new Promise((resolve, reject) => store.get(sid, (err, s) => (err ? reject(err) : resolve(s))))

function app(store) {
  const app = express()
  app.use(session({ secret: 'keep', resave: false, saveUninitialized: false, store }))
  app.get('/cart/:item', (req, res) => {
    ;(req.session.cart ??= []).push(req.params.item)
    req.session.anonymousNote = 'pre-login'
    res.send('ok')
  })
  app.get('/login-promise', async (req, res) => {
    await req.session.regenerate({ keep: ['cart', 'missing', 'cookie', 'save'] })
    req.session.user = 'ada'
    res.json(req.session)
  })
  app.get('/login-callback', (req, res, next) => {
    req.session.regenerate({ keep: ['cart'] }, (err) => {
      if (err) return next(err)
      req.session.user = 'bob'
      res.json(req.session)
    })
  })
  app.get('/login-plain', (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.user = 'cy'
      res.json(req.session)
    })
  })
  return app
}

for (const route of ['/login-promise', '/login-callback']) {
  test(`regenerate with keep (${route}) copies the named keys and destroys the old id`, async () => {
    const store = new MemoryStore()
    const { base, close } = await listen(app(store))
    try {
      const first = await request(base, '/cart/apple')
      await request(base, '/cart/pear', { cookie: first.cookie })
      const login = await request(base, route, { cookie: first.cookie })
      assert.equal(login.status, 200)
      const body = JSON.parse(login.text)
      assert.deepEqual(body.cart, ['apple', 'pear'], 'the cart survives login')
      assert.equal(body.anonymousNote, undefined, 'keys not named are left behind')
      assert.equal('missing' in body, false, 'a key the old session did not have is not invented')
      assert.ok(login.cookie, 'the new id is sent')
      assert.notEqual(idOf(login.cookie), idOf(first.cookie))
      assert.equal(await stored(store, idOf(first.cookie)), null, 'the old id is gone from the store')
      const now = await stored(store, idOf(login.cookie))
      assert.deepEqual(now.cart, ['apple', 'pear'])
      assert.ok(['ada', 'bob'].includes(now.user))
    } finally {
      await close()
    }
  })
}

test('regenerate without keep starts empty, as in express-session', async () => {
  const store = new MemoryStore()
  const { base, close } = await listen(app(store))
  try {
    const first = await request(base, '/cart/apple')
    const login = await request(base, '/login-plain', { cookie: first.cookie })
    const body = JSON.parse(login.text)
    assert.equal(body.cart, undefined)
    assert.equal(body.user, 'cy')
  } finally {
    await close()
  }
})
