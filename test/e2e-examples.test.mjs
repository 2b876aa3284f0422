// The examples without a browser test of their own, each started as `npm run example:<name>` starts
// it, and driven over HTTP the way a browser would (a cookie jar of one cookie, forms posted).
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { connect } from 'node:net'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startExample } from './support/browser.mjs'
import { parseSetCookie, request } from './support/http.mjs'

const require = createRequire(import.meta.url)

const post = (fields, cookie) => ({
  method: 'POST',
  cookie,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
})

/** The one Set-Cookie of a response for `name`, parsed, or undefined. */
function setCookie(response, name) {
  const header = response.setCookies.find((h) => h.startsWith(`${name}=`))
  return header && parseSetCookie(header)
}

/** A skip message when nothing answers on 127.0.0.1:port (an error under CI=true), else false. */
async function serviceDown(name, port, command) {
  const up = await new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
  if (up) return false
  const message = `${name} is not running on 127.0.0.1:${port}; start it with: ${command}`
  if (process.env.CI === 'true') throw new Error(message)
  return message
}

async function withExample(name, env, body) {
  const app = await startExample(name, env)
  try {
    await body(app.url)
  } finally {
    await app.stop()
  }
}

test('counter: counts per cookie, and "Start again" destroys the session', () =>
  withExample('counter', {}, async (base) => {
    const first = await request(base, '/')
    assert.match(first.text, /<b id="views">1<\/b> time\./)
    const cookie = setCookie(first, 'counter.sid')
    assert.equal(cookie.httponly, true)
    assert.equal(cookie.samesite, 'Lax')
    assert.equal(cookie.secure, undefined, "secure: 'auto' over plain HTTP")
    assert.match((await request(base, '/', { cookie: first.cookie })).text, /<b id="views">2<\/b> times/)

    const reset = await request(base, '/reset', post({}, first.cookie))
    assert.equal(reset.status, 302)
    assert.ok(Date.parse(setCookie(reset, 'counter.sid').expires) <= Date.now(), 'the cookie is cleared')
    assert.match((await request(base, '/', { cookie: first.cookie })).text, /<b id="views">1<\/b> time\./)
  }))

test('preferences: defaults without a cookie; a saved choice is applied, an unknown value is not', () =>
  withExample('preferences', {}, async (base) => {
    const anonymous = await request(base, '/')
    assert.match(anonymous.text, /<h1 id="greeting">Hello!/)
    assert.deepEqual(anonymous.setCookies, [], 'reading preferences stores nothing')

    const saved = await request(base, '/preferences', post({ theme: 'dark', language: 'fr' }))
    assert.equal(saved.status, 302)
    const page = await request(base, '/', { cookie: saved.cookie })
    assert.match(page.text, /<h1 id="greeting">Bonjour!/)
    assert.match(page.text, /<body class="dark">/)

    const odd = await request(base, '/preferences', post({ theme: '"><script>', language: 'xx' }, saved.cookie))
    const after = await request(base, '/', { cookie: odd.cookie ?? saved.cookie })
    assert.match(after.text, /<b id="theme">light<\/b>, language: <b id="language">en<\/b>/)
    assert.doesNotMatch(after.text, /<script>/)

    // Another visitor still gets the defaults.
    assert.match((await request(base, '/')).text, /Hello!/)
  }))

test('multi-step form: answers are kept between steps, steps cannot be skipped, sending clears them', () =>
  withExample('multi-step-form', {}, async (base) => {
    const skipAhead = await request(base, '/confirm')
    assert.equal(skipAhead.headers.get('location'), '/step/1')

    const one = await request(base, '/step/1', post({ name: 'Ada <Lovelace>', email: 'ada@example.org' }))
    assert.equal(one.headers.get('location'), '/step/2')
    const cookie = one.cookie
    assert.equal((await request(base, '/confirm', { cookie })).headers.get('location'), '/step/2')

    // Back to step 1: what was typed is there (escaped).
    const back = await request(base, '/step/1', { cookie })
    assert.match(back.text, /value="Ada &#60;Lovelace&#62;"/)

    const incomplete = await request(base, '/step/2', post({ street: '1 Analytical Way', city: ' ' }, cookie))
    assert.equal(incomplete.headers.get('location'), '/step/2', 'a blank field keeps the visitor on the step')
    const two = await request(base, '/step/2', post({ street: '1 Analytical Way', city: 'London' }, cookie))
    assert.equal(two.headers.get('location'), '/confirm')

    const confirm = await request(base, '/confirm', { cookie })
    assert.match(confirm.text, /<dd id="name">Ada &#60;Lovelace&#62;<\/dd>/)
    assert.match(confirm.text, /<dd id="city">London<\/dd>/)

    const sent = await request(base, '/confirm', post({}, cookie))
    assert.match(sent.text, /Thank you, Ada &#60;Lovelace&#62;!/)
    assert.equal((await request(base, '/confirm', { cookie })).headers.get('location'), '/step/1')
  }))

test('timeout: each request restarts the idle clock; a longer silence logs the user out', () =>
  withExample('timeout', { IDLE_TIMEOUT_MS: '2000' }, async (base) => {
    const login = await request(base, '/login', post({ name: 'Grace' }))
    const cookie = login.cookie
    assert.ok(cookie)

    // Two requests a second apart: together longer than the timeout, but never idle that long.
    for (let i = 0; i < 2; i++) {
      await sleep(1000)
      const page = await request(base, '/', { cookie })
      assert.match(page.text, /Hello, Grace/)
      assert.ok(setCookie(page, 'timeout.sid'), 'rolling: the cookie is re-sent with a new expiry')
    }

    await sleep(2500)
    const later = await request(base, '/', { cookie })
    assert.match(later.text, /<h1>Log in<\/h1>/, 'the server forgot the session, whatever the client sends')
  }))

test('remember me: a browser-session cookie unless asked, then 30 days; logout ends both', () =>
  withExample('remember-me', {}, async (base) => {
    const wrong = await request(base, '/login', post({ username: 'alice', password: 'nope' }))
    assert.equal(wrong.headers.get('location'), '/?error=1')
    assert.deepEqual(wrong.setCookies, [])

    const plain = await request(base, '/login', post({ username: 'alice', password: 'wonderland' }))
    assert.equal(setCookie(plain, 'remember.sid').expires, undefined, 'gone when the browser closes')
    assert.match((await request(base, '/', { cookie: plain.cookie })).text, /until you close the browser/)

    const remembered = await request(base, '/login', post({ username: 'alice', password: 'wonderland', remember: 'yes' }))
    const expires = Date.parse(setCookie(remembered, 'remember.sid').expires)
    const days = (expires - Date.now()) / 86_400_000
    assert.ok(days > 29.9 && days <= 30, `expires in ${days} days`)
    const page = await request(base, '/', { cookie: remembered.cookie })
    assert.match(page.text, /You are remembered until <b id="until">/)

    const logout = await request(base, '/logout', post({}, remembered.cookie))
    assert.ok(Date.parse(setCookie(logout, 'remember.sid').expires) <= Date.now())
    assert.match((await request(base, '/', { cookie: remembered.cookie })).text, /<h1>Log in<\/h1>/)
    // The other login (the one without "remember me") is a session of its own and lives on.
    assert.match((await request(base, '/', { cookie: plain.cookie })).text, /Hello, Alice/)
  }))

const redisDown = await serviceDown('Redis', 6379, 'redis-server --daemonize yes')
test('redis-store: the history is in Redis under the prefix, with a TTL from maxAge', { skip: redisDown }, () =>
  withExample('redis-store', {}, async (base) => {
    const { createClient } = require('redis')
    const redis = createClient({ url: 'redis://127.0.0.1:6379' })
    await redis.connect()
    let key
    try {
      const first = await request(base, '/')
      const second = await request(base, '/about', { cookie: first.cookie })
      assert.match(second.text, /<ol id="history"><li>\/about<\/li><li>\/<\/li><\/ol>/)
      key = `sessionkit-example:${sessionIdOf(first.cookie)}`
      const stored = JSON.parse(await redis.get(key))
      assert.deepEqual(stored.history, ['/about', '/'])
      const ttl = await redis.ttl(key)
      assert.ok(ttl > 86_000 && ttl <= 86_400, `TTL ${ttl}`)
    } finally {
      if (key) await redis.del(key)
      await redis.close()
    }
  }))

const postgresDown = await serviceDown('PostgreSQL', 5432, 'pg_ctlcluster <version> main start')
test('postgres-store: the history is a row of the "session" table', { skip: postgresDown }, () =>
  withExample('postgres-store', {}, async (base) => {
    const { Client } = require('pg')
    const db = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
    await db.connect()
    let sid
    try {
      const first = await request(base, '/')
      const second = await request(base, '/contact', { cookie: first.cookie })
      assert.match(second.text, /<ol id="history"><li>\/contact<\/li><li>\/<\/li><\/ol>/)
      sid = sessionIdOf(first.cookie)
      const { rows } = await db.query('SELECT sess, expire FROM "session" WHERE sid = $1', [sid])
      assert.equal(rows.length, 1)
      assert.deepEqual(rows[0].sess.history, ['/contact', '/'])
      const hours = (rows[0].expire.getTime() - Date.now()) / 3_600_000
      assert.ok(hours > 23.9 && hours <= 24.01, `expires in ${hours} hours`)
    } finally {
      if (sid) await db.query('DELETE FROM "session" WHERE sid = $1', [sid])
      await db.end()
    }
  }))

function sessionIdOf(cookie) {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1))
  return value.slice(2, value.lastIndexOf('.'))
}
