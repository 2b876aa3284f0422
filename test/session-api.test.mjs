// The Session API over real HTTP with Express 5: regenerate, destroy, reload, save, touch,
// resetMaxAge, id and cookie, in their callback and Promise forms, and what the client and the store
// see afterwards.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import session, { Session } from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'
import { callbackStore, counting, held, methodsCalled, plant, sidOf, signedCookie } from './support/stores.mjs'

const SECRET = 'session api secret'
const MAX_AGE = 60_000

// A request handler that waits on the test: `arrived` resolves when the handler reaches the gate,
// `open()` lets it continue. Used to make another request's change land "meanwhile".
function gate() {
  let arrive
  let open
  const arrived = new Promise((resolve) => (arrive = resolve))
  const opened = new Promise((resolve) => (open = resolve))
  return { arrived, open, wait: () => (arrive(), opened) }
}

describe('Session API', () => {
  const store = counting(callbackStore())
  const gates = {}
  let server
  let base

  before(async () => {
    const app = express()
    app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: MAX_AGE } }))
    app.get('/set', (req, res) => {
      req.session.user = req.query.user ?? 'ann'
      req.session.count = Number(req.query.count ?? 1)
      res.json({ id: req.sessionID })
    })
    app.get('/get', (req, res) => res.json({ id: req.sessionID, user: req.session.user ?? null, count: req.session.count ?? null }))

    app.get('/regenerate-callback', (req, res, next) => {
      const old = req.sessionID
      const previous = req.session
      const returned = req.session.regenerate((err) => {
        if (err) return next(err)
        req.session.user = 'after-login'
        res.json({ old, id: req.sessionID, sessionId: req.session.id, chained: returned === previous, fresh: req.session !== previous })
      })
    })
    app.get('/regenerate-await', async (req, res) => {
      const old = req.sessionID
      const returned = req.session.regenerate()
      const isPromise = returned instanceof Promise
      await returned
      req.session.user = 'after-login'
      res.json({ old, id: req.sessionID, isPromise, carried: req.session.count ?? null })
    })

    app.get('/destroy-callback', (req, res, next) => {
      const previous = req.session
      const returned = req.session.destroy((err) => {
        if (err) return next(err)
        res.json({ gone: req.session === undefined, chained: returned === previous })
      })
    })
    app.get('/destroy-await', async (req, res) => {
      const returned = req.session.destroy()
      const isPromise = returned instanceof Promise
      await returned
      res.json({ gone: req.session === undefined, isPromise })
    })

    app.get('/bump', (req, res) => {
      req.session.count += 1
      res.json({ count: req.session.count })
    })
    app.get('/reload-callback', async (req, res, next) => {
      const before = req.session.count
      await gates.reload.wait()
      const previous = req.session
      const returned = req.session.reload((err) => {
        if (err) return next(err)
        res.json({ before, after: req.session.count, chained: returned === previous })
      })
    })
    app.get('/reload-await', async (req, res) => {
      const before = req.session.count
      await gates.reload.wait()
      const returned = req.session.reload()
      const isPromise = returned instanceof Promise
      await returned
      res.json({ before, after: req.session.count, isPromise })
    })
    app.get('/reload-missing', async (req, res) => {
      const form = req.query.form
      await new Promise((resolve) => store.inner.destroy(req.sessionID, resolve))
      if (form === 'callback') {
        req.session.reload((err) => res.json({ code: err?.code ?? null }))
        return
      }
      try {
        await req.session.reload()
        res.json({ code: null })
      } catch (err) {
        res.json({ code: err.code ?? null })
      }
    })

    app.get('/login', (req, res, next) => {
      req.session.user = 'ann'
      const previous = req.session
      const returned = req.session.save((err) => {
        if (err) return next(err)
        if (returned !== previous) return next(new Error('save(callback) did not return the session'))
        res.redirect('/get')
      })
    })
    app.get('/login-await', async (req, res) => {
      req.session.user = 'bob'
      const returned = req.session.save()
      if (!(returned instanceof Promise)) throw new Error('save() did not return a Promise')
      await returned
      res.redirect('/get')
    })

    app.get('/touch', async (req, res) => {
      const method = req.query.method
      const stored = req.session.cookie.expires.getTime()
      await sleep(25)
      const returned = req.session[method]()
      res.json({
        stored,
        moved: req.session.cookie.expires.getTime(),
        maxAge: req.session.cookie.maxAge,
        originalMaxAge: req.session.cookie.originalMaxAge,
        chained: returned === req.session,
      })
    })
    app.get('/cookie', async (req, res) => {
      const { cookie } = req.session
      const first = cookie.maxAge
      await sleep(25)
      const second = cookie.maxAge
      res.json({
        id: req.session.id,
        sessionID: req.sessionID,
        idIsString: typeof req.session.id === 'string',
        first,
        second,
        originalMaxAge: cookie.originalMaxAge,
        expiresIsDate: cookie.expires instanceof Date,
        expiresLeft: cookie.expires.getTime() - Date.now(),
        maxAgeNow: cookie.maxAge,
      })
    })

    app.get('/hostile', async (req, res) => {
      const s = req.session
      const report = {
        id: s.id,
        sessionID: req.sessionID,
        ok: s.ok ?? null,
        methods: ['save', 'regenerate', 'destroy', 'reload', 'touch', 'resetMaxAge'].filter((m) => typeof s[m] === 'function'),
        prototypeIsSession: Object.getPrototypeOf(s) === Session.prototype,
        constructorIsSession: s.constructor === Session,
        polluted: {}.polluted ?? null,
        cookieIsObject: typeof s.cookie === 'object' && s.cookie !== null && typeof s.cookie.maxAge === 'number',
      }
      s.seen = true
      await s.save()
      await s.regenerate()
      report.regenerated = req.sessionID !== report.id
      req.session.user = 'regenerated'
      res.json(report)
    })

    app.get('/returns', (req, res) => {
      const s = req.session
      s.x = 1
      const forms = {
        touch: s.touch() === s,
        resetMaxAge: s.resetMaxAge() === s,
        saveCallback: s.save(() => {}) === s,
        savePromise: s.save() instanceof Promise,
      }
      res.json(forms)
    })

    app.get('/ignored-rejection', async (req, res) => {
      await new Promise((resolve) => store.inner.destroy(req.sessionID, resolve))
      // The app neither awaits nor catches these, as an express-session app would not.
      req.session.reload()
      req.session.regenerate({ keep: ['count'] })
      await sleep(20)
      res.json({ ok: true })
    })

    ;({ server, base } = await listen(app))
  })
  after(() => server.close())

  async function login(query = '') {
    const res = await request(base, `/set${query}`)
    assert.equal(res.status, 200)
    assert.ok(res.cookie, 'a new session with data gets a cookie')
    return { cookie: res.cookie, sid: sidOf(res.cookie) }
  }

  for (const form of ['callback', 'await']) {
    test(`regenerate (${form} form): a new id, the old one gone from the store, the new cookie sent`, async () => {
      const { cookie, sid } = await login('?count=7')
      assert.ok(held(store, sid))
      const res = await request(base, `/regenerate-${form}`, { cookie })
      assert.equal(res.status, 200)
      const body = JSON.parse(res.text)
      assert.equal(body.old, sid)
      assert.notEqual(body.id, sid)
      if (form === 'callback') {
        assert.equal(body.chained, true, 'regenerate(callback) returns the session it was called on')
        assert.equal(body.fresh, true)
        assert.equal(body.sessionId, body.id)
      } else {
        assert.equal(body.isPromise, true)
        assert.equal(body.carried, null, 'data of the old session does not carry over')
      }
      assert.equal(held(store, sid), null, 'the old id is destroyed in the store')
      assert.equal(held(store, body.id)?.user, 'after-login')
      assert.ok(res.cookie, 'the new id is sent')
      assert.equal(sidOf(res.cookie), body.id)

      const oldCookie = await request(base, '/get', { cookie })
      assert.equal(JSON.parse(oldCookie.text).user, null, 'the old cookie no longer opens a session')
      const newCookie = await request(base, '/get', { cookie: res.cookie })
      assert.deepEqual(JSON.parse(newCookie.text), { id: body.id, user: 'after-login', count: null })
    })

    test(`destroy (${form} form): record removed, req.session undefined, cookie cleared`, async () => {
      const { cookie, sid } = await login()
      const res = await request(base, `/destroy-${form}`, { cookie })
      assert.equal(res.status, 200)
      const body = JSON.parse(res.text)
      assert.equal(body.gone, true, 'req.session is undefined after destroy')
      if (form === 'callback') assert.equal(body.chained, true)
      else assert.equal(body.isPromise, true)
      assert.equal(held(store, sid), null)
      assert.equal(res.setCookies.length, 1)
      const cleared = parseSetCookie(res.setCookies[0])
      assert.equal(cleared.name, 'connect.sid')
      assert.equal(cleared.value, '')
      assert.equal(cleared.path, '/')
      assert.ok(new Date(cleared.expires).getTime() <= Date.now(), `expired: ${res.setCookies[0]}`)

      const again = await request(base, '/set?user=carl', { cookie })
      assert.ok(again.cookie, 'the old cookie gets a fresh session')
      assert.notEqual(sidOf(again.cookie), sid, 'never under the destroyed id')
      assert.equal(held(store, sid), null)
    })

    test(`reload (${form} form) picks up a change another request made meanwhile`, async () => {
      const { cookie } = await login('?count=1')
      gates.reload = gate()
      const slow = request(base, `/reload-${form}`, { cookie })
      await gates.reload.arrived
      const bump = await request(base, '/bump', { cookie })
      assert.equal(JSON.parse(bump.text).count, 2)
      gates.reload.open()
      const body = JSON.parse((await slow).text)
      assert.equal(body.before, 1)
      assert.equal(body.after, 2)
      if (form === 'callback') assert.equal(body.chained, true)
      else assert.equal(body.isPromise, true)
    })

    test(`reload (${form} form) of a session the store no longer has fails with SESSION_NOT_FOUND`, async () => {
      const { cookie } = await login()
      const res = await request(base, `/reload-missing?form=${form}`, { cookie })
      assert.equal(res.status, 200)
      assert.deepEqual(JSON.parse(res.text), { code: 'SESSION_NOT_FOUND' })
    })
  }

  for (const [path, user] of [
    ['/login', 'ann'],
    ['/login-await', 'bob'],
  ]) {
    test(`save() explicitly, then redirect (${path}): stored once, before the redirect arrives`, async () => {
      store.reset()
      const res = await request(base, path)
      assert.equal(res.status, 302)
      assert.equal(res.headers.get('location'), '/get')
      assert.ok(res.cookie)
      const sid = sidOf(res.cookie)
      assert.equal(held(store, sid)?.user, user, 'stored by the time the redirect is received')
      assert.deepEqual(methodsCalled(store), ['set'], 'the end of the response does not save it again')
      const followed = await request(base, '/get', { cookie: res.cookie })
      assert.equal(JSON.parse(followed.text).user, user)
    })
  }

  for (const method of ['touch', 'resetMaxAge']) {
    test(`${method}() moves cookie.expires to originalMaxAge from now`, async () => {
      const { cookie, sid } = await login()
      const storedExpires = new Date(held(store, sid).cookie.expires).getTime()
      const res = await request(base, `/touch?method=${method}`, { cookie })
      const body = JSON.parse(res.text)
      assert.equal(body.stored, storedExpires, 'the loaded session carries the stored expiry')
      assert.ok(body.moved > body.stored, `expires moved forward: ${body.stored} -> ${body.moved}`)
      assert.equal(body.originalMaxAge, MAX_AGE)
      assert.ok(body.maxAge <= MAX_AGE && body.maxAge > MAX_AGE - 5_000)
      assert.equal(body.chained, true, `${method}() returns the session`)
    })
  }

  test('id, live cookie.maxAge, originalMaxAge and expires as a Date', async () => {
    const { cookie, sid } = await login()
    const body = JSON.parse((await request(base, '/cookie', { cookie })).text)
    assert.equal(body.id, sid)
    assert.equal(body.sessionID, sid)
    assert.equal(body.idIsString, true)
    assert.equal(body.originalMaxAge, MAX_AGE)
    assert.equal(body.expiresIsDate, true)
    assert.ok(body.first <= MAX_AGE && body.first > 0)
    assert.ok(body.second < body.first, `maxAge counts down: ${body.first} then ${body.second}`)
    assert.ok(Math.abs(body.expiresLeft - body.maxAgeNow) < 1_000, 'maxAge is the time left until expires')
  })

  test('stored data cannot overwrite the session methods, its id, or Object.prototype', async () => {
    const sid = 'hostile-record-0123456789abcdef'
    const record = JSON.parse(
      '{"save":"x","regenerate":1,"destroy":null,"reload":{},"touch":[],"resetMaxAge":"y","id":"evil","req":"r",' +
        '"constructor":"c","__proto__":{"polluted":true},"ok":"kept",' +
        `"cookie":{"originalMaxAge":${MAX_AGE},"expires":"${new Date(Date.now() + MAX_AGE).toISOString()}","path":"/","httpOnly":true}}`,
    )
    assert.ok(Object.hasOwn(record, '__proto__'), 'the record really carries an own __proto__ key')
    plant(store, sid, record)
    const res = await request(base, '/hostile', { cookie: signedCookie(sid, SECRET) })
    assert.equal(res.status, 200, res.text)
    const body = JSON.parse(res.text)
    assert.equal(body.id, sid)
    assert.equal(body.sessionID, sid)
    assert.equal(body.ok, 'kept', 'ordinary data is loaded')
    assert.deepEqual(body.methods, ['save', 'regenerate', 'destroy', 'reload', 'touch', 'resetMaxAge'])
    assert.equal(body.prototypeIsSession, true)
    assert.equal(body.constructorIsSession, true)
    assert.equal(body.polluted, null)
    assert.equal({}.polluted, undefined)
    assert.equal(body.cookieIsObject, true)
    assert.equal(body.regenerated, true, 'regenerate still works')
    assert.equal(held(store, sid), null, 'and destroyed the hostile record')
    assert.equal(held(store, sidOf(res.cookie)).user, 'regenerated')
  })

  test('callback forms return the session, promise forms a Promise', async () => {
    const body = JSON.parse((await request(base, '/returns')).text)
    assert.deepEqual(body, { touch: true, resetMaxAge: true, saveCallback: true, savePromise: true })
  })

  test('a rejected Promise the app ignores does not crash the process', async () => {
    const unhandled = []
    const listener = (reason) => unhandled.push(reason)
    process.on('unhandledRejection', listener)
    try {
      const { cookie } = await login()
      const res = await request(base, '/ignored-rejection', { cookie })
      assert.equal(res.status, 200)
      // Give any unhandled rejection the turns it needs to be reported.
      await sleep(50)
      assert.deepEqual(unhandled, [])
      const next = await request(base, '/get')
      assert.equal(next.status, 200, 'the server is still answering')
    } finally {
      process.off('unhandledRejection', listener)
    }
  })
})

describe('Session API: destroy clears the cookie with its own name, path and domain', () => {
  let server
  let base
  const store = callbackStore()
  before(async () => {
    const app = express()
    app.use(
      '/app',
      session({
        store,
        name: 'app.sid',
        secret: SECRET,
        resave: false,
        saveUninitialized: false,
        cookie: { path: '/app', domain: 'example.test', maxAge: MAX_AGE, sameSite: 'lax' },
      }),
    )
    app.get('/app/in', (req, res) => {
      req.session.user = 'ann'
      res.send('in')
    })
    app.get('/app/who', (req, res) => res.json({ user: req.session.user ?? null, id: req.sessionID }))
    app.get('/app/out', async (req, res) => {
      await req.session.destroy()
      res.send('out')
    })
    ;({ server, base } = await listen(app))
  })
  after(() => server.close())

  test('the expired Set-Cookie matches the one that set the session', async () => {
    const login = await request(base, '/app/in')
    const set = parseSetCookie(login.setCookies[0])
    assert.equal(set.name, 'app.sid')
    const cookie = login.cookie
    const sid = sidOf(cookie)
    assert.ok(held(store, sid))

    const out = await request(base, '/app/out', { cookie })
    assert.equal(out.status, 200)
    assert.equal(out.setCookies.length, 1)
    const cleared = parseSetCookie(out.setCookies[0])
    assert.equal(cleared.name, set.name)
    assert.equal(cleared.value, '')
    assert.equal(cleared.path, set.path)
    assert.equal(cleared.path, '/app')
    assert.equal(cleared.domain, set.domain)
    assert.equal(cleared.domain, 'example.test')
    assert.equal(new Date(cleared.expires).getTime(), 0)
    assert.equal(held(store, sid), null)

    const after = await request(base, '/app/who', { cookie })
    const body = JSON.parse(after.text)
    assert.equal(body.user, null, 'the old cookie gets a fresh, empty session')
    assert.notEqual(body.id, sid)
  })
})

describe('the default genid', () => {
  test('gives 24 random bytes in base64url, distinct across many refills of its pool of random bytes', async () => {
    const { generateSessionId } = await import('sessionkit')
    const ids = new Set()
    for (let i = 0; i < 1000; i++) {
      const id = generateSessionId()
      assert.match(id, /^[A-Za-z0-9_-]{32}$/)
      assert.equal(Buffer.from(id, 'base64url').length, 24)
      ids.add(id)
    }
    assert.equal(ids.size, 1000)
    // Not the zeroed bytes the pool keeps once an id is taken.
    assert.ok(![...ids].some((id) => id === Buffer.alloc(24).toString('base64url')))
  })
})
