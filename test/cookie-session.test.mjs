// cookieSession(): the session lives in an encrypted cookie and `req.session` behaves as with
// session(). Every scenario runs over real HTTP on Express 5 and on plain node:http.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import session, { cookieSession, COOKIE_SIZE_LIMIT, SessionError } from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'

const SECRET = 'a long random secret for the cookie-session tests, 32+ bytes'

const query = (req, key) => new URL(req.url, 'http://localhost').searchParams.get(key)

function send(res, body, status = 200) {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.end(typeof body === 'string' ? body : JSON.stringify(body))
}

// One set of routes, written against node:http only, so that both frameworks run the same code.
const routes = {
  '/nothing': (req, res) => send(res, 'ok'),
  '/read': (req, res) => send(res, { value: req.session.value ?? null, id: req.sessionID, hasStore: req.sessionStore !== undefined }),
  '/write': (req, res) => {
    req.session.value = query(req, 'v') ?? 'x'
    send(res, 'written')
  },
  '/big': (req, res) => {
    req.session.blob = 'b'.repeat(Number(query(req, 'n')))
    send(res, 'handler answered')
  },
  '/delete': (req, res) => {
    delete req.session.value
    send(res, 'deleted')
  },
  '/nested': (req, res) => {
    req.session.profile ??= { city: 'Oslo' }
    const city = query(req, 'city')
    if (city) req.session.profile.city = city
    send(res, req.session.profile)
  },
  '/remember': (req, res) => {
    req.session.cookie.maxAge = Number(query(req, 'ms'))
    send(res, 'remembered')
  },
  '/null': (req, res) => {
    req.session = null
    send(res, 'nulled')
  },
  '/unset': (req, res) => {
    delete req.session
    send(res, 'deleted session')
  },
  '/assign': (req, res) => {
    req.session = { value: 'assigned' }
    send(res, 'assigned')
  },
  '/destroy-promise': async (req, res) => {
    await req.session.destroy()
    send(res, { session: req.session ?? null })
  },
  '/destroy-callback': (req, res) => {
    req.session.destroy((err) => send(res, err ? 'failed' : 'destroyed'))
  },
  '/regenerate-promise': async (req, res) => {
    const before = req.sessionID
    await req.session.regenerate({ keep: ['cart'] })
    req.session.user = 'ann'
    send(res, { before, after: req.sessionID, cart: req.session.cart ?? null, value: req.session.value ?? null })
  },
  '/regenerate-callback': (req, res) => {
    const before = req.sessionID
    req.session.regenerate((err) => {
      if (err) return send(res, 'failed', 500)
      req.session.user = 'bob'
      send(res, { before, after: req.sessionID })
    })
  },
  '/cart': (req, res) => {
    req.session.cart = ['apple']
    req.session.value = 'before-login'
    send(res, 'cart')
  },
  '/save-promise': async (req, res) => {
    await req.session.save()
    send(res, 'saved')
  },
  '/save-callback': (req, res) => {
    req.session.save((err) => send(res, err ? `failed: ${err.message}` : 'saved'))
  },
  '/save-big': async (req, res) => {
    req.session.blob = 'b'.repeat(6000)
    try {
      await req.session.save()
      send(res, 'saved')
    } catch (err) {
      delete req.session.blob
      send(res, { code: err.code, size: err.size, limit: err.limit })
    }
  },
  '/save-after-headers': async (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    try {
      await req.session.save()
      res.end('saved')
    } catch (err) {
      res.end(`rejected: ${err.code}`)
    }
  },
  '/reload-promise': async (req, res) => {
    req.session.value = 'changed in this request'
    await req.session.reload()
    send(res, { value: req.session.value ?? null })
  },
  '/reload-callback': (req, res) => {
    req.session.value = 'changed in this request'
    req.session.reload((err) => send(res, err ? { code: err.code } : { value: req.session.value ?? null }))
  },
  '/touch': (req, res) => {
    const same = req.session.touch() === req.session
    send(res, { same })
  },
  '/stream': (req, res) => {
    req.session.value = 'streamed'
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    res.write('part one, ')
    res.end('part two')
  },
  '/circular': (req, res) => {
    const loop = {}
    loop.self = loop
    req.session.loop = loop
    send(res, 'handler answered')
  },
}

function handle(req, res, next) {
  const route = routes[new URL(req.url, 'http://localhost').pathname]
  if (!route) return send(res, 'not found', 404)
  try {
    const result = route(req, res)
    if (result && typeof result.then === 'function') result.then(undefined, next)
  } catch (err) {
    next(err)
  }
}

const errorBody = (err) => ({ error: err.message, code: err.code ?? null })

const frameworks = [
  {
    name: 'express5',
    build(middleware) {
      const app = express()
      app.use(middleware)
      app.use(handle)
      app.use((err, req, res, _next) => send(res, errorBody(err), err.status ?? 500))
      return app
    },
  },
  {
    name: 'node:http',
    build(middleware) {
      return (req, res) => {
        const fail = (err) => send(res, errorBody(err), err.status ?? 500)
        middleware(req, res, (err) => (err ? fail(err) : handle(req, res, fail)))
      }
    },
  },
]

/** The session cookie a response set, parsed, or undefined. */
function sessionCookie(response, name = 'session') {
  const header = response.setCookies.find((h) => h.startsWith(`${name}=`))
  return header === undefined ? undefined : parseSetCookie(header)
}
const pair = (cookie, name = 'session') => `${name}=${cookie.value}`
const isCleared = (cookie) => cookie !== undefined && cookie.value === '' && new Date(cookie.expires).getTime() === 0

for (const framework of frameworks) {
  describe(`cookieSession on ${framework.name}`, () => {
    const servers = []
    const start = async (options) => {
      const server = await listen(framework.build(cookieSession({ secret: SECRET, ...options })))
      servers.push(server)
      return server.base
    }
    after(() => Promise.all(servers.map((s) => s.close())))

    let base
    before(async () => {
      base = await start({})
    })

    test('a request that does not use the session, or leaves a new one empty, gets no cookie', async () => {
      assert.equal(sessionCookie(await request(base, '/nothing')), undefined)
      const read = await request(base, '/read')
      assert.equal(read.status, 200)
      assert.equal(sessionCookie(read), undefined)
      assert.equal(JSON.parse(read.text).hasStore, false, 'req.sessionStore is undefined: there is no store (README)')
    })

    test('saveUninitialized: true sends a cookie for a new, empty session', async () => {
      const eager = await start({ saveUninitialized: true })
      const response = await request(eager, '/read')
      assert.ok(sessionCookie(response))
      const again = await request(eager, '/read', { cookie: pair(sessionCookie(response)) })
      assert.equal(JSON.parse(again.text).id, JSON.parse(response.text).id, 'the id lives in the cookie')
    })

    test('written data comes back on the next request, and the cookie does not show it', async () => {
      const written = await request(base, '/write?v=hello-cookie-session')
      const cookie = sessionCookie(written)
      assert.ok(cookie, 'a changed new session sends a cookie')
      assert.equal(cookie.httponly, true)
      assert.equal(cookie.path, '/')
      assert.ok(!Buffer.from(cookie.value, 'base64url').toString('latin1').includes('hello-cookie-session'), 'the value is encrypted')
      const read = await request(base, '/read', { cookie: pair(cookie) })
      assert.equal(JSON.parse(read.text).value, 'hello-cookie-session')
      assert.equal(sessionCookie(read), undefined, 'an unchanged session is not sent again')
    })

    test('deleting a property is kept; nested changes are seen as changes', async () => {
      let cookie = sessionCookie(await request(base, '/write?v=one'))
      const deleted = await request(base, '/delete', { cookie: pair(cookie) })
      cookie = sessionCookie(deleted)
      assert.ok(cookie, 'a deletion changes the session')
      assert.equal(JSON.parse((await request(base, '/read', { cookie: pair(cookie) })).text).value, null)

      cookie = sessionCookie(await request(base, '/nested'))
      const moved = await request(base, '/nested?city=Bergen', { cookie: pair(cookie) })
      assert.ok(sessionCookie(moved))
      assert.deepEqual(JSON.parse((await request(base, '/nested', { cookie: pair(sessionCookie(moved)) })).text), { city: 'Bergen' })
    })

    test('a tampered, truncated or foreign cookie gives a fresh session, never an error', async () => {
      const cookie = sessionCookie(await request(base, '/write?v=mine'))
      const v = cookie.value
      const flipped = v.slice(0, 20) + (v[20] === 'A' ? 'B' : 'A') + v.slice(21)
      for (const value of [flipped, v.slice(0, -1), v.slice(0, 30), `${v}A`, 's:abc.def', 'garbage', '%zz', '']) {
        const read = await request(base, '/read', { cookie: `session=${value}` })
        assert.equal(read.status, 200, value)
        assert.equal(JSON.parse(read.text).value, null, value)
      }
    })

    test('a cookie sealed with another secret, or under another cookie name, does not open', async () => {
      const other = await start({ secret: 'another secret entirely, also long enough' })
      const cookie = sessionCookie(await request(base, '/write?v=mine'))
      assert.equal(JSON.parse((await request(other, '/read', { cookie: pair(cookie) })).text).value, null)

      const renamed = await start({ name: 'other' })
      // Same secret, same value, another name: the name is authenticated with the value.
      assert.equal(JSON.parse((await request(renamed, '/read', { cookie: `other=${cookie.value}` })).text).value, null)
      const own = sessionCookie(await request(renamed, '/write?v=renamed'), 'other')
      assert.equal(JSON.parse((await request(renamed, '/read', { cookie: `other=${own.value}` })).text).value, 'renamed')
    })

    test('with several cookies of the name, the first one that opens wins', async () => {
      const cookie = sessionCookie(await request(base, '/write?v=second'))
      const read = await request(base, '/read', { cookie: `session=garbage; session=${cookie.value}` })
      assert.equal(JSON.parse(read.text).value, 'second')
    })

    test('key rotation: the first secret seals, every secret opens', async () => {
      const oldApp = await start({ secret: 'the old secret, rotated out but still accepted' })
      const rotated = await start({ secret: ['the new secret that seals from now on', 'the old secret, rotated out but still accepted'] })
      const newOnly = await start({ secret: 'the new secret that seals from now on' })

      const old = sessionCookie(await request(oldApp, '/write?v=from-old'))
      const read = await request(rotated, '/read', { cookie: pair(old) })
      assert.equal(JSON.parse(read.text).value, 'from-old', 'an old cookie still opens')

      const resealed = sessionCookie(await request(rotated, '/write?v=resealed', { cookie: pair(old) }))
      assert.equal(JSON.parse((await request(newOnly, '/read', { cookie: pair(resealed) })).text).value, 'resealed', 'sealed with the first secret')
      assert.equal(JSON.parse((await request(oldApp, '/read', { cookie: pair(resealed) })).text).value, null, 'not with the old one')
    })

    test('expiry is inside the seal: a replayed cookie past its maxAge gives a fresh session', async () => {
      const short = await start({ cookie: { maxAge: 200 } })
      const written = await request(short, '/write?v=short-lived')
      const cookie = sessionCookie(written)
      const expires = new Date(cookie.expires).getTime()
      assert.ok(expires > Date.now() - 1000 && expires < Date.now() + 5000, 'Expires follows maxAge')
      assert.equal(JSON.parse((await request(short, '/read', { cookie: pair(cookie) })).text).value, 'short-lived')
      await sleep(300)
      // A client that ignores Expires (a replay) still gets nothing.
      assert.equal(JSON.parse((await request(short, '/read', { cookie: pair(cookie) })).text).value, null)
    })

    test('a browser-session cookie is bounded by ttl in the seal, and renewed past half of it', async () => {
      const app = await start({ ttl: 1000 })
      const cookie = sessionCookie(await request(app, '/write?v=browser-session'))
      assert.equal(cookie.expires, undefined, 'no Expires: the browser keeps it until it closes')
      const early = await request(app, '/read', { cookie: pair(cookie) })
      assert.equal(JSON.parse(early.text).value, 'browser-session')
      assert.equal(sessionCookie(early), undefined, 'young: not sent again')
      await sleep(600)
      const late = await request(app, '/read', { cookie: pair(cookie) })
      assert.equal(JSON.parse(late.text).value, 'browser-session')
      const renewed = sessionCookie(late)
      assert.ok(renewed, 'past half its ttl: renewed')
      await sleep(500)
      assert.equal(JSON.parse((await request(app, '/read', { cookie: pair(cookie) })).text).value, null, 'the first seal has run out')
      assert.equal(JSON.parse((await request(app, '/read', { cookie: pair(renewed) })).text).value, 'browser-session', 'the renewed one has not')
    })

    test('per-session cookie.maxAge ("remember me") is kept in the seal', async () => {
      let cookie = sessionCookie(await request(base, '/write?v=remember'))
      assert.equal(cookie.expires, undefined)
      const remembered = await request(base, '/remember?ms=3600000', { cookie: pair(cookie) })
      cookie = sessionCookie(remembered)
      assert.ok(cookie, 'changing maxAge sends the cookie')
      const inAnHour = new Date(cookie.expires).getTime() - Date.now()
      assert.ok(inAnHour > 3_500_000 && inAnHour <= 3_600_000, `Expires about an hour away (${inAnHour})`)
      // A later change re-seals the cookie; it keeps the session's own lifetime, not the default.
      const later = sessionCookie(await request(base, '/write?v=still', { cookie: pair(cookie) }))
      assert.ok(new Date(later.expires).getTime() - Date.now() > 3_500_000)
    })

    test('rolling sends the cookie on every response, with a new expiry, even when untouched', async () => {
      const app = await start({ rolling: true, cookie: { maxAge: 60_000 } })
      const first = sessionCookie(await request(app, '/write?v=rolling'))
      await sleep(20)
      const untouched = await request(app, '/nothing', { cookie: pair(first) })
      const second = sessionCookie(untouched)
      assert.ok(second, 'sent although the route never used the session')
      assert.notEqual(second.value, first.value)
      assert.ok(new Date(second.expires).getTime() >= new Date(first.expires).getTime())
      assert.equal(JSON.parse((await request(app, '/read', { cookie: pair(second) })).text).value, 'rolling')
      assert.equal(sessionCookie(await request(app, '/nothing')), undefined, 'no cookie, no session: nothing to roll')
    })

    test('rolling keeps a session alive past its first maxAge; without rolling it ends', async () => {
      const rolling = await start({ rolling: true, cookie: { maxAge: 400 } })
      let cookie = sessionCookie(await request(rolling, '/write?v=alive'))
      for (let i = 0; i < 3; i++) {
        await sleep(200)
        cookie = sessionCookie(await request(rolling, '/nothing', { cookie: pair(cookie) }))
      }
      assert.equal(JSON.parse((await request(rolling, '/read', { cookie: pair(cookie) })).text).value, 'alive')

      const fixed = await start({ cookie: { maxAge: 400 } })
      cookie = sessionCookie(await request(fixed, '/write?v=ending'))
      for (let i = 0; i < 3; i++) {
        await sleep(200)
        const read = await request(fixed, '/read', { cookie: pair(cookie) })
        assert.equal(sessionCookie(read), undefined, 'reading does not extend it')
        if (i === 0) assert.equal(JSON.parse(read.text).value, 'ending')
      }
      assert.equal(JSON.parse((await request(fixed, '/read', { cookie: pair(cookie) })).text).value, null)
    })

    test('destroy() clears the cookie (promise and callback)', async () => {
      for (const route of ['/destroy-promise', '/destroy-callback']) {
        const cookie = sessionCookie(await request(base, '/write?v=doomed'))
        const destroyed = await request(base, route, { cookie: pair(cookie) })
        assert.equal(destroyed.status, 200)
        assert.ok(isCleared(sessionCookie(destroyed)), `${route}: ${destroyed.setCookies}`)
        if (route === '/destroy-promise') assert.deepEqual(JSON.parse(destroyed.text), { session: null })
      }
    })

    test('req.session = null and delete req.session end the session and clear the cookie', async () => {
      for (const route of ['/null', '/unset']) {
        const cookie = sessionCookie(await request(base, '/write?v=ended'))
        const ended = await request(base, route, { cookie: pair(cookie) })
        assert.ok(isCleared(sessionCookie(ended)), route)
      }
      assert.equal(sessionCookie(await request(base, '/null')), undefined, 'no cookie sent, none to clear')
    })

    test('req.session = { ... } starts a new session with that data', async () => {
      const old = sessionCookie(await request(base, '/write?v=old'))
      const oldId = JSON.parse((await request(base, '/read', { cookie: pair(old) })).text).id
      const assigned = sessionCookie(await request(base, '/assign', { cookie: pair(old) }))
      const read = JSON.parse((await request(base, '/read', { cookie: pair(assigned) })).text)
      assert.equal(read.value, 'assigned')
      assert.notEqual(read.id, oldId)
    })

    test('regenerate() gives a new id and keeps only the listed keys (promise and callback)', async () => {
      const cart = sessionCookie(await request(base, '/cart'))
      const regenerated = await request(base, '/regenerate-promise', { cookie: pair(cart) })
      const body = JSON.parse(regenerated.text)
      assert.notEqual(body.after, body.before)
      assert.deepEqual(body.cart, ['apple'])
      assert.equal(body.value, null)
      const cookie = sessionCookie(regenerated)
      const read = JSON.parse((await request(base, '/read', { cookie: pair(cookie) })).text)
      assert.equal(read.id, body.after)

      const viaCallback = await request(base, '/regenerate-callback', { cookie: pair(cart) })
      const ids = JSON.parse(viaCallback.text)
      assert.notEqual(ids.after, ids.before)
      assert.equal(JSON.parse((await request(base, '/read', { cookie: pair(sessionCookie(viaCallback)) })).text).id, ids.after)
    })

    test('save() sends the cookie even for an unchanged new session (promise and callback)', async () => {
      for (const route of ['/save-promise', '/save-callback']) {
        const saved = await request(base, route)
        assert.equal(saved.text, 'saved')
        assert.ok(sessionCookie(saved), route)
      }
    })

    test('save() of a session too large for a cookie rejects with the sizes; after the headers it rejects', async () => {
      const big = await request(base, '/save-big')
      const body = JSON.parse(big.text)
      assert.equal(body.code, 'SESSION_SERIALIZE')
      assert.equal(body.limit, COOKIE_SIZE_LIMIT)
      assert.ok(body.size > COOKIE_SIZE_LIMIT)
      const late = await request(base, '/save-after-headers')
      assert.equal(late.text, 'rejected: SESSION_GONE')
    })

    test('reload() goes back to the copy the client holds (promise and callback)', async () => {
      const cookie = sessionCookie(await request(base, '/write?v=held'))
      for (const route of ['/reload-promise', '/reload-callback']) {
        const reloaded = await request(base, route, { cookie: pair(cookie) })
        assert.deepEqual(JSON.parse(reloaded.text), { value: 'held' }, route)
      }
      const fresh = await request(base, '/reload-callback')
      assert.deepEqual(JSON.parse(fresh.text), { code: 'SESSION_NOT_FOUND' }, 'a new session has no copy to reload')
    })

    test('touch() returns the session', async () => {
      assert.deepEqual(JSON.parse((await request(base, '/touch')).text), { same: true })
    })

    test('a cookie over 4096 bytes is an error naming the limit and the size; no cookie, not the 200', async () => {
      const fits = await request(base, '/big?n=2000')
      assert.equal(fits.status, 200)
      assert.ok(sessionCookie(fits))

      const tooBig = await request(base, '/big?n=5000')
      assert.equal(tooBig.status, 500)
      assert.deepEqual(tooBig.setCookies, [])
      const body = JSON.parse(tooBig.text)
      assert.equal(body.code, 'SESSION_SERIALIZE')
      assert.match(body.error, /4096/)
      const size = Number(/would be (\d+) bytes/.exec(body.error)?.[1])
      assert.ok(size > 4096 && size < 8000, body.error)
      assert.doesNotMatch(tooBig.text, /handler answered/)
    })

    test('data that cannot be JSON is an error, not a cookie', async () => {
      const response = await request(base, '/circular')
      assert.equal(response.status, 500)
      assert.deepEqual(response.setCookies, [])
      assert.equal(JSON.parse(response.text).code, 'SESSION_SERIALIZE')
    })

    test('headers sent before end (streaming) still carry the cookie', async () => {
      const streamed = await request(base, '/stream')
      assert.equal(streamed.text, 'part one, part two')
      const cookie = sessionCookie(streamed)
      assert.equal(JSON.parse((await request(base, '/read', { cookie: pair(cookie) })).text).value, 'streamed')
    })

    test('absoluteTimeout ends a session however often it is rolled', async () => {
      const app = await start({ rolling: true, absoluteTimeout: 300, cookie: { maxAge: 60_000 } })
      let cookie = sessionCookie(await request(app, '/write?v=capped'))
      assert.ok(new Date(cookie.expires).getTime() - Date.now() < 1000, 'Expires is capped by the absolute timeout')
      await sleep(150)
      cookie = sessionCookie(await request(app, '/nothing', { cookie: pair(cookie) })) ?? cookie
      await sleep(250)
      assert.equal(JSON.parse((await request(app, '/read', { cookie: pair(cookie) })).text).value, null)
    })

    test('a request outside cookie.path has no session', async () => {
      const app = await start({ cookie: { path: '/app' } })
      const outside = await request(app, '/write?v=x')
      assert.equal(outside.status, 500, 'req.session is undefined there, so the route throws')
      assert.deepEqual(outside.setCookies, [])
    })

    test('cookie attributes: secure cookies are not sent over plain HTTP; cookie(req) is validated per request', async () => {
      const secureApp = await start({ cookie: { secure: true } })
      assert.deepEqual((await request(secureApp, '/write?v=x')).setCookies, [])
      const autoApp = await start({ cookie: { secure: 'auto', sameSite: 'auto' } })
      const auto = sessionCookie(await request(autoApp, '/write?v=x'))
      assert.equal(auto.secure, undefined)
      assert.equal(auto.samesite, 'Lax')
      const bad = await start({ cookie: () => ({ path: 'no-slash' }) })
      const response = await request(bad, '/write?v=x')
      assert.equal(response.status, 500)
      assert.equal(JSON.parse(response.text).code, 'SESSION_COOKIE_OPTIONS')
    })
  })
}

describe('cookieSession options', () => {
  test('is exported next to session() and on it', () => {
    assert.equal(session.cookieSession, cookieSession)
  })

  test('misconfigurations throw SESSION_CONFIG with a message that says what to change', () => {
    const cases = [
      [undefined, /options object/],
      [{}, /"secret" is required/],
      [{ secret: [] }, /empty array/],
      [{ secret: SECRET, store: {} }, /takes no "store"/],
      [{ secret: SECRET, name: 'bad name' }, /"name"/],
      [{ secret: SECRET, cookie: { maxAge: 'a day' } }, /maxAge/],
      [{ secret: SECRET, cookie: { path: 'a;b' } }, /path/],
      [{ secret: SECRET, rolling: 'yes' }, /"rolling"/],
      [{ secret: SECRET, ttl: 0 }, /"ttl"/],
      [{ secret: SECRET, absoluteTimeout: -5 }, /"absoluteTimeout"/],
    ]
    for (const [options, message] of cases) {
      assert.throws(
        () => cookieSession(options),
        (err) => err instanceof SessionError && err.code === 'SESSION_CONFIG' && message.test(err.message),
        JSON.stringify(options),
      )
    }
  })
})
