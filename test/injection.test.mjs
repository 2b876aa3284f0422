// Header and attribute injection, the shapes of res.writeHead's headers, logout clearing the right
// cookie, and debug output that never names a session by its id.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname } from 'node:path'
import express from 'express'
import session, { MemoryStore } from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const base = { secret: 'injection', resave: false, saveUninitialized: false }
const HOSTILE = [';', '\r', '\n', '\r\n', '\u0000', '\u007f']
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

function onError(err, req, res, next) {
  void next
  if (res.headersSent) return res.destroy()
  res.status(err.status ?? 500).json({ error: err.code ?? 'unknown', message: err.message })
}

/** Every Set-Cookie header is one cookie: a token name, no line breaks, no attribute smuggled in. */
function assertWellFormed(setCookies) {
  for (const header of setCookies) {
    assert.doesNotMatch(header, /[\r\n\u0000]/)
    const cookie = parseSetCookie(header)
    assert.match(cookie.name, TOKEN)
    if (cookie.domain !== undefined) assert.match(cookie.domain, /^\.?[a-z0-9.-]+$/i)
  }
}

describe('static cookie options that would inject attributes are refused at startup', () => {
  for (const bad of HOSTILE) {
    const shown = JSON.stringify(bad)
    test(`name containing ${shown}`, () => {
      assert.throws(() => session({ ...base, name: `sid${bad}Domain=evil.example` }), (err) => err.code === 'SESSION_CONFIG' && /"name"/.test(err.message))
    })
    for (const attribute of ['path', 'domain']) {
      test(`${attribute} containing ${shown}`, () => {
        const value = attribute === 'path' ? `/app${bad}Domain=evil.example` : `example.com${bad}Path=/`
        assert.throws(
          () => session({ ...base, cookie: { [attribute]: value } }),
          (err) => err.code === 'SESSION_CONFIG' && err.message.includes(attribute),
        )
      })
    }
  }

  test('a domain the cookie serializer would refuse (a space, a comma) is refused too', () => {
    for (const domain of ['exa mple.com', 'a,b.com', 'x=y.com']) {
      assert.throws(() => session({ ...base, cookie: { domain } }), (err) => err.code === 'SESSION_CONFIG' && /domain/.test(err.message))
    }
  })

  test('ordinary values are accepted', () => {
    assert.equal(typeof session({ ...base, name: 'app.sid', cookie: { path: '/app', domain: '.example.com' } }), 'function')
  })
})

describe('cookie options returned by cookie(req)', () => {
  let server
  before(async () => {
    const app = express()
    app.use(
      session({
        ...base,
        cookie: (req) => {
          const attribute = req.get('x-attribute')
          const value = req.get('x-value')
          return attribute ? { [attribute]: decodeURIComponent(value) } : { path: '/' }
        },
      }),
    )
    app.get('/{*rest}', (req, res) => {
      req.session.n = 1
      res.cookie('app', 'yes')
      res.send('handler ok')
    })
    app.use(onError)
    server = await listen(app)
  })
  after(() => server.close())

  for (const bad of HOSTILE) {
    for (const attribute of ['path', 'domain']) {
      test(`${attribute} containing ${JSON.stringify(bad)}: an error response, no Set-Cookie at all`, async () => {
        const value = attribute === 'path' ? `/${bad}Domain=evil.example` : `example.com${bad}Secure`
        const res = await request(server.base, '/', { headers: { 'x-attribute': attribute, 'x-value': encodeURIComponent(value) } })
        assert.equal(res.status, 500)
        const body = JSON.parse(res.text)
        assert.equal(body.error, 'SESSION_COOKIE_OPTIONS')
        assert.match(body.message, new RegExp(attribute))
        assert.deepEqual(res.setCookies, [])
      })
    }
  }

  test('a well-formed answer gives a well-formed cookie', async () => {
    const res = await request(server.base, '/', { headers: { 'x-attribute': 'path', 'x-value': '/' } })
    assert.equal(res.status, 200)
    assertWellFormed(res.setCookies)
    assert.deepEqual(res.setCookies.map((h) => parseSetCookie(h).name).sort(), ['app', 'connect.sid'])
  })
})

describe('cookie attributes the app sets on req.session.cookie at run time', () => {
  let server
  before(async () => {
    const app = express()
    app.use(session({ ...base, cookie: { maxAge: 60_000 } }))
    app.get('/set', (req, res) => {
      req.session.n = 1
      req.session.cookie[req.query.attribute] = req.query.value
      setTimeout(() => res.send('handler ok'), 1)
    })
    app.use(onError)
    server = await listen(app)
  })
  after(() => server.close())

  for (const [attribute, value] of [
    ['path', '/;Domain=evil.example'],
    ['path', '/\r\nX-Injected: 1'],
    ['domain', 'example.com;Secure'],
    ['domain', 'exa mple.com'],
    ['sameSite', 'sideways'],
  ]) {
    test(`${attribute} = ${JSON.stringify(value)}: a 500, no Set-Cookie, no crash`, async () => {
      const res = await request(server.base, `/set?attribute=${attribute}&value=${encodeURIComponent(value)}`)
      assert.equal(res.status, 500)
      assert.equal(JSON.parse(res.text).error, 'SESSION_COOKIE_OPTIONS')
      assert.deepEqual(res.setCookies, [])
      assert.equal(res.headers.get('x-injected'), null)
    })
  }
})

describe('res.writeHead with header arrays', () => {
  let server
  const shapes = {
    flat: ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-App', 'yes'],
    nested: [
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['X-App', 'yes'],
    ],
    object: { 'Set-Cookie': ['a=1', 'b=2'], 'X-App': 'yes' },
    duplicate: ['Set-Cookie', 'a=1', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-App', 'yes'],
    odd: ['Set-Cookie', 'a=1', 'X-App'],
  }
  before(async () => {
    const app = express()
    app.use(session({ ...base }))
    app.get('/:shape/:reason', (req, res) => {
      req.session.user = 'ada'
      const headers = shapes[req.params.shape]
      if (req.params.reason === 'with-reason') res.writeHead(200, 'Fine', headers)
      else res.writeHead(200, headers)
      res.end('handler ok')
    })
    app.use(onError)
    server = await listen(app)
  })
  after(() => server.close())

  for (const shape of ['flat', 'nested', 'object', 'duplicate']) {
    for (const reason of ['plain', 'with-reason']) {
      test(`${shape} (${reason}): the app's cookies and ours all arrive, well-formed`, async () => {
        const res = await request(server.base, `/${shape}/${reason}`)
        assert.equal(res.status, 200)
        assert.equal(res.text, 'handler ok')
        assert.equal(res.headers.get('x-app'), 'yes')
        assertWellFormed(res.setCookies)
        const apps = res.setCookies.filter((h) => !h.startsWith('connect.sid='))
        assert.deepEqual(apps, shape === 'duplicate' ? ['a=1', 'a=1', 'b=2'] : ['a=1', 'b=2'])
        assert.equal(res.setCookies.filter((h) => h.startsWith('connect.sid=')).length, 1)
      })
    }
  }

  test('an odd-length array: a 500, and none of its headers', async () => {
    const res = await request(server.base, '/odd/plain')
    assert.equal(res.status, 500)
    assert.notEqual(res.text, 'handler ok')
    assert.equal(res.headers.get('x-app'), null)
    assertWellFormed(res.setCookies)
    assert.deepEqual(res.setCookies.filter((h) => h.startsWith('a=')), [])
  })
})

describe('logout clears the cookie', () => {
  let server
  const store = new MemoryStore()
  const has = (sid) => new Promise((resolve) => store.get(sid, (err, s) => resolve(!err && !!s)))
  before(async () => {
    const app = express()
    app.use(session({ ...base, store, name: 'app.sid', cookie: { path: '/app', domain: 'localhost', sameSite: 'strict', maxAge: 60_000 } }))
    app.get('/app/login', (req, res) => {
      req.session.user = 'ada'
      res.send(req.sessionID)
    })
    app.get('/app/me', (req, res) => res.json({ user: req.session.user ?? null, id: req.sessionID }))
    app.get('/app/logout', (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.send('bye'))))
    app.use(onError)
    server = await listen(app)
  })
  after(() => server.close())

  test('destroy() removes the record and expires the cookie with the same name, path and domain', async () => {
    const login = await request(server.base, '/app/login')
    const sid = login.text
    assert.ok(await has(sid))
    const logout = await request(server.base, '/app/logout', { cookie: login.cookie })
    assert.equal(logout.text, 'bye')
    assert.equal(await has(sid), false)
    assert.equal(logout.setCookies.length, 1)
    const cleared = parseSetCookie(logout.setCookies[0])
    assert.equal(cleared.name, 'app.sid')
    assert.equal(cleared.value, '')
    assert.equal(cleared.path, '/app')
    assert.equal(cleared.domain, 'localhost')
    assert.ok(new Date(cleared.expires).getTime() <= Date.now())

    const replay = await request(server.base, '/app/me', { cookie: login.cookie })
    const me = JSON.parse(replay.text)
    assert.equal(me.user, null)
    assert.notEqual(me.id, sid)
    assert.equal(await has(sid), false, 'the old id is not brought back')
  })
})

describe('debug output', () => {
  // A child process, because `debug` reads DEBUG once when it loads.
  const script = `
    import session, { MemoryStore } from 'sessionkit'
    import { signSessionId } from './dist/cjs/cookie/signature.js'
    const store = new MemoryStore()
    const middleware = session({ secret: 'debug-secret', store, resave: false, saveUninitialized: false, storeTimeout: 50 })
    const seen = []
    function run(cookie, act) {
      return new Promise((resolve) => {
        const req = { headers: cookie ? { cookie } : {}, url: '/', method: 'GET', socket: {} }
        const headers = {}
        const res = {
          headersSent: false, statusCode: 200,
          setHeader(k, v) { headers[k.toLowerCase()] = v }, getHeader(k) { return headers[k.toLowerCase()] },
          removeHeader(k) { delete headers[k.toLowerCase()] },
          writeHead() { this.headersSent = true; return this },
          end() { this.writeHead(); resolve({ headers, error: this.error }); return this },
        }
        middleware(req, res, (err) => {
          if (err) { res.error = err.code; return res.end() }
          act(req)
          if (req.sessionID) seen.push(req.sessionID)
          res.end()
        })
      })
    }
    const cookieOf = (r) => [].concat(r.headers['set-cookie'] ?? [])[0]?.split(';')[0]
    const first = await run(undefined, (req) => { req.session.user = 'ada' })
    const cookie = cookieOf(first)
    seen.push(decodeURIComponent(cookie.split('=')[1]))
    await run(cookie, (req) => { req.session.n = 1 })
    await run(cookie + 'x', () => {})
    await run(cookie, (req) => { req.session.regenerate(() => {}) })
    // A corrupt record under a validly signed id.
    store.set('corrupt-id-0123456789', { cookie: { originalMaxAge: 'nope' } }, () => {})
    seen.push('corrupt-id-0123456789')
    await run('connect.sid=' + encodeURIComponent(signSessionId('corrupt-id-0123456789', 'debug-secret')), () => {})
    // A store that fails.
    store.get = () => { throw new Error('down') }
    await run(cookie, () => {})
    process.stdout.write(JSON.stringify(seen))
  `

  test('names sessions by a short hash, never by id or cookie value', async () => {
    const { stdout, stderr } = await new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', script],
        { cwd: root, env: { ...process.env, DEBUG: 'sessionkit', DEBUG_COLORS: 'no' }, timeout: 20_000 },
        (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr })),
      )
    })
    const seen = JSON.parse(stdout)
    assert.ok(seen.length >= 4)
    assert.match(stderr, /sessionkit/, 'debug output was produced')
    assert.match(stderr, /unusable/, 'a corrupt record is reported')
    assert.match(stderr, /store\.get failed/, 'a failing store is reported')
    for (const secretish of seen) {
      assert.equal(stderr.includes(secretish), false, `debug output contains ${secretish}`)
      const id = secretish.startsWith('s:') ? secretish.slice(2).split('.')[0] : secretish
      assert.equal(stderr.includes(id), false)
      if (secretish.startsWith('s:')) assert.equal(stderr.includes(secretish.split('.').at(-1)), false, 'nor the signature')
    }
    assert.equal(stderr.includes('debug-secret'), false)
  })
})
