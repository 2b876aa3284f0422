// Cache safety: a response that carries the session's Set-Cookie tells shared caches not to keep it,
// never weakening what the app said. Checked with the headers a cache would see, in both modes.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import express from 'express'
import session, { cookieSession } from 'sessionkit'
import { listen, request } from './support/http.mjs'

const SECRET = 'cache safety tests, a secret of 32 bytes or more'

const modes = {
  'session()': (options) => session({ secret: SECRET, resave: false, saveUninitialized: false, ...options }),
  'cookieSession()': (options) => cookieSession({ secret: SECRET, ...options }),
}

function app(middleware) {
  const server = express()
  server.use(middleware)
  // ?cc= and ?vary= are what the app itself sets on its response.
  server.get('/login', (req, res) => {
    if (req.query.cc) res.set('Cache-Control', req.query.cc)
    if (req.query.vary) res.set('Vary', req.query.vary)
    req.session.user = 'ann'
    res.send('in')
  })
  server.get('/page', (req, res) => {
    res.set('Cache-Control', 'public, max-age=600')
    res.send(String(req.session.user ?? 'nobody'))
  })
  server.get('/logout', async (req, res) => {
    await req.session.destroy()
    res.send('out')
  })
  return server
}

for (const [mode, make] of Object.entries(modes)) {
  test(`${mode}: the response that sets the cookie is private, a stricter value stays, and the app's Vary is its own`, async () => {
    const { base, close } = await listen(app(make({})))
    try {
      const cases = [
        // [what the app set, the Cache-Control a cache sees, the Vary it sees: only what the app set]
        [{}, 'private'],
        [{ cc: 'public, max-age=600' }, 'private, max-age=600'],
        [{ cc: 's-maxage=60, max-age=0' }, 'private, s-maxage=60, max-age=0'],
        [{ cc: 'no-store' }, 'no-store', null],
        [{ cc: 'private, max-age=30' }, 'private, max-age=30'],
        [{ cc: 'no-cache="Set-Cookie, X-Debug", max-age=60' }, 'private, no-cache="Set-Cookie, X-Debug", max-age=60'],
        [{ vary: 'Origin' }, 'private', 'Origin'],
        [{ vary: 'Accept-Encoding, cookie' }, 'private', 'Accept-Encoding, cookie'],
        [{ vary: '*' }, 'private', '*'],
      ]
      for (const [given, cacheControl, vary = given.vary ?? null] of cases) {
        const res = await request(base, `/login?${new URLSearchParams(given)}`)
        assert.equal(res.setCookies.length, 1, JSON.stringify(given))
        assert.equal(res.headers.get('cache-control'), cacheControl, JSON.stringify(given))
        assert.equal(res.headers.get('vary'), vary, JSON.stringify(given))
      }
    } finally {
      await close()
    }
  })

  test(`${mode}: a response without the session's Set-Cookie keeps the app's caching; clearing the cookie is private too`, async () => {
    const { base, close } = await listen(app(make({})))
    try {
      const login = await request(base, '/login')
      const page = await request(base, '/page', { cookie: login.cookie })
      assert.deepEqual(page.setCookies, [])
      assert.equal(page.headers.get('cache-control'), 'public, max-age=600')
      assert.equal(page.headers.get('vary'), null)
      const anonymous = await request(base, '/page')
      assert.equal(anonymous.headers.get('cache-control'), 'public, max-age=600')
      const logout = await request(base, '/logout', { cookie: login.cookie })
      assert.match(logout.setCookies[0] ?? '', /Expires=Thu, 01 Jan 1970/)
      assert.equal(logout.headers.get('cache-control'), 'private')
    } finally {
      await close()
    }
  })

  test(`${mode}: cacheControl: false leaves the headers to the app`, async () => {
    const { base, close } = await listen(app(make({ cacheControl: false })))
    try {
      const res = await request(base, '/login?cc=public%2C+max-age%3D600')
      assert.equal(res.setCookies.length, 1)
      assert.equal(res.headers.get('cache-control'), 'public, max-age=600')
      assert.equal(res.headers.get('vary'), null)
    } finally {
      await close()
    }
  })
}

test('cacheControl must be a boolean', () => {
  assert.throws(() => modes['session()']({ cacheControl: 'no' }), { code: 'SESSION_CONFIG', message: /cacheControl/ })
  assert.throws(() => modes['cookieSession()']({ cacheControl: 'no' }), { code: 'SESSION_CONFIG', message: /cacheControl/ })
})

test('node:http with the headers given to res.writeHead(): the same rules apply', async () => {
  const middleware = modes['session()']({})
  const { base, close } = await listen((req, res) =>
    middleware(req, res, () => {
      req.session.n = 1
      res.writeHead(200, { 'Cache-Control': 'public, max-age=60', Vary: 'Origin' })
      res.end('ok')
    }),
  )
  try {
    const res = await request(base, '/')
    assert.equal(res.setCookies.length, 1)
    assert.equal(res.headers.get('cache-control'), 'private, max-age=60')
    assert.equal(res.headers.get('vary'), 'Origin')
  } finally {
    await close()
  }
})
