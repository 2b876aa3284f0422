// The request flow every real store must carry, over real HTTP, checked in the store's own backend:
// new session stored, read back, change saved, unchanged session touched (its expiry moves in the
// backend), rolling re-sends the cookie, regenerate leaves no trace of the old id, destroy removes
// it, and a session past its maxAge is gone.
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import express from 'express'
import session from 'sessionkit'
import { listen, parseSetCookie, request } from './http.mjs'

/** The session id inside a `connect.sid=s%3A<id>.<signature>` cookie pair. */
export function sidOf(cookiePair) {
  const value = decodeURIComponent(cookiePair.slice(cookiePair.indexOf('=') + 1))
  assert.ok(value.startsWith('s:'), `not a signed session cookie: ${cookiePair}`)
  return value.slice(2, value.lastIndexOf('.'))
}

/** The store's own answer for `sid`, without touching it: a record, or null (ENOENT counts as none). */
export function storeGet(store, sid) {
  return new Promise((resolve, reject) => {
    store.get(sid, (err, record) => {
      if (err && err.code !== 'ENOENT') reject(err)
      else resolve(record ?? null)
    })
  })
}

function app(store, { maxAge, rolling = false }) {
  const server = express()
  server.use(session({ store, secret: 'store flow secret', resave: false, saveUninitialized: false, rolling, cookie: { maxAge } }))
  server.get('/login', (req, res) => {
    req.session.user = 'ann'
    res.send('ok')
  })
  server.get('/me', (req, res) => res.json({ user: req.session.user ?? null, views: req.session.views ?? 0 }))
  server.get('/change', (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1
    res.json({ views: req.session.views })
  })
  server.get('/regenerate', (req, res, next) =>
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.user = 'ann'
      res.send('ok')
    }),
  )
  server.get('/destroy', (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.send('bye'))))
  return server
}

/**
 * Registers the flow as a describe block. `store()` gives the store under test (opened by the caller);
 * `backend.read(sid)` looks in the real backend and returns `{ data, expiresAt }` (expiresAt in epoch
 * ms, as the backend will act on it) or null when the backend holds nothing under that id.
 * `secondResolution`: the backend keeps expiry in whole seconds, so the touch test waits until the
 * new expiry lands in a later second.
 */
export function storeFlow(name, { store, backend, secondResolution = false, skip = false }) {
  const maxAge = 4000
  describe(`${name}: the request flow, checked in the backend`, { skip, concurrency: 1 }, () => {
    const apps = {}
    const start = async (key, options) => (apps[key] ??= await listen(app(store(), options)))
    const login = async (base) => {
      const res = await request(base, '/login')
      assert.equal(res.status, 200)
      assert.ok(res.cookie, 'login must set the session cookie')
      return { cookie: res.cookie, sid: sidOf(res.cookie) }
    }

    test('a new session is stored in the backend and the next request reads it', async () => {
      const { base } = await start('plain', { maxAge })
      const { cookie, sid } = await login(base)
      const row = await backend.read(sid)
      assert.ok(row, 'the backend must hold the new session')
      assert.equal(row.data.user, 'ann')
      const me = await request(base, '/me', { cookie })
      assert.deepEqual(JSON.parse(me.text), { user: 'ann', views: 0 })
      assert.deepEqual(me.setCookies, [], 'an unchanged session sends no cookie without rolling')
    })

    test('a change is saved to the backend', async () => {
      const { base } = await start('plain', { maxAge })
      const { cookie, sid } = await login(base)
      await request(base, '/change', { cookie })
      await request(base, '/change', { cookie })
      assert.equal((await backend.read(sid)).data.views, 2)
      assert.equal(JSON.parse((await request(base, '/me', { cookie })).text).views, 2)
    })

    test('an unchanged session is touched: its expiry moves in the backend, its data stays', async () => {
      const { base } = await start('plain', { maxAge })
      const { cookie, sid } = await login(base)
      const before = await backend.read(sid)
      // The next expiry (now + maxAge) must land past the stored one by more than the backend rounds.
      const margin = secondResolution ? 600 : 100
      const wait = before.expiresAt + margin - maxAge - Date.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      const me = await request(base, '/me', { cookie })
      assert.equal(JSON.parse(me.text).user, 'ann')
      // The touch goes to the store once the response is out: give it a moment, bounded.
      let after = await backend.read(sid)
      for (let tries = 0; tries < 40 && !(after.expiresAt > before.expiresAt); tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        after = await backend.read(sid)
      }
      assert.ok(after.expiresAt > before.expiresAt, `the stored expiry must move on touch (before ${before.expiresAt}, after ${after.expiresAt})`)
      assert.equal(after.data.user, 'ann')
    })

    test('rolling re-sends the cookie on an unchanged session', async () => {
      const { base } = await start('rolling', { maxAge, rolling: true })
      const { cookie, sid } = await login(base)
      const me = await request(base, '/me', { cookie })
      assert.equal(me.setCookies.length, 1, 'rolling must send Set-Cookie on every response')
      assert.equal(sidOf(me.cookie), sid, 'the same session id')
      assert.ok(parseSetCookie(me.setCookies[0]).expires, 'with its expiry')
    })

    test('regenerate leaves no trace of the old id in the backend', async () => {
      const { base } = await start('plain', { maxAge })
      const { cookie, sid } = await login(base)
      const res = await request(base, '/regenerate', { cookie })
      assert.equal(res.status, 200)
      const next = sidOf(res.cookie)
      assert.notEqual(next, sid)
      assert.equal(await backend.read(sid), null, 'the old id must be gone from the backend')
      assert.equal((await backend.read(next)).data.user, 'ann')
      assert.equal(JSON.parse((await request(base, '/me', { cookie })).text).user, null, 'the old cookie is worth nothing')
      assert.equal(JSON.parse((await request(base, '/me', { cookie: res.cookie })).text).user, 'ann')
    })

    test('destroy removes the session from the backend and clears the cookie', async () => {
      const { base } = await start('plain', { maxAge })
      const { cookie, sid } = await login(base)
      const res = await request(base, '/destroy', { cookie })
      assert.equal(res.status, 200)
      assert.equal(new Date(parseSetCookie(res.setCookies[0]).expires).getTime(), 0, 'the cookie is cleared')
      assert.equal(await backend.read(sid), null, 'the backend must no longer hold the session')
      assert.equal(JSON.parse((await request(base, '/me', { cookie })).text).user, null)
    })

    test('a session past its maxAge is gone', async () => {
      const short = 1000
      const { base } = await start('short', { maxAge: short })
      const { cookie, sid } = await login(base)
      // Ask the store itself (a request would touch the session and keep it alive); give stores that
      // keep whole seconds their rounding.
      const deadline = Date.now() + short + 2500
      while ((await storeGet(store(), sid)) !== null) {
        assert.ok(Date.now() < deadline, `the store still returned the session ${short + 2500} ms after it was set with maxAge ${short}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const me = await request(base, '/me', { cookie })
      assert.equal(JSON.parse(me.text).user, null, 'the expired session must not come back over HTTP')
      assert.deepEqual(me.setCookies, [], 'and nothing new is stored for it')
    })

    after(async () => {
      for (const key of Object.keys(apps)) await apps[key].close()
    })
  })
}
