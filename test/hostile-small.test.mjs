// Three small failures a hostile probe found, each checked by what an app and a client observe:
// - an invalid `req.session.cookie.expires` is refused when it is set, naming `expires`;
// - data that replaces one of the session's methods (or its cookie), as `Object.assign(req.session,
//   input)` does, fails with a SessionError and its code, and the stored session is left as it was;
// - `maxSessionBytes` refuses a session far over it without building its JSON, and never refuses one
//   that fits, to the byte.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import express from 'express'
import fc from 'fast-check'
import session, { Cookie, MemoryStore } from 'sessionkit'
import { listen, request } from './support/http.mjs'

const SECRET = 'small hostile inputs, a secret of 32 bytes'

/** An Express app with `routes(app)` behind the session and an error handler that answers the error's code and message. */
async function withApp(options, routes, run) {
  const store = options.store ?? new MemoryStore()
  const app = express()
  app.use(express.json({ limit: '50mb' }))
  app.use(session({ secret: SECRET, resave: false, saveUninitialized: false, store, ...options }))
  app.get('/login', (req, res) => {
    req.session.user = 'ada'
    res.send('in')
  })
  app.get('/me', (req, res) => res.send(String(req.session.user)))
  routes(app)
  app.use((err, req, res, next) => res.status(err.status ?? 500).json({ name: err.name, code: err.code, message: err.message }))
  const server = await listen(app)
  try {
    await run(server.base, store)
  } finally {
    await server.close()
  }
}

// --- cookie.expires ------------------------------------------------------------------------------

test('an invalid cookie.expires is refused when it is set, by an error that names expires, not maxAge', async () => {
  const cookie = new Cookie({ maxAge: 60_000 })
  for (const value of ['not a date', 'tomorrow', new Date('nope')]) {
    assert.throws(
      () => {
        cookie.expires = value
      },
      (err) => err instanceof TypeError && /cookie\.expires/.test(err.message) && !/maxAge/.test(err.message),
      String(value),
    )
  }
  assert.ok(cookie.maxAge > 59_000, 'the refused value changed nothing')
  // What express-session apps write keeps working: a date as text, false or null for a browser-session cookie.
  cookie.expires = '2100-01-01T00:00:00.000Z'
  assert.equal(cookie.expires.toISOString(), '2100-01-01T00:00:00.000Z')
  cookie.expires = false
  assert.equal(cookie.expires, null)

  await withApp({ cookie: { maxAge: 60_000 } }, (app) => {
    app.get('/expires', (req, res) => {
      req.session.cookie.expires = req.query.when
      res.send('set')
    })
  }, async (base) => {
    const login = await request(base, '/login')
    const answer = await request(base, '/expires?when=soon', { cookie: login.cookie })
    assert.equal(answer.status, 500)
    const { message } = JSON.parse(answer.text)
    assert.match(message, /cookie\.expires/)
    assert.doesNotMatch(message, /maxAge/)
    assert.equal((await request(base, '/me', { cookie: login.cookie })).text, 'ada', 'the session is as it was')
  })
})

// --- data in the place of a method ---------------------------------------------------------------

test('data that replaces a method or the cookie of req.session is a SessionError with its code; the stored session stays', async () => {
  await withApp({}, (app) => {
    app.post('/profile', (req, res) => {
      Object.assign(req.session, req.body) // the mass assignment an app should not do, and some do
      res.send('saved')
    })
    app.post('/profile-saved', async (req, res) => {
      Object.assign(req.session, req.body)
      // save() rejects (Express 5 hands the rejection to the error handler); with save itself replaced
      // the app cannot call it, and the end of the response fails instead.
      if (typeof req.session.save === 'function') await req.session.save()
      res.send('saved')
    })
  }, async (base) => {
    for (const name of ['touch', 'save', 'reload', 'destroy', 'regenerate', 'resetMaxAge', 'cookie']) {
      for (const path of ['/profile', '/profile-saved']) {
        const login = await request(base, '/login')
        const answer = await request(base, path, { method: 'POST', cookie: login.cookie, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ [name]: 1, user: 'mallory' }) })
        assert.equal(answer.status, 500, `${name} ${path}`)
        const error = JSON.parse(answer.text)
        assert.equal(error.name, 'SessionError', `${name} ${path}: ${error.message}`)
        assert.equal(error.code, 'SESSION_SERIALIZE')
        assert.match(error.message, new RegExp(`req\\.session\\.${name} was replaced by data \\(a number\\)`))
        assert.equal(answer.setCookies.length, 0, 'no cookie for a session that was not saved')
        assert.equal((await request(base, '/me', { cookie: login.cookie })).text, 'ada', `${name}: the stored session is left as it was`)
      }
    }
  })
})

// --- maxSessionBytes -----------------------------------------------------------------------------

test('maxSessionBytes refuses a session far over it without building its JSON; the stored copy stays', async () => {
  let built = 0
  // A value whose JSON is asked for only when the session's JSON is built.
  const marker = { toJSON: () => (built++, 'marker') }
  await withApp({ maxSessionBytes: 1024 }, (app) => {
    app.get('/grow', (req, res) => {
      req.session.blob = 'x'.repeat(100_000)
      req.session.marker = marker
      res.send('grown')
    })
    app.get('/grow-and-save', async (req, res, next) => {
      req.session.blob = 'x'.repeat(100_000)
      req.session.marker = marker
      try {
        await req.session.save()
        res.send('saved')
      } catch (err) {
        res.status(413).send(err.code)
      }
    })
  }, async (base) => {
    const login = await request(base, '/login')
    const grown = await request(base, '/grow', { cookie: login.cookie })
    assert.equal(grown.status, 500)
    const error = JSON.parse(grown.text)
    assert.equal(error.code, 'SESSION_SERIALIZE')
    assert.match(error.message, /more than 1024 bytes as JSON.*maxSessionBytes limit of 1024/)
    const saved = await request(base, '/grow-and-save', { cookie: login.cookie })
    assert.deepEqual({ status: saved.status, text: saved.text }, { status: 413, text: 'SESSION_SERIALIZE' }, 'save() rejects; the app answers, and the end does not fail again')
    assert.equal(built, 0, "the refused session's JSON was never built")
    assert.equal((await request(base, '/me', { cookie: login.cookie })).text, 'ada', 'the stored copy is left as it was')
  })
})

test('maxSessionBytes: 300,000 keys are refused in under half the time building their JSON takes', async (t) => {
  // The hostile probe used a million keys (8.8 s before, 1.2 s after, on a loaded machine); fewer keep the suite quick.
  const KEYS = 300_000
  let refusedIn
  await withApp({ maxSessionBytes: 65_536 }, (app) => {
    app.get('/flood', (req, res) => {
      for (let i = 0; i < KEYS; i++) req.session[`k${i}`] = i
      const started = performance.now()
      res.once('finish', () => (refusedIn = performance.now() - started))
      res.send('flooded')
    })
  }, async (base) => {
    const login = await request(base, '/login')
    const answer = await request(base, '/flood', { cookie: login.cookie })
    assert.equal(answer.status, 500)
    assert.equal(JSON.parse(answer.text).code, 'SESSION_SERIALIZE')
  })
  // What building the JSON costs, as the commit built it before refusing: a copy without the cookie, then JSON.
  const data = { cookie: {} }
  for (let i = 0; i < KEYS; i++) data[`k${i}`] = i
  const started = performance.now()
  const { cookie: _cookie, ...copy } = data
  JSON.stringify(copy)
  const building = performance.now() - started
  t.diagnostic(`${KEYS} keys: refused ${refusedIn.toFixed(0)} ms after res.send(); building their JSON takes ${building.toFixed(0)} ms`)
  // Listing the keys once is what remains; before, the refusal came after building the JSON and more.
  assert.ok(refusedIn < building / 2, `refused after ${refusedIn.toFixed(0)} ms; building the JSON takes ${building.toFixed(0)} ms`)
})

test('maxSessionBytes never refuses a session that fits, to the byte, whatever its data', async () => {
  const LIMIT = 2048
  let next
  await withApp({ maxSessionBytes: LIMIT }, (app) => {
    app.get('/put', (req, res) => {
      Object.assign(req.session, next)
      res.send('put')
    })
  }, async (base) => {
    const values = fc.sample(
      fc.dictionary(
        fc.string({ minLength: 1, maxLength: 8 }).filter((key) => !['cookie', 'touch', 'save', 'reload', 'destroy', 'regenerate', 'resetMaxAge', 'id', 'req', '__proto__', 'constructor', 'prototype'].includes(key)),
        fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined), fc.date({ noInvalidDate: true }), fc.array(fc.oneof(fc.constant(undefined), fc.string({ unit: 'binary' })))),
        { maxKeys: 6 },
      ),
      { numRuns: 60, seed: 27 },
    )
    let tried = 0
    for (const value of values) {
      // The session also holds the login's user, first.
      const bytes = Buffer.byteLength(JSON.stringify({ user: 'ada', ...value, pad: '' }))
      if (bytes > LIMIT) continue
      // Padded to exactly the limit: it must be saved; one byte more must not.
      for (const [extra, fits] of [[0, true], [1, false]]) {
        next = { ...value, pad: 'p'.repeat(LIMIT - bytes + extra) }
        const login = await request(base, '/login')
        const answer = await request(base, '/put', { cookie: login.cookie })
        assert.equal(answer.status, fits ? 200 : 500, `${JSON.stringify(next).length} characters, ${fits ? 'fits' : 'one byte over'}: ${answer.text}`)
      }
      tried++
    }
    assert.ok(tried > 30, `${tried} sessions tried`)
  })
})

test('maxSessionBytes: a session stored over a limit set later is still read and touched; a change to it is refused', async () => {
  const store = new MemoryStore()
  let cookie
  await withApp({ store, cookie: { maxAge: 60_000 } }, (app) => {
    app.get('/big', (req, res) => {
      req.session.blob = 'y'.repeat(4000)
      res.send('big')
    })
  }, async (base) => {
    cookie = (await request(base, '/big')).cookie
  })
  await withApp({ store, maxSessionBytes: 1024, cookie: { maxAge: 60_000 } }, (app) => {
    app.get('/read', (req, res) => res.send(String(req.session.blob.length)))
    app.get('/change', (req, res) => {
      req.session.blob += 'z'
      res.send('changed')
    })
  }, async (base) => {
    assert.deepEqual(await request(base, '/read', { cookie }).then((r) => [r.status, r.text]), [200, '4000'])
    const changed = await request(base, '/change', { cookie })
    assert.equal(changed.status, 500)
    assert.match(JSON.parse(changed.text).message, /maxSessionBytes limit of 1024/)
  })
})
