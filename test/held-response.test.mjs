// While sessionkit holds a response for the store (a save after the app's res.end()), the response
// behaves to the app exactly as an ended one does in plain node:http: each case below runs the same
// handler with and without the session middleware and compares what the app and the client see.
// And a touch (an unchanged session's new expiry) never holds, delays or fails a response.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import session, { MemoryStore } from 'sessionkit'
import { listen, request } from './support/http.mjs'

const require = createRequire(import.meta.url)
const express4 = require('express4')

/** A MemoryStore whose writes take `ms`, so that a response is really held while one runs. */
function slowStore(ms = 40) {
  const store = new MemoryStore()
  const set = store.set.bind(store)
  store.set = (sid, record, callback) => setTimeout(() => set(sid, record, callback), ms)
  return store
}

/** Runs `handler(req, res, seen)` on a plain server, with or without session(); resolves to what the client and the app saw. */
async function run(handler, { withSession }) {
  const middleware = session({ secret: 'held', store: slowStore(), resave: false, saveUninitialized: false })
  const seen = []
  const server = await listen((req, res) => {
    const go = () => {
      if (withSession) req.session.user = 'ada' // a change: the end waits for the save
      handler(req, res, seen)
    }
    if (withSession) middleware(req, res, go)
    else go()
  })
  try {
    const res = await request(server.base, '/')
    await new Promise((resolve) => setTimeout(resolve, 80)) // errors are reported on the next ticks
    return { status: res.status, text: res.text, seen, cookies: res.setCookies.length }
  } finally {
    await server.close()
  }
}

const codeOf = (fn) => {
  try {
    fn()
    return 'no error'
  } catch (err) {
    return err.code
  }
}

const CASES = {
  'a second end() is ignored: the first body is what the client gets': (req, res, seen) => {
    res.end('Hello, world!')
    seen.push(res.end() === res)
  },
  'setHeader() after end() throws ERR_HTTP_HEADERS_SENT': (req, res, seen) => {
    res.end('Hello')
    seen.push(codeOf(() => res.setHeader('x-late', '1')))
  },
  'writeHead() after end() throws ERR_HTTP_HEADERS_SENT': (req, res, seen) => {
    res.end('Hello')
    seen.push(codeOf(() => res.writeHead(201)))
  },
  'removeHeader() and appendHeader() after end() throw ERR_HTTP_HEADERS_SENT': (req, res, seen) => {
    res.setHeader('x-early', '1')
    res.end('Hello')
    seen.push(codeOf(() => res.removeHeader('x-early')), codeOf(() => res.appendHeader('x-late', '1')))
  },
  'write() after end() returns false and reports ERR_STREAM_WRITE_AFTER_END to its callback and as an error event': (req, res, seen) => {
    res.end('Hello')
    res.on('error', (err) => seen.push(`event ${err.code}`))
    seen.push(res.write('more', (err) => seen.push(`callback ${err?.code}`)))
  },
  // end(data) after end() is the one deliberate difference (ignored, as express-session does, where
  // Node crashes the process): test/double-end.test.mjs.
  'headersSent and writableEnded are true after end()': (req, res, seen) => {
    res.end('Hello')
    seen.push(res.headersSent, res.writableEnded)
  },
  'a bare end(callback) after end() calls back once the response is finished': (req, res, seen) => {
    res.end('Hello')
    res.end(() => seen.push(`finished ${res.writableFinished}`))
  },
}

describe('a held response behaves as an ended one, as in node:http', () => {
  for (const [name, handler] of Object.entries(CASES)) {
    test(name, async () => {
      const plain = await run(handler, { withSession: false })
      const held = await run(handler, { withSession: true })
      assert.deepEqual({ status: held.status, text: held.text, seen: held.seen }, { status: plain.status, text: plain.text, seen: plain.seen })
      assert.equal(held.cookies, 1, 'the session was saved and its cookie sent')
    })
  }
})

for (const [label, make] of [
  ['Express 5', express],
  ['Express 4', express4],
]) {
  test(`${label}: res.send() twice fails as it does without a session middleware`, async () => {
    const outcome = async (withSession) => {
      const app = make()
      const errors = []
      if (withSession) app.use(session({ secret: 'held', store: slowStore(), resave: false, saveUninitialized: false }))
      app.get('/', (req, res) => {
        if (withSession) req.session.user = 'ada'
        res.send('first')
        res.send('second')
      })
      // eslint-disable-next-line no-unused-vars
      app.use((err, req, res, next) => {
        errors.push(`${err.code} headersSent=${res.headersSent}`)
        if (res.headersSent) return res.destroy()
        res.status(500).send('error page')
      })
      const server = await listen(app)
      try {
        const res = await request(server.base, '/')
        await new Promise((resolve) => setTimeout(resolve, 60))
        return { status: res.status, text: res.text, errors, cookies: res.setCookies.length }
      } finally {
        await server.close()
      }
    }
    const plain = await outcome(false)
    const held = await outcome(true)
    assert.deepEqual(plain, { status: 200, text: 'first', errors: ['ERR_HTTP_HEADERS_SENT headersSent=true'], cookies: 0 })
    assert.deepEqual(held, { ...plain, cookies: 1 })
  })
}

describe('a touch never delays or fails the response', () => {
  let server
  let store
  let middleware
  let releaseTouch
  let touchFailure
  const reported = []
  before(async () => {
    store = new MemoryStore()
    const touch = store.touch.bind(store)
    store.touch = (sid, record, callback) => {
      if (touchFailure !== undefined) return callback(touchFailure)
      // Holds the touch until the test lets it go: a response that waited for it could not arrive.
      releaseTouch = (done) =>
        touch(sid, record, (err) => {
          callback(err)
          done()
        })
    }
    middleware = session({ secret: 'touch', store, resave: false, saveUninitialized: false, storeTimeout: 5000, cookie: { maxAge: 60_000 } })
    middleware.on('storeError', (error, operation) => reported.push(`${operation}: ${error.code} ${error.cause?.code ?? ''}`.trim()))
    const app = express()
    app.use(middleware)
    app.get('/login', (req, res) => {
      req.session.user = 'ada'
      res.send('in')
    })
    app.get('/read', (req, res) => res.send(String(req.session.user)))
    server = await listen(app)
  })
  after(() => server.close())

  test('an unchanged session is answered before its expiry is moved, then the store has the new expiry', async () => {
    const login = await request(server.base, '/login')
    const cookie = login.cookie
    const sid = decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
    const before = await new Promise((resolve) => store.get(sid, (err, s) => resolve(s.cookie.expires)))
    await new Promise((resolve) => setTimeout(resolve, 20))
    releaseTouch = undefined
    const read = await request(server.base, '/read', { cookie })
    assert.equal(read.status, 200)
    assert.equal(read.text, 'ada')
    assert.equal(typeof releaseTouch, 'function', 'the response arrived while the touch was still waiting')
    await new Promise((resolve) => releaseTouch(resolve))
    const moved = await new Promise((resolve) => store.get(sid, (err, s) => resolve(s.cookie.expires)))
    assert.ok(new Date(moved) > new Date(before), 'the touch moved the stored expiry')
  })

  test("a failed touch (session-file-store's ENOENT after a concurrent logout) is a 200, reported on 'storeError'", async () => {
    const { cookie } = await request(server.base, '/login')
    touchFailure = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' })
    reported.length = 0
    try {
      const read = await request(server.base, '/read', { cookie })
      assert.equal(read.status, 200)
      assert.equal(read.text, 'ada')
      await new Promise((resolve) => setTimeout(resolve, 20))
      assert.deepEqual(reported, ['touch: SESSION_STORE_FAILED ENOENT'])
    } finally {
      touchFailure = undefined
    }
  })
})
