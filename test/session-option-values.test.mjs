// Every option value express-session accepts is accepted with express-session's meaning, and every one it
// fails on fails here too (at startup rather than on each request). express-session is the oracle: each
// case runs the same requests against an Express app with express-session and one with sessionkit, and
// compares what a client and the store see.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import express from 'express'
import expressSession from 'express-session'
import session from 'sessionkit'
import { listen, request } from './support/http.mjs'

/** One request that gives up after two seconds: express-session hangs on some values it accepted. */
async function bounded(base, path, options = {}) {
  try {
    const res = await fetch(base + path, { headers: { ...(options.headers ?? {}), ...(options.cookie ? { cookie: options.cookie } : {}) }, signal: AbortSignal.timeout(2000) })
    const setCookies = res.headers.getSetCookie()
    return { status: res.status, text: await res.text(), setCookies, cookie: setCookies[0]?.split(';')[0] }
  } catch (err) {
    if (err.name !== 'TimeoutError') throw err
    return { status: 'no answer', text: '', setCookies: [], cookie: undefined }
  }
}

const SECRET = 'option values'
const warnings = []
process.on('warning', (warning) => warnings.push(warning))

/** A store for either library that keeps records in a Map and counts the writes. */
function recordingStore(Store) {
  class Recording extends Store {
    records = new Map()
    sets = 0
    touches = 0
    get(sid, callback) {
      const json = this.records.get(sid)
      setImmediate(() => callback(null, json === undefined ? null : JSON.parse(json)))
    }
    set(sid, record, callback) {
      this.sets++
      this.records.set(sid, JSON.stringify(record))
      setImmediate(() => callback?.(null))
    }
    touch(sid, record, callback) {
      this.touches++
      setImmediate(() => callback?.(null))
    }
    destroy(sid, callback) {
      this.records.delete(sid)
      setImmediate(() => callback?.(null))
    }
  }
  return new Recording()
}

/** A Set-Cookie as name and attributes, its value and date left out (they differ on every run). */
function shapeOf(header) {
  const [pair, ...attributes] = header.split(';').map((part) => part.trim())
  const name = pair.slice(0, pair.indexOf('='))
  const rest = attributes.map((attribute) => (/^expires=/i.test(attribute) ? 'Expires=(date)' : attribute)).sort()
  return [name, ...rest].join('; ')
}

/**
 * What a client and the store see of one configuration: whether it starts, then four requests (one
 * that does not use the session, one that counts, the same two again with the cookie) and one that
 * arrives as HTTPS through a proxy (X-Forwarded-Proto).
 */
async function observe(middlewareOf, Store, options, steps) {
  const store = recordingStore(Store)
  let middleware
  try {
    middleware = middlewareOf({ ...options, ...('store' in options ? {} : { store }) })
  } catch (err) {
    return { starts: false, error: err.message }
  }
  const app = express()
  app.use(middleware)
  app.get('/peek', (req, res) => res.send(String(req.session?.n ?? 'none')))
  app.get('/count', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1
    res.send(String(req.session.n))
  })
  app.use((err, req, res, next) => res.status(500).send('error'))
  const { base, close } = await listen(app)
  const seen = { starts: true, responses: [] }
  try {
    const see = async (path, options = {}) => {
      const res = await bounded(base, path, options)
      seen.responses.push({ path, status: res.status, body: res.text, cookies: res.setCookies.map(shapeOf) })
      return res
    }
    await see('/peek')
    const first = await see('/count')
    if (steps > 2 && first.cookie) {
      await see('/peek', { cookie: first.cookie })
      await see('/count', { cookie: first.cookie })
    }
    if (steps > 4) await see('/count', { headers: { 'x-forwarded-proto': 'https' } })
    if (!('store' in options)) Object.assign(seen, { sets: store.sets, touches: store.touches })
  } finally {
    await close()
  }
  return seen
}

const theirs = (options, steps) => observe(expressSession, expressSession.Store, options, steps)
const ours = (options, steps) => observe(session, session.Store, options, steps)
const base = { secret: SECRET, resave: false, saveUninitialized: false }

// [what is set, the options on top of `base`]: both libraries must give the same observations.
const same = [
  ['kraken-js defaults: key "", proxy null, cookie maxAge null', { key: '', proxy: null, cookie: { path: '/', httpOnly: true, maxAge: null } }],
  ['name ""', { name: '' }],
  ['name null', { name: null }],
  ['name "" with key', { name: '', key: 'k.sid' }],
  ['name a number', { name: 42 }],
  ['proxy null, secure cookie', { proxy: null, cookie: { secure: true } }],
  ['proxy 1, secure cookie', { proxy: 1, cookie: { secure: true } }],
  ['proxy "true", secure cookie', { proxy: 'true', cookie: { secure: true } }],
  ['proxy true, secure cookie', { proxy: true, cookie: { secure: true } }],
  ['resave null', { resave: null }],
  ['resave undefined', { resave: undefined }],
  ['resave "false" (a string: truthy)', { resave: 'false' }],
  ['resave 1', { resave: 1 }],
  ['saveUninitialized null', { saveUninitialized: null }],
  ['saveUninitialized undefined', { saveUninitialized: undefined }],
  ['saveUninitialized 0', { saveUninitialized: 0 }],
  ['saveUninitialized "false"', { saveUninitialized: 'false' }],
  ['rolling null', { rolling: null }],
  ['rolling 1', { rolling: 1, cookie: { maxAge: 60_000 } }],
  ['rolling "no" (truthy)', { rolling: 'no', cookie: { maxAge: 60_000 } }],
  ['cookie null', { cookie: null }],
  ['cookie false', { cookie: false }],
  ['cookie ""', { cookie: '' }],
  ['unset null', { unset: null }],
  ['unset ""', { unset: '' }],
  ['unset destroy', { unset: 'destroy' }],
  ['genid null', { genid: null }],
  ['genid false', { genid: false }],
  ['store null (the default store)', { store: null }],
  ['store undefined (the default store)', { store: undefined }],
  ['secret left out, no cookie-parser', { secret: 'omit' }],
  ['cookie maxAge null', { cookie: { maxAge: null } }],
  ['cookie maxAge 60000', { cookie: { maxAge: 60_000 } }],
  ['cookie maxAge false', { cookie: { maxAge: false } }, 2],
  ['cookie maxAge ""', { cookie: { maxAge: '' } }, 2],
  ['cookie maxAge a Date', { cookie: { maxAge: new Date(Date.now() + 3_600_000) } }],
  ['cookie expires a Date', { cookie: { expires: new Date(Date.now() + 3_600_000) } }],
  ['cookie expires null', { cookie: { expires: null } }],
  ['cookie expires false', { cookie: { expires: false } }, 2],
  ['cookie path null', { cookie: { path: null } }],
  ['cookie path ""', { cookie: { path: '' } }],
  ['cookie path /', { cookie: { path: '/' } }],
  ['cookie domain null', { cookie: { domain: null } }],
  ['cookie domain ""', { cookie: { domain: '' } }],
  ['cookie domain example.com', { cookie: { domain: 'example.com' } }],
  ['cookie httpOnly false', { cookie: { httpOnly: false } }],
  ['cookie httpOnly null', { cookie: { httpOnly: null } }],
  ['cookie httpOnly "no" (truthy)', { cookie: { httpOnly: 'no' } }],
  ['cookie httpOnly 0', { cookie: { httpOnly: 0 } }],
  ['cookie secure null', { cookie: { secure: null } }],
  ['cookie secure "yes" over HTTP', { cookie: { secure: 'yes' } }],
  ['cookie secure 1 behind a trusted proxy', { proxy: true, cookie: { secure: 1 } }],
  ['cookie secure 0', { cookie: { secure: 0 } }],
  ['cookie sameSite null', { cookie: { sameSite: null } }],
  ['cookie sameSite ""', { cookie: { sameSite: '' } }],
  ['cookie sameSite false', { cookie: { sameSite: false } }],
  ['cookie sameSite true', { cookie: { sameSite: true } }],
  ['cookie sameSite "Lax"', { cookie: { sameSite: 'Lax' } }],
  ['cookie partitioned "yes" (truthy)', { cookie: { partitioned: 'yes' } }],
  ['cookie partitioned null', { cookie: { partitioned: null } }],
  ['cookie priority null', { cookie: { priority: null } }],
  ['cookie priority "High"', { cookie: { priority: 'High' } }],
  ['cookie attribute of its own (ignored)', { cookie: { comment: 'kept by neither' } }],
]

// Values express-session accepts at startup and fails on at a request: sessionkit refuses them at startup.
const failEarlier = [
  ['cookie maxAge a string', { cookie: { maxAge: '1000' } }],
  ['cookie expires a string', { cookie: { expires: 'tomorrow' } }],
  ['cookie sameSite unknown', { cookie: { sameSite: 'sometimes' } }],
  ['cookie priority unknown', { cookie: { priority: 'urgent' } }],
  ['cookie maxAge NaN', { cookie: { maxAge: NaN } }],
  ['cookie a string', { cookie: 'secure' }],
]

// Values both refuse at startup.
const bothThrow = [
  ['unset "remove"', { unset: 'remove' }],
  ['unset true', { unset: true }],
  ['genid a string', { genid: 'x' }],
  ['secret []', { secret: [] }],
]

describe('option values: the same meaning as express-session, which is the oracle', () => {
  // A third entry limits the comparison to the first two requests: with maxAge or expires given as false or
  // "", express-session re-sends the (browser-session) cookie on every change after the first, where
  // sessionkit sends it once, as for null.
  for (const [label, options, steps = 5] of same) {
    test(label, async () => {
      const given = { ...base, ...options }
      if (given.secret === 'omit') delete given.secret
      const expected = await theirs(given, steps)
      assert.equal(expected.starts, true, `express-session starts with ${label}`)
      assert.deepEqual(await ours(given, steps), expected)
    })
  }

  for (const [label, options] of failEarlier) {
    test(`${label}: express-session fails at the request, sessionkit at startup`, async () => {
      const given = { ...base, ...options }
      const expected = await theirs(given, 2)
      const counted = expected.responses?.find((response) => response.path === '/count')
      assert.ok(!expected.starts || counted.status === 'no answer' || counted.status >= 500 || counted.cookies.length === 0, `express-session fails with ${label}: ${JSON.stringify(expected)}`)
      const seen = await ours(given, 2)
      assert.equal(seen.starts, false)
      assert.match(seen.error, /^sessionkit: /)
    })
  }

  for (const [label, options] of bothThrow) {
    test(`${label}: both refuse it at startup`, async () => {
      const given = { ...base, ...options }
      assert.equal((await theirs(given, 2)).starts, false)
      assert.equal((await ours(given, 2)).starts, false)
    })
  }

  // The one deliberate difference: a secret given but empty is most likely an unset environment variable.
  test('secret given as undefined, null or "": sessionkit refuses to start, naming the likely cause', async () => {
    for (const secret of [undefined, null, '']) {
      const given = { ...base, secret }
      assert.equal((await theirs(given, 2)).starts, true)
      const seen = await ours(given, 2)
      assert.equal(seen.starts, false)
      assert.match(seen.error, /secret option is .*environment variable.*SESSION_SECRET.*leave the option out/)
    }
  })
})

describe('keys sessionkit does not know', () => {
  const before = () => warnings.length
  // process.emitWarning delivers on a later tick.
  const since = async (start) => {
    await new Promise((resolve) => setImmediate(resolve))
    return warnings.slice(start).map((warning) => warning.message)
  }

  test('are ignored without a word, as express-session ignores them: Sails keeps its own in the same object', async () => {
    const start = before()
    const sails = {
      adapter: 'memory',
      isSessionDisabled: () => false,
      handleConstructingSessionStore: () => {},
      routesDisabled: [],
      url: 'redis://127.0.0.1',
      host: '127.0.0.1',
      port: 6379,
      pass: '',
      db: 0,
      prefix: 'sess:',
      client: null,
      onRedisDisconnect: () => {},
      ttl: 3600,
      cookie: { maxAge: 86_400_000, comment: 'an attribute of its own' },
    }
    session({ ...base, ...sails })
    assert.deepEqual(await since(start), [])
  })

  test('a near miss of an option is reported once, naming the option meant', async () => {
    const start = before()
    session({ ...base, saveUnitialized: false, resaves: false })
    session({ ...base, saveUnitialized: false })
    const said = await since(start)
    assert.equal(said.length, 2, said.join('\n'))
    assert.match(said[0], /option "saveUnitialized" is not a session\(\) option and is ignored; did you mean "saveUninitialized"\?/)
    assert.match(said[1], /option "resaves" .* did you mean "resave"\?/)
  })

  test('a cookie attribute at the top level is reported as belonging in cookie', async () => {
    const start = before()
    session({ ...base, maxAge: 1000 })
    assert.match((await since(start)).join('\n'), /option "maxAge" is not a session\(\) option and is ignored; it is a cookie attribute: session\(\{ cookie: \{ maxAge \} \}\)/)
  })

  test('a near miss of a cookie attribute is reported once, naming the attribute meant', async () => {
    const start = before()
    session({ ...base, cookie: { maxage: 1000, httponly: false, sameSit: 'lax' } })
    session({ ...base, cookie: { maxage: 1000 } })
    const said = await since(start)
    assert.equal(said.length, 3, said.join('\n'))
    assert.match(said[0], /cookie attribute "maxage" is not one sessionkit knows and is ignored; did you mean "maxAge"\?/)
    assert.match(said[1], /"httponly".*"httpOnly"/)
    assert.match(said[2], /"sameSit".*"sameSite"/)
  })

  test('a near miss does nothing but warn: the option meant keeps its default', async () => {
    const { base: url, close } = await listen(
      express()
        .use(session({ ...base, cookie: { maxage: 60_000 } }))
        .get('/', (req, res) => res.send(String((req.session.n = 1)))),
    )
    try {
      const res = await request(url, '/')
      assert.equal(res.setCookies.length, 1)
      assert.doesNotMatch(res.setCookies[0], /Expires/)
    } finally {
      await close()
    }
  })
})
