// Property-based: generated Cookie headers mixing genuine pieces (the parts of a split sealed session,
// a real cookie-session pair) with cut, swapped, re-counted and junk ones, through the real
// sessionkit/cookie-session middleware over HTTP. Every request answers 200; a session that opens is
// exactly one the test made, never a mix or a part; only the session's own cookie names are set.
import assert from 'node:assert/strict'
import { validateHeaderValue } from 'node:http'
import { createRequire } from 'node:module'
import { isDeepStrictEqual } from 'node:util'
import { after, before, test } from 'node:test'
import express from 'express'
import fc from 'fast-check'
import { listen, parseSetCookie, request } from './support/http.mjs'
import { commonValueFamilies, cookieHeaderArbitrary, cookieNameArbitrary } from './support/cookie-arbitraries.mjs'

const require = createRequire(import.meta.url)
const cookieSession = require('sessionkit/cookie-session')
const realCookieSession = require('cookie-session')

const KEYS = ['fuzz key for the cookie-session compat tests']
const SEED = Number(process.env.FUZZ_SEED ?? 20261207)
const RUNS = Number(process.env.FUZZ_HTTP_RUNS ?? 1_000)
const NAMES = ['session', 'session.1', 'session.2', 'session.sig']

let server
const genuine = { pieces: [], sessions: [], sets: [] }

before(async () => {
  const app = express()
  app.get('/legacy', realCookieSession({ keys: KEYS }), (req, res) => {
    req.session.user = 'legacy'
    res.end('ok')
  })
  app.use(cookieSession({ keys: KEYS, maxCookies: 3 }))
  app.get('/fill', (req, res) => {
    req.session.blob = req.query.tag + 'z'.repeat(Number(req.query.n))
    res.end('ok')
  })
  app.get('/read', (req, res) => res.json({ isNew: req.session.isNew, data: { ...req.session } }))
  server = await listen(app)
  // Two split sessions and a one-cookie one, sealed by the middleware itself, and a cookie-session pair.
  for (const [tag, n] of [['a', 7000], ['b', 5000], ['c', 10]]) {
    const response = await request(server.base, `/fill?tag=${tag}&n=${n}`)
    genuine.sets.push(response.setCookies.map((header) => [parseSetCookie(header).name, parseSetCookie(header).value]))
    for (const header of response.setCookies) genuine.pieces.push(parseSetCookie(header).value)
    genuine.sessions.push({ blob: tag + 'z'.repeat(n) })
  }
  const legacy = (await request(server.base, '/legacy')).setCookies.map((header) => [parseSetCookie(header).name, parseSetCookie(header).value])
  genuine.sets.push(legacy)
  for (const [, piece] of legacy) genuine.pieces.push(piece)
  genuine.sessions.push({ user: 'legacy' })
})

after(() => server?.close())

test('no generated Cookie header fails a request or opens anything but a whole genuine session', async (t) => {
  const opened = new Map()
  const valid = fc.constantFrom(...genuine.pieces)
  const value = fc.oneof(
    { arbitrary: valid, weight: 10 },
    // Re-counted or un-counted first pieces.
    { arbitrary: fc.tuple(fc.integer({ min: 0, max: 12 }), valid).map(([count, piece]) => `${count}.${piece.replace(/^\d\./, '')}`), weight: 3 },
    { arbitrary: valid.map((piece) => piece.replace(/^\d\./, '')), weight: 2 },
    ...commonValueFamilies(valid),
  )
  // Only headers an HTTP client can send (no NUL or line breaks), and that Node's 16 KB limit on a
  // request's head lets through (it answers 431 itself), reach the middleware at all.
  const sendable = (cookie) => {
    if (cookie.length > 15_000) return false
    try {
      validateHeaderValue('cookie', cookie)
      return true
    } catch {
      return false
    }
  }
  // Whole genuine sets in any order, and with one part dropped, swapped with another or taken from another set.
  const mutated = fc.tuple(fc.constantFrom(...genuine.sets), fc.nat(), fc.nat(), fc.constantFrom('same', 'drop', 'swap', 'foreign'), fc.constantFrom(...genuine.pieces)).map(([set, i, j, how, foreign]) => {
    const pairs = set.map(([name, piece]) => [name, piece])
    const a = i % pairs.length
    const b = j % pairs.length
    if (how === 'drop') pairs.splice(a, 1)
    if (how === 'swap') [pairs[a][1], pairs[b][1]] = [pairs[b][1], pairs[a][1]]
    if (how === 'foreign') pairs[a][1] = foreign
    if (j % 2 === 1) pairs.reverse()
    return pairs.map(([name, piece]) => `${name}=${piece}`).join('; ')
  })
  const header = fc.oneof(cookieHeaderArbitrary(cookieNameArbitrary('session', NAMES.slice(1)), value), mutated).filter(sendable)
  await fc.assert(
    fc.asyncProperty(header, async (cookie) => {
      const response = await request(server.base, '/read', { cookie })
      assert.equal(response.status, 200, response.text)
      const { isNew, data } = JSON.parse(response.text)
      if (!isNew) opened.set(JSON.stringify(data), (opened.get(JSON.stringify(data)) ?? 0) + 1)
      if (!isNew) assert.ok(genuine.sessions.some((session) => isDeepStrictEqual(session, data)), `a partial or foreign session opened: ${JSON.stringify(data).slice(0, 80)}`)
      else assert.deepEqual(data, {})
      for (const set of response.setCookies) assert.ok(NAMES.includes(parseSetCookie(set).name), set)
    }),
    { seed: SEED, numRuns: RUNS },
  )
  // The generator reaches the interesting cases: split and single sealed sessions, and adopted ones, open.
  t.diagnostic(`opened: ${[...opened.values()].join(', ')} of ${RUNS}`)
  assert.ok(opened.size >= 3, `at least three of the four genuine sessions opened (${opened.size})`)
})
