// Frameworks built on express-session hand it what they have: kraken-js its default configuration
// (`key: ""`, `proxy: null`), Sails its whole session configuration with keys of its own and, for its
// virtual requests, a mock response; Etherpad loads the session for a socket with `{}` as the response.
// Each shape runs against express-session and sessionkit, and both must give the same results.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import cookieParser from 'cookie-parser'
import express from 'express'
import expressSession from 'express-session'
import session from 'sessionkit'
import { listen, request } from './support/http.mjs'

const libraries = { 'express-session': expressSession, sessionkit: session }
const warnings = []
process.on('warning', (warning) => warnings.push(warning))
const nextTick = () => new Promise((resolve) => setImmediate(resolve))

/** kraken-js's default `middleware.session.module.arguments[0]` and `cookieParser` arguments. */
const kraken = () => ({ key: '', secret: 'keyboard cat', cookie: { path: '/', httpOnly: true, maxAge: null }, proxy: null })

/** What Sails passes to express-session: its whole `sails.config.session`, its own keys included. */
const sails = (Store) => ({
  adapter: 'memory',
  secret: 'sails secret',
  name: 'sails.sid',
  cookie: { path: '/', httpOnly: true, secure: false, maxAge: 24 * 60 * 60 * 1000 },
  isSessionDisabled: () => false,
  handleConstructingSessionStore: () => {},
  routesDisabled: [],
  saveUninitialized: true,
  resave: false,
  store: new Store.MemoryStore(),
})

/**
 * A response like a framework's virtual one: headers in a Map, writeHead, write and end, no socket. `done`
 * resolves when end has run.
 */
function mockResponse() {
  const headers = new Map()
  let finish
  const done = new Promise((resolve) => (finish = resolve))
  const chunks = []
  const res = {
    statusCode: 200,
    headersSent: false,
    setHeader(name, value) {
      headers.set(name.toLowerCase(), value)
      return this
    },
    getHeader: (name) => headers.get(name.toLowerCase()),
    removeHeader: (name) => headers.delete(name.toLowerCase()),
    writeHead(status) {
      this.statusCode = status
      this.headersSent = true
      return this
    },
    // Node's own name for "write the headers now", which express-session calls when the app ends.
    _implicitHeader() {
      this.writeHead(this.statusCode)
    },
    write(chunk) {
      if (!this.headersSent) this.writeHead(this.statusCode)
      chunks.push(String(chunk))
      return true
    },
    end(body) {
      if (body !== undefined) this.write(body)
      if (!this.headersSent) this.writeHead(this.statusCode)
      finish(chunks.join(''))
      return this
    },
  }
  return { res, done }
}

describe('kraken-js: its default configuration starts and serves sessions', () => {
  for (const [name, library] of Object.entries(libraries)) {
    test(name, async () => {
      const app = express()
      app.use(cookieParser('keyboard cat'))
      app.use(library(kraken()))
      app.get('/', (req, res) => res.send(String((req.session.views = (req.session.views ?? 0) + 1))))
      const { base, close } = await listen(app)
      try {
        const first = await request(base, '/')
        assert.equal(first.status, 200)
        assert.equal(first.text, '1')
        assert.match(first.setCookies[0], /^connect\.sid=s%3A[^;]+; Path=\/; HttpOnly$/)
        const second = await request(base, '/', { cookie: first.cookie })
        assert.equal(second.text, '2')
      } finally {
        await close()
      }
    })
  }
})

describe('Sails: its configuration, and a virtual request on a mock response', () => {
  for (const [name, library] of Object.entries(libraries)) {
    test(`${name}: no warning for Sails' own keys; Set-Cookie is an array whose [0] is the session cookie`, async () => {
      const before = warnings.length
      const middleware = library(sails(library))
      await nextTick()
      assert.deepEqual(
        warnings.slice(before).map((warning) => warning.message),
        [],
      )
      const req = { url: '/csrfToken', originalUrl: '/csrfToken', method: 'GET', headers: {} }
      const { res, done } = mockResponse()
      middleware(req, res, (err) => {
        assert.ifError(err)
        req.session.token = 'abc'
        res.end('ok')
      })
      assert.equal(await done, 'ok')
      const setCookie = res.getHeader('set-cookie')
      assert.ok(Array.isArray(setCookie), `Set-Cookie is ${JSON.stringify(setCookie)}`)
      assert.equal(setCookie.length, 1)
      assert.match(setCookie[0], /^sails\.sid=s%3A/)

      // The cookie opens the same session on a second virtual request.
      const again = { url: '/', originalUrl: '/', method: 'GET', headers: { cookie: setCookie[0].split(';')[0] } }
      const second = mockResponse()
      middleware(again, second.res, () => second.res.end(String(again.session.token)))
      assert.equal(await second.done, 'abc')
    })

    test(`${name}: a cookie set before the session's stays first, as an array of two`, async () => {
      const middleware = library({ secret: 's', resave: false, saveUninitialized: true })
      const req = { url: '/', method: 'GET', headers: {} }
      const { res, done } = mockResponse()
      middleware(req, res, () => {
        res.setHeader('Set-Cookie', 'theme=dark')
        res.end()
      })
      await done
      const setCookie = res.getHeader('set-cookie')
      assert.equal(setCookie.length, 2)
      assert.equal(setCookie[0], 'theme=dark')
      assert.match(setCookie[1], /^connect\.sid=/)
    })
  }

  test('over HTTP too, the session cookie alone is set as an array (read back by the app before the headers go)', async () => {
    const results = {}
    for (const [name, library] of Object.entries(libraries)) {
      const middleware = library({ secret: 's', resave: false, saveUninitialized: true })
      const { base, close } = await listen((req, res) =>
        middleware(req, res, () => {
          res.writeHead(200)
          res.end(JSON.stringify(res.getHeader('set-cookie')))
        }),
      )
      try {
        const seen = JSON.parse((await request(base, '/')).text)
        results[name] = Array.isArray(seen) ? `array of ${seen.length}` : typeof seen
      } finally {
        await close()
      }
    }
    assert.deepEqual(results, { 'express-session': 'array of 1', sessionkit: 'array of 1' })
  })
})

describe("Etherpad: the session loaded for a socket with {} as the response", () => {
  for (const [name, library] of Object.entries(libraries)) {
    test(name, async () => {
      const store = new library.MemoryStore()
      const middleware = library({ secret: 'pad', store, resave: false, saveUninitialized: false })
      const app = express()
      app.use(middleware)
      app.get('/login', (req, res) => {
        req.session.user = 'ann'
        res.send('in')
      })
      // What Etherpad does in its socket.io handshake: the real request, an empty object as the response.
      app.get('/socket', (req, res) => {
        const handshake = Object.assign(Object.create(Object.getPrototypeOf(req)), { headers: req.headers, url: req.url, originalUrl: req.originalUrl, method: 'GET', socket: req.socket })
        middleware(handshake, {}, (err) => res.json({ err: err?.message ?? null, user: handshake.session?.user ?? null }))
      })
      const { base, close } = await listen(app)
      try {
        const login = await request(base, '/login')
        const socket = await request(base, '/socket', { cookie: login.cookie })
        assert.deepEqual(JSON.parse(socket.text), { err: null, user: 'ann' })
      } finally {
        await close()
      }
    })
  }
})
