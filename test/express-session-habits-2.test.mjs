// More express-session habits that apps rely on (issue 12, item 4): cookie-parser mounted first, no
// `secret` option, how invalid options are reported, Cookie's expires, cookie.path matching, the `key`
// of cookieSession(), the basic example's login, quoted cookie values, and duplicate session cookies.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, test } from 'node:test'
import cookieParser from 'cookie-parser'
import express5 from 'express'
import express4 from 'express4'
import expressSession from 'express-session'
import session, { Cookie, cookieSession } from 'sessionkit'
import { listen, request } from './support/http.mjs'

const require = createRequire(import.meta.url)
const cookieSignature = require('cookie-signature')
const { pathMatches } = require('../dist/cjs/cookie/cookie.js')
const { MAX_SESSION_COOKIES } = require('../dist/cjs/cookie/signature.js')

// Every warning of this process, from its start: sessionkit warns once per process.
const warnings = []
process.on('warning', (warning) => warnings.push(warning))

const SECRET = 'habits two'
const frameworks = [
  { name: 'express5', express: express5 },
  { name: 'express4', express: express4 },
]
const quiet = { resave: false, saveUninitialized: false }
const signed = (id, secret = SECRET) => `connect.sid=${encodeURIComponent(`s:${cookieSignature.sign(id, secret)}`)}`
const idIn = (cookie, secret = SECRET) => cookieSignature.unsign(decodeURIComponent(cookie.split('=')[1]).slice(2), secret)

/** An app with /write?v= (stores v), /read (v and the id) and an error handler that shows the error's code and message. */
function app(express, ...middlewares) {
  const created = express()
  for (const middleware of middlewares) created.use(middleware)
  created.get('/write', (req, res) => {
    req.session.value = req.query.v ?? 'x'
    res.json({ id: req.sessionID })
  })
  created.get('/read', (req, res) => res.json({ value: req.session.value ?? null, id: req.sessionID }))
  created.use((err, req, res, _next) => res.status(err.status ?? 500).json({ code: err.code ?? null, message: err.message }))
  return created
}

async function serve(handler, run) {
  const server = await listen(handler)
  try {
    await run((path, options) => request(server.base, path, options))
  } finally {
    await server.close()
  }
}

/** Drops the Cookie header after cookie-parser read it, as some proxies' adapters and apps do. */
const dropCookieHeader = (req, _res, next) => {
  delete req.headers.cookie
  next()
}

// Runs first: the warning about a missing secret is emitted once per process.
describe('secret omitted: cookie-parser\'s req.secret signs, as in express-session', () => {
  test('connect-flash\'s README set-up (cookieParser(secret), then session({ cookie })) keeps a session, and warns once at startup', async () => {
    for (const { name, express } of frameworks) {
      const middleware = session({ cookie: { maxAge: 60_000 } })
      session({ cookie: { maxAge: 60_000 } })
      await serve(app(express, cookieParser('keyboard cat'), middleware), async (get) => {
        const write = await get('/write?v=flash')
        assert.equal(write.status, 200, `${name}: ${write.text}`)
        const id = idIn(write.cookie, 'keyboard cat')
        assert.equal(id, JSON.parse(write.text).id, `${name}: the cookie is signed with cookie-parser's secret`)
        const read = await get('/read', { cookie: write.cookie })
        assert.deepEqual(JSON.parse(read.text), { value: 'flash', id }, name)
      })
    }
    await new Promise((resolve) => setImmediate(resolve))
    const aboutSecret = warnings.filter((w) => w.code === 'SESSIONKIT_REQ_SECRET')
    assert.equal(aboutSecret.length, 1, `one warning for four middlewares: ${warnings.map((w) => w.message).join(' | ')}`)
    assert.match(aboutSecret[0].message, /secret option is not set.*req\.secret.*cookieParser\(secret\)/)
  })

  test('with neither a secret option nor req.secret, every request fails with a clear error to next(), and the server goes on', async () => {
    for (const { name, express } of frameworks) {
      // cookieParser() without a secret leaves req.secret undefined.
      await serve(app(express, cookieParser(), session(quiet)), async (get) => {
        for (let i = 0; i < 2; i++) {
          const response = await get('/write')
          assert.equal(response.status, 500, name)
          assert.deepEqual(response.setCookies, [], `${name}: no cookie`)
          const body = JSON.parse(response.text)
          assert.equal(body.code, 'SESSION_CONFIG', name)
          assert.match(body.message, /^sessionkit: secret option required for sessions: .*session\(\{ secret \}\).*cookieParser\(secret\)/, name)
        }
      })
    }
    // express-session's answer too, whose words ours begin with.
    await serve(app(express5, expressSession(quiet)), async (get) => {
      const response = await get('/read')
      assert.equal(response.status, 500)
      assert.equal(JSON.parse(response.text).message, 'secret option required for sessions')
    })
  })

  test('the secret option, when given, wins over req.secret', async () => {
    await serve(app(express5, cookieParser('parser secret'), session({ ...quiet, secret: SECRET })), async (get) => {
      const write = await get('/write')
      assert.equal(idIn(write.cookie), JSON.parse(write.text).id)
    })
  })
})

for (const { name, express } of frameworks) {
  describe(`cookie-parser mounted first, on ${name}: the id is read from req.signedCookies and req.cookies when the header has none`, () => {
    test('req.signedCookies[name], which cookie-parser verified with the same secret', async () => {
      await serve(app(express, cookieParser(SECRET), dropCookieHeader, session({ ...quiet, secret: SECRET })), async (get) => {
        const write = await get('/write?v=signed')
        const read = await get('/read', { cookie: write.cookie })
        assert.deepEqual(JSON.parse(read.text), { value: 'signed', id: JSON.parse(write.text).id })
        assert.deepEqual(read.setCookies, [], 'the same session: no new cookie')
      })
    })

    test('req.cookies[name] (cookie-parser without a secret) when its signature verifies', async () => {
      await serve(app(express, cookieParser(), dropCookieHeader, session({ ...quiet, secret: SECRET })), async (get) => {
        const write = await get('/write?v=parsed')
        const read = await get('/read', { cookie: write.cookie })
        assert.deepEqual(JSON.parse(read.text), { value: 'parsed', id: JSON.parse(write.text).id })
      })
    })

    test('req.cookies[name] unsigned, or signed with another secret, is refused: a new session', async () => {
      await serve(app(express, cookieParser(), dropCookieHeader, session({ ...quiet, secret: SECRET })), async (get) => {
        const { id } = JSON.parse((await get('/write?v=secret')).text)
        for (const cookie of [`connect.sid=${id}`, signed(id, 'another secret'), `connect.sid=${encodeURIComponent(`s:${id}`)}`]) {
          const read = JSON.parse((await get('/read', { cookie })).text)
          assert.equal(read.value, null, cookie)
          assert.notEqual(read.id, id, cookie)
        }
      })
    })

    test('req.signedCookies holding something other than a string (a JSON cookie) is not an id', async () => {
      const planted = (req, _res, next) => {
        req.signedCookies = { 'connect.sid': { id: 'x' } }
        req.cookies = {}
        next()
      }
      await serve(app(express, planted, session({ ...quiet, secret: SECRET })), async (get) => {
        const read = JSON.parse((await get('/read')).text)
        assert.equal(typeof read.id, 'string')
        assert.equal(read.value, null)
      })
    })
  })
}

describe('invalid options: each reports its own error, in express-session\'s words', () => {
  const messageOf = (create, options) => {
    try {
      create(options)
    } catch (err) {
      return err
    }
    assert.fail(`no error for ${JSON.stringify(options)}`)
  }

  test('genid, unset and an empty secret array: the message contains express-session\'s, code SESSION_CONFIG', () => {
    for (const options of [{ genid: 42 }, { unset: 'forget' }, { secret: [] }]) {
      const theirs = messageOf(expressSession, { secret: SECRET, ...quiet, ...options })
      const ours = messageOf(session, { secret: SECRET, ...quiet, ...options })
      assert.equal(ours.code, 'SESSION_CONFIG')
      assert.ok(ours.message.includes(theirs.message), `${JSON.stringify(ours.message)} includes ${JSON.stringify(theirs.message)}`)
    }
  })

  test('cookie and secret of the wrong kind name their option the same way', () => {
    assert.match(messageOf(session, { secret: SECRET, ...quiet, cookie: 'secure' }).message, /cookie option must be an object/)
    assert.match(messageOf(session, { secret: SECRET, ...quiet, cookie: { maxAge: 'soon' } }).message, /cookie option: maxAge must be/)
    assert.match(messageOf(session, { ...quiet, secret: 42 }).message, /secret option must be a non-empty string/)
  })

  test('all four wrong at once: one error that reports each of them', () => {
    const err = messageOf(session, { ...quiet, genid: 'abc', unset: 'forget', cookie: 'secure', secret: [] })
    assert.equal(err.code, 'SESSION_CONFIG')
    for (const phrase of ['genid option must be a function', 'unset option must be "destroy" or "keep"', 'cookie option must be an object', 'secret option array must contain one or more strings']) {
      assert.ok(err.message.includes(phrase), `${JSON.stringify(err.message)} includes ${JSON.stringify(phrase)}`)
    }
    assert.match(err.message, /^sessionkit: 4 options are invalid/)
  })

  test('a bad secret inside an array is described, never printed', () => {
    const err = messageOf(session, { ...quiet, secret: ['the real secret', 7] })
    assert.match(err.message, /got a number/)
    assert.ok(!err.message.includes('the real secret'))
  })
})

test('new Cookie({ expires: date }).expires is the Date given, as in express-session', () => {
  const date = new Date(Date.now() + 60_000)
  assert.equal(new expressSession.Cookie({ expires: date }).expires, date)
  assert.equal(new Cookie({ expires: date }).expires, date)
  assert.equal(new session.Cookie({ expires: date }).expires, date)
})

describe('cookie.path matches as RFC 6265 §5.1.4 says', () => {
  test('pathMatches: the same path, or one below it; not a longer name that shares the prefix', () => {
    const cases = [
      ['/admin', '/admin', true],
      ['/admin/', '/admin', true],
      ['/admin/x', '/admin', true],
      ['/administrator', '/admin', false],
      ['/admin', '/admin/', false],
      ['/admin/x', '/admin/', true],
      ['/anything', '/', true],
      ['/', '/', true],
      ['/Admin', '/admin', false],
    ]
    for (const [requestPath, cookiePath, expected] of cases) assert.equal(pathMatches(requestPath, cookiePath), expected, `${requestPath} in ${cookiePath}`)
  })

  test('a session with path /admin is read on /admin and /admin/x, and not on /administrator', async () => {
    const created = express5()
    created.use(session({ ...quiet, secret: SECRET, cookie: { path: '/admin' } }))
    created.get('/admin/login', (req, res) => {
      req.session.user = 'ada'
      res.send('ok')
    })
    created.get(['/admin', '/admin/x', '/administrator'], (req, res) => res.json({ hasSession: req.session !== undefined, user: req.session?.user ?? null }))
    await serve(created, async (get) => {
      const login = await get('/admin/login')
      assert.ok(login.cookie)
      for (const path of ['/admin', '/admin/x']) assert.deepEqual(JSON.parse((await get(path, { cookie: login.cookie })).text), { hasSession: true, user: 'ada' }, path)
      const outside = await get('/administrator', { cookie: login.cookie })
      assert.deepEqual(JSON.parse(outside.text), { hasSession: false, user: null })
      assert.deepEqual(outside.setCookies, [])
    })
  })
})

describe('cookieSession({ key })', () => {
  test('is the cookie\'s name, as session({ key }) has it, with no warning about an unknown option', async () => {
    const created = express5()
    created.use(cookieSession({ secret: SECRET, key: 'legacy.session' }))
    created.get('/write', (req, res) => {
      req.session.user = 'ada'
      res.send('ok')
    })
    created.get('/read', (req, res) => res.json({ user: req.session.user ?? null }))
    await serve(created, async (get) => {
      const write = await get('/write')
      assert.equal(write.cookie?.split('=')[0], 'legacy.session')
      assert.deepEqual(JSON.parse((await get('/read', { cookie: write.cookie })).text), { user: 'ada' })
    })
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(warnings.filter((w) => /"key"/.test(w.message)).map((w) => w.message), [])
  })

  test('name wins over key, as in session()', async () => {
    const created = express5()
    created.use(cookieSession({ secret: SECRET, key: 'old', name: 'new' }))
    created.get('/', (req, res) => {
      req.session.user = 'ada'
      res.send('ok')
    })
    await serve(created, async (get) => assert.equal((await get('/')).cookie?.split('=')[0], 'new'))
  })
})

test('examples/basic: POST /login without a body answers 400 with a message, not a stack trace; with one it logs in', async () => {
  const basic = require('../examples/basic/app.js')
  await serve(basic, async (get) => {
    for (const options of [{ method: 'POST' }, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"ada"}' }]) {
      const response = await get('/login', options)
      assert.equal(response.status, 400, JSON.stringify(options))
      assert.match(response.text, /send the form with a <code>name<\/code> field/)
      assert.doesNotMatch(response.text, /TypeError|\n\s+at /)
    }
    const login = await get('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=ada' })
    assert.equal(login.status, 302)
    assert.match((await get('/', { cookie: login.cookie })).text, /Logged in as <b>ada<\/b>/)
  })
})

test('a cookie value in double quotes (RFC 6265 §4.1.1) is the same cookie, as express-session reads it', async () => {
  for (const create of [session, expressSession]) {
    await serve(app(express5, create({ ...quiet, secret: SECRET })), async (get) => {
      const write = await get('/write?v=quoted')
      const [cookieName, value] = write.cookie.split('=')
      const read = await get('/read', { cookie: `${cookieName}="${value}"` })
      assert.deepEqual(JSON.parse(read.text), { value: 'quoted', id: JSON.parse(write.text).id }, create.name)
    })
  }
})

describe(`duplicate session cookies: the first ${MAX_SESSION_COOKIES} are looked at, the first that verifies wins`, () => {
  // Short, so that 300 of them fit Node's 16 KiB of headers; each still costs an HMAC to refuse.
  const forged = (n) => Array.from({ length: n }, (_, i) => `connect.sid=s%3Af${i}.forged`)

  test(`a valid cookie after ${MAX_SESSION_COOKIES - 1} forged ones is used; after ${MAX_SESSION_COOKIES} it is not`, async () => {
    assert.equal(MAX_SESSION_COOKIES, 4, 'the documented rule')
    await serve(app(express5, session({ ...quiet, secret: SECRET })), async (get) => {
      const write = await get('/write?v=mine')
      const { id } = JSON.parse(write.text)
      const within = await get('/read', { cookie: [...forged(MAX_SESSION_COOKIES - 1), write.cookie].join('; ') })
      assert.deepEqual(JSON.parse(within.text), { value: 'mine', id })
      const beyond = JSON.parse((await get('/read', { cookie: [...forged(MAX_SESSION_COOKIES), write.cookie].join('; ') })).text)
      assert.equal(beyond.value, null)
      assert.notEqual(beyond.id, id)
      // Cookies of other names do not count.
      const others = Array.from({ length: 50 }, (_, i) => `other${i}=x`)
      assert.equal(JSON.parse((await get('/read', { cookie: [...others, write.cookie].join('; ') })).text).value, 'mine')
    })
  })

  test('300 forged duplicates cost at most (first few) × (secrets) HMAC checks, not 300 × secrets', async () => {
    const secrets = [SECRET, 'an older secret']
    const original = cookieSignature.unsign
    let checks = 0
    cookieSignature.unsign = (...args) => {
      checks++
      return original(...args)
    }
    try {
      await serve(app(express5, session({ ...quiet, secret: secrets })), async (get) => {
        const response = await get('/read', { cookie: forged(300).join('; ') })
        assert.equal(response.status, 200)
      })
    } finally {
      cookieSignature.unsign = original
    }
    assert.ok(checks > 0, 'the forged values were checked')
    assert.ok(checks <= MAX_SESSION_COOKIES * secrets.length, `${checks} HMAC checks`)
  })
})
