// Failures at commit time, found by a hostile probe of the end of a response, and the habits of
// express-session that depend on the commit: each test is what a user of the app would see.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import express from 'express'
import session, { cookieSession, MemoryStore } from 'sessionkit'
import { faultyStore } from './support/faulty-store.mjs'
import { listen, request } from './support/http.mjs'

const require = createRequire(import.meta.url)
const express4 = require('express4')
const run = promisify(execFile)
const count = (store) => new Promise((resolve, reject) => store.length((err, n) => (err ? reject(err) : resolve(n))))

/** An app's own error handler, as Express's docs show one: its page, not Express's stack trace. */
function ownErrorHandler(errors) {
  // eslint-disable-next-line no-unused-vars
  return (err, req, res, next) => {
    errors.push(err.code ?? err.message)
    if (res.headersSent) return res.destroy()
    res.status(err.status ?? 500).send(`our error page: ${err.message}`)
  }
}

for (const [label, make] of [
  ['Express 5', express],
  ['Express 4', express4],
]) {
  describe(`commit failures (${label})`, () => {
    test('cookie mode, streamed response whose session cannot be sealed: cut off, never a complete 200', async () => {
      const app = make()
      const errors = []
      app.use(cookieSession({ secret: 'a'.repeat(32) }))
      app.get('/stream', (req, res) => {
        req.session.big = 'x'.repeat(6000) // over the 4096 bytes a browser keeps
        res.write('part one, ')
        res.end('part two')
      })
      app.use(ownErrorHandler(errors))
      const server = await listen(app)
      try {
        const outcome = await request(server.base, '/stream').then(
          (res) => ({ complete: true, status: res.status, text: res.text }),
          () => ({ complete: false }),
        )
        assert.deepEqual(outcome, { complete: false }, 'the client must not get a complete answer for a change that was lost')
        assert.deepEqual(errors, ['SESSION_SERIALIZE'])
      } finally {
        await server.close()
      }
    })

    test("a save that fails under the app's own error page leaves that page, without a cookie, and calls no handler twice", async () => {
      const store = faultyStore()
      const app = make()
      const errors = []
      app.use(session({ secret: 'commit', store, resave: false, saveUninitialized: false, storeTimeout: 500 }))
      app.get('/fails', (req, res, next) => {
        req.session.user = 'ada'
        next(new Error('the route failed'))
      })
      app.use(ownErrorHandler(errors))
      const server = await listen(app)
      store.inject('set', 'error')
      try {
        const res = await request(server.base, '/fails')
        assert.equal(res.status, 500)
        assert.equal(res.text, 'our error page: the route failed')
        assert.deepEqual(res.setCookies, [], 'no cookie for a session that was not stored')
        assert.deepEqual(errors, ['the route failed'])
      } finally {
        store.heal()
        await server.close()
      }
    })

    const MODES = {
      'store mode, over maxSessionBytes': () => {
        const store = new MemoryStore()
        return { mounted: session({ secret: 'commit', store, resave: false, saveUninitialized: false, maxSessionBytes: 1000 }), stored: () => count(store) }
      },
      'cookie mode, a cookie too large': () => ({ mounted: cookieSession({ secret: 'b'.repeat(32) }), stored: async () => 0 }),
    }
    for (const [mode, middleware] of Object.entries(MODES)) {
      test(`a route that catches save()'s rejection and answers 413 keeps its answer (${mode})`, async () => {
        const app = make()
        const errors = []
        const { mounted, stored } = middleware()
        app.use(mounted)
        app.post('/cart', async (req, res) => {
          req.session.cart = 'x'.repeat(6000)
          try {
            await req.session.save()
            res.send('saved')
          } catch (err) {
            res.status(413).send(`cart too large (${err.code})`)
          }
        })
        app.use(ownErrorHandler(errors))
        const server = await listen(app)
        try {
          const res = await request(server.base, '/cart', { method: 'POST' })
          assert.equal(res.status, 413)
          assert.equal(res.text, 'cart too large (SESSION_SERIALIZE)')
          assert.deepEqual(res.setCookies, [], 'no cookie for a session that was not stored')
          assert.deepEqual(errors, [])
          assert.equal(await stored(), 0, 'nothing stored')
        } finally {
          await server.close()
        }
      })
    }
  })
}

test('an app that sets req.sessionID to something that is not a string: nothing is saved, no cookie', async () => {
  const store = new MemoryStore()
  const app = express()
  app.use(session({ secret: 'commit', store, resave: false, saveUninitialized: false }))
  app.get('/odd', (req, res) => {
    req.session.user = 'ada'
    req.sessionID = 42
    res.send('ok')
  })
  app.get('/odd-first', (req, res) => {
    req.sessionID = { not: 'an id' }
    req.session.user = 'ada'
    res.send('ok')
  })
  const server = await listen(app)
  try {
    for (const path of ['/odd', '/odd-first']) {
      const res = await request(server.base, path)
      assert.equal(res.status, 200, path)
      assert.deepEqual(res.setCookies, [], path)
    }
    assert.equal(await count(store), 0)
  } finally {
    await server.close()
  }
})

test('DEBUG=sessionkit shows the lines of both modes', async () => {
  const script = `
    const http = require('node:http')
    const session = require('sessionkit')
    const middleware = session.cookieSession({ secret: 'c'.repeat(32) })
    const server = http.createServer((req, res) => middleware(req, res, () => { req.session.n = 1; res.end('ok') }))
    server.listen(0, '127.0.0.1', async () => {
      const base = 'http://127.0.0.1:' + server.address().port
      await fetch(base, { headers: { cookie: 'session=not-a-sealed-value' } })
      server.close()
    })`
  const { stderr } = await run(process.execPath, ['-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, DEBUG: 'sessionkit', DEBUG_COLORS: '0' },
  })
  assert.match(stderr, /sessionkit cookie session did not open/)
})
