// "Where am I logged in?": with the `metadata` option each session records when it was made, its
// browser and a truncated (or hashed) client address; sessionsOf(owner, { details: true }) lists an
// owner's sessions with a handle each (never the id), marks the current one, endSession(owner, handle)
// ends one, and destroySessionsOf(owner, { except }) logs out all the others.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import session, { MemoryIndex, MemoryStore } from 'sessionkit'
import { webSessions } from 'sessionkit/web'
import { accountApp, listenOn, listSessions as list, portsFrom, post, SECRET } from './support/account-app.mjs'
import { request } from './support/http.mjs'

const LAPTOP = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0'
const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Safari/604.1'
// This suite's ports, a new one for each server.
const nextPort = portsFrom(7500, 7513)
const listen = (app) => listenOn(app, nextPort())

/** Runs `use(base)` against the account app made with `options`, then closes it. */
async function withApp(options, use) {
  const { base, close } = await listen(accountApp(options).app)
  try {
    await use(base)
  } finally {
    await close()
  }
}

test('the account page lists each session: created, last active, browser, network (not the address), and which one is this', async () => {
  const store = new MemoryStore()
  await withApp({ store }, async (base) => {
    const before = Date.now()
    const laptop = await post(base, '/login/ada', { headers: { 'user-agent': LAPTOP } })
    const phone = await post(base, '/login/ada', { headers: { 'user-agent': PHONE } })
    await post(base, '/login/bob', { headers: { 'user-agent': PHONE } })

    const seen = await list(base, laptop.cookie)
    assert.equal(seen.length, 2, "ada's two sessions, not bob's")
    assert.equal(seen.filter((s) => s.current).length, 1)
    assert.equal(seen.find((s) => s.current).userAgent, LAPTOP)
    assert.equal(seen.find((s) => !s.current).userAgent, PHONE)
    for (const entry of seen) {
      assert.equal(entry.client, '127.0.0.0/24', 'the /24 of the address, not the address')
      assert.ok(Date.parse(entry.createdAt) >= before && Date.parse(entry.createdAt) <= Date.now())
      assert.ok(Date.parse(entry.lastActiveAt) >= Date.parse(entry.createdAt) - 1)
      assert.ok(Date.parse(entry.expiresAt) > Date.now())
      assert.match(entry.handle, /^[A-Za-z0-9_-]{22}$/)
      assert.ok(![laptop.text, phone.text].includes(entry.handle), 'a handle is not the session id')
    }
    // From the phone, the phone's session is the current one.
    assert.equal((await list(base, phone.cookie)).find((s) => s.current).userAgent, PHONE)

    // What the store holds: the metadata, never the raw address.
    const stored = await new Promise((resolve) => store.all((err, all) => resolve(JSON.stringify(all))))
    assert.ok(stored.includes('127.0.0.0/24'))
    assert.ok(!stored.includes('127.0.0.1'), 'the raw client address is not stored')
  })
})

test('a handle cannot be used as a session cookie', async () => {
  await withApp({}, async (base) => {
    const laptop = await post(base, '/login/ada')
    const [entry] = await list(base, laptop.cookie)
    const { sign } = await import('cookie-signature')
    // Even signed with the app's own secret (which a visitor of the page does not have), it opens nothing.
    const forged = `connect.sid=${encodeURIComponent(`s:${sign(entry.handle, SECRET)}`)}`
    assert.equal((await request(base, '/me', { cookie: forged })).text, 'nobody')
    assert.equal((await request(base, '/me', { cookie: `connect.sid=${entry.handle}` })).text, 'nobody')
  })
})

test('ending one session by its handle logs that browser out and leaves the others', async () => {
  await withApp({}, async (base) => {
    const laptop = await post(base, '/login/ada', { headers: { 'user-agent': LAPTOP } })
    const phone = await post(base, '/login/ada', { headers: { 'user-agent': PHONE } })
    const bob = await post(base, '/login/bob')
    const phoneHandle = (await list(base, laptop.cookie)).find((s) => s.userAgent === PHONE).handle
    const bobHandle = (await list(base, bob.cookie))[0].handle

    assert.equal((await post(base, `/account/sessions/${bobHandle}/end`, { cookie: laptop.cookie })).status, 404, "another owner's session is not ada's to end")
    assert.equal((await request(base, '/me', { cookie: bob.cookie })).text, 'bob')

    assert.equal((await post(base, `/account/sessions/${phoneHandle}/end`, { cookie: laptop.cookie })).status, 204)
    assert.equal((await request(base, '/me', { cookie: phone.cookie })).text, 'nobody', 'the phone is logged out')
    assert.equal((await request(base, '/me', { cookie: laptop.cookie })).text, 'ada', 'the laptop is not')
    assert.deepEqual((await list(base, laptop.cookie)).map((s) => s.userAgent), [LAPTOP])
    assert.equal((await post(base, `/account/sessions/${phoneHandle}/end`, { cookie: laptop.cookie })).status, 404, 'a second time there is nothing to end')
  })
})

test('"log out all others" keeps only the current session (with hashIds)', async () => {
  await withApp({ hashIds: true }, async (base) => {
    const browsers = []
    for (let i = 0; i < 4; i++) browsers.push(await post(base, '/login/ada', { headers: { 'user-agent': `browser ${i}` } }))
    assert.equal((await post(base, '/account/sessions/end-others', { cookie: browsers[2].cookie })).text, '3')
    const left = await list(base, browsers[2].cookie)
    assert.deepEqual(left.map((s) => [s.userAgent, s.current]), [['browser 2', true]])
    for (const [i, browser] of browsers.entries()) assert.equal((await request(base, '/me', { cookie: browser.cookie })).text, i === 2 ? 'ada' : 'nobody')
  })
})

test('last active moves when the expiry moves, and no more often than touchAfter lets it', async () => {
  for (const [touchAfter, moves] of [
    [0, true],
    [60_000, false],
  ]) {
    await withApp({ touchAfter }, async (base) => {
      const laptop = await post(base, '/login/ada')
      const [first] = await list(base, laptop.cookie)
      await new Promise((resolve) => setTimeout(resolve, 30))
      await request(base, '/me', { cookie: laptop.cookie })
      const [later] = await list(base, laptop.cookie)
      assert.equal(later.createdAt, first.createdAt, 'created stays')
      if (moves) assert.ok(Date.parse(later.lastActiveAt) >= Date.parse(first.lastActiveAt) + 25, `touchAfter ${touchAfter}: last active moved`)
      else assert.equal(later.lastActiveAt, first.lastActiveAt, `touchAfter ${touchAfter}: not moved within the interval`)
    })
  }
})

test('a browser-session cookie (no maxAge) has no last active time: its store keeps none', async () => {
  await withApp({ cookie: {} }, async (base) => {
    const laptop = await post(base, '/login/ada')
    const [entry] = await list(base, laptop.cookie)
    assert.equal(entry.lastActiveAt, null)
    assert.equal(entry.expiresAt, null)
    assert.ok(Date.parse(entry.createdAt) <= Date.now())
  })
})

test('the metadata adds no store write: the same requests make the same writes with it and without it', async () => {
  const writesWith = async (metadata) => {
    const inner = new MemoryStore()
    const counts = { set: 0, touch: 0 }
    // A plain store around MemoryStore, counting what sessionkit asks of it.
    const store = {
      get: (sid, cb) => inner.get(sid, cb),
      set: (sid, record, cb) => (counts.set++, inner.set(sid, record, cb)),
      touch: (sid, record, cb) => (counts.touch++, inner.touch(sid, record, cb)),
      destroy: (sid, cb) => inner.destroy(sid, cb),
    }
    await withApp({ store, metadata, touchAfter: 60_000 }, async (base) => {
      await request(base, '/me') // a visitor who never logs in: nothing stored
      const laptop = await post(base, '/login/ada')
      for (let i = 0; i < 5; i++) await request(base, '/me', { cookie: laptop.cookie })
    })
    return counts
  }
  const without = await writesWith(false)
  assert.deepEqual(await writesWith(true), without)
  assert.deepEqual(without, { set: 1, touch: 0 }, 'one write: the login')
})

test("the client address: 'hash' keeps a keyed hash, 'none' nothing, a function what it returns", async () => {
  const cases = [
    ['hash', (client) => assert.match(client, /^[A-Za-z0-9_-]{22}$/)],
    ['none', (client) => assert.equal(client, null)],
    [(address) => `seen from ${address.endsWith('127.0.0.1') ? 'loopback' : 'elsewhere'}`, (client) => assert.equal(client, 'seen from loopback')],
  ]
  for (const [clientAddress, check] of cases) {
    await withApp({ metadata: { clientAddress, userAgent: false } }, async (base) => {
      const [entry] = await list(base, (await post(base, '/login/ada', { headers: { 'user-agent': LAPTOP } })).cookie)
      check(entry.client)
      assert.equal(entry.userAgent, null, 'userAgent: false keeps none')
    })
  }
})

test('a session saved before the option was on is listed with what is known', async () => {
  const shared = { store: new MemoryStore(), index: new MemoryIndex() }
  let laptop
  await withApp({ ...shared, metadata: false }, async (base) => {
    laptop = await post(base, '/login/ada')
  })
  await withApp(shared, async (base) => {
    const [entry] = await list(base, laptop.cookie)
    assert.equal(entry.current, true)
    assert.equal(entry.createdAt, null)
    assert.ok(Date.parse(entry.lastActiveAt) <= Date.now(), 'last active comes from the expiry')
    assert.equal(entry.userAgent, null)
    assert.equal(entry.client, null)
  })
})

test('the Web API: the client address comes from the caller, current from the handle', async () => {
  const sessions = webSessions({ secret: SECRET, resave: false, saveUninitialized: false, indexBy: 'userId', metadata: true })
  const at = (path, cookie) => new Request(`http://example.test${path}`, { headers: { 'user-agent': PHONE, ...(cookie ? { cookie } : {}) } })
  const login = await sessions.load(at('/login'), { clientAddress: '2001:db8:85a3:8d3:1319:8a2e:370:7348' })
  login.session.userId = 'ada'
  const cookie = (await login.commit()).setCookie[0].split(';')[0]
  const page = await sessions.load(at('/account', cookie))
  const [entry] = await sessions.sessionsOf('ada', { details: true, current: page })
  assert.equal(entry.client, '2001:db8:85a3::/48')
  assert.equal(entry.userAgent, PHONE)
  assert.equal(entry.current, true)
  assert.equal(await sessions.endSession('ada', entry.handle), true)
  const after = await sessions.load(at('/account', cookie))
  assert.equal(after.session.userId, undefined, 'ended')
})

test('the option is checked at startup', () => {
  assert.throws(() => session({ secret: SECRET, metadata: { clientAddress: 'raw' } }), /metadata\.clientAddress/)
  assert.throws(() => session({ secret: SECRET, maxSessionsPerOwner: 2 }), /maxSessionsPerOwner" needs "indexBy"/)
  assert.throws(() => session({ secret: SECRET, indexBy: 'userId', maxSessionsPerOwner: -1 }), /maxSessionsPerOwner/)
})
