// The session cookie's attributes as a browser receives them, on every framework, each compared with
// the Set-Cookie header express-session sends for the same options.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import connect from 'connect'
import express5 from 'express'
import express4 from 'express4'
import {
  CountingStore,
  SECRET,
  expressSession,
  frameworks,
  idOf,
  options,
  send,
  session,
  sessionCookie,
  sessionSetCookie,
  start,
} from './support/flow/apps.mjs'
import { listen, parseSetCookie, request } from './support/http.mjs'

const routes = {
  '*': (req, res) => {
    if (req.session === undefined) return send(res, { session: 'none' })
    req.session.value = 'v'
    send(res, { session: 'yes', id: req.sessionID })
  },
}

const https = { 'x-forwarded-proto': 'https' }

/** The session Set-Cookie that `create(opts)` sends for one request, parsed; and the store. */
async function cookieFrom(create, framework, extra, { path = '/write', headers = {} } = {}) {
  const store = new CountingStore()
  const app = await start(create({ ...options(extra), store }), routes, { framework })
  try {
    const response = await app.get(path, { headers })
    const header = sessionSetCookie(response)
    return { header, cookie: header === undefined ? undefined : parseSetCookie(header), response, store }
  } finally {
    await app.close()
  }
}

/** Both middlewares' cookies for the same options; asserts they carry the same attributes. */
async function bothAgree(framework, extra, request) {
  const ours = await cookieFrom(session, framework, extra, request)
  const theirs = await cookieFrom(expressSession, framework, extra, request)
  assert.ok(ours.cookie, 'sessionkit sends a cookie')
  assert.ok(theirs.cookie, 'express-session sends a cookie')
  const strip = ({ value, expires, ...rest }) => rest
  assert.deepEqual(strip(ours.cookie), strip(theirs.cookie))
  assert.equal(ours.cookie.expires === undefined, theirs.cookie.expires === undefined, 'both or neither send Expires')
  return ours
}

const near = (date, expected, slack = 5_000) => Math.abs(Date.parse(date) - expected) < slack

for (const framework of frameworks) {
  describe(`cookie attributes on ${framework.name}`, () => {
    test('domain', async () => {
      const { cookie, store } = await bothAgree(framework, { cookie: { domain: 'example.test' } })
      assert.equal(cookie.domain, 'example.test')
      const [id] = await store.ids()
      assert.equal((await store.read(id)).cookie.domain, 'example.test', 'stored with the session')
    })

    test('path: set on the cookie; a request outside it gets no session at all', async () => {
      const { cookie } = await bothAgree(framework, { cookie: { path: '/app' } }, { path: '/app/write' })
      assert.equal(cookie.path, '/app')
      for (const create of [session, expressSession]) {
        const outside = await cookieFrom(create, framework, { cookie: { path: '/app' } }, { path: '/other' })
        assert.equal(outside.header, undefined)
        assert.deepEqual(JSON.parse(outside.response.text), { session: 'none' }, `${create.name}: req.session undefined`)
        assert.deepEqual(await outside.store.ids(), [])
      }
    })

    test('httpOnly false drops HttpOnly', async () => {
      const { cookie } = await bothAgree(framework, { cookie: { httpOnly: false } })
      assert.equal(cookie.httponly, undefined)
    })

    test('maxAge: Expires = now + maxAge, and no Max-Age (as express-session)', async () => {
      const { cookie, store } = await bothAgree(framework, { cookie: { maxAge: 120_000 } })
      assert.equal(cookie['max-age'], undefined)
      assert.ok(near(cookie.expires, Date.now() + 120_000), cookie.expires)
      const [id] = await store.ids()
      const stored = (await store.read(id)).cookie
      assert.equal(stored.originalMaxAge, 120_000)
      assert.ok(near(stored.expires, Date.now() + 120_000))
    })

    test('expires: the given date is sent', async () => {
      const when = new Date(Math.ceil((Date.now() + 3_600_000) / 1000) * 1000)
      const { cookie } = await bothAgree(framework, { cookie: { expires: when } })
      assert.equal(Date.parse(cookie.expires), when.getTime())
    })

    test('partitioned', async () => {
      const { cookie } = await bothAgree(framework, { proxy: true, cookie: { partitioned: true, secure: true, sameSite: 'none' } }, { headers: https })
      // Partitioned cookies must be Secure, and a Secure cookie is only sent over https: a trusted proxy.
      assert.equal(cookie.partitioned, true)
    })

    test('priority', async () => {
      for (const priority of ['low', 'medium', 'high']) {
        const { cookie } = await bothAgree(framework, { cookie: { priority } })
        assert.equal(cookie.priority.toLowerCase(), priority)
      }
    })

    for (const [sameSite, expected] of [
      [true, 'Strict'],
      ['lax', 'Lax'],
      ['strict', 'Strict'],
      ['none', 'None'],
    ]) {
      test(`sameSite ${JSON.stringify(sameSite)} → SameSite=${expected}`, async () => {
        const { cookie } = await bothAgree(framework, { cookie: { sameSite } })
        assert.equal(cookie.samesite, expected)
      })
    }

    test('sameSite false sends no SameSite', async () => {
      const { cookie } = await bothAgree(framework, { cookie: { sameSite: false } })
      assert.equal(cookie.samesite, undefined)
    })

    test("sameSite 'auto': None over https (trusted proxy), Lax over http; stored resolved", async () => {
      const overHttps = await bothAgree(framework, { proxy: true, cookie: { sameSite: 'auto' } }, { headers: https })
      assert.equal(overHttps.cookie.samesite, 'None')
      const [id] = await overHttps.store.ids()
      assert.equal((await overHttps.store.read(id)).cookie.sameSite, 'none')
      const overHttp = await bothAgree(framework, { proxy: true, cookie: { sameSite: 'auto' } })
      assert.equal(overHttp.cookie.samesite, 'Lax')
    })

    test("secure 'auto': Secure over https (trusted proxy); sent without Secure over http", async () => {
      const overHttps = await bothAgree(framework, { proxy: true, cookie: { secure: 'auto' } }, { headers: https })
      assert.equal(overHttps.cookie.secure, true)
      const overHttp = await bothAgree(framework, { proxy: true, cookie: { secure: 'auto' } })
      assert.equal(overHttp.cookie.secure, undefined)
    })

    test('secure true: not sent over plain http, but the session is still saved', async () => {
      for (const create of [session, expressSession]) {
        const { header, store } = await cookieFrom(create, framework, { cookie: { secure: true } })
        assert.equal(header, undefined, create.name)
        const ids = await store.ids()
        assert.equal(ids.length, 1, `${create.name} saved the session`)
        assert.equal((await store.read(ids[0])).value, 'v')
      }
    })

    test('a loaded session keeps the attributes it was created with', async () => {
      const store = new CountingStore()
      const extra = { rolling: true, proxy: true, cookie: { sameSite: 'auto', domain: 'example.test', maxAge: 60_000 } }
      const app = await start(session({ ...options(extra), store }), routes, { framework })
      try {
        const first = await app.get('/write', { headers: https })
        const cookie = sessionCookie(first)
        // The second request comes over http, yet the session's cookie stays as it was made.
        const again = parseSetCookie(sessionSetCookie(await app.get('/write', { cookie })))
        assert.equal(again.samesite, 'None')
        assert.equal(again.domain, 'example.test')
        assert.equal(idOf(`x=${again.value}`, SECRET), idOf(cookie, SECRET))
      } finally {
        await app.close()
      }
    })
  })
}

// Mounted under a prefix, the router strips it from req.url; cookie.path is matched against the
// original URL, as in express-session.
for (const [name, create] of [['express5', express5], ['express4', express4], ['connect', connect]]) {
  test(`mounted at /app on ${name}: cookie.path /app matches the original URL`, async () => {
    for (const middleware of [session, expressSession]) {
      const app = create()
      app.use('/app', middleware(options({ cookie: { path: '/app' } })))
      app.use('/app', routes['*'])
      const server = await listen(app)
      try {
        const response = await request(server.base, '/app/write')
        assert.deepEqual(JSON.parse(response.text).session, 'yes', middleware.name)
        assert.equal(parseSetCookie(sessionSetCookie(response)).path, '/app')
      } finally {
        await server.close()
      }
    }
  })
}
