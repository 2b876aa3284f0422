// Laziness with saveUninitialized: false: a request that never uses its session costs no id, no
// signing or hashing, no store call and no cookie; a read without a write stores nothing; only a
// validly signed cookie costs a store lookup. Observed over real HTTP on Express 5 and 4, with a store
// wrapper that records every call and counters on genid and node:crypto.
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import express5 from 'express'
import express4 from 'express4'
import session, { MemoryStore } from 'sessionkit'
import { listen, request } from './support/http.mjs'
import { counting, methodsCalled, sidOf, signedCookie } from './support/stores.mjs'

const SECRET = 'laziness secret'

// Counts the node:crypto work done while a request is in flight. cookie-signature signs and verifies
// with createHmac, ids come from randomFillSync (128 at a time); sessionkit's own code may hash with createHash.
const cryptoCalls = { createHmac: 0, createHash: 0, randomBytes: 0, randomFillSync: 0, timingSafeEqual: 0 }
const originals = {}
function countCrypto() {
  for (const name of Object.keys(cryptoCalls)) {
    originals[name] = crypto[name]
    crypto[name] = function (...args) {
      cryptoCalls[name]++
      return originals[name].apply(this, args)
    }
  }
}
function restoreCrypto() {
  for (const [name, fn] of Object.entries(originals)) crypto[name] = fn
}
const resetCrypto = () => Object.keys(cryptoCalls).forEach((name) => (cryptoCalls[name] = 0))
const cryptoTotal = () => Object.values(cryptoCalls).reduce((a, b) => a + b, 0)

for (const [frameworkName, express] of [
  ['Express 5', express5],
  ['Express 4', express4],
]) {
  describe(`laziness (${frameworkName})`, () => {
    const store = counting(new MemoryStore({ checkPeriod: 0 }))
    let genids = 0
    let server
    let base
    let storedCookie
    let storedSid

    before(async () => {
      const app = express()
      // Express hashes response bodies for ETags; that hashing is the app's, not the session's.
      app.set('etag', false)
      app.use(
        session({
          store,
          secret: SECRET,
          resave: false,
          saveUninitialized: false,
          genid: () => {
            genids++
            return crypto.randomUUID()
          },
        }),
      )
      app.get('/untouched', (req, res) => res.send('no session used'))
      app.get('/read', (req, res) => res.json({ x: req.session.x ?? null, id: req.sessionID }))
      app.get('/write', (req, res) => {
        req.session.x = 'written'
        res.send('written')
      })
      ;({ server, base } = await listen(app))
      countCrypto()

      const login = await request(base, '/write')
      storedCookie = login.cookie
      storedSid = sidOf(storedCookie)
    })
    after(() => {
      restoreCrypto()
      server.close()
    })

    async function observe(path, cookie) {
      store.reset()
      genids = 0
      resetCrypto()
      const res = await request(base, path, { cookie })
      return { res, calls: methodsCalled(store), genids, crypto: cryptoTotal() }
    }

    test('a request that never touches req.session: no id, no crypto, no store call, no cookie', async () => {
      for (const path of ['/untouched', '/not-a-route']) {
        const { res, calls, genids, crypto } = await observe(path)
        assert.ok(res.status === 200 || res.status === 404)
        assert.equal(genids, 0, `${path}: genid was not called`)
        assert.deepEqual(calls, [], `${path}: no store call`)
        assert.deepEqual(res.setCookies, [], `${path}: no Set-Cookie`)
        assert.equal(crypto, 0, `${path}: no signing, hashing or random bytes (${JSON.stringify(cryptoCalls)})`)
      }
    })

    test('reading req.session.x without writing stores nothing and sends no cookie', async () => {
      const { res, calls } = await observe('/read')
      assert.equal(res.status, 200)
      assert.equal(JSON.parse(res.text).x, null)
      assert.deepEqual(calls, [], 'no store call')
      assert.deepEqual(res.setCookies, [])
    })

    test('a validly signed cookie costs one store read, and verification work', async () => {
      const unknown = await observe('/untouched', signedCookie('no-such-session-in-store', SECRET))
      // One read: get, or getVersioned (which also moves the expiry) for a store that has it, as MemoryStore does.
      assert.deepEqual(unknown.calls, ['getVersioned'])
      assert.equal(store.calls[0].args[0], 'no-such-session-in-store')
      assert.equal(unknown.genids, 0, 'an unknown id that the app never uses creates nothing')
      assert.deepEqual(unknown.res.setCookies, [])
      assert.ok(unknown.crypto > 0, 'the signature was checked (the crypto counter sees sessionkit)')

      const known = await observe('/untouched', storedCookie)
      assert.equal(known.calls[0], 'getVersioned')
      assert.equal(store.calls[0].args[0], storedSid)
      assert.ok(!known.calls.includes('set'), `an unused loaded session is not rewritten: ${known.calls}`)
      assert.equal(known.genids, 0)
      assert.deepEqual(known.res.setCookies, [])
    })

    test('a badly signed, unsigned or foreign-secret cookie costs no store call', async () => {
      const value = decodeURIComponent(storedCookie.slice(storedCookie.indexOf('=') + 1))
      const forged = `connect.sid=${encodeURIComponent(value.slice(0, -2) + (value.endsWith('AA') ? 'BB' : 'AA'))}`
      const cookies = {
        forged,
        unsigned: `connect.sid=${encodeURIComponent(storedSid)}`,
        'other secret': signedCookie(storedSid, 'not the secret'),
        garbage: 'connect.sid=%%%not-a-cookie',
      }
      for (const [name, cookie] of Object.entries(cookies)) {
        for (const path of ['/untouched', '/read']) {
          const { res, calls } = await observe(path, cookie)
          assert.equal(res.status, 200, `${name} ${path}`)
          assert.deepEqual(calls, [], `${name} cookie on ${path}: no store call`)
          assert.deepEqual(res.setCookies, [], `${name} cookie on ${path}: no Set-Cookie`)
          if (path === '/read') {
            const body = JSON.parse(res.text)
            assert.equal(body.x, null, `${name}: the stored session is not reachable`)
            assert.notEqual(body.id, storedSid, `${name}: never the id the client sent`)
          }
        }
      }
    })
  })
}
