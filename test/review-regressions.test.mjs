// Regressions found in a review of src/ against express-session 1.19: each test is a behaviour an app
// that switches from express-session, or a store slower than MemoryStore, would run into.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import express from 'express'
import ts from 'typescript'
import session, { MemoryStore } from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const stored = (store, sid) => new Promise((resolve, reject) => store.get(sid, (err, s) => (err ? reject(err) : resolve(s))))
const count = (store) => new Promise((resolve, reject) => store.length((err, n) => (err ? reject(err) : resolve(n))))
const idOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]

// A rejection nobody handles crashes a Node 20 app; record them so a test can say which one leaked.
const unhandled = []
process.on('unhandledRejection', (reason) => unhandled.push(reason))
after(() => process.removeAllListeners('unhandledRejection'))

/** An Express app with a login route, the given extra routes and an error handler that answers 500 with the message. */
function appWith(options, routes) {
  const app = express()
  app.use(session({ secret: 'review', resave: false, saveUninitialized: false, ...options }))
  app.get('/login', (req, res) => {
    req.session.user = 'ada'
    res.send('in')
  })
  routes(app)
  app.use((err, req, res, _next) => res.status(500).send(`error: ${err.message}`))
  return app
}

test('cookie.expires = false makes a browser-session cookie, as it does in express-session (the common "remember me" idiom)', async () => {
  const store = new MemoryStore({ checkPeriod: 0 })
  const { base, close } = await listen(
    appWith({ store, cookie: { maxAge: 60_000 } }, (app) => {
      app.get('/forget-me', (req, res) => {
        req.session.user = 'ada'
        req.session.cookie.expires = false
        res.send('ok')
      })
    }),
  )
  try {
    const res = await request(base, '/forget-me')
    assert.equal(res.status, 200, res.text)
    assert.equal(res.setCookies.length, 1)
    const cookie = parseSetCookie(res.setCookies[0])
    assert.equal(cookie.expires, undefined, 'a browser-session cookie carries no Expires')
    const record = await stored(store, idOf(res.cookie))
    assert.equal(record.user, 'ada')
    assert.equal(record.cookie.expires, null)
  } finally {
    await close()
  }
})

