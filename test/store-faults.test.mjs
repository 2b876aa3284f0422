// Every store method against every way a store can fail (test/support/faulty-store.mjs), over real
// HTTP: the process never crashes, no request waits past storeTimeout for ever, and each cell ends in
// the documented outcome (docs/failure-behaviour.md).
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import session from 'sessionkit'
import { listen, parseSetCookie } from './support/http.mjs'
import { GARBAGE, KINDS, faultyStore, stored, storedCount } from './support/faulty-store.mjs'

const STORE_TIMEOUT = 150
// Far beyond STORE_TIMEOUT: a request still unanswered then is hung.
const HANG_LIMIT = 3000

const crashes = []
const onCrash = (err) => crashes.push(err)

/** fetch with a deadline; a request that hits it has hung. */
async function call(base, path, cookie) {
  const response = await fetch(base + path, {
    headers: cookie ? { cookie } : {},
    redirect: 'manual',
    signal: AbortSignal.timeout(HANG_LIMIT),
  })
  const text = await response.text()
  const setCookies = response.headers.getSetCookie()
  let body
  try {
    body = JSON.parse(text)
  } catch {
    body = text
  }
  return { status: response.status, body, setCookies }
}

/** Store errors the middleware reported without failing a response (its 'storeError' event). */
const reported = []

function app(store) {
  const middleware = session({
    secret: 'store-faults',
    store,
    resave: false,
    saveUninitialized: false,
    storeTimeout: STORE_TIMEOUT,
    cookie: { maxAge: 60_000 },
  })
  middleware.on('storeError', (error, operation) => reported.push({ code: error.code, operation }))
  const onError = (req, res, err) => {
    if (res.headersSent) {
      res.destroy()
      return
    }
    res.statusCode = err.status ?? 500
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ error: err.code ?? 'unknown', message: String(err.message) }))
  }
  return (req, res) => {
    middleware(req, res, (err) => {
      if (err) return onError(req, res, err)
      const reply = (value) => {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify(value))
      }
      if (req.url === '/write') {
        req.session.n = (req.session.n ?? 0) + 1
        return reply({ n: req.session.n, id: req.sessionID })
      }
      if (req.url === '/read') return reply({ n: req.session.n ?? null, id: req.sessionID })
      if (req.url === '/logout') {
        return req.session.destroy((destroyError) => (destroyError ? onError(req, res, destroyError) : reply({ bye: true })))
      }
      res.statusCode = 404
      res.end()
    })
  }
}

const sidOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]

describe('store faults: every method × every failure', () => {
  let server
  let store

  before(async () => {
    process.on('uncaughtException', onCrash)
    process.on('unhandledRejection', onCrash)
    store = faultyStore({ lateMs: STORE_TIMEOUT + 150 })
    server = await listen(app(store))
  })

  after(async () => {
    await server?.close()
    process.off('uncaughtException', onCrash)
    process.off('unhandledRejection', onCrash)
  })

  /** A session that exists in the store (made while the store is healthy), with n = 1. */
  async function existingSession() {
    store.heal()
    const first = await call(server.base, '/write')
    assert.equal(first.status, 200)
    const cookie = first.setCookies[0].split(';')[0]
    return { cookie, sid: sidOf(cookie) }
  }

  const failing = ['error', 'error-value', 'throw', 'reject']
  const garbageKinds = Object.keys(GARBAGE)

  for (const kind of KINDS) {
    test(`get / ${kind}`, async () => {
      const { cookie, sid } = await existingSession()
      store.inject('get', kind)
      const res = await call(server.base, '/read', cookie)
      store.heal()
      if (failing.includes(kind) || kind === 'twice-error-first') {
        assert.equal(res.status, 503)
        assert.equal(res.body.error, 'SESSION_STORE_FAILED')
        assert.deepEqual(res.setCookies, [])
      } else if (kind === 'hang' || kind === 'late') {
        assert.equal(res.status, 503)
        assert.equal(res.body.error, 'SESSION_STORE_TIMEOUT')
        assert.deepEqual(res.setCookies, [])
      } else if (kind === 'twice') {
        assert.deepEqual(res.body, { n: 1, id: sid })
      } else if (kind === 'garbage-proto') {
        // Valid apart from its hostile keys: loaded, with those keys dropped.
        assert.equal(res.status, 200)
        assert.deepEqual(res.body, { n: 7, id: sid })
      } else {
        // Corrupt: the request goes on as if there were no session, and the record is removed.
        assert.equal(res.status, 200)
        assert.equal(res.body.n, null)
        assert.notEqual(res.body.id, sid)
        assert.deepEqual(res.setCookies, [], 'nothing was written, so no cookie')
        assert.equal(await stored(store.inner, sid), undefined, 'the corrupt record is destroyed')
      }
      await store.settled()
      assert.equal({}.polluted, undefined)
      assert.equal(Object.prototype.polluted, undefined)
    })
  }

  test('a corrupt record whose removal also fails still yields a fresh session', async () => {
    const { cookie, sid } = await existingSession()
    store.inject('get', 'garbage-empty')
    const originalDestroy = store.inner.destroy
    store.inner.destroy = () => {
      throw new Error('destroy is broken too')
    }
    try {
      const res = await call(server.base, '/write', cookie)
      assert.equal(res.status, 200)
      assert.equal(res.body.n, 1)
      assert.notEqual(res.body.id, sid)
      assert.equal(parseSetCookie(res.setCookies[0]).name, 'connect.sid')
    } finally {
      store.inner.destroy = originalDestroy
      store.heal()
    }
  })

  for (const kind of KINDS) {
    test(`set / ${kind}`, async () => {
      // A new session: the one case where a cookie for an unstored session would be a lie.
      store.heal()
      await new Promise((resolve) => store.inner.clear(resolve))
      store.inject('set', kind)
      const res = await call(server.base, '/write')
      store.heal()
      if (failing.includes(kind) || kind === 'twice-error-first' || kind === 'hang' || kind === 'late') {
        assert.equal(res.status, 503, 'a failed save is never the handler\'s 200')
        assert.equal(res.body.error, kind === 'hang' || kind === 'late' ? 'SESSION_STORE_TIMEOUT' : 'SESSION_STORE_FAILED')
        assert.deepEqual(res.setCookies, [], 'no cookie for a session that was not stored')
        await store.settled()
        if (kind !== 'late' && kind !== 'twice-error-first') assert.equal(await storedCount(store.inner), 0)
      } else {
        // The save succeeded; what else the store said is ignored.
        assert.equal(res.status, 200)
        assert.equal(res.body.n, 1)
        const sid = sidOf(res.setCookies[0].split(';')[0])
        assert.equal(sid, res.body.id)
        assert.equal((await stored(store.inner, sid)).n, 1)
      }
    })
  }

  test('set fails on an existing session: 503, the stored data is unchanged', async () => {
    const { cookie, sid } = await existingSession()
    store.inject('set', 'error')
    const res = await call(server.base, '/write', cookie)
    store.heal()
    assert.equal(res.status, 503)
    assert.deepEqual(res.setCookies, [])
    assert.equal((await stored(store.inner, sid)).n, 1)
    const again = await call(server.base, '/write', cookie)
    assert.deepEqual(again.body, { n: 2, id: sid }, 'the next request starts from the stored data')
  })

  for (const kind of KINDS) {
    test(`touch / ${kind}`, async () => {
      const { cookie, sid } = await existingSession()
      store.inject('touch', kind)
      reported.length = 0
      const res = await call(server.base, '/read', cookie)
      // A touch runs after the response went out: it never delays or fails it.
      assert.equal(res.status, 200)
      assert.deepEqual(res.body, { n: 1, id: sid })
      await store.settled()
      if (kind === 'hang' || kind === 'late') await new Promise((resolve) => setTimeout(resolve, STORE_TIMEOUT + 100))
      store.heal()
      if (failing.includes(kind) || kind === 'twice-error-first' || kind === 'hang' || kind === 'late') {
        // The session's lifetime was not extended: reported where the app can see it, not hidden.
        const code = kind === 'hang' || kind === 'late' ? 'SESSION_STORE_TIMEOUT' : 'SESSION_STORE_FAILED'
        assert.deepEqual(reported, [{ code, operation: 'touch' }])
      } else {
        assert.deepEqual(reported, [])
      }
      assert.equal((await stored(store.inner, sid)).n, 1, 'a touch never loses the data')
    })
  }

  for (const kind of KINDS) {
    test(`destroy / ${kind}`, async () => {
      const { cookie, sid } = await existingSession()
      store.inject('destroy', kind)
      const res = await call(server.base, '/logout', cookie)
      store.heal()
      await store.settled()
      if (failing.includes(kind) || kind === 'twice-error-first' || kind === 'hang' || kind === 'late') {
        // destroy()'s callback gets the error; this app answers with it.
        assert.equal(res.status, 503)
        assert.equal(res.body.error, kind === 'hang' || kind === 'late' ? 'SESSION_STORE_TIMEOUT' : 'SESSION_STORE_FAILED')
        if (kind !== 'late' && kind !== 'twice-error-first') assert.equal((await stored(store.inner, sid)).n, 1)
      } else {
        assert.equal(res.status, 200)
        assert.deepEqual(res.body, { bye: true })
        assert.equal(await stored(store.inner, sid), undefined)
        const cleared = parseSetCookie(res.setCookies[0])
        assert.equal(cleared.name, 'connect.sid')
        assert.equal(cleared.value, '')
      }
    })
  }

  test('no crash, no unhandled rejection in any cell, Object.prototype untouched', async () => {
    await store.settled()
    // Give answers sent twice (setImmediate) a turn to arrive.
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.deepEqual(crashes, [])
    assert.equal(Object.prototype.polluted, undefined)
    assert.equal(Object.getOwnPropertyNames(Object.prototype).includes('polluted'), false)
  })
})
