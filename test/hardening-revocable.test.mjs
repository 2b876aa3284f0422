// Revocable cookie sessions (a per-owner "not before" time the app keeps) and re-sealing after a
// secret rotation, as a user sees them: who is still logged in, which Set-Cookie each response has.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import express from 'express'
import { cookieSession } from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'

const OLD = 'the old secret, 32 bytes or more of it'
const NEW = 'the new secret, 32 bytes or more of it'

function app(options) {
  const middleware = cookieSession({ secret: NEW, ...options })
  const events = []
  middleware.on('event', (event) => events.push(event.type))
  const server = express()
  server.use(middleware)
  server.get('/login/:user', async (req, res) => {
    await req.session.regenerate()
    req.session.userId = req.params.user
    res.send('in')
  })
  server.get('/me', (req, res) => res.send(String(req.session.userId ?? 'nobody')))
  server.get('/nothing', (req, res) => res.send('no session read'))
  server.use((err, req, res, next) => res.status(500).send(`failed: ${err.message}`))
  return { server, events }
}

test('log out everywhere: cookies issued before the owner\'s "not before" time no longer open; a fresh login does', async () => {
  const notBefore = new Map()
  const asked = []
  const revoked = async ({ owner, issuedAt }) => {
    asked.push(owner)
    return owner !== undefined && issuedAt.getTime() < (notBefore.get(owner) ?? 0)
  }
  const { server, events } = app({ indexBy: 'userId', revoked })
  server.get('/everywhere', async (req, res) => {
    await sleep(2)
    notBefore.set(req.session.userId, Date.now())
    await sleep(2)
    // This device stays logged in: a new session, issued after the "not before" time.
    const user = req.session.userId
    await req.session.regenerate()
    req.session.userId = user
    res.send('done')
  })
  const { base, close } = await listen(server)
  try {
    const laptop = await request(base, '/login/7')
    const phone = await request(base, '/login/7')
    const other = await request(base, '/login/8')
    assert.equal((await request(base, '/me', { cookie: phone.cookie })).text, '7')
    assert.deepEqual(asked.splice(0), ['7'], 'asked once per request that carried a cookie, with the owner')

    const everywhere = await request(base, '/everywhere', { cookie: laptop.cookie })
    assert.equal(everywhere.status, 200)
    const laptopNow = everywhere.cookie
    assert.equal((await request(base, '/me', { cookie: laptopNow })).text, '7', 'the device that asked stays')

    events.length = 0
    const stolen = await request(base, '/me', { cookie: phone.cookie })
    assert.equal(stolen.text, 'nobody')
    assert.equal(parseSetCookie(stolen.setCookies[0]).expires, 'Thu, 01 Jan 1970 00:00:00 GMT', 'the revoked cookie is cleared')
    assert.deepEqual(events, ['revoked'])
    assert.equal((await request(base, '/me', { cookie: laptop.cookie })).text, 'nobody', 'the old cookie of this device too')
    assert.equal((await request(base, '/me', { cookie: other.cookie })).text, '8', 'another owner is untouched')

    const again = await request(base, '/login/7', { cookie: phone.cookie })
    assert.equal((await request(base, '/me', { cookie: again.cookie })).text, '7', 'a login after it works')
  } finally {
    await close()
  }
})

test('revoked may answer synchronously; a throw or a rejection fails the request rather than let the cookie in', async () => {
  let mode = 'keep'
  const revoked = () => {
    if (mode === 'throw') throw new Error('revocation list unreachable')
    if (mode === 'reject') return Promise.reject(new Error('revocation list timed out'))
    return mode === 'revoke'
  }
  const { server } = app({ revoked })
  const { base, close } = await listen(server)
  try {
    const login = await request(base, '/login/1')
    assert.equal((await request(base, '/me', { cookie: login.cookie })).text, '1')
    mode = 'throw'
    const thrown = await request(base, '/me', { cookie: login.cookie })
    assert.deepEqual([thrown.status, thrown.text], [500, 'failed: revocation list unreachable'])
    mode = 'reject'
    const rejected = await request(base, '/me', { cookie: login.cookie })
    assert.deepEqual([rejected.status, rejected.text], [500, 'failed: revocation list timed out'])
    mode = 'revoke'
    assert.equal((await request(base, '/me', { cookie: login.cookie })).text, 'nobody')
    assert.equal((await request(base, '/me')).text, 'nobody', 'a request without a cookie is not asked about')
  } finally {
    await close()
  }
})

test('revoked and indexBy are checked at startup', () => {
  assert.throws(() => cookieSession({ secret: NEW, revoked: true }), { code: 'SESSION_CONFIG', message: /revoked/ })
  assert.throws(() => cookieSession({ secret: NEW, indexBy: '' }), { code: 'SESSION_CONFIG', message: /indexBy/ })
})

test('after a secret rotation, a cookie opened with the old secret is sealed again with the new one', async () => {
  const before = app({ secret: OLD })
  const old = await listen(before.server)
  let oldCookie
  try {
    oldCookie = (await request(old.base, '/login/5')).cookie
  } finally {
    await old.close()
  }
  const rotated = app({ secret: [NEW, OLD] })
  const during = await listen(rotated.server)
  let resealed
  try {
    assert.deepEqual((await request(during.base, '/nothing', { cookie: oldCookie })).setCookies, [], 'not opened, not sent')
    const opened = await request(during.base, '/me', { cookie: oldCookie })
    assert.equal(opened.text, '5')
    assert.equal(opened.setCookies.length, 1, 'sealed again')
    resealed = opened.cookie
    assert.notEqual(resealed, oldCookie)
    const next = await request(during.base, '/me', { cookie: resealed })
    assert.deepEqual([next.text, next.setCookies], ['5', []], 'sealed with the first secret: nothing more to send')
  } finally {
    await during.close()
  }
  const after = app({ secret: NEW })
  const retired = await listen(after.server)
  try {
    assert.equal((await request(retired.base, '/me', { cookie: resealed })).text, '5', 'the old secret can go')
    assert.equal((await request(retired.base, '/me', { cookie: oldCookie })).text, 'nobody')
  } finally {
    await retired.close()
  }
})
