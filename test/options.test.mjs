// Every option of session(): checked at startup with a message that names it, its default, and its
// effect over real HTTP on every framework, compared with express-session where both should agree.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  CountingStore,
  MemoryStore,
  SECRET,
  cookieSignature,
  expressSession,
  frameworks,
  idOf,
  options,
  send,
  session,
  sessionCookie,
  sessionSetCookie,
  signedCookie,
  start,
} from './support/flow/apps.mjs'
import { parseSetCookie } from './support/http.mjs'

const routes = {
  '/write': (req, res) => {
    req.session.value = new URL(req.url, 'http://localhost').searchParams.get('v') ?? 'x'
    send(res, { id: req.sessionID })
  },
  '/read': (req, res) => send(res, { value: req.session.value ?? null, id: req.sessionID }),
  '/nothing': (req, res) => send(res, 'ok'),
}

// Runs first in this file: the warning is emitted once per process.
describe('missing resave / saveUninitialized', () => {
  test('each emits a process warning naming the option, and the defaults are express-session\'s (true)', async () => {
    const warnings = []
    const listener = (warning) => warnings.push(warning)
    process.on('warning', listener)
    try {
      const store = new CountingStore()
      const middleware = session({ secret: SECRET, store })
      await new Promise((resolve) => setImmediate(resolve))
      const texts = warnings.map((w) => w.message)
      assert.ok(texts.some((m) => m.includes('resave')), `a warning names resave: ${texts.join(' | ')}`)
      assert.ok(texts.some((m) => m.includes('saveUninitialized')), `a warning names saveUninitialized: ${texts.join(' | ')}`)
      // The defaults they warn about: an untouched new session is stored (saveUninitialized true) and an
      // unchanged loaded one is saved again (resave true).
      const app = await start(middleware, routes)
      try {
        const cookie = sessionCookie(await app.get('/nothing'))
        assert.ok(cookie, 'saveUninitialized defaults to true')
        store.reset()
        await app.get('/nothing', { cookie })
        assert.deepEqual(store.calls.set, [idOf(cookie, SECRET)], 'resave defaults to true')
      } finally {
        await app.close()
      }
    } finally {
      process.off('warning', listener)
    }
  })

  test('no warning when both are given', async () => {
    const warnings = []
    const listener = (warning) => warnings.push(warning)
    process.on('warning', listener)
    try {
      session(options())
      await new Promise((resolve) => setImmediate(resolve))
      assert.deepEqual(
        warnings.filter((w) => /resave|saveUninitialized/.test(w.message)),
        [],
      )
    } finally {
      process.off('warning', listener)
    }
  })
})

describe('startup validation: a nonsense option throws SESSION_CONFIG naming the option', () => {
  const rejects = (opts, pattern) => {
    assert.throws(
      () => session(opts),
      (err) => {
        assert.equal(err.code, 'SESSION_CONFIG', `code of: ${err.message}`)
        assert.match(err.message, pattern)
        return true
      },
    )
  }

  // Left out it is not an error: cookie-parser's req.secret signs, as in express-session
  // (express-session-habits-2.test.mjs). Given but undefined or null, it is (session-option-values.test.mjs).
  test('secret: empty string, empty array, not a string, an array with a bad entry, an empty Buffer', () => {
    rejects(options({ secret: '' }), /secret/)
    rejects(options({ secret: [] }), /secret/)
    rejects(options({ secret: 42 }), /secret/)
    rejects(options({ secret: { key: 'x' } }), /secret/)
    rejects(options({ secret: ['good', 7] }), /secret/)
    rejects(options({ secret: Buffer.alloc(0) }), /secret/)
  })

  test('options that are not an object', () => {
    for (const given of ['secret', 42, true]) assert.throws(() => session(given), (err) => err.code === 'SESSION_CONFIG' && /options object/.test(err.message))
  })

  // An empty name means the default, as in express-session (session-option-values.test.mjs).
  test('name with ";", a space, "=", a newline, or not a string', () => {
    for (const name of ['a;b', 'my sid', 'a=b', 'sid\r\nX-Evil: 1', {}, ['sid']]) rejects(options({ name }), /name/)
  })

  test('cookie path or domain that would inject attributes (";", CR, LF)', () => {
    for (const path of ['/;Domain=evil.com', '/\r\nX: y', '/a\nb', 'no-leading-slash']) rejects(options({ cookie: { path } }), /path/)
    for (const domain of ['example.com;Secure', 'example.com\r\n', 'a\nb']) rejects(options({ cookie: { domain } }), /domain/)
  })

  // express-session fails on these at every request; a negative maxAge it accepts, and so does sessionkit.
  test('cookie maxAge NaN, Infinity or a string; expires not a valid Date', () => {
    for (const maxAge of [NaN, Infinity, '1000', {}]) rejects(options({ cookie: { maxAge } }), /maxAge/)
    for (const expires of ['tomorrow', new Date('nope')]) rejects(options({ cookie: { expires } }), /expires/)
  })

  // Flags that are not booleans are taken by truthiness, as express-session takes them (with a warning).
  test('cookie sameSite and priority of the wrong kind', () => {
    for (const sameSite of ['sometimes', 'strictest', 1]) rejects(options({ cookie: { sameSite } }), /sameSite/)
    rejects(options({ cookie: { priority: 'urgent' } }), /priority/)
  })

  test('cookie neither an object nor a function', () => {
    rejects(options({ cookie: 'secure' }), /cookie/)
  })

  test('unset other than keep / destroy', () => {
    for (const unset of ['remove', true, 'DESTROY']) rejects(options({ unset }), /unset/)
  })


  test('store missing get, set or destroy', () => {
    const full = { get() {}, set() {}, destroy() {}, on() {} }
    for (const method of ['get', 'set', 'destroy']) {
      const store = { ...full }
      delete store[method]
      rejects(options({ store }), new RegExp(`store.*${method}|${method}.*store`))
    }
  })

  test('genid not a function', () => {
    for (const genid of ['abc', 42, {}]) rejects(options({ genid }), /genid/)
  })

  test('valid edge values are accepted: maxAge 0 and null, sameSite booleans and any case, secure auto', () => {
    for (const cookie of [{ maxAge: 0 }, { maxAge: null }, { sameSite: true }, { sameSite: false }, { sameSite: 'Strict' }, { secure: 'auto' }, { priority: 'High' }]) {
      assert.equal(typeof session(options({ cookie })), 'function', JSON.stringify(cookie))
    }
  })
})

for (const framework of frameworks) {
  describe(`options over HTTP on ${framework.name}`, () => {
    test('defaults: name connect.sid, Path=/, HttpOnly, no Expires, no Secure, same as express-session', async () => {
      const seen = []
      for (const create of [session, expressSession]) {
        const app = await start(create(options()), routes, { framework })
        try {
          const header = sessionSetCookie(await app.get('/write'))
          assert.ok(header, `${create.name} sets connect.sid`)
          const cookie = parseSetCookie(header)
          assert.equal(cookie.name, 'connect.sid')
          assert.equal(cookie.path, '/')
          assert.equal(cookie.httponly, true)
          assert.equal(cookie.expires, undefined)
          assert.equal(cookie['max-age'], undefined)
          assert.equal(cookie.secure, undefined)
          const { value, name, ...attributes } = cookie
          seen.push(attributes)
        } finally {
          await app.close()
        }
      }
      assert.deepEqual(seen[0], seen[1], 'same attributes as express-session')
    })

    test('name: a custom cookie name is sent and read back', async () => {
      const app = await start(session(options({ name: 'app.sid' })), routes, { framework })
      try {
        const response = await app.get('/write?v=named')
        assert.equal(sessionCookie(response), undefined)
        const cookie = sessionCookie(response, 'app.sid')
        assert.ok(cookie)
        const read = await app.get('/read', { cookie })
        assert.equal(JSON.parse(read.text).value, 'named')
        // The default name is not read any more.
        const other = await app.get('/read', { cookie: cookie.replace('app.sid', 'connect.sid') })
        assert.equal(JSON.parse(other.text).value, null)
      } finally {
        await app.close()
      }
    })

    test('cookie as a function of req: options per request', async () => {
      const month = 30 * 24 * 3600 * 1000
      const cookieOption = (req) => ({ maxAge: req.headers['x-remember'] === '1' ? month : 60_000, sameSite: 'lax' })
      const app = await start(session(options({ cookie: cookieOption })), routes, { framework })
      try {
        const short = parseSetCookie(sessionSetCookie(await app.get('/write')))
        const long = parseSetCookie(sessionSetCookie(await app.get('/write', { headers: { 'x-remember': '1' } })))
        assert.ok(Math.abs(Date.parse(short.expires) - (Date.now() + 60_000)) < 5_000)
        assert.ok(Math.abs(Date.parse(long.expires) - (Date.now() + month)) < 5_000)
        assert.equal(short.samesite, 'Lax')
      } finally {
        await app.close()
      }
    })

    test('cookie function returning a bad path: the error goes to next() (5xx) and no Set-Cookie', async () => {
      const cookieOption = (req) => (req.headers['x-bad'] ? { path: '/;Domain=evil.example' } : {})
      const app = await start(session(options({ cookie: cookieOption })), routes, { framework })
      try {
        const bad = await app.get('/write', { headers: { 'x-bad': '1' } })
        assert.ok(bad.status >= 500 && bad.status < 600, `status ${bad.status}`)
        assert.match(bad.text, /path/)
        assert.deepEqual(bad.setCookies, [])
        const good = await app.get('/write')
        assert.equal(good.status, 200)
        assert.ok(sessionCookie(good))
      } finally {
        await app.close()
      }
    })

    test('secret array: an old secret still loads the session; new cookies are signed with the first', async () => {
      const store = new CountingStore()
      const before = await start(session(options({ secret: 'old secret', store })), routes, { framework })
      let oldCookie
      try {
        oldCookie = sessionCookie(await before.get('/write?v=from-before'))
      } finally {
        await before.close()
      }
      assert.equal(typeof idOf(oldCookie, 'old secret'), 'string')

      const after = await start(session(options({ secret: ['new secret', 'old secret'], store, rolling: true })), routes, { framework })
      try {
        const read = await after.get('/read', { cookie: oldCookie })
        assert.equal(JSON.parse(read.text).value, 'from-before', 'loaded through the second secret')
        // rolling re-sends the cookie: now signed with the first secret, same id.
        const resent = sessionCookie(read)
        assert.equal(idOf(resent, 'new secret'), idOf(oldCookie, 'old secret'))
        assert.equal(idOf(resent, 'old secret'), false)

        const fresh = sessionCookie(await after.get('/write?v=new'))
        const freshId = idOf(fresh, 'new secret')
        assert.equal(typeof freshId, 'string')
        assert.equal(idOf(fresh, 'old secret'), false, 'not signed with the old secret')
        assert.equal((await store.read(freshId)).value, 'new')
      } finally {
        await after.close()
      }
    })

    test('a secret dropped from the array no longer verifies', async () => {
      const store = new CountingStore()
      const app = await start(session(options({ secret: 'current', store })), routes, { framework })
      try {
        const id = idOf(sessionCookie(await app.get('/write?v=mine')), 'current')
        const forged = signedCookie(id, 'retired')
        const read = await app.get('/read', { cookie: forged })
        assert.equal(JSON.parse(read.text).value, null)
        assert.notEqual(JSON.parse(read.text).id, id)
      } finally {
        await app.close()
      }
    })

    test('Buffer secret signs and verifies', async () => {
      const secret = Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 99, 100])
      const app = await start(session(options({ secret })), routes, { framework })
      try {
        const cookie = sessionCookie(await app.get('/write?v=buf'))
        const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1))
        const id = cookieSignature.unsign(value.slice(2), secret)
        assert.equal(typeof id, 'string')
        assert.equal(JSON.parse((await app.get('/read', { cookie })).text).value, 'buf')
      } finally {
        await app.close()
      }
    })

    test('genid: custom ids are used for the cookie and in the store, and receive the request', async () => {
      const store = new CountingStore()
      let n = 0
      const genid = (req) => `custom-${req.headers['x-tenant'] ?? 'none'}-${++n}`
      const app = await start(session(options({ genid, store })), routes, { framework })
      try {
        const cookie = sessionCookie(await app.get('/write?v=g', { headers: { 'x-tenant': 'acme' } }))
        assert.equal(idOf(cookie, SECRET), 'custom-acme-1')
        assert.deepEqual(await store.ids(), ['custom-acme-1'])
        assert.equal((await store.read('custom-acme-1')).value, 'g')
        // An untouched request makes no id at all (lazy).
        await app.get('/nothing')
        assert.equal(n, 1)
      } finally {
        await app.close()
      }
    })

    test('genid as an async function', async () => {
      const store = new CountingStore()
      const genid = async () => {
        await new Promise((resolve) => setImmediate(resolve))
        return 'async-made-id'
      }
      const app = await start(session(options({ genid, store })), routes, { framework })
      try {
        const cookie = sessionCookie(await app.get('/write?v=a'))
        assert.equal(idOf(cookie, SECRET), 'async-made-id')
        assert.equal((await store.read('async-made-id')).value, 'a')
      } finally {
        await app.close()
      }
    })

    test('store: the given store is used and exposed as req.sessionStore', async () => {
      const store = new CountingStore()
      const app = await start(session(options({ store })), {
        ...routes,
        '/store': (req, res) => send(res, { same: req.sessionStore === store }),
      }, { framework })
      try {
        assert.deepEqual(JSON.parse((await app.get('/store')).text), { same: true })
        await app.get('/write')
        assert.equal(store.calls.set.length, 1)
      } finally {
        await app.close()
      }
    })

    test('default store is a MemoryStore', async () => {
      const app = await start(session(options()), { '/store': (req, res) => send(res, { memory: req.sessionStore instanceof MemoryStore }) }, { framework })
      try {
        assert.deepEqual(JSON.parse((await app.get('/store')).text), { memory: true })
      } finally {
        await app.close()
      }
    })

    // proxy × X-Forwarded-Proto with a Secure cookie, same answers as express-session.
    const https = { 'x-forwarded-proto': 'https' }
    const proxyCases = [
      { proxy: true, headers: https, sent: true },
      { proxy: true, headers: {}, sent: false },
      { proxy: true, headers: { 'x-forwarded-proto': 'http' }, sent: false },
      { proxy: true, headers: { 'x-forwarded-proto': 'https, http' }, sent: true },
      { proxy: false, headers: https, sent: false },
      { proxy: undefined, headers: https, sent: false },
    ]
    for (const { proxy, headers, sent } of proxyCases) {
      test(`proxy ${proxy} with X-Forwarded-Proto ${headers['x-forwarded-proto'] ?? '(none)'}: Secure cookie ${sent ? 'sent' : 'withheld'}`, async () => {
        for (const create of [session, expressSession]) {
          const app = await start(create(options({ proxy, cookie: { secure: true } })), routes, { framework })
          try {
            const header = sessionSetCookie(await app.get('/write', { headers }))
            assert.equal(header !== undefined, sent, create.name)
            if (sent) assert.equal(parseSetCookie(header).secure, true)
          } finally {
            await app.close()
          }
        }
      })
    }

    if (framework.name.startsWith('express')) {
      test("proxy undefined follows Express's trust proxy setting", async () => {
        for (const create of [session, expressSession]) {
          const trusting = await start(create(options({ cookie: { secure: true } })), routes, {
            framework,
            setup: (app) => app.set('trust proxy', 1),
          })
          const distrusting = await start(create(options({ cookie: { secure: true } })), routes, { framework })
          const overriding = await start(create(options({ proxy: false, cookie: { secure: true } })), routes, {
            framework,
            setup: (app) => app.set('trust proxy', 1),
          })
          try {
            assert.ok(sessionSetCookie(await trusting.get('/write', { headers: https })), `${create.name}: trusted`)
            assert.equal(sessionSetCookie(await trusting.get('/write')), undefined, `${create.name}: no header, plain http`)
            assert.equal(sessionSetCookie(await distrusting.get('/write', { headers: https })), undefined, `${create.name}: not trusted`)
            assert.equal(sessionSetCookie(await overriding.get('/write', { headers: https })), undefined, `${create.name}: proxy false wins`)
          } finally {
            await trusting.close()
            await distrusting.close()
            await overriding.close()
          }
        }
      })
    }
  })
}
