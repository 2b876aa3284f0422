// sessionkit/fastify against the real @fastify/session 11: its README's examples run with only the
// import changed; the same request sequences give the same statuses, bodies, Set-Cookie headers and
// store records (the few differences are asserted as such, so that each stays deliberate); a user
// logged in under @fastify/session stays logged in after the move, with the store in memory or in
// Redis; a tampered cookie gives a fresh session; a failing or silent store gives an error status.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import realSession from '@fastify/session'
import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'
import kitSession, { fastifySession as namedKitSession } from 'sessionkit/fastify'
import { build, dataOf, jsonStore, SECRET, send } from './support/fastify-apps.mjs'

const PLUGINS = { real: realSession, kit: kitSession }
const sign = (id, secret = SECRET) => new fastifyCookie.Signer(secret).sign(id)

/** The routes of the comparisons: a counter, a login that regenerates, a logout that destroys. */
function routes(app) {
  app.get('/count', async (request) => {
    request.session.n = (request.session.n ?? 0) + 1
    return { n: request.session.n }
  })
  app.get('/peek', async (request) => ({ n: request.session.get('n') ?? null, user: request.session.get('user') ?? null }))
  app.post('/login', async (request) => {
    await request.session.regenerate(['n'])
    request.session.set('user', 'ada')
    return { user: 'ada', n: request.session.n ?? null }
  })
  app.post('/logout', async (request) => {
    await request.session.destroy()
    return { out: true }
  })
  app.get('/id', async (request) => ({ id: request.session.sessionId }))
}

/**
 * Runs `steps` ([method, url] pairs) against an app with `plugin` and a fresh JSON store, carrying the
 * cookie as a browser does, and returns what a user and an operator observe at each step. Cookie values
 * are replaced by labels in order of first appearance (c1, c2, …), so that two plugins' runs compare.
 */
async function transcript(plugin, options, steps) {
  const store = jsonStore()
  const app = await build(plugin, { secret: SECRET, store, ...options }, routes)
  const labels = new Map()
  const label = (value) => {
    if (!labels.has(value)) labels.set(value, `c${labels.size + 1}`)
    return labels.get(value)
  }
  let jar
  const seen = []
  for (const [method, url] of steps) {
    const response = await send(app, url, { method, cookie: jar })
    const cookies = response.setCookies.map(({ value, expires, ...attributes }) => ({
      ...attributes,
      value: value === '' ? '' : label(value),
      expires: expires !== undefined && Date.parse(expires) > Date.now() ? 'future' : expires === undefined ? 'none' : 'past',
    }))
    for (const cookie of response.setCookies) jar = cookie.expires && Date.parse(cookie.expires) <= Date.now() ? undefined : `${cookie.name}=${cookie.value}`
    seen.push({ step: `${method} ${url}`, status: response.status, body: response.body, cookies, stored: store.records().map(dataOf) })
  }
  await app.close()
  return seen
}

const COUNTER = [['GET', '/count'], ['GET', '/count'], ['GET', '/peek'], ['POST', '/login'], ['GET', '/peek'], ['POST', '/logout'], ['GET', '/peek']]

/**
 * The one difference in these runs, on purpose: after `destroy()` sessionkit clears the cookie (an
 * expired Set-Cookie with its attributes), where @fastify/session sends none and leaves the browser
 * sending the dead id, which it clears on the next response that sets no session cookie.
 * `real` is @fastify/session's run; this gives what sessionkit's must be.
 */
function withLogoutClearing(real) {
  return real.map((step, i) => {
    if (real[i - 1]?.step === 'POST /logout') return { ...step, cookies: step.cookies.filter(({ value }) => value !== '') }
    if (step.step !== 'POST /logout') return step
    const { value, expires, ...attributes } = real.slice(0, i).findLast((earlier) => earlier.cookies.length > 0).cookies[0]
    return { ...step, cookies: [{ ...attributes, value: '', expires: 'past' }] }
  })
}

describe('the same requests give the same results as @fastify/session', () => {
  for (const [name, options] of Object.entries({
    defaults: {},
    'saveUninitialized: false, rolling: false': { saveUninitialized: false, rolling: false },
    'cookie.maxAge and sameSite': { cookie: { maxAge: 60_000, sameSite: 'strict' } },
    'cookieName and cookiePrefix': { cookieName: 'sid', cookiePrefix: 's:' },
  })) {
    test(name, async () => {
      const real = await transcript(realSession, options, COUNTER)
      const kit = await transcript(kitSession, options, COUNTER)
      assert.deepEqual(kit, withLogoutClearing(real))
      assert.deepEqual(real.at(-2).cookies, [], '@fastify/session sends no cookie on logout')
    })
  }

  test('a new session that the request left alone is stored only with saveUninitialized', async () => {
    for (const saveUninitialized of [true, false]) {
      const real = await transcript(realSession, { saveUninitialized }, [['GET', '/peek']])
      const kit = await transcript(kitSession, { saveUninitialized }, [['GET', '/peek']])
      assert.deepEqual(kit, real)
      assert.equal(kit[0].stored.length, saveUninitialized ? 1 : 0)
    }
  })

  test('a cookie naming a session the store does not hold is cleared when no new session is sent', async () => {
    const seen = {}
    for (const [name, plugin] of Object.entries(PLUGINS)) {
      const app = await build(plugin, { secret: SECRET, store: jsonStore(), saveUninitialized: false }, routes)
      const response = await send(app, '/peek', { cookie: `sessionId=${sign('gone')}` })
      seen[name] = response.setCookies
      await app.close()
    }
    assert.deepEqual(seen.kit, seen.real)
    assert.deepEqual(seen.kit.map(({ name, value, 'max-age': maxAge }) => [name, value, maxAge]), [['sessionId', '', '0']])
  })

  test('over plain HTTP the default Secure cookie is not sent and nothing is stored', async () => {
    for (const plugin of Object.values(PLUGINS)) {
      const store = jsonStore()
      const app = await build(plugin, { secret: SECRET, store }, routes)
      const response = await send(app, '/count', { https: false })
      assert.equal(response.status, 200)
      assert.deepEqual(response.setCookies, [])
      assert.equal(store.map.size, 0)
      await app.close()
    }
  })

  test("secure: 'auto' sends Secure over HTTPS, and SameSite=Lax without Secure over HTTP", async () => {
    for (const plugin of Object.values(PLUGINS)) {
      const app = await build(plugin, { secret: SECRET, cookie: { secure: 'auto' } }, routes)
      const [overHttps] = (await send(app, '/count')).setCookies
      const [overHttp] = (await send(app, '/count', { https: false })).setCookies
      assert.equal(overHttps.secure, true)
      assert.equal(overHttp.secure, undefined)
      assert.equal(overHttp.samesite, 'Lax')
      await app.close()
    }
  })

  test("options({ secure: 'auto', maxAge }) in a route sets this response's cookie as there", async () => {
    const seen = {}
    for (const [name, plugin] of Object.entries(PLUGINS)) {
      const app = await build(plugin, { secret: SECRET }, (scope) => {
        scope.get('/auto', async (request) => {
          request.session.options({ secure: 'auto', maxAge: 120_000 })
          request.session.n = 1
          return 'ok'
        })
      })
      const [cookie] = (await send(app, '/auto', { https: false })).setCookies
      seen[name] = { ...cookie, value: typeof cookie.value, expires: Math.round((Date.parse(cookie.expires) - Date.now()) / 10_000) }
      await app.close()
    }
    assert.deepEqual(seen.kit, seen.real)
    assert.deepEqual([seen.kit.secure, seen.kit.samesite, seen.kit.expires], [undefined, 'Lax', 12])
  })

  test('a secret shorter than 32 characters, or none, fails the registration', async () => {
    for (const plugin of Object.values(PLUGINS)) {
      for (const secret of ['too short', [], undefined]) {
        const app = Fastify()
        app.register(fastifyCookie)
        app.register(plugin, { secret })
        await assert.rejects(app.ready(), /secret/)
      }
    }
  })

  test('without @fastify/cookie registered first, the registration fails as it does there', async () => {
    for (const plugin of Object.values(PLUGINS)) {
      const app = Fastify()
      app.register(plugin, { secret: SECRET })
      await assert.rejects(app.ready(), /@fastify\/cookie/)
    }
  })
})

describe("@fastify/session's README examples run with only the import changed", () => {
  test('the preHandler hook stores request.session.user; the default store is in memory', async () => {
    const app = Fastify({ trustProxy: true })
    app.register(fastifyCookie)
    app.register(kitSession, { secret: 'a secret with minimum length of 32 characters' })
    app.addHook('preHandler', (request, reply, next) => {
      request.session.user = { name: 'max' }
      next()
    })
    app.get('/', async (request) => ({ user: request.session.user }))
    app.get('/again', async (request) => ({ user: request.session.get('user') }))
    const first = await send(app, '/')
    assert.deepEqual(first.body, { user: { name: 'max' } })
    const [cookie] = first.setCookies
    assert.equal(cookie.name, 'sessionId')
    assert.deepEqual([cookie.path, cookie.httponly, cookie.secure], ['/', true, true])
    const again = await send(app, '/again', { cookie: first.cookie })
    assert.deepEqual(again.body, { user: { name: 'max' } })
    assert.equal(again.cookie, first.cookie, 'the same session, its cookie sent again (rolling)')
    await app.close()
  })

  test('destroy(next) in a hook; regenerate(callback) answers the new sessionId', async () => {
    const store = jsonStore()
    const app = Fastify({ trustProxy: true })
    app.register(fastifyCookie)
    app.register(kitSession, { secret: SECRET, store })
    app.get('/regenerate', (request, reply, done) => {
      request.session.regenerate((error) => {
        if (error) {
          done(error)
          return
        }
        reply.send(request.session.sessionId)
      })
    })
    app.register(async (scope) => {
      scope.addHook('preHandler', (request, reply, next) => {
        request.session.destroy(next)
      })
      scope.get('/bye', async (request) => ({ session: request.session }))
    })
    const first = await send(app, '/regenerate')
    const id = first.body
    assert.match(id, /^[\w-]{20,}$/)
    assert.equal(first.cookie, `sessionId=${sign(id)}`)
    assert.deepEqual([...store.map.keys()], [id])
    const bye = await send(app, '/bye', { cookie: first.cookie })
    assert.deepEqual(bye.body, { session: null })
    assert.equal(store.map.size, 0)
    await app.close()
  })

  test('options() changes this response cookie; idGenerator(request) makes the ids', async () => {
    const app = Fastify({ trustProxy: true })
    app.register(fastifyCookie)
    let counter = 0
    app.register(kitSession, {
      secret: SECRET,
      idGenerator: (request) => (request.session?.returningVisitor ? `returningVisitor-${++counter}` : `visitor-${++counter}`),
    })
    app.post('/', (request, reply) => {
      request.session.set('data', request.body)
      request.session.options({ maxAge: 60 * 60 * 1000 })
      reply.send('hello world')
    })
    app.get('/back', async (request) => {
      request.session.returningVisitor = true
      await request.session.regenerate()
      return { id: request.session.sessionId }
    })
    const posted = await app.inject({ method: 'POST', url: '/', headers: { 'x-forwarded-proto': 'https' }, payload: { a: 1 } })
    assert.equal(posted.body, 'hello world')
    const cookie = posted.cookies[0]
    assert.equal(cookie.value, sign('visitor-1'))
    const lifetime = cookie.expires.getTime() - Date.now()
    assert.ok(lifetime > 3_590_000 && lifetime <= 3_600_000, `Expires an hour from now (got ${lifetime} ms)`)
    const back = await send(app, '/back', { cookie: `sessionId=${cookie.value}` })
    assert.deepEqual(back.body, { id: 'returningVisitor-2' })
    await app.close()
  })

  test('fastify.decryptSession opens the session a cookie names, outside a request', async () => {
    const store = jsonStore()
    const app = await build(kitSession, { secret: SECRET, store }, routes)
    const first = await send(app, '/count')
    const { sessionId } = app.parseCookie(first.cookie)
    const request = {}
    await new Promise((resolve, reject) => app.decryptSession(sessionId, request, (error) => (error ? reject(error) : resolve())))
    assert.equal(request.session.n, 1)
    const withOptions = {}
    await new Promise((resolve) => app.decryptSession(sessionId, withOptions, { maxAge: 86_400_000 }, resolve))
    assert.ok(withOptions.session.cookie.expires.getTime() > Date.now() + 86_000_000)
    const forged = {}
    await new Promise((resolve) => app.decryptSession(sign('nobody'), forged, resolve))
    assert.equal(forged.session.n, undefined)
    assert.notEqual(forged.session.sessionId, 'nobody')
    await app.close()
  })

  test('the named export and the MemoryStore work as there', async () => {
    const { MemoryStore } = await import('sessionkit/fastify')
    const app = await build(namedKitSession, { secret: SECRET, store: new MemoryStore() }, routes)
    const first = await send(app, '/count')
    const second = await send(app, '/count', { cookie: first.cookie })
    assert.deepEqual(second.body, { n: 2 })
    await app.close()
  })
})

describe('request.session', () => {
  test('get, set, delete and property access read and write the same data', async () => {
    const store = jsonStore()
    const app = await build(kitSession, { secret: SECRET, store }, (scope) => {
      scope.get('/write', async (request) => {
        request.session.set('a', 1)
        request.session.b = 2
        request.session.c = 3
        delete request.session.c
        return { a: request.session.a, b: request.session.get('b'), c: 'c' in request.session, keys: Object.keys(request.session).sort() }
      })
    })
    const response = await send(app, '/write')
    assert.deepEqual(response.body, { a: 1, b: 2, c: false, keys: ['a', 'b', 'cookie'] })
    assert.deepEqual(store.records().map(dataOf), [{ a: 1, b: 2 }])
    await app.close()
  })

  test('save, reload, touch, isModified and isSaved, in promise and callback forms', async () => {
    const store = jsonStore()
    const app = await build(kitSession, { secret: SECRET, store, cookie: { maxAge: 60_000 } }, (scope) => {
      scope.get('/promise', async (request) => {
        request.session.x = 1
        const modified = request.session.isModified()
        await request.session.save()
        const saved = request.session.isSaved()
        request.session.x = 2
        await request.session.reload()
        return { modified, saved, x: request.session.x, stored: store.records().map(dataOf) }
      })
      scope.get('/callback', (request, reply) => {
        request.session.y = 1
        request.session.save((error) => {
          if (error) return reply.send(error)
          request.session.touch()
          reply.send({ saved: request.session.isSaved(), modified: request.session.isModified() })
        })
      })
    })
    const promise = await send(app, '/promise')
    assert.deepEqual(promise.body, { modified: true, saved: true, x: 1, stored: [{ x: 1 }] })
    const callback = await send(app, '/callback', { cookie: promise.cookie })
    assert.deepEqual(callback.body, { saved: true, modified: false })
    await app.close()
  })

  test("the app's own cookies are sent once each, beside the session's", async () => {
    const seen = {}
    for (const [name, plugin] of Object.entries(PLUGINS)) {
      const app = await build(plugin, { secret: SECRET }, (scope) => {
        scope.get('/both', async (request, reply) => {
          reply.setCookie('theme', 'dark', { path: '/' })
          reply.header('set-cookie', 'plain=1; Path=/')
          request.session.n = 1
          return 'ok'
        })
      })
      seen[name] = (await send(app, '/both')).setCookies.map(({ name: cookie }) => cookie).sort()
      await app.close()
    }
    assert.deepEqual(seen.kit, seen.real)
    assert.deepEqual(seen.kit, ['plain', 'sessionId', 'theme'])
  })

  test('a Host header that makes no URL, or none, still gets a session', async () => {
    const app = await build(kitSession, { secret: SECRET }, routes)
    for (const host of ['bad host', '']) {
      const response = await app.inject({ url: '/count', headers: { host, 'x-forwarded-proto': 'https' } })
      assert.equal(response.statusCode, 200, `Host: ${JSON.stringify(host)}`)
      assert.deepEqual(response.json(), { n: 1 })
    }
    await app.close()
  })

  test('request.sessionStore is the store', async () => {
    const store = jsonStore()
    const app = await build(kitSession, { secret: SECRET, store }, (scope) => {
      scope.get('/store', async (request) => ({ same: request.sessionStore === store }))
    })
    assert.deepEqual((await send(app, '/store')).body, { same: true })
    await app.close()
  })
})

describe('moving keeps users logged in', () => {
  /** Logs in under the real plugin with `store`, then opens the same cookie under sessionkit/fastify. */
  async function move(store, options = {}) {
    const before = await build(realSession, { secret: SECRET, store, ...options }, routes)
    const login = await send(before, '/login', { method: 'POST' })
    const id = (await send(before, '/id', { cookie: login.cookie })).body.id
    await before.close()
    const afterMove = await build(kitSession, { secret: SECRET, store, ...options }, routes)
    const peek = await send(afterMove, '/peek', { cookie: login.cookie })
    const sameId = (await send(afterMove, '/id', { cookie: login.cookie })).body.id
    await afterMove.close()
    return { id, sameId, login, peek }
  }

  test('a cookie and record from @fastify/session with its MemoryStore open the same session', async () => {
    const map = new Map()
    const { id, sameId, login, peek } = await move(new realSession.MemoryStore(map))
    assert.deepEqual(peek.body, { n: null, user: 'ada' })
    assert.equal(sameId, id)
    assert.equal(peek.cookie, login.cookie, 'the cookie is sent again unchanged (rolling)')
  })

  test('the same with a JSON store and a cookiePrefix, and with a rotated secret array', async () => {
    const store = jsonStore()
    const { id, sameId, peek } = await move(store, { cookiePrefix: 's:', cookieName: 'connect.sid' })
    assert.deepEqual(peek.body, { n: null, user: 'ada' })
    assert.equal(sameId, id)
    const rotated = await build(kitSession, { secret: ['a new secret of thirty-two characters!!', SECRET], store, cookiePrefix: 's:', cookieName: 'connect.sid' }, routes)
    const response = await send(rotated, '/peek', { cookie: `connect.sid=${encodeURIComponent(`s:${sign(id)}`)}` })
    assert.deepEqual(response.body, { n: null, user: 'ada' })
    // Not URI-encoded: `:`, `+` and `/` are cookie-octets, which the `cookie` package (so @fastify/cookie) leaves as they are.
    assert.equal(response.setCookies[0].value, `s:${sign(id, 'a new secret of thirty-two characters!!')}`, 're-signed with the first secret')
    await rotated.close()
  })

  describe('with connect-redis on 127.0.0.1:6379', () => {
    const prefix = `sessionkit-fastify-test:${process.pid}-${Math.random().toString(36).slice(2)}:`
    let client
    before(async () => {
      client = createClient({ url: 'redis://127.0.0.1:6379' })
      await client.connect()
    })
    after(async () => {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys)
      await client.quit()
    })

    test('a session stored by @fastify/session opens under sessionkit/fastify, and logs out there', async () => {
      const store = new RedisStore({ client, prefix })
      const { id, sameId, login, peek } = await move(store, { cookie: { maxAge: 600_000 } })
      assert.deepEqual(peek.body, { n: null, user: 'ada' })
      assert.equal(sameId, id)
      const app = await build(kitSession, { secret: SECRET, store, cookie: { maxAge: 600_000 } }, routes)
      await send(app, '/logout', { method: 'POST', cookie: login.cookie })
      assert.equal(await client.exists(`${prefix}${id}`), 0)
      await app.close()
    })
  })

  test('moving back works too: @fastify/session opens what sessionkit/fastify stored', async () => {
    const store = jsonStore()
    const options = { secret: SECRET, store, cookie: { maxAge: 600_000 } }
    const kit = await build(kitSession, options, routes)
    const login = await send(kit, '/login', { method: 'POST' })
    await kit.close()
    const real = await build(realSession, options, routes)
    const peek = await send(real, '/peek', { cookie: login.cookie })
    assert.deepEqual(peek.body, { n: null, user: 'ada' })
    assert.equal(peek.cookie, login.cookie)
    await real.close()
  })

  test('a tampered cookie gives a fresh session, and the stored one is untouched', async () => {
    const store = jsonStore()
    const { login } = await move(store)
    const [name, value] = login.cookie.split('=')
    const tampered = `${name}=${value.slice(0, -2)}${value.endsWith('AA') ? 'BB' : 'AA'}`
    const app = await build(kitSession, { secret: SECRET, store }, routes)
    const response = await send(app, '/peek', { cookie: tampered })
    assert.equal(response.status, 200)
    assert.deepEqual(response.body, { n: null, user: null })
    assert.notEqual(response.cookie, login.cookie)
    assert.ok(store.records().some((record) => record.user === 'ada'))
    await app.close()
  })
})

describe('a store that fails', () => {
  for (const method of ['get', 'set', 'destroy']) {
    test(`a store whose ${method} fails gives a 5xx error status with a message`, async () => {
      const store = jsonStore()
      const app = await build(kitSession, { secret: SECRET, store }, routes)
      const first = await send(app, '/count')
      store[method] = (...args) => args.at(-1)(new Error(`store ${method} failed`))
      const response = await send(app, method === 'destroy' ? '/logout' : '/count', { cookie: first.cookie, method: method === 'destroy' ? 'POST' : 'GET' })
      assert.ok(response.status >= 500 && response.status < 600, `status ${response.status}`)
      assert.match(response.body.message, /store|session/i)
      if (method === 'destroy') {
        // The logout failed: the session is still stored; its cookie is cleared all the same, as the user asked to leave.
        assert.equal(store.map.size, 1)
        assert.deepEqual(response.setCookies.map(({ value }) => value), [''])
      } else {
        assert.deepEqual(response.setCookies, [], 'no cookie for a failed request')
      }
      await app.close()
    })
  }

  test('a save the route did not wait for, which fails, fails the response and crashes nothing', async () => {
    const store = jsonStore({ fail: 'set' })
    const app = await build(kitSession, { secret: SECRET, store }, (scope) => {
      scope.get('/forget', async (request) => {
        request.session.n = 1
        request.session.save()
        await new Promise((resolve) => setTimeout(resolve, 20))
        return 'ok'
      })
    })
    const response = await send(app, '/forget')
    assert.ok(response.status >= 500, `status ${response.status}`)
    assert.deepEqual(response.setCookies, [])
    await app.close()
  })

  test('a store whose get throws instead of answering gives a 503 (store unavailable) with a message', async () => {
    const store = jsonStore()
    const app = await build(kitSession, { secret: SECRET, store }, routes)
    const first = await send(app, '/count')
    store.get = () => {
      throw new Error('connection lost')
    }
    const response = await send(app, '/count', { cookie: first.cookie })
    assert.equal(response.status, 503)
    assert.match(response.body.message, /store|session/i)
    await app.close()
  })

  for (const [method, port] of [['get', 7430], ['set', 7431]]) {
    test(`a store whose ${method} never answers gives a 503 within storeTimeout, over a real socket (port ${port})`, async () => {
      const store = jsonStore({ hang: method })
      const app = Fastify()
      await app.register(fastifyCookie)
      await app.register(kitSession, { secret: SECRET, store, storeTimeout: 200, cookie: { secure: false } })
      routes(app)
      await app.listen({ port, host: '127.0.0.1' })
      try {
        const started = Date.now()
        const response = await fetch(`http://127.0.0.1:${port}/count`, { headers: { cookie: `sessionId=${sign('some-id')}` }, signal: AbortSignal.timeout(5000) })
        assert.equal(response.status, 503)
        assert.match((await response.json()).message, /store/i)
        assert.deepEqual(response.headers.getSetCookie(), [])
        assert.ok(Date.now() - started < 2000)
      } finally {
        await app.close()
      }
    })
  }
})

test("Fastify's types: request.session is typed by the app's `declare module 'fastify'`", async () => {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const result = await promisify(execFile)(process.execPath, [tsc, '-p', 'test/types/fastify'], { cwd: root }).catch((error) => error)
  assert.equal(result.stdout + (result.stderr ?? ''), '', 'tsc finds no error, and every @ts-expect-error is used')
})
