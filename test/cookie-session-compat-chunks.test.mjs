// sessionkit/cookie-session with maxCookies: a session too large for one cookie is split over
// several, and only the whole set opens. A missing, reordered, stale or foreign piece is a fresh
// session, never a partial one; the total stays within the bound the docs name.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, test } from 'node:test'
import express from 'express'
import { listen, parseSetCookie, request } from './support/http.mjs'

const require = createRequire(import.meta.url)
const cookieSession = require('sessionkit/cookie-session')

const servers = []
after(() => Promise.all(servers.map((server) => server.close())))

async function serve(options) {
  const app = express()
  app.use(cookieSession({ keys: ['chunk test key'], ...options }))
  app.get('/fill', (req, res) => {
    req.session.blob = String(req.query.tag ?? 'x') + 'y'.repeat(Number(req.query.n))
    res.end('filled')
  })
  app.get('/read', (req, res) => res.json({ isNew: req.session.isNew, length: req.session.blob?.length ?? 0, tag: req.session.blob?.[0] ?? null }))
  const server = await listen(app)
  servers.push(server)
  return server.base
}

const pairs = (response) => response.setCookies.map(parseSetCookie).filter((c) => c.value !== '').map((c) => [c.name, c.value])
const header = (list) => list.map(([name, value]) => `${name}=${value}`).join('; ')

test('a large session is split over cookies of at most 4096 bytes and read back whole', async () => {
  const base = await serve({ maxCookies: 3 })
  const filled = await request(base, '/fill?n=7000')
  assert.equal(filled.setCookies.length, 3)
  for (const setCookie of filled.setCookies) assert.ok(Buffer.byteLength(setCookie) <= 4096, `${Buffer.byteLength(setCookie)} bytes`)
  assert.deepEqual(pairs(filled).map(([name]) => name), ['session', 'session.1', 'session.2'])
  assert.match(pairs(filled)[0][1], /^3\./)
  const read = await request(base, '/read', { cookie: header(pairs(filled)) })
  assert.deepEqual(JSON.parse(read.text), { isNew: false, length: 7001, tag: 'x' })
  assert.deepEqual(read.setCookies, [], 'an unchanged split session is not sent again')
})

test('a missing, reordered or foreign piece gives a fresh session, never a partial one', async () => {
  const base = await serve({ maxCookies: 3 })
  const a = pairs(await request(base, '/fill?n=7000&tag=a'))
  const b = pairs(await request(base, '/fill?n=7000&tag=b'))
  const fresh = { isNew: true, length: 0, tag: null }
  const cases = {
    'the last piece missing': [a[0], a[1]],
    'the middle piece missing': [a[0], a[2]],
    'pieces 1 and 2 swapped': [a[0], [a[1][0], a[2][1]], [a[2][0], a[1][1]]],
    'a piece of another session': [a[0], b[1], a[2]],
    'the first cookie of another session': [b[0], a[1], a[2]],
    'a count the middleware does not allow': [[a[0][0], a[0][1].replace(/^3\./, '9.')], a[1], a[2]],
  }
  for (const [name, cookies] of Object.entries(cases)) {
    assert.deepEqual(JSON.parse((await request(base, '/read', { cookie: header(cookies) })).text), fresh, name)
  }
  assert.deepEqual(JSON.parse((await request(base, '/read', { cookie: header(b) })).text), { isNew: false, length: 7001, tag: 'b' })
  // A middleware allowing fewer cookies than the session was split over opens nothing.
  const fewer = await serve({ maxCookies: 2 })
  assert.deepEqual(JSON.parse((await request(fewer, '/read', { cookie: header(a) })).text), fresh)
})

test('a session that shrinks back to one cookie clears the pieces it no longer uses', async () => {
  const base = await serve({ maxCookies: 3 })
  const big = pairs(await request(base, '/fill?n=7000'))
  const small = await request(base, '/fill?n=10', { cookie: header(big) })
  const set = small.setCookies.map(parseSetCookie)
  assert.deepEqual(set.filter((c) => c.value !== '').map((c) => c.name), ['session'])
  assert.deepEqual(set.filter((c) => c.value === '').map((c) => c.name).sort(), ['session.1', 'session.2'])
  for (const cleared of set.filter((c) => c.value === '')) assert.ok(new Date(cleared.expires).getTime() <= Date.now())
  assert.doesNotMatch(set[0].value, /^\d\./, 'one cookie carries no count')
})

test('over the bound nothing is sent and the client keeps its previous session', async () => {
  const base = await serve({ maxCookies: 2 })
  const kept = pairs(await request(base, '/fill?n=10'))
  const tooBig = await request(base, '/fill?n=9000', { cookie: header(kept) })
  assert.equal(tooBig.status, 200)
  assert.deepEqual(tooBig.setCookies, [])
  assert.equal(JSON.parse((await request(base, '/read', { cookie: header(kept) })).text).length, 11)
  // Without maxCookies a session over one cookie is not split.
  const single = await serve({})
  assert.deepEqual((await request(single, '/fill?n=5000')).setCookies, [])
})

// The same opt-in in sessionkit's own cookieSession(): req.session as with session(), split when large.
test("cookieSession({ maxCookies }) splits a large session, opens only the whole set, and names the bound when over it", async () => {
  const { cookieSession: sealedSessions } = await import('sessionkit')
  const app = express()
  app.use(sealedSessions({ secret: 'a long random secret for the chunked cookieSession test', maxCookies: 2, cookie: { maxAge: 3_600_000 } }))
  app.get('/fill', (req, res) => {
    req.session.blob = String(req.query.tag ?? 'x') + 'y'.repeat(Number(req.query.n))
    res.end('filled')
  })
  app.get('/read', (req, res) => res.json({ length: req.session.blob?.length ?? 0, tag: req.session.blob?.[0] ?? null }))
  app.use((err, req, res, next) => res.status(500).json({ code: err.code, message: err.message }))
  const server = await listen(app)
  servers.push(server)
  const base = server.base

  const a = pairs(await request(base, '/fill?n=5000&tag=a'))
  assert.deepEqual(a.map(([name]) => name), ['session', 'session.1'])
  assert.deepEqual(JSON.parse((await request(base, '/read', { cookie: header(a) })).text), { length: 5001, tag: 'a' })
  const b = pairs(await request(base, '/fill?n=5000&tag=b'))
  const fresh = { length: 0, tag: null }
  assert.deepEqual(JSON.parse((await request(base, '/read', { cookie: header([a[0]]) })).text), fresh, 'the second part missing')
  assert.deepEqual(JSON.parse((await request(base, '/read', { cookie: header([a[0], b[1]]) })).text), fresh, 'a part of another session')
  assert.deepEqual(JSON.parse((await request(base, '/read', { cookie: header([[a[0][0], a[1][1]], [a[1][0], a[0][1]]]) })).text), fresh, 'parts swapped')

  const shrunk = (await request(base, '/fill?n=10', { cookie: header(a) })).setCookies.map(parseSetCookie)
  assert.deepEqual(shrunk.map((c) => [c.name, c.value === '']), [['session', false], ['session.1', true]], 'the unused part is cleared')

  const over = await request(base, '/fill?n=9000')
  assert.equal(over.status, 500)
  assert.equal(JSON.parse(over.text).code, 'SESSION_SERIALIZE')
  assert.match(JSON.parse(over.text).message, /does not fit in 2 cookies of 4096 bytes \(maxCookies: 2/)
  assert.deepEqual(over.setCookies, [])
  assert.throws(() => sealedSessions({ secret: 's', maxCookies: 4 }), /maxCookies/)
})
