// indexBy + destroySessionsOf: log one user out of every session.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import express from 'express'
import session, { MemoryStore } from 'sessionkit'
import { listen, request } from './support/http.mjs'

const require = createRequire(import.meta.url)

function app(options) {
  const middleware = session({ secret: 'everywhere', resave: false, saveUninitialized: false, indexBy: 'userId', ...options })
  const app = express()
  app.use(middleware)
  app.get('/login/:user', async (req, res) => {
    await req.session.regenerate()
    req.session.userId = Number(req.params.user)
    res.send(req.sessionID)
  })
  app.get('/me', (req, res) => res.send(String(req.session.userId ?? 'nobody')))
  app.get('/password-changed', async (req, res) => {
    const count = await middleware.destroySessionsOf(req.session.userId, { except: req.sessionID })
    res.send(String(count))
  })
  app.get('/logout', async (req, res) => {
    await req.session.destroy()
    res.send('bye')
  })
  return { app, middleware }
}

const stores = {
  'MemoryStore (in-process index)': () => ({ store: new MemoryStore() }),
  // The npm memorystore has all() but sessionkit keeps no index for it: the store is scanned.
  'memorystore from npm (scan with all())': () => ({ store: new (require('memorystore')(session))({ checkPeriod: 0 }) }),
}

for (const [name, makeOptions] of Object.entries(stores)) {
  test(`destroySessionsOf logs a user out everywhere but here — ${name}`, async () => {
    const { app: server, middleware } = app(makeOptions())
    const { base, close } = await listen(server)
    try {
      const laptop = await request(base, '/login/7')
      const phone = await request(base, '/login/7')
      const tablet = await request(base, '/login/7')
      const otherUser = await request(base, '/login/8')
      assert.deepEqual((await middleware.sessionsOf(7)).sort(), [laptop.text, phone.text, tablet.text].sort())

      const changed = await request(base, '/password-changed', { cookie: laptop.cookie })
      assert.equal(changed.text, '2', 'two other sessions destroyed')
      assert.equal((await request(base, '/me', { cookie: laptop.cookie })).text, '7', 'the current session stays')
      assert.equal((await request(base, '/me', { cookie: phone.cookie })).text, 'nobody')
      assert.equal((await request(base, '/me', { cookie: tablet.cookie })).text, 'nobody')
      assert.equal((await request(base, '/me', { cookie: otherUser.cookie })).text, '8', 'other users are untouched')
      assert.deepEqual(await middleware.sessionsOf(7), [laptop.text])

      await request(base, '/logout', { cookie: laptop.cookie })
      assert.deepEqual(await middleware.sessionsOf(7), [], 'a logout leaves the index')
    } finally {
      await close()
    }
  })
}

test('sessionsOf without indexBy says what to configure', async () => {
  const middleware = session({ secret: 'x', resave: false, saveUninitialized: false })
  await assert.rejects(middleware.sessionsOf(1), /indexBy/)
})

test('a store that cannot list its sessions and no index gives a clear error', async () => {
  const bare = { get: (sid, cb) => cb(null, null), set: (sid, s, cb) => cb(), destroy: (sid, cb) => cb() }
  const middleware = session({ secret: 'x', resave: false, saveUninitialized: false, store: bare, indexBy: 'userId' })
  await assert.rejects(middleware.destroySessionsOf(1), /all\(\) or ids\(\)/)
})
