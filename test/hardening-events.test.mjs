// middleware.on('event', (event, req) => ...): what each mode reports, with no session id anywhere.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import express from 'express'
import session, { cookieSession, MemoryStore } from 'sessionkit'
import { listen, request } from './support/http.mjs'

const SECRET = 'events tests, a secret of 32 bytes or more'

/** An app on `middleware` whose routes log in, out, regenerate; every event is kept with the client address. */
async function serve(middleware) {
  const events = []
  const all = []
  middleware.on('event', (event, req) => {
    events.push({ ...event, from: req.socket.remoteAddress })
    all.push(event)
  })
  const server = express()
  server.use(middleware)
  server.get('/login', (req, res) => {
    req.session.user = 'ann'
    res.send(req.sessionID)
  })
  server.get('/me', (req, res) => res.send(String(req.session.user ?? 'nobody')))
  server.get('/regenerate', async (req, res) => {
    await req.session.regenerate()
    req.session.user = 'ann'
    res.send(req.sessionID)
  })
  server.get('/logout', async (req, res) => {
    await req.session.destroy()
    res.send('out')
  })
  server.get('/null', (req, res) => {
    req.session = null
    res.send('nulled')
  })
  const listening = await listen(server)
  /** The events since the last call, without the `from` field once checked. */
  const take = () => {
    const taken = events.splice(0)
    for (const event of taken) assert.equal(event.from, '127.0.0.1', 'the listener gets the request')
    return taken.map(({ from, ...event }) => event)
  }
  return { ...listening, take, all }
}

/** No event may carry an id the request saw. */
function assertNoIds(events, ids) {
  const text = JSON.stringify(events)
  for (const id of ids) assert.ok(!text.includes(id), 'an event carries a session id')
}

test('session(): created, regenerated, destroyed, expired, tampered, each once and without an id', async () => {
  const store = new MemoryStore()
  const { base, close, take, all } = await serve(session({ secret: SECRET, resave: false, saveUninitialized: false, store, unset: 'destroy' }))
  try {
    const ids = []
    const login = await request(base, '/login')
    ids.push(login.text)
    assert.deepEqual(take(), [{ type: 'created', mode: 'store' }])
    await request(base, '/me', { cookie: login.cookie })
    assert.deepEqual(take(), [], 'loading a session reports nothing')
    const regenerated = await request(base, '/regenerate', { cookie: login.cookie })
    ids.push(regenerated.text)
    assert.deepEqual(take(), [
      { type: 'regenerated', mode: 'store' },
      { type: 'created', mode: 'store' },
    ])
    await request(base, '/logout', { cookie: regenerated.cookie })
    assert.deepEqual(take(), [{ type: 'destroyed', mode: 'store' }])
    await request(base, '/me', { cookie: regenerated.cookie })
    assert.deepEqual(take(), [{ type: 'expired', mode: 'store', reason: 'not-found' }])
    const again = await request(base, '/login')
    take()
    await request(base, '/null', { cookie: again.cookie })
    assert.deepEqual(take(), [{ type: 'destroyed', mode: 'store' }], "unset: 'destroy'")

    const [name, value] = login.cookie.split('=')
    const forged = `${name}=${value.slice(0, -3)}abc`
    assert.equal((await request(base, '/me', { cookie: forged })).text, 'nobody')
    assert.deepEqual(take(), [{ type: 'tampered', mode: 'store', reason: 'bad-signature' }])
    await request(base, '/me', { cookie: `${name}=${ids[0]}` })
    assert.deepEqual(take(), [{ type: 'tampered', mode: 'store', reason: 'unsigned' }])
    await request(base, '/me', { cookie: 'other=1' })
    assert.deepEqual(take(), [], 'no cookie of the name: nothing to report')
    ids.push(again.text, login.cookie.split('=')[1])
    assertNoIds(all, ids)
  } finally {
    await close()
  }
})

test('session(): a record the store answers that cannot be used is expired as unusable, or absolute past absoluteExpires', async () => {
  let next = null
  const store = { get: (sid, cb) => cb(null, next), set: (sid, s, cb) => cb(), destroy: (sid, cb) => cb() }
  const { base, close, take } = await serve(session({ secret: SECRET, resave: false, saveUninitialized: false, store }))
  try {
    const login = await request(base, '/login')
    take()
    next = { user: 'ann', cookie: { originalMaxAge: null, expires: 'not a date' } }
    assert.equal((await request(base, '/me', { cookie: login.cookie })).text, 'nobody')
    next = { user: 'ann', cookie: { originalMaxAge: null, absoluteExpires: new Date(Date.now() - 1000).toISOString() } }
    assert.equal((await request(base, '/me', { cookie: login.cookie })).text, 'nobody')
    assert.deepEqual(take(), [
      { type: 'expired', mode: 'store', reason: 'unusable' },
      { type: 'expired', mode: 'store', reason: 'absolute' },
    ])
  } finally {
    await close()
  }
})

test('session(): a failed touch after the response is an event as well as a storeError', async () => {
  const store = new MemoryStore()
  const middleware = session({ secret: SECRET, resave: false, saveUninitialized: false, store })
  const storeErrors = []
  middleware.on('storeError', (error, operation) => storeErrors.push(`${operation} ${error.code}`))
  const { base, close, take } = await serve(middleware)
  try {
    const login = await request(base, '/login')
    take()
    // A store may name the session in its error (session-file-store names the file).
    store.touch = (sid, record, callback) => callback(new Error(`disk full writing /sessions/${sid}.json`))
    assert.equal((await request(base, '/me', { cookie: login.cookie })).status, 200)
    await sleep(50)
    const events = take()
    assert.equal(events.length, 1)
    assert.equal(events[0].type, 'storeError')
    assert.equal(events[0].operation, 'touch')
    assert.equal(events[0].error.code, 'SESSION_STORE_FAILED')
    assert.equal(events[0].error.message, 'sessionkit: store.touch failed: disk full writing /sessions/<session id>.json', 'the id is taken out')
    assert.equal(events[0].error.cause, undefined)
    assert.ok(!JSON.stringify(events).includes(login.text))
    assert.deepEqual(storeErrors, ['touch SESSION_STORE_FAILED'])
  } finally {
    await close()
  }
})

test('cookieSession(): created, regenerated, destroyed, expired, tampered by reason', async () => {
  const { base, close, take } = await serve(cookieSession({ secret: SECRET, cookie: { maxAge: 300 } }))
  try {
    const login = await request(base, '/login')
    assert.deepEqual(take(), [{ type: 'created', mode: 'cookie' }])
    await request(base, '/me', { cookie: login.cookie })
    assert.deepEqual(take(), [])
    const regenerated = await request(base, '/regenerate', { cookie: login.cookie })
    assert.deepEqual(take(), [
      { type: 'regenerated', mode: 'cookie' },
      { type: 'created', mode: 'cookie' },
    ])
    await request(base, '/logout', { cookie: regenerated.cookie })
    assert.deepEqual(take(), [{ type: 'destroyed', mode: 'cookie' }])
    await request(base, '/null', { cookie: login.cookie })
    assert.deepEqual(take(), [{ type: 'destroyed', mode: 'cookie' }])

    const [name, value] = login.cookie.split('=')
    const bytes = Buffer.from(value, 'base64url')
    bytes[bytes.length - 1] ^= 1
    await request(base, '/me', { cookie: `${name}=${bytes.toString('base64url')}` })
    assert.deepEqual(take(), [{ type: 'tampered', mode: 'cookie', reason: 'bad-seal' }])
    bytes[1] ^= 1
    await request(base, '/me', { cookie: `${name}=${bytes.toString('base64url')}` })
    assert.deepEqual(take(), [{ type: 'tampered', mode: 'cookie', reason: 'unknown-key' }])
    await request(base, '/me', { cookie: `${name}=not-sealed!` })
    assert.deepEqual(take(), [{ type: 'tampered', mode: 'cookie', reason: 'malformed' }])

    await sleep(350)
    assert.equal((await request(base, '/me', { cookie: login.cookie })).text, 'nobody')
    assert.deepEqual(take(), [{ type: 'expired', mode: 'cookie', reason: 'lifetime' }])
  } finally {
    await close()
  }
})

test('cookieSession(): past absoluteTimeout is reported as absolute', async () => {
  const { base, close, take } = await serve(cookieSession({ secret: SECRET, absoluteTimeout: 200, cookie: { maxAge: 60_000 } }))
  try {
    const login = await request(base, '/login')
    take()
    await sleep(250)
    await request(base, '/me', { cookie: login.cookie })
    assert.deepEqual(take(), [{ type: 'expired', mode: 'cookie', reason: 'absolute' }])
  } finally {
    await close()
  }
})

/** An app with one route that writes to the session. */
function loginApp(middleware) {
  const server = express()
  server.use(middleware)
  server.get('/login', (req, res) => {
    req.session.user = 'ann'
    res.send('in')
  })
  return server
}

test('a listener that throws does not disturb the request, and is reported as a process warning', async () => {
  const middleware = cookieSession({ secret: SECRET })
  middleware.on('event', () => {
    throw new Error('audit log is down')
  })
  const { base, close } = await listen(loginApp(middleware))
  try {
    const warning = once(process, 'warning')
    const res = await request(base, '/login')
    assert.equal(res.status, 200)
    assert.equal(res.setCookies.length, 1)
    const [reported] = await warning
    assert.equal(reported.code, 'SESSIONKIT_LISTENER')
    assert.match(reported.message, /audit log is down/)
  } finally {
    await close()
  }
})

test('off() removes a listener', async () => {
  const middleware = cookieSession({ secret: SECRET })
  const seen = []
  const listener = (event) => seen.push(event.type)
  assert.equal(middleware.on('event', listener), middleware, 'on() chains')
  middleware.off('event', listener)
  const { base, close } = await listen(loginApp(middleware))
  try {
    await request(base, '/login')
    assert.deepEqual(seen, [])
  } finally {
    await close()
  }
})
