// Any store works, however it is written and however it completes: over real HTTP with Express 5,
// every test store carries the whole flow; one that answers twice completes once; one that throws or
// never answers fails the request, not the process; stores written as `require('store')(session)`,
// including the real memorystore package, work; and a store receives the session in the shape
// stores read today.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import session, * as esm from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'
import { ExpressSessionBasedStore, bothStore, callbackStore, held, sidOf, signedCookie, storeKinds } from './support/stores.mjs'

const require = createRequire(import.meta.url)
const SECRET = 'store compat secret'
const MAX_AGE = 60_000

/** An Express 5 app on `store` with the routes every flow test uses; `stats` counts what happened. */
async function start(store, extra = {}, addRoutes = () => {}) {
  const stats = { hits: 0, errors: [] }
  const app = express()
  app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: MAX_AGE }, ...extra }))
  // Runs once per request that the middleware hands on; twice would mean it called next() twice.
  app.use((req, res, next) => {
    stats.hits++
    next()
  })
  app.get('/set', (req, res) => {
    req.session.user = 'ann'
    req.session.count = 0
    res.send('set')
  })
  app.get('/get', (req, res) => res.json({ user: req.session.user ?? null, count: req.session.count ?? null, id: req.sessionID }))
  app.get('/change', (req, res) => {
    req.session.count += 1
    res.json({ count: req.session.count })
  })
  app.get('/regenerate', async (req, res) => {
    await req.session.regenerate()
    req.session.user = 'regenerated'
    res.send('regenerated')
  })
  app.get('/destroy', (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.send('destroyed'))))
  addRoutes(app, stats)
  app.use((err, req, res, next) => {
    stats.errors.push(err)
    res.status(err.status ?? 500).json({ code: err.code ?? null, message: err.message })
  })
  const { server, base } = await listen(app)
  return { base, stats, close: () => server.close() }
}

describe('every kind of store carries the whole flow', () => {
  for (const kind of storeKinds) {
    test(kind.name, async () => {
      const store = kind.create()
      const { base, stats, close } = await start(store)
      try {
        const first = await request(base, '/set')
        assert.equal(first.status, 200)
        assert.ok(first.cookie, 'a new session with data gets a cookie')
        const sid = sidOf(first.cookie)
        const stored = held(store, sid)
        assert.equal(stored?.user, 'ann', 'the new session is in the store')
        assert.equal(stored.cookie.originalMaxAge, MAX_AGE)

        const read = await request(base, '/get', { cookie: first.cookie })
        assert.deepEqual(JSON.parse(read.text), { user: 'ann', count: 0, id: sid }, 'the next request reads it')

        // An unchanged session is touched: the store's copy of the expiry moves.
        await sleep(15)
        const touchedBefore = Date.parse(held(store, sid).cookie.expires)
        await request(base, '/get', { cookie: first.cookie })
        // The touch goes to the store once the response is out: allow it a moment, bounded.
        for (let tries = 0; tries < 40 && !(Date.parse(held(store, sid).cookie.expires) > touchedBefore); tries++) await sleep(25)
        assert.ok(Date.parse(held(store, sid).cookie.expires) > touchedBefore, 'touch moved the stored expiry')

        const changed = await request(base, '/change', { cookie: first.cookie })
        assert.equal(JSON.parse(changed.text).count, 1)
        assert.equal(held(store, sid).count, 1, 'the change is saved')

        const regenerated = await request(base, '/regenerate', { cookie: first.cookie })
        assert.equal(regenerated.status, 200)
        const newSid = sidOf(regenerated.cookie)
        assert.notEqual(newSid, sid)
        assert.equal(held(store, sid), null)
        assert.equal(held(store, newSid).user, 'regenerated')

        const destroyed = await request(base, '/destroy', { cookie: regenerated.cookie })
        assert.equal(destroyed.status, 200)
        assert.equal(held(store, newSid), null, 'destroy removes it')
        assert.equal(store.records.size, 0)
        assert.equal(new Date(parseSetCookie(destroyed.setCookies[0]).expires).getTime(), 0)

        const gone = await request(base, '/get', { cookie: regenerated.cookie })
        assert.equal(JSON.parse(gone.text).user, null)
        assert.equal(stats.hits, 7, 'each request went through exactly once')
        assert.deepEqual(stats.errors, [])
        if (store instanceof ExpressSessionBasedStore) {
          assert.deepEqual(store.helperCalls, [], "express-session's Store helpers are never called")
        }
      } finally {
        await close()
      }
    })
  }
})

test('a plain object with only get, set and destroy (no touch, no events) is enough', async () => {
  const full = callbackStore()
  const store = { records: full.records, get: full.get, set: full.set, destroy: full.destroy }
  const { base, stats, close } = await start(store)
  try {
    const first = await request(base, '/set')
    const sid = sidOf(first.cookie)
    const stored = held(store, sid)
    const read = await request(base, '/get', { cookie: first.cookie })
    assert.equal(JSON.parse(read.text).user, 'ann')
    assert.deepEqual(read.setCookies, [])
    // Without a touch, an unchanged session is written back after the response so that its expiry moves.
    for (let tries = 0; tries < 40 && held(store, sid).cookie.expires === stored.cookie.expires; tries++) await sleep(25)
    assert.ok(Date.parse(held(store, sid).cookie.expires) > Date.parse(stored.cookie.expires), 'the stored expiry moved')
    assert.deepEqual({ ...held(store, sid), cookie: stored.cookie }, stored, 'the data is as it was')
    await request(base, '/change', { cookie: first.cookie })
    assert.equal(held(store, sid).count, 1)
    await request(base, '/destroy', { cookie: first.cookie })
    assert.equal(held(store, sid), null)
    assert.deepEqual(stats.errors, [])
  } finally {
    await close()
  }
})

describe('a store that answers by callback and by Promise completes once', () => {
  // The asynchronous both-ways store of support/stores.mjs, and one that calls back synchronously
  // and then also returns an already-resolved Promise.
  const syncBoth = () => {
    const store = callbackStore()
    store.answers = 0
    store.get = (sid, cb) => {
      const record = held(store, sid)
      store.answers += 2
      cb(null, record)
      return Promise.resolve(record)
    }
    store.set = (sid, sess, cb) => {
      store.records.set(sid, JSON.stringify(sess))
      store.answers += 2
      cb(null)
      return Promise.resolve()
    }
    store.touch = (sid, sess, cb) => {
      store.answers += 2
      cb(null)
      return Promise.resolve()
    }
    store.destroy = (sid, cb) => {
      store.records.delete(sid)
      store.answers += 2
      cb(null)
      return Promise.resolve()
    }
    return store
  }

  for (const [name, create] of [
    ['asynchronous', bothStore],
    ['synchronous callback, resolved Promise', syncBoth],
  ]) {
    test(name, async () => {
      const store = create()
      const calls = { save: 0, reload: 0, regenerate: 0, destroy: 0 }
      const { base, stats, close } = await start(store, {}, (app) => {
        app.get('/each', (req, res, next) => {
          req.session.step = 'save'
          req.session.save((err) => {
            calls.save++
            if (err) return next(err)
            req.session.reload((err) => {
              calls.reload++
              if (err) return next(err)
              req.session.regenerate((err) => {
                calls.regenerate++
                if (err) return next(err)
                req.session.destroy((err) => {
                  calls.destroy++
                  if (err) return next(err)
                  // Leave time for any second answer to arrive before the response ends.
                  setTimeout(() => res.send('done'), 20)
                })
              })
            })
          })
        })
      })
      try {
        const first = await request(base, '/set')
        await request(base, '/get', { cookie: first.cookie })
        await request(base, '/change', { cookie: first.cookie })
        const each = await request(base, '/each', { cookie: first.cookie })
        assert.equal(each.status, 200, each.text)
        await sleep(30)
        assert.deepEqual(calls, { save: 1, reload: 1, regenerate: 1, destroy: 1 }, 'each callback ran once')
        assert.equal(stats.hits, 4, 'each request was handed on once')
        assert.deepEqual(stats.errors, [])
        assert.ok(store.answers >= 14, `the store did answer twice each time (${store.answers} answers)`)
      } finally {
        await close()
      }
    })
  }
})

describe('a store method that throws synchronously fails the request, not the process', () => {
  let app
  const store = callbackStore()
  before(async () => {
    store.get = () => {
      throw new Error('get exploded')
    }
    const originalSet = store.set
    store.set = (sid, sess, cb) => {
      if (sess.explode) throw 'set exploded' // not even an Error
      return originalSet(sid, sess, cb)
    }
    store.destroy = () => {
      throw new Error('destroy exploded')
    }
    app = await start(store, {}, (server) => {
      server.get('/explode', (req, res) => {
        req.session.explode = true
        res.send('should not be seen')
      })
    })
  })
  after(() => app.close())

  test('get throws: a 5xx through next(err)', async () => {
    const res = await request(app.base, '/get', { cookie: signedCookie('some-session-id', SECRET) })
    assert.ok(res.status >= 500 && res.status < 600, `status ${res.status}`)
    assert.match(JSON.parse(res.text).message, /get exploded/)
    assert.equal(app.stats.hits, 0, 'the app did not run without its session')
  })

  test('set throws: a 5xx, no cookie for a session that is not stored', async () => {
    const res = await request(app.base, '/explode')
    assert.ok(res.status >= 500 && res.status < 600, `status ${res.status}`)
    assert.doesNotMatch(res.text, /should not be seen/)
    assert.deepEqual(res.setCookies, [])
    assert.equal(store.records.size, 0)
  })

  test("destroy throws: the error reaches destroy()'s callback", async () => {
    const first = await request(app.base, '/set')
    assert.ok(first.cookie)
    // get throws for every cookie-bearing request, so restore it for this one.
    const throwing = store.get
    store.get = (sid, cb) => setImmediate(() => cb(null, held(store, sid)))
    try {
      const res = await request(app.base, '/destroy', { cookie: first.cookie })
      assert.ok(res.status >= 500 && res.status < 600, `status ${res.status}`)
      assert.match(JSON.parse(res.text).message, /destroy exploded/)
    } finally {
      store.get = throwing
    }
  })

  test('the server still answers afterwards', async () => {
    const res = await request(app.base, '/set')
    assert.equal(res.status, 200)
    assert.ok(held(store, sidOf(res.cookie)))
  })
})

describe('storeTimeout', () => {
  const pending = []
  const store = callbackStore()
  let app
  before(async () => {
    store.get = (sid, cb) => {
      pending.push(cb) // never answers on its own
    }
    app = await start(store, { storeTimeout: 200 })
  })
  after(() => app.close())

  test('a get that never answers fails the request with 503; a late answer is ignored', { timeout: 10_000 }, async () => {
    const sid = 'never-answered-session'
    const started = Date.now()
    const res = await request(app.base, '/get', { cookie: signedCookie(sid, SECRET) })
    const waited = Date.now() - started
    assert.equal(res.status, 503)
    assert.equal(JSON.parse(res.text).code, 'SESSION_STORE_TIMEOUT')
    // Only a guard against hanging on the store, not a speed requirement.
    assert.ok(waited < 5_000, `answered after ${waited} ms`)
    assert.equal(pending.length, 1)
    assert.equal(app.stats.errors.length, 1)

    // The store finally answers: nothing may run for the request that already failed.
    const cookieRecord = { originalMaxAge: MAX_AGE, expires: new Date(Date.now() + MAX_AGE).toISOString(), path: '/', httpOnly: true }
    pending[0](null, { user: 'late', cookie: cookieRecord })
    await sleep(30)
    assert.equal(app.stats.hits, 0, 'the late answer did not hand the request on')
    assert.equal(app.stats.errors.length, 1, 'nor report anything again')

    const fresh = await request(app.base, '/set')
    assert.equal(fresh.status, 200, 'requests without a cookie still work')
  })

  test('a set that never answers: 503 instead of the response, no cookie, late answer ignored', { timeout: 10_000 }, async () => {
    const silent = callbackStore()
    const waiting = []
    silent.set = (sid, sess, cb) => void waiting.push(cb)
    const { base, stats, close } = await start(silent, { storeTimeout: 200 })
    try {
      const res = await request(base, '/set')
      assert.equal(res.status, 503)
      assert.equal(JSON.parse(res.text).code, 'SESSION_STORE_TIMEOUT')
      assert.deepEqual(res.setCookies, [], 'no cookie for a session that was not stored')
      assert.equal(waiting.length, 1)
      waiting[0](null)
      await sleep(30)
      assert.equal(stats.errors.length, 1)
      assert.equal(stats.hits, 1)
    } finally {
      await close()
    }
  })
})

test('the built-in MemoryStore goes unwatched, but not a subclass or an instance whose method was replaced', { timeout: 10_000 }, async () => {
  // Unwatched because it always answers; the exemption must not reach a store that may not.
  class StuckGet extends esm.MemoryStore {
    get() {} // never answers
  }
  const patched = new esm.MemoryStore({ checkPeriod: 0 })
  patched.set = () => {} // never answers
  for (const [store, path, cookie] of [
    [new StuckGet({ checkPeriod: 0 }), '/get', signedCookie('stuck-session', SECRET)],
    [patched, '/set', undefined],
  ]) {
    const { base, close } = await start(store, { storeTimeout: 100 })
    try {
      const res = await request(base, path, cookie ? { cookie } : {})
      assert.equal(res.status, 503, `${path} on ${store.constructor.name}`)
      assert.equal(JSON.parse(res.text).code, 'SESSION_STORE_TIMEOUT')
    } finally {
      await close()
    }
  }
  // (That the plain MemoryStore goes unwatched cannot be seen from outside: its next-tick answer always
  // comes before any timer. What matters is that the exemption reaches no store that may hang.)
})

test('watching store calls for storeTimeout does not keep the process alive once they have answered', async () => {
  // One shared timer watches every store call; with a 10-minute timeout it ticks every 75 s. Once the
  // request's get and set have answered, it must not hold the process open.
  const { execFile } = await import('node:child_process')
  const script = `
    const http = require('node:http')
    const session = require(${JSON.stringify(require.resolve('sessionkit'))})
    const middleware = session({ secret: 'x', resave: false, saveUninitialized: false, storeTimeout: 600000 })
    const server = http.createServer((req, res) => middleware(req, res, () => { req.session.n = 1; res.end('ok') }))
    server.listen(0, '127.0.0.1', () => {
      http.get({ host: '127.0.0.1', port: server.address().port }, (res) => {
        res.resume()
        res.on('end', () => { server.close(); console.log(res.statusCode, res.headers['set-cookie'] ? 'cookie' : 'no cookie') })
      })
    })`
  const outcome = await new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { timeout: 10_000 }, (err, stdout, stderr) => resolve({ killed: err?.killed ?? false, code: err?.code ?? 0, stdout, stderr }))
  })
  assert.deepEqual(outcome, { killed: false, code: 0, stdout: '200 cookie\n', stderr: '' })
})

describe('stores written as require("some-store")(session)', () => {
  test('the CommonJS module is the factory, with Store, MemoryStore, Cookie and Session on it', () => {
    const cjs = require('sessionkit')
    assert.equal(typeof cjs, 'function')
    for (const name of ['Store', 'MemoryStore', 'Cookie', 'Session']) {
      assert.equal(typeof cjs[name], 'function', `session.${name}`)
      assert.equal(cjs[name], esm[name], `session.${name} is the same class for require and import`)
    }
    assert.equal(cjs, session)
    const memory = new cjs.MemoryStore()
    assert.ok(memory instanceof cjs.Store)
    memory.close()
  })

  test('the real memorystore package, built on session.Store, works end to end', async () => {
    const cjs = require('sessionkit')
    const MemoryStore = require('memorystore')(cjs)
    const store = new MemoryStore({ checkPeriod: 3_600_000 })
    assert.ok(store instanceof cjs.Store)
    const peek = (sid) => {
      const json = store.store.peek(sid)
      return json === undefined ? null : JSON.parse(json)
    }
    const { base, stats, close } = await start(store)
    try {
      const first = await request(base, '/set')
      const sid = sidOf(first.cookie)
      assert.equal(peek(sid)?.user, 'ann')
      const read = await request(base, '/get', { cookie: first.cookie })
      assert.equal(JSON.parse(read.text).user, 'ann')
      await request(base, '/change', { cookie: first.cookie })
      assert.equal(peek(sid).count, 1)
      const destroyed = await request(base, '/destroy', { cookie: first.cookie })
      assert.equal(destroyed.status, 200)
      assert.equal(peek(sid), null)
      assert.deepEqual(stats.errors, [])
    } finally {
      store.stopInterval()
      await close()
    }
  })

  test('memorystore reads the live cookie.maxAge: a session with a short maxAge expires there', async () => {
    const cjs = require('sessionkit')
    const MemoryStore = require('memorystore')(cjs)
    const store = new MemoryStore({ checkPeriod: 3_600_000 })
    const { base, close } = await start(store, { cookie: { maxAge: 200 } })
    try {
      const first = await request(base, '/set')
      const sid = sidOf(first.cookie)
      assert.ok(store.store.peek(sid), 'stored')
      await sleep(300)
      const read = await request(base, '/get', { cookie: first.cookie })
      assert.equal(JSON.parse(read.text).user, null, 'expired in memorystore after maxAge')
    } finally {
      store.stopInterval()
      await close()
    }
  })
})

describe('the session a store receives', () => {
  test('has cookie.expires as a Date, cookie.originalMaxAge, and a live cookie.maxAge', async () => {
    const seen = []
    const store = callbackStore()
    const inspect = (method) => {
      const original = store[method]
      store[method] = (sid, sess, cb) => {
        const first = sess.cookie.maxAge
        const wait = Date.now() + 15
        while (Date.now() < wait); // the session is a live object: maxAge is computed when read
        seen.push({
          method,
          expiresIsDate: sess.cookie.expires instanceof Date,
          expires: sess.cookie.expires.getTime(),
          originalMaxAge: sess.cookie.originalMaxAge,
          first,
          second: sess.cookie.maxAge,
          json: JSON.parse(JSON.stringify(sess)),
          at: Date.now(),
        })
        return original(sid, sess, cb)
      }
    }
    inspect('set')
    inspect('touch')
    const { base, close } = await start(store)
    try {
      const first = await request(base, '/set')
      await request(base, '/get', { cookie: first.cookie })
      assert.deepEqual(
        seen.map((s) => s.method),
        ['set', 'touch'],
      )
      for (const s of seen) {
        assert.equal(s.expiresIsDate, true, `${s.method}: cookie.expires is a Date`)
        assert.equal(s.originalMaxAge, MAX_AGE, `${s.method}: cookie.originalMaxAge`)
        assert.equal(typeof s.first, 'number')
        assert.ok(s.first <= MAX_AGE && s.first > MAX_AGE - 5_000, `${s.method}: maxAge ${s.first}`)
        assert.ok(s.second < s.first, `${s.method}: maxAge is live (${s.first} then ${s.second})`)
        assert.ok(Math.abs(s.expires - s.at - s.second) < 50, `${s.method}: maxAge is the time left until expires`)
        // What a store persists with JSON.stringify, as connect-redis and others do.
        assert.equal(s.json.cookie.expires, new Date(s.expires).toISOString())
        assert.equal(s.json.cookie.originalMaxAge, MAX_AGE)
        assert.equal(s.json.cookie.path, '/')
        assert.equal(s.json.cookie.httpOnly, true)
        assert.equal(s.json.user, 'ann')
      }
    } finally {
      await close()
    }
  })
})
