// The sealed cookie of cookieSession(), attacked over HTTP: its format, and many random, truncated
// and mutated values (fast-check, fixed seed) against a live server. Every answer must be a 200 with
// a fresh session: no crash, and no value other than one the server sealed ever opens.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { cookieSession } from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'

const SECRET = 'the secret of the seal tests: long, random enough for a test'
const MARKER = 'the-private-marker'
const RUNS = { seed: 20261123, numRuns: 250 }

function app(options) {
  const middleware = cookieSession({ secret: SECRET, ...options })
  return (req, res) =>
    middleware(req, res, (err) => {
      if (err) {
        res.statusCode = 500
        res.end(`error: ${err.message}`)
        return
      }
      const url = new URL(req.url, 'http://localhost')
      if (url.pathname === '/seal') req.session.marker = url.searchParams.get('v') ?? MARKER
      res.setHeader('Content-Type', 'application/json')
      res.end(JSON.stringify({ marker: req.session.marker ?? null }))
    })
}

function sealedValue(response, name = 'session') {
  const header = response.setCookies.find((h) => h.startsWith(`${name}=`))
  assert.ok(header, 'the server sent a session cookie')
  return parseSetCookie(header).value
}

describe('the sealed cookie', () => {
  let server
  let base
  let sealed
  before(async () => {
    server = await listen(app({}))
    base = server.base
    sealed = sealedValue(await request(base, '/seal'))
  })
  after(() => server.close())

  /** What the server makes of `value` as the session cookie: 'opened', 'fresh', or 'crash: ...'. */
  async function verdict(value) {
    const response = await request(base, '/peek', { cookie: `session=${value}` })
    if (response.status !== 200) return `crash: ${response.status} ${response.text}`
    return JSON.parse(response.text).marker === null ? 'fresh' : 'opened'
  }

  test('format: base64url of version 1, a key id, a random IV, ciphertext and a 16-byte tag', async () => {
    assert.match(sealed, /^[A-Za-z0-9_-]+$/)
    const bytes = Buffer.from(sealed, 'base64url')
    assert.equal(bytes[0], 1, 'version byte')
    assert.ok(!bytes.toString('latin1').includes(MARKER), 'the data is encrypted')
    const again = Buffer.from(sealedValue(await request(base, '/seal')), 'base64url')
    assert.equal(again.length, bytes.length, 'same data, same length: the payload is not padded')
    assert.deepEqual(again.subarray(1, 5), bytes.subarray(1, 5), 'same secret, same key id')
    assert.notDeepEqual(again.subarray(5, 17), bytes.subarray(5, 17), 'a fresh random IV per seal')
    const longer = Buffer.from(sealedValue(await request(base, `/seal?v=${MARKER}xxxxxxxxxx`)), 'base64url')
    assert.equal(longer.length - bytes.length, 10, 'GCM: ciphertext as long as the plaintext, no block padding')

    const other = await listen(app({ secret: 'some other secret, just as long as the first' }))
    try {
      const foreign = Buffer.from(sealedValue(await request(other.base, '/seal')), 'base64url')
      assert.notDeepEqual(foreign.subarray(1, 5), bytes.subarray(1, 5), 'another secret, another key id')
    } finally {
      await other.close()
    }
  })

  test('the genuine value opens; every truncation of it gives a fresh session', async () => {
    assert.equal(await verdict(sealed), 'opened')
    for (let length = 0; length < sealed.length; length++) {
      assert.equal(await verdict(sealed.slice(0, length)), 'fresh', `truncated to ${length}`)
    }
  })

  test('a non-canonical encoding of the same bytes does not open', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const bytes = Buffer.from(sealed, 'base64url')
    const twins = [...alphabet].map((c) => sealed.slice(0, -1) + c).filter((v) => v !== sealed && Buffer.from(v, 'base64url').equals(bytes))
    // A length that leaves spare bits in the last character is needed for a twin to exist.
    if (sealed.length % 4 !== 0) assert.ok(twins.length > 0)
    for (const twin of twins) assert.equal(await verdict(twin), 'fresh', twin)
    assert.equal(await verdict(`${sealed}=`), 'fresh', 'padding')
    assert.equal(await verdict(sealed.replace(/-/g, '+').replace(/_/g, '/')), sealed.includes('-') || sealed.includes('_') ? 'fresh' : 'opened', 'base64 instead of base64url')
  })

  test('property: arbitrary printable values never crash and never open', async () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 600 })
    let crashes = 0
    let opened = 0
    await fc.assert(
      fc.asyncProperty(printable, async (value) => {
        const result = await verdict(value)
        if (result.startsWith('crash')) crashes++
        if (result === 'opened') opened++
        return result === 'fresh'
      }),
      RUNS,
    )
    assert.deepEqual({ crashes, opened }, { crashes: 0, opened: 0 })
  })

  test('property: random bytes behind a genuine version and key id never open', async () => {
    const header = Buffer.from(sealed, 'base64url').subarray(0, 5)
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 500 }), async (body) => {
        const value = Buffer.concat([header, body]).toString('base64url')
        return (await verdict(value)) === 'fresh'
      }),
      RUNS,
    )
  })

  test('property: mutations of a genuine value (flips, edits, splices) never open', async () => {
    const at = fc.nat({ max: 10_000 })
    const char = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip'), at, bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('replace'), at, char }),
      fc.record({ kind: fc.constant('insert'), at, char }),
      fc.record({ kind: fc.constant('delete'), at }),
      fc.record({ kind: fc.constant('swap'), at, other: at }),
      fc.record({ kind: fc.constant('append'), text: fc.string({ unit: char, minLength: 1, maxLength: 40 }) }),
    )
    const apply = (value, m) => {
      const i = m.at === undefined ? 0 : m.at % value.length
      switch (m.kind) {
        case 'flip': {
          const bytes = Buffer.from(value, 'base64url')
          bytes[m.at % bytes.length] ^= 1 << m.bit
          return bytes.toString('base64url')
        }
        case 'replace':
          return value.slice(0, i) + m.char + value.slice(i + 1)
        case 'insert':
          return value.slice(0, i) + m.char + value.slice(i)
        case 'delete':
          return value.slice(0, i) + value.slice(i + 1)
        case 'swap': {
          const j = m.other % value.length
          const chars = [...value]
          ;[chars[i], chars[j]] = [chars[j], chars[i]]
          return chars.join('')
        }
        default:
          return value + m.text
      }
    }
    let forgeries = 0
    let crashes = 0
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const value = mutations.reduce(apply, sealed)
        const result = await verdict(value)
        if (result.startsWith('crash')) crashes++
        if (value === sealed) return result === 'opened'
        if (result === 'opened') forgeries++
        return result === 'fresh'
      }),
      RUNS,
    )
    assert.deepEqual({ crashes, forgeries }, { crashes: 0, forgeries: 0 })
  })

  test('a value sealed under another cookie name, with the same secret, does not open', async () => {
    const named = await listen(app({ name: 'sid' }))
    try {
      const value = sealedValue(await request(named.base, '/seal'), 'sid')
      assert.equal(JSON.parse((await request(named.base, '/peek', { cookie: `sid=${value}` })).text).marker, MARKER)
      assert.equal(await verdict(value), 'fresh')
      assert.equal(JSON.parse((await request(named.base, '/peek', { cookie: `sid=${sealed}` })).text).marker, null)
    } finally {
      await named.close()
    }
  })
})
