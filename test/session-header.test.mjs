// Sessions in a request header (the `header` option), for API and mobile clients that keep no
// cookies: a request that carries the header uses it and gets its new id back in the response header;
// its cookie, if any, is ignored; a request without the header is a cookie request as before. Over real
// HTTP with Express 5, and with the Web-standard API.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import express from 'express'
import session, { MemoryStore } from 'sessionkit'
import { webSessions } from 'sessionkit/web'
import { listen, request } from './support/http.mjs'

const SECRET = 'a long random secret for the session header tests'
// RFC 6750 §2.1: what a Bearer token may be made of.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

async function start(options) {
  const store = new MemoryStore()
  const events = []
  const middleware = session({ secret: SECRET, resave: false, saveUninitialized: false, store, ...options })
  middleware.on('event', (event) => events.push(event))
  const app = express()
  app.use(middleware)
  app.post('/login', (req, res) => {
    req.session.user = 'amy'
    res.send('in')
  })
  app.get('/whoami', (req, res) => res.json({ user: req.session.user ?? null }))
  app.post('/rotate', async (req, res) => {
    await req.session.regenerate({ keep: ['user'] })
    res.send('rotated')
  })
  app.post('/logout', async (req, res) => {
    await req.session.destroy()
    res.send('out')
  })
  const server = await listen(app)
  return { ...server, store, events }
}

const storedIds = (store) => new Promise((resolve, reject) => store.all((err, all) => (err ? reject(err) : resolve(Object.keys(all ?? {})))))

describe('a named session header (Express)', () => {
  test('an empty header starts a session whose token comes back in the header, with no cookie; the token opens it', async (t) => {
    const app = await start({ header: 'x-session' })
    t.after(() => app.close())
    const login = await request(app.base, '/login', { method: 'POST', headers: { 'x-session': '' } })
    assert.equal(login.status, 200)
    assert.deepEqual(login.setCookies, [])
    const token = login.headers.get('x-session')
    assert.match(token, B64TOKEN)
    assert.match(login.headers.get('cache-control'), /private/)
    const me = await request(app.base, '/whoami', { headers: { 'x-session': token } })
    assert.deepEqual(JSON.parse(me.text), { user: 'amy' })
    // An unchanged session does not hand the token out again, as an unchanged cookie is not sent again.
    assert.equal(me.headers.get('x-session'), null)
    assert.deepEqual(me.setCookies, [])
  })

  test('a request without the header is a cookie request, as without the option', async (t) => {
    const app = await start({ header: 'x-session' })
    t.after(() => app.close())
    const login = await request(app.base, '/login', { method: 'POST' })
    assert.equal(login.headers.get('x-session'), null)
    assert.equal(login.setCookies.length, 1)
    const me = await request(app.base, '/whoami', { cookie: login.cookie })
    assert.deepEqual(JSON.parse(me.text), { user: 'amy' })
  })

  test('when a request carries both, the header decides and the cookie is neither read nor changed', async (t) => {
    const app = await start({ header: 'x-session' })
    t.after(() => app.close())
    const viaCookie = await request(app.base, '/login', { method: 'POST' })
    const both = await request(app.base, '/whoami', { cookie: viaCookie.cookie, headers: { 'x-session': '' } })
    assert.deepEqual(JSON.parse(both.text), { user: null })
    assert.deepEqual(both.setCookies, [])
    // The cookie's session is still there for the browser that holds it.
    const browser = await request(app.base, '/whoami', { cookie: viaCookie.cookie })
    assert.deepEqual(JSON.parse(browser.text), { user: 'amy' })
  })

  test('a tampered token gives a fresh session and a tampered event', async (t) => {
    const app = await start({ header: 'x-session' })
    t.after(() => app.close())
    const login = await request(app.base, '/login', { method: 'POST', headers: { 'x-session': '' } })
    const token = login.headers.get('x-session')
    const forged = token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))
    const me = await request(app.base, '/whoami', { headers: { 'x-session': forged } })
    assert.equal(me.status, 200)
    assert.deepEqual(JSON.parse(me.text), { user: null })
    assert.ok(app.events.some((event) => event.type === 'tampered'))
  })

  test('regenerate hands out a new token and the old one no longer opens the session', async (t) => {
    const app = await start({ header: 'x-session' })
    t.after(() => app.close())
    const login = await request(app.base, '/login', { method: 'POST', headers: { 'x-session': '' } })
    const old = login.headers.get('x-session')
    const rotated = await request(app.base, '/rotate', { method: 'POST', headers: { 'x-session': old } })
    const fresh = rotated.headers.get('x-session')
    assert.match(fresh, B64TOKEN)
    assert.notEqual(fresh, old)
    assert.deepEqual(JSON.parse((await request(app.base, '/whoami', { headers: { 'x-session': fresh } })).text), { user: 'amy' })
    assert.deepEqual(JSON.parse((await request(app.base, '/whoami', { headers: { 'x-session': old } })).text), { user: null })
  })

  test('a logout answers with an empty header, and the store no longer holds the session', async (t) => {
    const app = await start({ header: 'x-session' })
    t.after(() => app.close())
    const login = await request(app.base, '/login', { method: 'POST', headers: { 'x-session': '' } })
    assert.equal((await storedIds(app.store)).length, 1)
    const out = await request(app.base, '/logout', { method: 'POST', headers: { 'x-session': login.headers.get('x-session') } })
    assert.equal(out.headers.get('x-session'), '')
    assert.deepEqual(out.setCookies, [])
    assert.deepEqual(await storedIds(app.store), [])
  })
})

describe('Authorization: Bearer', () => {
  const header = { request: 'authorization', response: 'x-session-token' }

  test('a Bearer token opens the session; the new token comes back in the response header named', async (t) => {
    const app = await start({ header })
    t.after(() => app.close())
    const login = await request(app.base, '/login', { method: 'POST', headers: { authorization: 'Bearer' } })
    const token = login.headers.get('x-session-token')
    assert.match(token, B64TOKEN)
    assert.deepEqual(login.setCookies, [])
    const me = await request(app.base, '/whoami', { headers: { authorization: `bearer  ${token}` } })
    assert.deepEqual(JSON.parse(me.text), { user: 'amy' })
  })

  test('another scheme (Basic) is the app\'s own: the request is a cookie request', async (t) => {
    const app = await start({ header })
    t.after(() => app.close())
    const login = await request(app.base, '/login', { method: 'POST', headers: { authorization: 'Basic YW15OnB3' } })
    assert.equal(login.headers.get('x-session-token'), null)
    assert.equal(login.setCookies.length, 1)
  })
})

describe('the header option at startup', () => {
  for (const [value, says] of [
    ['authorization', /name a response header/],
    ['cookie', /header name other than/],
    ['set-cookie', /header name other than/],
    ['x session', /header name/],
    [42, /header name/],
    [{ request: 'authorization' }, /\{ request, response \}/],
  ]) {
    test(`header: ${JSON.stringify(value)} is refused with a message that says what to change`, () => {
      assert.throws(() => session({ secret: SECRET, resave: false, saveUninitialized: false, header: value }), (err) => err.code === 'SESSION_CONFIG' && says.test(err.message))
    })
  }
})

describe('the Web-standard API', () => {
  test('the same header rules: the token in commit().headers, applied to the Response, opening the session next time', async () => {
    const sessions = webSessions({ secret: SECRET, resave: false, saveUninitialized: false, header: 'x-session' })
    const handler = sessions.handle(async (req, handle) => {
      if (new URL(req.url).pathname === '/login') handle.session.user = 'amy'
      return Response.json({ user: handle.session.user ?? null })
    })
    const login = await handler(new Request('http://app.test/login', { method: 'POST', headers: { 'x-session': '' } }))
    const token = login.headers.get('x-session')
    assert.match(token, B64TOKEN)
    assert.deepEqual(login.headers.getSetCookie(), [])
    assert.match(login.headers.get('cache-control'), /private/)
    const me = await handler(new Request('http://app.test/whoami', { headers: { 'x-session': token } }))
    assert.deepEqual(await me.json(), { user: 'amy' })

    const handle = await sessions.load(new Request('http://app.test/', { headers: { 'x-session': token } }))
    await handle.session.destroy()
    const commit = await handle.commit()
    assert.deepEqual(commit.headers, [['x-session', '']])
    assert.deepEqual(commit.setCookie, [])
  })
})
