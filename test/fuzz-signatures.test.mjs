// Mutations of valid signed session cookies are never accepted: 100,000 mutations checked against the
// signature functions directly, a sample of them through the middleware over HTTP, and the known
// regression vectors of cookie-signature.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Agent, request as httpRequest } from 'node:http'
import fc from 'fast-check'
import session from 'sessionkit'
import { readSessionId, signSessionId, unsignSessionId } from '../dist/cjs/cookie/signature.js'
import { listen } from './support/http.mjs'

const SECRETS = ['the signing secret', Buffer.from('an older secret, as a Buffer')]
const SEED = Number(process.env.FUZZ_SEED ?? 4242)
const RUNS = Number(process.env.FUZZ_RUNS ?? 100_000)
const HTTP_RUNS = Number(process.env.FUZZ_HTTP_RUNS ?? 2_000)
const IDS = ['Xb3kQ9vT1mZpL0aR8sN2cY7wE4uH6jFd', 'a', 'with.dots.in.it', 'ünïcødé☃', 'padding-needed-id', '0']

const anyChar = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('é', 'ß', '☃', '€', '😀', '\u0000', '\u200b', '=', '.', '+', '/', '-', '_', ' ', '%'),
)
const anyText = fc.array(anyChar, { minLength: 1, maxLength: 8 }).map((a) => a.join(''))

/** One mutation of a string, as a function of it, with a name for the counterexample. */
const mutation = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 15 })).map(([i, bit]) => ['bit flip', (s) => {
    const at = i % s.length
    return s.slice(0, at) + String.fromCharCode(s.charCodeAt(at) ^ (1 << bit)) + s.slice(at + 1)
  }]),
  fc.tuple(fc.nat(), anyText).map(([i, t]) => ['insert', (s) => {
    const at = i % (s.length + 1)
    return s.slice(0, at) + t + s.slice(at)
  }]),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 6 })).map(([i, n]) => ['delete', (s) => {
    const at = i % s.length
    return s.slice(0, at) + s.slice(at + n)
  }]),
  anyText.map((t) => ['append', (s) => s + t]),
  anyText.map((t) => ['prepend', (s) => t + s]),
  fc.nat().map((i) => ['case change', (s) => {
    const at = i % s.length
    const c = s[at]
    const swapped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()
    return s.slice(0, at) + swapped + s.slice(at + 1)
  }]),
  fc.constant(['case change, all', (s) => (s === s.toUpperCase() ? s.toLowerCase() : s.toUpperCase())]),
  fc.tuple(fc.nat(), fc.constantFrom('é', '☃', '😀', '\u00ff', '\u0100')).map(([i, m]) => ['multibyte', (s) => {
    const at = i % s.length
    return s.slice(0, at) + m + s.slice(at + 1)
  }]),
  fc.nat().map((i) => ['swap', (s) => {
    const at = i % Math.max(1, s.length - 1)
    return s.slice(0, at) + s[at + 1] + s[at] + s.slice(at + 2)
  }]),
  fc.nat().map((n) => ['truncate', (s) => s.slice(0, n % s.length)]),
)

const original = fc.tuple(fc.constantFrom(...IDS), fc.constantFrom(...SECRETS)).map(([id, secret]) => ({ id, value: signSessionId(id, secret) }))
const mutated = fc
  .tuple(original, fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([o, ms]) => ({ ...o, names: ms.map((m) => m[0]), value: ms.reduce((v, [, f]) => (v.length === 0 ? v : f(v)), o.value), original: o.value }))
  // A mutation that gives back the very same string is no mutation.
  .filter((m) => m.value !== m.original)

describe('the signature functions', () => {
  test('every valid cookie verifies, under each secret of the rotation', () => {
    for (const id of IDS) for (const secret of SECRETS) assert.equal(unsignSessionId(signSessionId(id, secret), SECRETS), id)
  })

  test('known regression vectors of cookie-signature are refused', () => {
    for (const id of IDS) {
      const value = signSessionId(id, SECRETS[0])
      const signature = value.slice(value.lastIndexOf('.') + 1)
      const vectors = [
        value + 'some', // tj/node-cookie-signature#40: trailing garbage passed the truncating compare
        value + '-extrajunk',
        value + signature.at(-1).repeat(12),
        value + '=', // base64 padding the signer strips
        value + '==',
        value + 'é',
        value + '☃',
        value + '\u0000',
        value.slice(0, -1) + 'é', // same byte length as a longer, truncated value
        value.slice(0, -2) + '😀',
        value.slice(0, -1),
        value.replace(/\+/g, ' '),
        value.toUpperCase(),
        value.slice(0, value.lastIndexOf('.')), // the id without its signature
        `s:${id}.${signSessionId('other', SECRETS[0]).split('.').at(-1)}`, // another id's signature
        `S:${value.slice(2)}`,
        `s:${value}`,
        ` ${value}`,
        value.slice(2), // signed but without the s: prefix
        `s:${id}`,
        `s:${id}.`,
        's:.',
        's:',
      ]
      for (const vector of vectors) {
        if (vector === value) continue
        assert.equal(unsignSessionId(vector, SECRETS), undefined, JSON.stringify(vector))
        if (!/[;%]|^[ \t]|[ \t]$/.test(vector)) assert.equal(readSessionId(`connect.sid=${vector}`, 'connect.sid', SECRETS), undefined, JSON.stringify(vector))
      }
    }
  })

  test(`${RUNS} mutations of valid signed cookies: none accepted`, () => {
    let accepted = 0
    fc.assert(
      fc.property(mutated, (m) => {
        if (unsignSessionId(m.value, SECRETS) !== undefined) {
          accepted++
          throw new Error(`accepted after ${m.names.join(' + ')}: ${JSON.stringify(m.value)} (from ${JSON.stringify(m.original)})`)
        }
        // The same value as the only cookie of a header, where the header parser cannot change it.
        if (!/[;%]|^[ \t]|[ \t]$/.test(m.value) && readSessionId(`connect.sid=${m.value}`, 'connect.sid', SECRETS) !== undefined) {
          throw new Error(`accepted in a header: ${JSON.stringify(m.value)}`)
        }
      }),
      { numRuns: RUNS, seed: SEED },
    )
    assert.equal(accepted, 0)
  })
})

describe('mutated cookies over HTTP', () => {
  let server
  const gets = []
  const agent = new Agent({ keepAlive: true, maxSockets: 32 })
  before(async () => {
    const expires = new Date(Date.now() + 3_600_000).toISOString()
    const store = {
      get(sid, callback) {
        gets.push(sid)
        callback(null, IDS.includes(sid) ? { owner: sid, cookie: { originalMaxAge: 3_600_000, expires } } : null)
      },
      set: (sid, data, callback) => callback(),
      destroy: (sid, callback) => callback(),
    }
    const middleware = session({ secret: SECRETS, store, resave: false, saveUninitialized: false })
    server = await listen((req, res) =>
      middleware(req, res, (err) => {
        res.statusCode = err ? (err.status ?? 500) : 200
        res.end(err ? 'error' : JSON.stringify({ owner: req.session.owner ?? null }))
      }),
    )
  })
  after(async () => {
    agent.destroy()
    await server.close()
  })

  function send(cookie) {
    const { port } = server.server.address()
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent, headers: { cookie }, timeout: 5000 }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode, body }))
      })
      req.on('timeout', () => req.destroy(new Error('no answer within 5 s')))
      req.on('error', reject)
      req.end()
    })
  }

  test(`${HTTP_RUNS} mutated cookies, percent-encoded as a client sends them: never loaded, never looked up`, async () => {
    const samples = fc.sample(mutated, { numRuns: HTTP_RUNS, seed: SEED + 1 })
    // A control: the unmutated cookies are loaded, so a refusal below means something. Those signed by
    // the first secret are now remembered as verified; their mutations below must still be refused.
    for (const id of IDS) {
      for (const secret of SECRETS) {
        const res = await send(`connect.sid=${encodeURIComponent(signSessionId(id, secret))}`)
        assert.deepEqual(JSON.parse(res.body), { owner: id })
      }
    }
    gets.length = 0
    let index = 0
    const results = []
    const worker = async () => {
      while (index < samples.length) {
        const m = samples[index++]
        let encoded
        try {
          encoded = encodeURIComponent(m.value)
        } catch {
          continue // a lone surrogate has no UTF-8 form: no client can send it
        }
        results.push({ m, res: await send(`connect.sid=${encoded}`) })
      }
    }
    await Promise.all(Array.from({ length: 32 }, worker))
    assert.ok(results.length > HTTP_RUNS * 0.9)
    for (const { m, res } of results) {
      assert.equal(res.status, 200, JSON.stringify(m.value))
      assert.deepEqual(JSON.parse(res.body), { owner: null }, JSON.stringify(m.value))
    }
    assert.deepEqual(gets, [])
  })
})

test('a cookie one middleware has verified is not taken as verified by another with other secrets', async () => {
  const expires = new Date(Date.now() + 3_600_000).toISOString()
  const store = {
    get: (sid, callback) => callback(null, { owner: sid, cookie: { originalMaxAge: 3_600_000, expires } }),
    set: (sid, data, callback) => callback(),
    destroy: (sid, callback) => callback(),
  }
  const handler = (middleware) => (req, res) =>
    middleware(req, res, (err) => res.end(err ? 'error' : JSON.stringify({ owner: req.session.owner ?? null })))
  const first = await listen(handler(session({ secret: 'first secret', store, resave: false, saveUninitialized: false })))
  const second = await listen(handler(session({ secret: 'second secret', store, resave: false, saveUninitialized: false })))
  try {
    const cookie = `connect.sid=${encodeURIComponent(signSessionId('someone', 'first secret'))}`
    const get = (server) =>
      new Promise((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port: server.server.address().port, headers: { cookie } }, (res) => {
          let body = ''
          res.on('data', (chunk) => (body += chunk))
          res.on('end', () => resolve(JSON.parse(body)))
        })
          .on('error', reject)
          .end()
      })
    // Twice each: the second request of the first middleware comes from its memo of verified values.
    assert.deepEqual(await get(first), { owner: 'someone' })
    assert.deepEqual(await get(first), { owner: 'someone' })
    assert.deepEqual(await get(second), { owner: null })
    assert.deepEqual(await get(second), { owner: null })
  } finally {
    await first.close()
    await second.close()
  }
})
