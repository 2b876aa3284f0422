// A failed save is never answered as a success: data that cannot become JSON (circular, BigInt), a
// session over maxSessionBytes, or a store that refuses the write all give the error response, with
// no cookie, and never an uncaught exception, also when the app ends the response asynchronously.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import express from 'express'
import express4 from 'express4'
import session, { MemoryStore } from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'
import { faultyStore, stored } from './support/faulty-store.mjs'

const crashes = []
const onCrash = (err) => crashes.push(err)
before(() => {
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
})
after(() => {
  process.off('uncaughtException', onCrash)
  process.off('unhandledRejection', onCrash)
})

function circular() {
  const a = { name: 'a' }
  a.self = a
  return a
}

/** An Express app whose routes put `value()` into the session and answer in the way `end` says. */
function expressApp(make, store, extra = {}) {
  const app = make()
  app.use(session({ secret: 'save-failures', store, resave: false, saveUninitialized: false, storeTimeout: 500, ...extra }))
  const errors = []
  const answer = (res, how, body) => {
    if (how === 'sync') res.send(body)
    else if (how === 'timer') setTimeout(() => res.send(body), 5)
    else if (how === 'promise') Promise.resolve().then(() => res.send(body))
    else if (how === 'streamed') {
      // The headers go out before the end: nothing can turn this into an error response any more.
      res.write('partial ')
      setTimeout(() => res.end(body), 5)
    }
  }
  app.get('/circular/:how', (req, res) => {
    req.session.data = circular()
    answer(res, req.params.how, 'handler ok')
  })
  app.get('/bigint/:how', (req, res) => {
    req.session.count = 10n
    answer(res, req.params.how, 'handler ok')
  })
  app.get('/big/:size', (req, res) => {
    req.session.blob = 'é'.repeat(Number(req.params.size))
    res.send('handler ok')
  })
  app.get('/small', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1
    res.send(`n=${req.session.n}`)
  })
  app.get('/login', (req, res) => {
    req.session.user = 'ada'
    res.cookie('flash', 'welcome')
    res.redirect('/home')
  })
  app.get('/double-send', (req, res) => {
    req.session.user = 'ada'
    res.send('first')
    res.send('second answer')
  })
  app.get('/explicit-save', (req, res) => {
    req.session.data = circular()
    req.session.save((err) => {
      delete req.session.data
      res.send(err ? `save refused: ${err.code}` : 'saved')
    })
  })
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    errors.push(err)
    if (res.headersSent) return res.destroy()
    res.status(err.status ?? 500).json({ error: err.code, message: err.message })
  })
  return { app, errors }
}

for (const [label, make] of [
  ['Express 5', express],
  ['Express 4', express4],
]) {
  describe(`unserializable session data (${label})`, () => {
    let server
    let errors
    const store = new MemoryStore()
    before(async () => {
      const built = expressApp(make, store)
      errors = built.errors
      server = await listen(built.app)
    })
    after(() => server.close())

    for (const kind of ['circular', 'bigint']) {
      for (const how of ['sync', 'timer', 'promise']) {
        test(`${kind} data, response ended ${how}: 500 naming JSON, no cookie, no crash`, async () => {
          const res = await request(server.base, `/${kind}/${how}`)
          assert.equal(res.status, 500)
          const body = JSON.parse(res.text)
          assert.equal(body.error, 'SESSION_SERIALIZE')
          assert.match(body.message, /JSON/)
          assert.notEqual(res.text, 'handler ok')
          assert.deepEqual(res.setCookies, [])
          assert.deepEqual(crashes, [])
        })
      }

      test(`${kind} data after the headers went out: the response is cut off, the error reaches next()`, async () => {
        const before = errors.length
        const outcome = await request(server.base, `/${kind}/streamed`).then(
          (res) => res,
          (err) => err,
        )
        // Either fetch sees the connection cut, or, if it read everything, never the handler's complete answer.
        if (!(outcome instanceof Error)) assert.notEqual(outcome.text, 'partial handler ok')
        assert.equal(errors.length, before + 1)
        assert.equal(errors.at(-1).code, 'SESSION_SERIALIZE')
        assert.deepEqual(crashes, [])
      })
    }

    test('session.save() with circular data hands the error to its callback', async () => {
      const res = await request(server.base, '/explicit-save')
      assert.equal(res.status, 200)
      assert.equal(res.text, 'save refused: SESSION_SERIALIZE')
      assert.deepEqual(crashes, [])
    })
  })
}

describe('maxSessionBytes', () => {
  let server
  const store = new MemoryStore()
  before(async () => {
    server = await listen(expressApp(express, store, { maxSessionBytes: 1000 }).app)
  })
  after(() => server.close())

  test('a session over the limit is a SESSION_SERIALIZE error naming the limit and the size, with no cookie', async () => {
    // 600 characters of 2 bytes each: under the limit in characters, over it in bytes.
    const res = await request(server.base, '/big/600')
    assert.equal(res.status, 500)
    const body = JSON.parse(res.text)
    assert.equal(body.error, 'SESSION_SERIALIZE')
    assert.match(body.message, /maxSessionBytes/)
    assert.match(body.message, /1000/)
    assert.match(body.message, /\b1211 bytes\b/) // {"blob":"…"} around 600 × 2 bytes
    assert.deepEqual(res.setCookies, [])
  })

  test('a session under the limit is stored as usual', async () => {
    const res = await request(server.base, '/big/100')
    assert.equal(res.status, 200)
    assert.equal(res.setCookies.length, 1)
  })

  test('an existing session that grows over the limit keeps its stored data', async () => {
    const first = await request(server.base, '/small')
    assert.equal(first.text, 'n=1')
    const sid = decodeURIComponent(first.cookie.split('=')[1]).slice(2).split('.')[0]
    const grown = await request(server.base, '/big/600', { cookie: first.cookie })
    assert.equal(grown.status, 500)
    assert.equal((await stored(store, sid)).blob, undefined)
    const after = await request(server.base, '/small', { cookie: first.cookie })
    assert.equal(after.text, 'n=2')
  })

  test('the option is checked at startup', () => {
    for (const bad of [-1, 1.5, '1000', Number.NaN]) {
      assert.throws(() => session({ secret: 's', resave: false, saveUninitialized: false, maxSessionBytes: bad }), (err) => err.code === 'SESSION_CONFIG' && /maxSessionBytes/.test(err.message))
    }
  })
})

describe('a store that refuses the write', () => {
  let server
  let store
  before(async () => {
    store = faultyStore()
    server = await listen(expressApp(express, store).app)
  })
  after(() => server.close())

  test('a login whose session is not stored gets no redirect and none of the app\'s cookies', async () => {
    store.inject('set', 'error')
    const res = await request(server.base, '/login')
    store.heal()
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('location'), null)
    assert.deepEqual(res.setCookies, [])
    assert.equal(JSON.parse(res.text).error, 'SESSION_STORE_FAILED')
  })

  test('the same login with a healthy store redirects with both cookies', async () => {
    const res = await request(server.base, '/login')
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), '/home')
    assert.deepEqual(res.setCookies.map((header) => parseSetCookie(header).name).sort(), ['connect.sid', 'flash'])
  })

  test('a store that never answers the write: 503 after storeTimeout, not a hung request', async () => {
    store.inject('set', 'hang')
    const res = await request(server.base, '/small')
    store.heal()
    assert.equal(res.status, 503)
    assert.equal(JSON.parse(res.text).error, 'SESSION_STORE_TIMEOUT')
    assert.deepEqual(res.setCookies, [])
  })

  test('res.send called twice while the save is pending: still the error response when the save fails', async () => {
    store.inject('set', 'error')
    const res = await request(server.base, '/double-send')
    store.heal()
    assert.equal(res.status, 503)
    assert.deepEqual(res.setCookies, [])
  })

  test('res.send called twice with a healthy store: the first answer, after the save, as without a session', async () => {
    const res = await request(server.base, '/double-send')
    assert.equal(res.status, 200)
    assert.equal(res.text, 'first')
    assert.equal(res.setCookies.length, 1)
    const sid = decodeURIComponent(res.cookie.split('=')[1]).slice(2).split('.')[0]
    assert.equal((await stored(store.inner, sid)).user, 'ada')
  })

  test('no uncaught exception anywhere in this file', () => {
    assert.deepEqual(crashes, [])
  })
})
