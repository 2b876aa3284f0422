// One table of guarantees, run against every adapter: the same cases, each a function of a running
// app, for Express, sessionkit/web, sessionkit/hono, sessionkit/fastify and sessionkit/koa. Where an
// adapter's library differs by design, its row says so (`differs`, with the reason) and the case
// asserts what that adapter does instead; where a case cannot apply (no cookie mode), `notHere` says
// why. Nothing is left out without a word, so an adapter cannot silently lack a guarantee.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createClient } from 'redis'
import { RedisStore } from 'sessionkit/redis'
import { parseSetCookie } from './support/http.mjs'
import { Jar } from './support/koa-harness.mjs'
import { requireService } from './support/services.mjs'
import { expiryOf, expressApp, fastifyApp, honoApp, koaApp, RecordingStore, webApp } from './support/adapter-apps.mjs'

/** Short, so that the never-answering store is waited out quickly. */
const STORE_TIMEOUT = 500
/** What a 503 for a silent store may take beyond storeTimeout on a busy machine. */
const MARGIN = 1500

// The Redis on 127.0.0.1:6379, for the one case that runs on a real networked store; every key this
// file writes is under a prefix of its own, removed at the end.
const { skip: noRedis } = await requireService('redis')
const PREFIX = `sessionkit-table:${process.pid}-${Date.now().toString(36)}:`
const redis = noRedis ? undefined : createClient({ url: 'redis://127.0.0.1:6379' })
before(() => redis?.connect())
after(async () => {
  if (redis === undefined) return
  await Promise.all((await redisKeys({ prefix: PREFIX })).map((key) => redis.del(key)))
  await redis.close()
})

/** The keys under an app's Redis prefix. */
async function redisKeys(app) {
  const found = []
  for await (const keys of redis.scanIterator({ MATCH: `${app.prefix}*` })) found.push(...keys)
  return found
}

const ADAPTERS = [
  { name: 'express', build: expressApp, cookieMode: true },
  { name: 'web', build: webApp, cookieMode: true },
  { name: 'hono', build: honoApp, cookieMode: true },
  { name: 'fastify', build: fastifyApp, cookieMode: false },
  { name: 'koa', build: koaApp, cookieMode: true },
  // The same adapter with a store of koa-session's own shape, as a koa-session app has one.
  { name: 'koa+koa-store', build: koaApp, cookieMode: false, shape: (store) => store.koaShaped() },
]

/** One request, with an upper bound on the wait so that a hang fails the case instead of the run. */
async function send(base, path, { cookie, timeout = STORE_TIMEOUT + MARGIN } = {}) {
  const started = Date.now()
  const response = await fetch(base + path, { headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(timeout) })
  const text = await response.text()
  return { status: response.status, text, setCookies: response.headers.getSetCookie(), cacheControl: response.headers.get('cache-control'), ms: Date.now() - started }
}

/** Sends `path` with the jar's cookies, and keeps what comes back. */
async function browse(app, path, jar) {
  const response = await send(app.base, path, { cookie: jar.header || undefined })
  jar.take(response.setCookies)
  return response
}

/** A jar that has been through `/count` once: a stored session with n = 1. */
async function counted(app) {
  const jar = new Jar()
  const first = await browse(app, '/count', jar)
  assert.equal(first.status, 200)
  assert.equal(first.text, '1')
  assert.ok(jar.header, 'the first count sets the session cookie')
  return jar
}

/** A stored session read once more: the response, and how many store writes it made, after the response too. */
async function readBack(app) {
  const jar = await counted(app)
  const sets = app.store.calls.set
  const read = await browse(app, '/read', jar)
  assert.equal(read.text, '1')
  await pause(100)
  return { read, written: app.store.calls.set - sets }
}

/** From a jar at n = 1, two more counts and a read: the session keeps counting with its cookie. */
async function countsOn(app, jar) {
  assert.equal((await browse(app, '/count', jar)).text, '2')
  assert.equal((await browse(app, '/count', jar)).text, '3')
  assert.equal((await browse(app, '/read', jar)).text, '3')
}

/** The jar's cookies with one character in the middle of each value changed: what no key signed or sealed. */
function tampered(jar) {
  return [...jar.cookies]
    .map(([name, value]) => {
      let at = Math.floor(value.length / 2)
      while (at < value.length && !/[A-Za-z0-9]/.test(value[at])) at++
      const swapped = value[at] === 'a' ? 'b' : 'a'
      return `${name}=${value.slice(0, at)}${swapped}${value.slice(at + 1)}`
    })
    .join('; ')
}

/** Cookie headers that no key signed or sealed: the jar's values altered, and values not even well formed. */
function forgeries(jar) {
  const names = [...jar.cookies.keys()]
  const malformed = ['%E0%A4%A', '"unterminated', 'x'.repeat(4000), '.', '%00%0D%0A']
  return [tampered(jar), ...malformed.map((value) => names.map((name) => `${name}=${value}`).join('; '))]
}

/** Each forged cookie gets a 200 with a fresh session and its cookie; the jar's own session is untouched. */
async function forgedAreFresh(app, jar, n) {
  for (const cookie of forgeries(jar)) {
    const forged = await send(app.base, '/count', { cookie })
    const what = `with ${cookie.slice(0, 60)}`
    assert.equal(forged.status, 200, what)
    assert.equal(forged.text, '1', what)
    assert.ok(forged.setCookies.length > 0, `the fresh session got no cookie ${what}`)
  }
  assert.equal((await browse(app, '/read', jar)).text, String(n))
}

/**
 * Logouts whose store `destroy` fails in each way: a 503 in time, never the success, and the record
 * still there (the store could not remove it); `cookies` checks what the 503 carries.
 */
async function failedLogouts(app, cookies) {
  for (const kind of ['error', 'throw', 'hang']) {
    const jar = await counted(app)
    const id = app.store.written
    app.store.fail('destroy', kind)
    try {
      const out = await send(app.base, '/logout', { cookie: jar.header })
      assert.equal(out.status, 503, kind)
      assert.notEqual(out.text, 'bye', kind)
      assert.ok(out.ms < STORE_TIMEOUT + MARGIN, `${kind}: answered after ${out.ms} ms`)
      cookies(out.setCookies, kind)
    } finally {
      app.store.heal()
    }
    assert.equal(app.store.held(id).n, 1, kind)
  }
}

const cleared = (header) => {
  const cookie = parseSetCookie(header)
  return cookie.value === '' || cookie['max-age'] === '0' || (cookie.expires !== undefined && Date.parse(cookie.expires) <= Date.now())
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `check()` is (or resolves to) true, for at most `ms`. */
async function until(check, ms = 2000) {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) return false
    await pause(10)
  }
  return true
}

/**
 * A case for a store whose `get`, then whose `set`, fails in the way `kind` says: loading a stored
 * session, saving a new one and saving a changed one each give a 503 without a cookie, in time, and
 * never the answer of a success; what the failed save would have written is not stored.
 */
function faultCase(name, kind) {
  const failing = async (app, method, path, cookie, success) => {
    app.store.fail(method, kind)
    try {
      const response = await send(app.base, path, { cookie })
      const what = `${method} failing on ${path}${cookie ? ' with a session' : ''}`
      assert.equal(response.status, 503, what)
      assert.deepEqual(response.setCookies, [], what)
      assert.notEqual(response.text, success, what)
      assert.ok(response.ms < STORE_TIMEOUT + MARGIN, `${what}: answered after ${response.ms} ms`)
    } finally {
      app.store.heal()
    }
  }
  return {
    name,
    config: 'store',
    async run(app) {
      const jar = await counted(app)
      await failing(app, 'get', '/read', jar.header, '1')
      await failing(app, 'set', '/count', undefined, '1')
      await failing(app, 'set', '/count', jar.header, '2')
      assert.equal((await browse(app, '/read', jar)).text, '1')
    },
  }
}

/** Why Koa's rows report no events of sessionkit's. */
const KOA_EVENTS = { why: 'koa-session reports on the app (session:missed, session:invalid, session:expired), not through a hub', run: (app) => assert.equal(app.events, undefined) }

/**
 * The events case of one mode: a new session, a tampered cookie, a logout, and the logged-out
 * cookie once more report `expected`, in that order, to the adapter's hub.
 */
function eventsCase(config, expected) {
  return {
    name: `${config === 'cookie' ? 'cookie mode: ' : ''}events: ${expected.join(', ')}`,
    config,
    async run(app) {
      assert.ok(app.events, 'the adapter has no event hub')
      app.events.length = 0
      const jar = await counted(app)
      await send(app.base, '/read', { cookie: tampered(jar) })
      await send(app.base, '/logout', { cookie: jar.header })
      await send(app.base, '/read', { cookie: jar.header })
      assert.deepEqual(
        app.events.map((event) => event.split(':')[0]),
        expected,
      )
    },
    differs: {
      fastify: { why: '@fastify/session has no event hub, and sessionkit/fastify adds none', run: (app) => assert.equal(app.events, undefined) },
      koa: KOA_EVENTS,
      'koa+koa-store': KOA_EVENTS,
    },
  }
}

/** A visit in one mode: every response that sets the cookie keeps it from shared caches. */
function privateCase(config) {
  return {
    name: `${config === 'cookie' ? 'cookie mode: ' : ''}every response that sets the cookie is Cache-Control: private`,
    config,
    async run(app) {
      const jar = new Jar()
      let withCookie = 0
      for (const path of ['/count', '/read', '/count', '/logout']) {
        const response = await browse(app, path, jar)
        if (response.setCookies.length === 0) continue
        withCookie++
        assert.match(response.cacheControl ?? '', /\bprivate\b/, `${path}: Cache-Control ${response.cacheControl}`)
      }
      assert.ok(withCookie >= 2, 'the visit set no cookie')
    },
  }
}

/**
 * The cases. `config`: the app they need ('store' with the recording store, 'cookie' for the cookie
 * mode, 'redis' with sessionkit/redis). `differs`: per adapter, why its library behaves otherwise,
 * and the run that asserts what it does instead.
 */
const CASES = [
  {
    name: 'a session the app never changes sends no Set-Cookie and stores nothing',
    config: 'store',
    async run(app) {
      const { store } = app
      const size = store.records.size
      const sets = store.calls.set
      for (const path of ['/noop', '/read']) {
        const response = await send(app.base, path)
        assert.equal(response.status, 200)
        assert.deepEqual(response.setCookies, [], `${path} set a cookie`)
      }
      await pause(50)
      assert.equal(store.records.size, size)
      assert.equal(store.calls.set, sets)
    },
  },
  {
    name: 'the counter keeps counting with the cookie, and the store holds it',
    config: 'store',
    async run(app) {
      const jar = await counted(app)
      const id = app.store.written
      await countsOn(app, jar)
      assert.equal(app.store.held(id).n, 3)
    },
  },
  {
    name: 'an unchanged session is not written again, and its cookie not sent again',
    config: 'store',
    async run(app) {
      const { read, written } = await readBack(app)
      assert.deepEqual(read.setCookies, [])
      assert.equal(written, 0)
    },
    differs: {
      fastify: {
        why: "@fastify/session's `rolling` defaults to true: every response writes the session back and sends its cookie",
        async run(app) {
          const { read, written } = await readBack(app)
          assert.equal(read.setCookies.length, 1)
          assert.equal(written, 1)
        },
      },
    },
  },
  {
    name: "a read-only request moves the stored session's expiry, after the response",
    config: 'store',
    async run(app) {
      const jar = await counted(app)
      const id = app.store.written
      const before = expiryOf(app.store.held(id))
      assert.ok(before > Date.now())
      await pause(30)
      assert.equal((await browse(app, '/read', jar)).text, '1')
      assert.ok(await until(() => expiryOf(app.store.held(id)) > before), 'the expiry did not move')
      assert.equal(app.store.held(id).n, 1)
    },
    differs: {
      'koa+koa-store': {
        why: 'koa-session writes an unchanged session to its store only with `rolling` or `renew`; its stores have no touch',
        async run(app) {
          const jar = await counted(app)
          const id = app.store.written
          const before = expiryOf(app.store.held(id))
          const sets = app.store.calls.set
          await pause(30)
          assert.equal((await browse(app, '/read', jar)).text, '1')
          await pause(200)
          assert.equal(expiryOf(app.store.held(id)), before)
          assert.equal(app.store.calls.set, sets)
        },
      },
    },
  },
  faultCase('a store that answers with an error gives a 503 and no Set-Cookie, never the success', 'error'),
  faultCase('a store that throws gives a 503 and no Set-Cookie, never a crash', 'throw'),
  faultCase('a store that never answers gives a 503 within storeTimeout, never a hang', 'hang'),
  {
    name: 'a tampered or malformed cookie gets a 200 and a fresh session; the real one is untouched',
    config: 'store',
    async run(app) {
      await forgedAreFresh(app, await counted(app), 1)
    },
  },
  {
    name: 'logout clears the cookie and removes the record',
    config: 'store',
    async run(app) {
      const jar = await counted(app)
      const id = app.store.written
      const old = jar.header
      const out = await send(app.base, '/logout', { cookie: old })
      assert.equal(out.status, 200)
      assert.equal(out.text, 'bye')
      assert.ok(out.setCookies.length > 0 && out.setCookies.every(cleared), `no clearing cookie: ${out.setCookies}`)
      assert.equal(app.store.held(id), undefined)
      assert.equal((await send(app.base, '/read', { cookie: old })).text, 'none')
    },
  },
  {
    name: "a store whose destroy fails: logout answers 503 in time, never the success; the client's cookie is cleared",
    config: 'store',
    // The session is over for this client once the app asked to end it, whatever the store answered.
    run: (app) => failedLogouts(app, (setCookies, kind) => assert.ok(setCookies.length > 0 && setCookies.every(cleared), `${kind}: ${setCookies}`)),
    differs: {
      web: {
        why: 'handle() commits nothing when the handler throws: the error reaches the server as it is, without a cookie',
        run: (app) => failedLogouts(app, (setCookies, kind) => assert.deepEqual(setCookies, [], kind)),
      },
      koa: { why: "Koa's error response drops every header set before it, the clearing cookie too", run: (app) => failedLogouts(app, (setCookies, kind) => assert.deepEqual(setCookies, [], kind)) },
      'koa+koa-store': { why: "Koa's error response drops every header set before it, the clearing cookie too", run: (app) => failedLogouts(app, (setCookies, kind) => assert.deepEqual(setCookies, [], kind)) },
    },
  },
  {
    name: 'a touch that fails after the response leaves the response alone',
    config: 'store',
    async run(app) {
      for (const kind of ['error', 'throw', 'hang']) {
        const jar = await counted(app)
        const touches = app.store.calls.touch
        app.store.fail('touch', kind)
        try {
          const read = await send(app.base, '/read', { cookie: jar.header })
          assert.equal(read.status, 200, kind)
          assert.equal(read.text, '1', kind)
          // Sooner than a touch that never answers could time out: the response did not wait for it.
          assert.ok(read.ms < STORE_TIMEOUT, `${kind}: answered after ${read.ms} ms`)
          assert.ok(await until(() => app.store.calls.touch > touches), `${kind}: no touch was tried`)
        } finally {
          app.store.heal()
        }
      }
    },
    differs: {
      fastify: {
        why: "with @fastify/session's default `rolling: true` the expiry moves by a save before the response, so a failing one fails the request, as any failed save",
        async run(app) {
          const jar = await counted(app)
          app.store.fail('set', 'error')
          try {
            const read = await send(app.base, '/read', { cookie: jar.header })
            assert.equal(read.status, 503)
            assert.deepEqual(read.setCookies, [])
          } finally {
            app.store.heal()
          }
        },
      },
      'koa+koa-store': {
        why: 'koa-session moves nothing after a read without `rolling` or `renew`: there is no touch to fail',
        async run(app) {
          const { read, written } = await readBack(app)
          assert.equal(read.status, 200)
          assert.equal(written, 0)
        },
      },
    },
  },
  eventsCase('store', ['created', 'tampered', 'destroyed', 'expired']),
  privateCase('store'),
  privateCase('cookie'),
  eventsCase('cookie', ['created', 'tampered', 'destroyed']),
  {
    name: 'on sessionkit/redis: the counter counts, a read moves the TTL, logout removes the key',
    config: 'redis',
    async run(app) {
      const jar = await counted(app)
      const keys = await redisKeys(app)
      assert.equal(keys.length, 1)
      const [key] = keys
      await countsOn(app, jar)
      await pause(50)
      const ttl = await redis.pTTL(key)
      assert.ok(ttl > 0 && ttl <= 60_000, `TTL ${ttl}`)
      await pause(50)
      assert.equal((await browse(app, '/read', jar)).text, '3')
      assert.ok(await until(async () => (await redis.pTTL(key)) > ttl), 'the TTL did not move')
      const out = await browse(app, '/logout', jar)
      assert.equal(out.text, 'bye')
      assert.ok(out.setCookies.every(cleared))
      assert.deepEqual(await redisKeys(app), [])
    },
  },
  {
    name: 'cookie mode: a session too large for its cookie gives a 500 and no Set-Cookie, never the success',
    config: 'cookie',
    async run(app) {
      const jar = await counted(app)
      const big = await send(app.base, '/big', { cookie: jar.header })
      assert.equal(big.status, 500)
      assert.deepEqual(big.setCookies, [])
      assert.notEqual(big.text, 'big')
      assert.equal((await browse(app, '/read', jar)).text, '1')
    },
  },
  {
    name: 'cookie mode: the counter keeps counting in the cookie alone',
    config: 'cookie',
    async run(app) {
      await countsOn(app, await counted(app))
    },
  },
  {
    name: 'cookie mode: a tampered or malformed cookie gets a 200 and a fresh session',
    config: 'cookie',
    async run(app) {
      const jar = await counted(app)
      await browse(app, '/count', jar)
      await forgedAreFresh(app, jar, 2)
    },
  },
]

/** Why a cookie-mode case cannot run on an adapter without a cookie mode. */
const NO_COOKIE_MODE = {
  fastify: '@fastify/session has no cookie mode: its sessions always live in a store',
  'koa+koa-store': "koa's cookie mode is the koa row's (no store); this row is about the store's shape",
}

/** Why a case of `config` cannot run on `adapter`, or undefined when it can. */
function notHere(config, adapter) {
  if (config === 'cookie' && !adapter.cookieMode) return NO_COOKIE_MODE[adapter.name]
  if (config !== 'redis') return undefined
  if (adapter.shape) return 'sessionkit/redis is an express-session store: the koa row runs it'
  return noRedis || undefined
}

for (const adapter of ADAPTERS) {
  describe(adapter.name, () => {
    const apps = {}
    before(async () => {
      const store = new RecordingStore()
      const app = await adapter.build({ store: adapter.shape ? adapter.shape(store) : store, storeTimeout: STORE_TIMEOUT })
      apps.store = { ...app, store }
      if (adapter.cookieMode) apps.cookie = await adapter.build({})
      if (!adapter.shape && !noRedis) {
        const prefix = `${PREFIX}${adapter.name}:`
        apps.redis = { ...(await adapter.build({ store: new RedisStore({ client: redis, prefix }) })), prefix }
      }
    })
    after(async () => {
      for (const app of Object.values(apps)) await app.close()
    })
    for (const testCase of CASES) {
      const differs = testCase.differs?.[adapter.name]
      const none = notHere(testCase.config, adapter)
      if (none !== undefined) {
        it(testCase.name, { skip: `does not apply: ${none}` }, () => {})
      } else if (differs !== undefined) {
        it(`${testCase.name} (differs: ${differs.why})`, () => differs.run(apps[testCase.config]))
      } else {
        it(testCase.name, () => testCase.run(apps[testCase.config]))
      }
    }
  })
}
