// Property-based tests of the Cookie header: 100,000 generated headers through the real middleware
// (in-process, with a minimal req/res that the middleware cannot tell from Node's for this purpose)
// and several thousand more over real HTTP with keep-alive. For each: no crash, no error, no hang, a
// session is loaded only under a verified signature, the store is asked only for a verified id, and
// among several cookies of the session's name the first one that verifies wins.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AsyncLocalStorage } from 'node:async_hooks'
import { Agent, request as httpRequest } from 'node:http'
import fc from 'fast-check'
import { sign, unsign } from 'cookie-signature'
import session from 'sessionkit'
import { listen } from './support/http.mjs'
import { b64, commonValueFamilies, cookieHeaderArbitrary, cookieNameArbitrary } from './support/cookie-arbitraries.mjs'

const NAME = 'connect.sid'
const SECRETS = ['current secret', 'rotated-out secret']
const SEED = Number(process.env.FUZZ_SEED ?? 20261123)
const IN_PROCESS_RUNS = Number(process.env.FUZZ_RUNS ?? 100_000)
const HTTP_RUNS = Number(process.env.FUZZ_HTTP_RUNS ?? 3_000)

// Stored sessions, each holding its own id so that a response shows which one was loaded.
const IDS = ['Xb3kQ9vT1mZpL0aR8sN2cY7wE4uH6jFd', 'with.dots.in-it_01', 'plain-id-0002', 'ünïcødé-id-☃']

// ---- the oracle: written from RFC 6265 and the cookie-signature contract, not from sessionkit ----

const trimSpTab = (s) => s.replace(/^[ \t]+|[ \t]+$/g, '')

function decodeValue(value) {
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

// RFC 6265 §4.1.1: a cookie-value may stand in double quotes; the value is what is inside them.
const unquote = (s) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s)
// Only the first few cookies of the name are looked at, so that duplicates cannot make a request costly.
const MAX_SESSION_COOKIES = 4

/** The id a correct implementation must load for this header, or undefined. */
function expectedId(header) {
  if (!header) return undefined
  let seen = 0
  for (const segment of header.split(';')) {
    const eq = segment.indexOf('=')
    if (eq === -1 || trimSpTab(segment.slice(0, eq)) !== NAME) continue
    if (seen++ === MAX_SESSION_COOKIES) return undefined
    const value = decodeValue(unquote(trimSpTab(segment.slice(eq + 1))))
    if (!value.startsWith('s:')) continue
    for (const secret of SECRETS) {
      const id = unsign(value.slice(2), secret)
      if (id !== false) return id
    }
  }
  return undefined
}

// ---- the generator ----

const signedWith = (id, secret) => `s:${sign(id, secret)}`
const anyId = fc.constantFrom(...IDS)
const validRaw = fc.tuple(anyId, fc.constantFrom(...SECRETS)).map(([id, secret]) => signedWith(id, secret))
const sessionValue = fc.oneof(
  { arbitrary: validRaw, weight: 4 },
  { arbitrary: validRaw.map((v) => v.replace(/[:/+=]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())), weight: 1 },
  // Forged: a stored id with a made-up or foreign signature.
  { arbitrary: fc.tuple(anyId, b64).map(([id, sig]) => `s:${id}.${sig}`), weight: 3 },
  { arbitrary: anyId.map((id) => signedWith(id, 'attacker secret')), weight: 2 },
  // Unsigned ids, as a cookie from another framework would carry them.
  { arbitrary: anyId, weight: 1 },
  { arbitrary: anyId.map((id) => `s:${id}`), weight: 1 },
  // Encoded, quoted, truncated, with trailing garbage, junk, very long: shared with the cookie-mode tests.
  ...commonValueFamilies(validRaw),
)

const cookieName = cookieNameArbitrary(NAME, [` ${NAME}`, `${NAME} `, `\t${NAME}`, 'CONNECT.SID', 'connect.sid2', 'xconnect.sid', 'connect%2Esid', '"connect.sid"'])
const cookieHeader = cookieHeaderArbitrary(cookieName, sessionValue)

// ---- the application under test ----

const context = new AsyncLocalStorage()

/** A store holding the sessions of IDS; answers synchronously so that a request completes in one turn. */
function spyStore() {
  const expires = new Date(Date.now() + 3_600_000).toISOString()
  const records = new Map(IDS.map((id) => [id, JSON.stringify({ owner: id, cookie: { originalMaxAge: 3_600_000, expires, path: '/', httpOnly: true } })]))
  return {
    get(sid, callback) {
      context.getStore()?.gets.push(sid)
      const record = records.get(sid)
      callback(null, record === undefined ? null : JSON.parse(record))
    },
    set(sid, data, callback) {
      callback(new Error(`no write expected, got set(${sid})`))
    },
    // A store without touch has an unchanged session written back (a get and a set) after the
    // response; this one moves the expiry of nothing, so that each request makes its one get only.
    touch(sid, data, callback) {
      callback(null)
    },
    destroy(sid, callback) {
      callback(new Error(`no write expected, got destroy(${sid})`))
    },
  }
}

const middleware = session({ secret: SECRETS, store: spyStore(), resave: false, saveUninitialized: false, storeTimeout: 1000 })

/** The handler: reports which stored session (if any) it sees, without changing it. */
function handle(req, res, ctx) {
  middleware(req, res, (err) => {
    ctx.nextCalls++
    if (err) {
      ctx.error = err
      res.statusCode = err.status ?? 500
      res.end()
      return
    }
    ctx.loaded = req.session.owner
    res.end()
  })
}

/** The fewest members of a ServerResponse the middleware touches. */
class FakeResponse {
  statusCode = 200
  headersSent = false
  writableEnded = false
  destroyed = false
  #headers = new Map()
  constructor(onEnd) {
    this.onEnd = onEnd
  }
  setHeader(name, value) {
    this.#headers.set(name.toLowerCase(), value)
    return this
  }
  getHeader(name) {
    return this.#headers.get(name.toLowerCase())
  }
  removeHeader(name) {
    this.#headers.delete(name.toLowerCase())
  }
  writeHead(status) {
    if (typeof status === 'number') this.statusCode = status
    this.headersSent = true
    return this
  }
  end() {
    if (!this.headersSent) this.writeHead(this.statusCode)
    this.writableEnded = true
    this.onEnd(this)
    return this
  }
  destroy() {
    this.destroyed = true
  }
}

/** Checks one request's outcome against the oracle; returns a description of the problem, or undefined. */
function problemWith(header, ctx, status) {
  const expected = expectedId(header)
  if (ctx.crash) return `threw ${ctx.crash}`
  if (ctx.error) return `error to next(): ${ctx.error.message}`
  if (status >= 500) return `status ${status}`
  if (ctx.nextCalls !== 1) return `next() called ${ctx.nextCalls} times`
  if (ctx.loaded !== expected) return `loaded ${JSON.stringify(ctx.loaded)}, expected ${JSON.stringify(expected)}`
  const gets = expected === undefined ? [] : [expected]
  if (JSON.stringify(ctx.gets) !== JSON.stringify(gets)) return `store.get called with ${JSON.stringify(ctx.gets)}, expected ${JSON.stringify(gets)}`
  return undefined
}

describe('fuzzed Cookie headers', () => {
  const crashes = []
  const onCrash = (err) => crashes.push(err)
  before(() => process.on('uncaughtException', onCrash))
  after(() => process.off('uncaughtException', onCrash))

  test('the oracle itself: first verified cookie of the name, after decoding', () => {
    const a = signedWith(IDS[0], SECRETS[0])
    const b = signedWith(IDS[1], SECRETS[1])
    assert.equal(expectedId(`${NAME}=${a}`), IDS[0])
    assert.equal(expectedId(`${NAME}=${a}x; ${NAME}=${b}`), IDS[1])
    assert.equal(expectedId(`${NAME}=${encodeURIComponent(b)}; ${NAME}=${a}`), IDS[1])
    assert.equal(expectedId(`x=${NAME}=${a}`), undefined)
    assert.equal(expectedId(`${NAME}="${a}"`), IDS[0])
    assert.equal(expectedId(`${`${NAME}=x; `.repeat(MAX_SESSION_COOKIES)}${NAME}=${a}`), undefined)
  })

  test(`${IN_PROCESS_RUNS} headers through the middleware in-process`, () => {
    let ran = 0
    let verified = 0
    let laterWins = 0
    fc.assert(
      fc.property(cookieHeader, (header) => {
        ran++
        const expected = expectedId(header)
        if (expected !== undefined) {
          verified++
          // A header whose first cookie of the name is not the one that verifies.
          const first = header.split(';').find((part) => part.includes('=') && trimSpTab(part.slice(0, part.indexOf('='))) === NAME)
          if (expectedId(first) === undefined) laterWins++
        }
        const ctx = { gets: [], nextCalls: 0, loaded: undefined, ended: false }
        const req = { headers: { cookie: header }, url: '/', method: 'GET', socket: {} }
        const res = new FakeResponse(() => {
          ctx.ended = true
        })
        try {
          context.run(ctx, () => handle(req, res, ctx))
        } catch (err) {
          ctx.crash = err?.stack ?? String(err)
        }
        // The store answers synchronously, so a request that has not ended by now is hung.
        if (!ctx.ended && !ctx.crash) return false
        const problem = problemWith(header, ctx, res.statusCode)
        if (problem !== undefined) throw new Error(problem)
        return true
      }),
      { numRuns: IN_PROCESS_RUNS, seed: SEED },
    )
    assert.equal(ran >= IN_PROCESS_RUNS, true)
    // The run must have exercised the interesting paths, or it proves nothing.
    assert.ok(verified > IN_PROCESS_RUNS / 10, `only ${verified} headers carried a valid session cookie`)
    assert.ok(laterWins > IN_PROCESS_RUNS / 100, `only ${laterWins} headers had a valid cookie behind an invalid one`)
    assert.deepEqual(crashes, [])
  })

  test('targeted: several cookies of the name, the first that verifies wins', () => {
    const good = IDS.map((id, i) => signedWith(id, SECRETS[i % 2]))
    const cases = [
      [`${NAME}=${good[0]}; ${NAME}=${good[1]}`, IDS[0]],
      [`${NAME}=garbage; ${NAME}=${good[1]}; ${NAME}=${good[0]}`, IDS[1]],
      [`${NAME}=${good[2]}junk; ${NAME}=${good[3]}`, IDS[3]],
      [`${NAME}=${signedWith(IDS[0], 'attacker')}; other=1; ${NAME}=${encodeURIComponent(good[2])}`, IDS[2]],
      [`${NAME}=${good[0].slice(0, -1)}; ${NAME}=${good[0].slice(0, -2)}`, undefined],
      [`${NAME}=; ${NAME}=${good[1]}`, IDS[1]],
    ]
    for (const [header, id] of cases) {
      const ctx = { gets: [], nextCalls: 0 }
      const res = new FakeResponse(() => {})
      context.run(ctx, () => handle({ headers: { cookie: header }, url: '/', method: 'GET', socket: {} }, res, ctx))
      assert.equal(ctx.loaded, id, header)
      assert.deepEqual(ctx.gets, id === undefined ? [] : [id], header)
    }
  })
})

describe('fuzzed Cookie headers over HTTP', () => {
  let server
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const problems = []
  const crashes = []
  const onCrash = (err) => crashes.push(err)

  before(async () => {
    process.on('uncaughtException', onCrash)
    server = await listen((req, res) => {
      const ctx = { gets: [], nextCalls: 0 }
      res.on('finish', () => {
        const problem = problemWith(req.headers.cookie, ctx, res.statusCode)
        if (problem !== undefined && problems.length < 20) problems.push({ header: req.headers.cookie, problem })
      })
      context.run(ctx, () => handle(req, res, ctx))
    })
  })

  after(async () => {
    agent.destroy()
    await server.close()
    process.off('uncaughtException', onCrash)
  })

  function send(header) {
    const { port } = server.server.address()
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent, headers: header === '' ? {} : { cookie: header }, timeout: 5000 }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode))
      })
      req.on('timeout', () => req.destroy(new Error(`no answer within 5 s for ${JSON.stringify(header)}`)))
      req.on('error', reject)
      req.end()
    })
  }

  test(`${HTTP_RUNS} headers over keep-alive, 64 in flight`, async () => {
    // What a client can put on the wire: header bytes, so text beyond latin-1 goes as its UTF-8 bytes;
    // CR, LF and NUL cannot be sent at all (Node's client refuses them, as it should).
    const headers = fc
      .sample(cookieHeader, { numRuns: HTTP_RUNS, seed: SEED + 1 })
      .map((h) => Buffer.from(h, 'utf8').toString('latin1').replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ''))
    let index = 0
    const statuses = []
    const worker = async () => {
      while (index < headers.length) {
        const header = headers[index++]
        statuses.push(await send(header))
      }
    }
    await Promise.all(Array.from({ length: 64 }, worker))
    assert.equal(statuses.length, headers.length)
    assert.deepEqual(statuses.filter((s) => s >= 500), [])
    assert.deepEqual(problems, [])
    assert.deepEqual(crashes, [])
    // The run must have exercised the interesting paths, or it proves nothing.
    const verified = headers.filter((h) => expectedId(h) !== undefined).length
    assert.ok(verified > HTTP_RUNS / 10, `only ${verified} headers carried a valid session cookie`)
  })
})
