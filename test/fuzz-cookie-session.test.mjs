// Property-based tests of the Cookie header in cookie mode: 100,000 generated headers through the
// real cookieSession() middleware in-process (a minimal req/res) and several thousand more over real
// HTTP with keep-alive. The only values that may open are ones this test had the app seal through a
// request, with a configured secret, for this cookie name, and not yet expired; they must open to
// exactly the id and data sealed. Among several cookies of the name the first that opens wins. Every
// request ends once, with no crash, no error, no 5xx, and no Set-Cookie unless the app wrote.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Agent, request as httpRequest } from 'node:http'
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { sign } from 'cookie-signature'
import { cookieSession } from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'
import { commonValueFamilies, cookieHeaderArbitrary, cookieNameArbitrary, MAX_SESSION_COOKIES, valuesNamed } from './support/cookie-arbitraries.mjs'

const NAME = 'session'
const OTHER_NAME = 'session2'
const CURRENT = 'the current secret of the cookie-session fuzz tests'
const OLD = 'a rotated-out secret, still accepted for opening'
const SEED = Number(process.env.FUZZ_SEED ?? 20261123)
const IN_PROCESS_RUNS = Number(process.env.FUZZ_RUNS ?? 100_000)
const HTTP_RUNS = Number(process.env.FUZZ_HTTP_RUNS ?? 3_000)
const HOUR = 3_600_000

// The app under test, and the apps whose cookies it must refuse or (rotation) accept.
const cookie = { maxAge: HOUR }
const main = cookieSession({ secret: [CURRENT, OLD], name: NAME, cookie })
const sealers = {
  main,
  old: cookieSession({ secret: OLD, name: NAME, cookie }),
  unknown: cookieSession({ secret: 'a secret the app under test never had', name: NAME, cookie }),
  otherName: cookieSession({ secret: [CURRENT, OLD], name: OTHER_NAME, cookie }),
}

/** Has `sealer` seal a session holding `data` through a real request; returns { value, id, data }. */
async function sealOverHttp(base, sealer, data, { name = NAME, maxAge } = {}) {
  const query = new URLSearchParams({ sealer, data: JSON.stringify(data), ...(maxAge ? { maxAge: String(maxAge) } : {}) })
  const response = await request(base, `/seal?${query}`)
  assert.equal(response.status, 200, response.text)
  const header = response.setCookies.find((h) => h.startsWith(`${name}=`))
  assert.ok(header, `${sealer} sent a ${name} cookie`)
  return { value: parseSetCookie(header).value, id: JSON.parse(response.text).id, data }
}

function sealingApp(req, res) {
  const url = new URL(req.url, 'http://localhost')
  sealers[url.searchParams.get('sealer')](req, res, (err) => {
    if (err) {
      res.statusCode = 500
      res.end(String(err))
      return
    }
    Object.assign(req.session, JSON.parse(url.searchParams.get('data')))
    if (url.searchParams.has('maxAge')) req.session.cookie.maxAge = Number(url.searchParams.get('maxAge'))
    res.end(JSON.stringify({ id: req.sessionID }))
  })
}

// Filled by the top-level before(): value → { id, data } for the values that must open; the rest.
const OPENS = new Map()
/** The ids of every session sealed for the test: a fresh session must never get one. */
const KNOWN_IDS = new Set()
let genuine = []
let refused = []

/** The { id, data } a correct implementation opens for this header, or undefined for a fresh session. */
/** The opening values sealed under the rotated-out secret: a response that opens one seals it again. */
const OLDER_KEY = new Set()

/** Whether the value that opens in `header` was sealed under the rotated-out secret. */
function opensWithOlderKey(header) {
  return valuesNamed(header, NAME)
    .slice(0, MAX_SESSION_COOKIES)
    .some((value, i, values) => OLDER_KEY.has(value) && values.slice(0, i).every((earlier) => !OPENS.has(earlier)))
}

function expected(header) {
  for (const value of valuesNamed(header, NAME).slice(0, MAX_SESSION_COOKIES)) {
    const sealed = OPENS.get(value)
    if (sealed !== undefined) return sealed
  }
  return undefined
}

/** Whether the first value of the name is not the one that opens: the "first that opens wins" path. */
function laterOneOpens(header) {
  const values = valuesNamed(header, NAME).slice(0, MAX_SESSION_COOKIES)
  return values.length > 1 && !OPENS.has(values[0]) && values.some((v) => OPENS.has(v))
}

// ---- the generator (built once the values exist) ----

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

function headerArbitrary() {
  const good = fc.constantFrom(...genuine)
  const anySealed = fc.constantFrom(...genuine, ...refused)
  const bytesOf = (v) => Buffer.from(v, 'base64url')
  const sessionValue = fc.oneof(
    { arbitrary: good, weight: 4 },
    // Unknown key, another cookie's name, expired: sealed for real, never to open here.
    { arbitrary: fc.constantFrom(...refused), weight: 3 },
    // Percent-escapes of some characters: the same value once decoded, so it must still open.
    {
      arbitrary: fc.tuple(good, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.boolean()).map(([v, positions, lower]) => {
        const chars = [...v]
        for (const p of positions) {
          const i = p % chars.length
          if (chars[i].length === 1) chars[i] = '%' + chars[i].charCodeAt(0).toString(16).padStart(2, '0')[lower ? 'toLowerCase' : 'toUpperCase']()
        }
        return chars.join('')
      }),
      weight: 1,
    },
    // Forged: one byte flipped anywhere (version, key id, IV, ciphertext, tag).
    {
      arbitrary: fc.tuple(anySealed, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([v, i, mask]) => {
        const bytes = bytesOf(v)
        bytes[i % bytes.length] ^= mask
        return bytes.toString('base64url')
      }),
      weight: 3,
    },
    // One character replaced, including by one that only changes the padding bits of the last.
    { arbitrary: fc.tuple(anySealed, fc.nat(), fc.constantFrom(...B64URL)).map(([v, i, c]) => v.slice(0, i % v.length) + c + v.slice((i % v.length) + 1)), weight: 2 },
    // Spliced from two sealed values, and one's version and key id on another's body.
    { arbitrary: fc.tuple(anySealed, anySealed, fc.nat()).map(([a, b, n]) => a.slice(0, n % a.length) + b.slice(n % a.length)), weight: 2 },
    { arbitrary: fc.tuple(good, anySealed).map(([a, b]) => Buffer.concat([bytesOf(b).subarray(0, 5), bytesOf(a).subarray(5)]).toString('base64url')), weight: 1 },
    // A genuine version and key id followed by random bytes.
    { arbitrary: fc.tuple(good, fc.uint8Array({ minLength: 0, maxLength: 120 })).map(([v, rest]) => Buffer.concat([bytesOf(v).subarray(0, 5), rest]).toString('base64url')), weight: 2 },
    // The same bytes in other spellings: standard base64, padded.
    { arbitrary: good.map((v) => bytesOf(v).toString('base64')), weight: 1 },
    { arbitrary: good.map((v) => v + '='), weight: 1 },
    // Not ours: a signed id as session() would send it, with the same secret.
    { arbitrary: fc.string({ minLength: 1, maxLength: 30 }).map((id) => `s:${sign(id, CURRENT)}`), weight: 1 },
    // Encoded, quoted, truncated, with trailing garbage, junk, very long: shared with fuzz-cookies.
    ...commonValueFamilies(good),
  )
  const name = cookieNameArbitrary(NAME, [` ${NAME}`, `${NAME} `, `\t${NAME}`, 'SESSION', OTHER_NAME, `x${NAME}`, 'sessio%6E', `"${NAME}"`])
  return cookieHeaderArbitrary(name, sessionValue, [NAME])
}

// ---- in-process requests ----

/** The fewest members of a ServerResponse the middleware touches. */
class FakeResponse {
  statusCode = 200
  headersSent = false
  writableEnded = false
  destroyed = false
  ends = 0
  #headers = new Map()
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
    this.ends++
    return this
  }
  destroy() {
    this.destroyed = true
  }
}

/** The app: reports the session it sees; with `write`, counts a visit into it. */
function handle(req, res, ctx, write) {
  main(req, res, (err) => {
    ctx.nextCalls++
    if (err) {
      ctx.error = err
      res.statusCode = err.status ?? 500
      res.end()
      return
    }
    const { cookie: _cookie, ...data } = req.session
    ctx.id = req.sessionID
    ctx.data = data
    if (write) req.session.visits = (req.session.visits ?? 0) + 1
    res.end(JSON.stringify({ id: ctx.id, data }))
  })
}

/** One request through the middleware; the middleware opens synchronously, so it has ended on return. */
function runInProcess(header, write) {
  const ctx = { nextCalls: 0 }
  const req = { headers: header === undefined ? {} : { cookie: header }, url: '/', method: 'GET', socket: {} }
  const res = new FakeResponse()
  try {
    handle(req, res, ctx, write)
  } catch (err) {
    ctx.crash = err?.stack ?? String(err)
  }
  const setCookie = res.getHeader('set-cookie')
  return { ctx, status: res.statusCode, ends: res.ends, setCookies: setCookie === undefined ? [] : [setCookie].flat() }
}

/**
 * Checks one answer against the oracle: what it opened (id and data), and its Set-Cookie. Returns a
 * description of the problem, or undefined; `reopen(value)` returns the { id, data } a request with
 * only that cookie sees, to check that a written session opens to what was written.
 */
function problemWith(header, outcome, write, reopen) {
  const { id, data, status, setCookies } = outcome
  if (status >= 500) return `status ${status}`
  const want = expected(header)
  if (want === undefined) {
    if (JSON.stringify(data) !== '{}') return `a fresh session expected, got data ${JSON.stringify(data)}`
    if (KNOWN_IDS.has(id)) return `a fresh session expected, got the id of a sealed one (${id})`
  } else {
    if (id !== want.id) return `opened id ${id}, expected ${want.id}`
    if (!isDeepStrictEqual(data, want.data)) return `opened ${JSON.stringify(data)}, expected ${JSON.stringify(want.data)}`
  }
  if (!write && !opensWithOlderKey(header)) return setCookies.length === 0 ? undefined : `unexpected Set-Cookie ${setCookies}`
  if (!write) {
    // Opened with the rotated-out secret: sealed again with the current one, to the same session.
    if (setCookies.length !== 1 || !setCookies[0].startsWith(`${NAME}=`)) return `one re-sealed ${NAME} cookie expected, got ${JSON.stringify(setCookies)}`
    const resealed = reopen(parseSetCookie(setCookies[0]).value)
    if (resealed.id !== id || !isDeepStrictEqual(resealed.data, want.data)) return `the re-sealed cookie opened to ${JSON.stringify(resealed)}, expected ${JSON.stringify({ id, data: want.data })}`
    return undefined
  }
  if (setCookies.length !== 1 || !setCookies[0].startsWith(`${NAME}=`)) return `one ${NAME} cookie expected after a write, got ${JSON.stringify(setCookies)}`
  const again = reopen(parseSetCookie(setCookies[0]).value)
  const written = { ...(want?.data ?? {}), visits: 1 }
  if (again.id !== id || !isDeepStrictEqual(again.data, written)) return `the written cookie opened to ${JSON.stringify(again)}, expected ${JSON.stringify({ id, data: written })}`
  return undefined
}

function reopenInProcess(value) {
  const { ctx } = runInProcess(`${NAME}=${value}`, false)
  return { id: ctx.id, data: ctx.data }
}

// ---- the tests ----

const crashes = []
const onCrash = (err) => crashes.push(err)

before(async () => {
  process.on('uncaughtException', onCrash)
  const server = await listen(sealingApp)
  try {
    const opening = [
      await sealOverHttp(server.base, 'main', { owner: 'alice', nonce: randomBytes(6).toString('hex') }),
      await sealOverHttp(server.base, 'main', { owner: 'bob', nonce: randomBytes(6).toString('hex'), cart: [1, 2, 3] }),
      await sealOverHttp(server.base, 'main', { owner: 'ünïcødé ☃', nonce: randomBytes(6).toString('hex') }),
      // Close to the 4096-byte limit: a long genuine value.
      await sealOverHttp(server.base, 'main', { owner: 'big', blob: 'x'.repeat(2500) }),
      // Sealed under the rotated-out secret, which the app still lists.
      { ...(await sealOverHttp(server.base, 'old', { owner: 'carol', nonce: randomBytes(6).toString('hex') })), older: true },
      { ...(await sealOverHttp(server.base, 'old', { owner: 'dave' })), older: true },
    ]
    const closed = [
      await sealOverHttp(server.base, 'unknown', { owner: 'mallory' }),
      await sealOverHttp(server.base, 'unknown', { owner: 'alice', nonce: 'forged' }),
      await sealOverHttp(server.base, 'otherName', { owner: 'eve' }, { name: OTHER_NAME }),
      await sealOverHttp(server.base, 'otherName', { owner: 'alice', admin: true }, { name: OTHER_NAME }),
      // Sealed by the app itself, but replayed past their sealed expiry.
      await sealOverHttp(server.base, 'main', { owner: 'expired-1' }, { maxAge: 20 }),
      await sealOverHttp(server.base, 'main', { owner: 'expired-2' }, { maxAge: 20 }),
    ]
    for (const sealed of opening) OPENS.set(sealed.value, { id: sealed.id, data: sealed.data })
    for (const sealed of opening) if (sealed.older === true) OLDER_KEY.add(sealed.value)
    for (const sealed of [...opening, ...closed]) KNOWN_IDS.add(sealed.id)
    genuine = opening.map((s) => s.value)
    refused = closed.map((s) => s.value)
    assert.ok(opening[3].value.length > 3000, 'the big value is long')
  } finally {
    await server.close()
  }
  await new Promise((resolve) => setTimeout(resolve, 60))
})

after(() => process.off('uncaughtException', onCrash))

describe('fuzzed Cookie headers in cookie mode, in-process', () => {
  test('the values sealed for the test open to their data, the others do not', () => {
    for (const value of genuine) assert.deepEqual(reopenInProcess(value), OPENS.get(value))
    for (const value of refused) {
      const seen = reopenInProcess(value)
      assert.deepEqual(seen.data, {}, value)
      assert.ok(!KNOWN_IDS.has(seen.id))
    }
  })

  test('targeted: several cookies of the name, the first that opens wins', () => {
    const [a, b, c] = genuine
    const cases = [
      [`${NAME}=${a}; ${NAME}=${b}`, a],
      [`${NAME}=garbage; ${NAME}=${b}; ${NAME}=${a}`, b],
      [`${NAME}=${refused[0]}; ${NAME}=${c}`, c],
      [`${NAME}=${refused[4]}; other=1; ${NAME}=${a.slice(0, -1)}; ${NAME}=${b}`, b],
      [`${OTHER_NAME}=${refused[2]}; ${NAME}=${a}x; ${NAME}=${encodeURIComponent(c)}`, c],
      [`${NAME}=; ${NAME}=${genuine[4]}`, genuine[4]],
      [`${NAME}=${a.slice(0, -1)}; ${NAME}=${b.slice(1)}`, undefined],
    ]
    for (const [header, value] of cases) {
      const { ctx } = runInProcess(header, false)
      const want = value === undefined ? undefined : OPENS.get(value)
      assert.equal(ctx.id, want?.id ?? ctx.id, header)
      assert.deepEqual(ctx.data, want?.data ?? {}, header)
      if (value === undefined) assert.ok(!KNOWN_IDS.has(ctx.id), header)
    }
  })

  test(`${IN_PROCESS_RUNS} headers through cookieSession()`, () => {
    let opened = 0
    let laterWins = 0
    let writes = 0
    fc.assert(
      fc.property(headerArbitrary(), fc.nat(7), (header, dice) => {
        const write = dice === 0
        if (write) writes++
        if (expected(header) !== undefined) opened++
        if (laterOneOpens(header)) laterWins++
        const outcome = runInProcess(header, write)
        const { ctx } = outcome
        if (ctx.crash) throw new Error(`threw ${ctx.crash}`)
        if (ctx.error) throw new Error(`error to next(): ${ctx.error.message}`)
        if (ctx.nextCalls !== 1) throw new Error(`next() called ${ctx.nextCalls} times`)
        if (outcome.ends !== 1) throw new Error(`the response ended ${outcome.ends} times`)
        const problem = problemWith(header, { ...outcome, id: ctx.id, data: ctx.data }, write, reopenInProcess)
        if (problem !== undefined) throw new Error(problem)
      }),
      { numRuns: IN_PROCESS_RUNS, seed: SEED },
    )
    // The run must have exercised the interesting paths, or it proves nothing.
    assert.ok(opened > IN_PROCESS_RUNS / 10, `only ${opened} headers carried a value that opens`)
    assert.ok(laterWins > IN_PROCESS_RUNS / 100, `only ${laterWins} headers had a value that opens behind one that does not`)
    assert.ok(writes > IN_PROCESS_RUNS / 20, `only ${writes} requests wrote`)
    assert.deepEqual(crashes, [])
  })
})

describe('fuzzed Cookie headers in cookie mode, over HTTP', () => {
  let server
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const serverProblems = []

  before(async () => {
    server = await listen((req, res) => {
      const ctx = { nextCalls: 0 }
      res.on('finish', () => {
        if (ctx.nextCalls !== 1 && serverProblems.length < 20) serverProblems.push(`next() called ${ctx.nextCalls} times for ${JSON.stringify(req.headers.cookie)}`)
      })
      handle(req, res, ctx, req.url === '/write')
    })
  })

  after(async () => {
    agent.destroy()
    await server.close()
  })

  function send(path, header) {
    const { port } = server.server.address()
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, agent, headers: header === '' ? {} : { cookie: header }, timeout: 5000 }, (res) => {
        const chunks = []
        res.on('data', (chunk) => chunks.push(chunk))
        res.on('end', () => {
          const header = res.headers['set-cookie']
          const text = Buffer.concat(chunks).toString('utf8')
          const body = res.statusCode === 200 ? JSON.parse(text) : {}
          resolve({ status: res.statusCode, text, id: body.id, data: body.data, setCookies: header ?? [] })
        })
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
      .sample(fc.tuple(headerArbitrary(), fc.nat(7)), { numRuns: HTTP_RUNS, seed: SEED + 1 })
      .map(([h, dice]) => [Buffer.from(h, 'utf8').toString('latin1').replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ''), dice === 0])
    const problems = []
    let index = 0
    let done = 0
    let tooLarge = 0
    const worker = async () => {
      while (index < headers.length) {
        const [header, write] = headers[index++]
        const outcome = await send(write ? '/write' : '/', header)
        done++
        // Node's HTTP parser refuses headers over 16 KB before any middleware runs.
        if (outcome.status === 431 && header.length > 16_000) {
          tooLarge++
          continue
        }
        // The follow-up of a write: the new cookie, alone, must open to what was written.
        const reopened = new Map()
        if ((write || opensWithOlderKey(header)) && outcome.status === 200 && outcome.setCookies.length === 1) {
          const value = parseSetCookie(outcome.setCookies[0]).value
          const again = await send('/', `${NAME}=${value}`)
          reopened.set(value, { id: again.id, data: again.data })
        }
        const problem = problemWith(header, outcome, write, (value) => reopened.get(value) ?? {})
        if (problem !== undefined && problems.length < 20) problems.push({ header: header.slice(0, 300), status: outcome.status, problem, text: outcome.text.slice(0, 200) })
      }
    }
    await Promise.all(Array.from({ length: 64 }, worker))
    assert.equal(done, headers.length)
    assert.deepEqual(problems, [])
    assert.deepEqual(serverProblems, [])
    assert.deepEqual(crashes, [])
    // The run must have exercised the interesting paths, or it proves nothing.
    const opened = headers.filter(([h]) => expected(h) !== undefined).length
    assert.ok(opened > HTTP_RUNS / 10, `only ${opened} headers carried a value that opens`)
    assert.ok(tooLarge < HTTP_RUNS / 20, `${tooLarge} headers were too large to reach the middleware`)
  })
})
