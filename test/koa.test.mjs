// sessionkit/koa: koa-session 7's set-up and ctx.session over sessionkit's engine. koa-session's README
// example runs with only its import line changed; the same requests against the real koa-session and
// sessionkit/koa give the same statuses, bodies, cookie names and attributes, and store contents (the
// differences are asserted as such); cookies and store records the real koa-session wrote open the
// same session; a tampered cookie gives a fresh one; a failing or silent store gives an error status.
// Ports 7440-7449 only (test/support/koa-harness.mjs).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { createRequire } from 'node:module'
import { afterEach, describe, test } from 'node:test'
import Koa from 'koa'
import realSession from 'koa-session'
import { MemoryStore } from 'sessionkit'
import { parseSetCookie } from './support/http.mjs'
import { browse, cookieShape, Jar, KoaShapedStore, send, serve } from './support/koa-harness.mjs'

const require = createRequire(import.meta.url)
const { default: ourSession } = await import('sessionkit/koa')

const KEYS = ['koa keys one', 'koa keys two']
const open = []
afterEach(() => Promise.all(open.splice(0).map((server) => server.close())))

async function start(app, options) {
  const server = await serve(app.callback(), options)
  open.push(server)
  return server.base
}

/** A Koa app with `app.keys`, the session middleware made by `factory(options, app)`, and `routes`. */
function koaApp(factory, options, routes) {
  const app = new Koa()
  app.keys = KEYS
  app.use(factory(options, app))
  app.use(async (ctx, next) => {
    const route = routes[ctx.path]
    if (route === undefined) return next()
    await route(ctx)
  })
  return app
}

/** What a response shows a user: status, body, and each Set-Cookie's shape, `.sig` cookies apart. */
function observed(response) {
  const shapes = response.setCookies.map(cookieShape)
  return { status: response.status, text: response.text, cookies: shapes.filter((c) => !c.name.endsWith('.sig')), sigs: shapes.filter((c) => c.name.endsWith('.sig')), raw: response.setCookies }
}

/** Runs `paths` in order, with one browser, against the app `build(factory)` makes under each package. */
async function sideBySide(build, paths) {
  const results = {}
  for (const [label, factory] of [['koa-session', realSession], ['sessionkit/koa', ourSession]]) {
    const { app, store } = build(factory)
    const base = await start(app)
    const jar = new Jar()
    results[label] = { steps: [], store }
    for (const path of paths) results[label].steps.push(observed(await browse(base, path, jar)))
  }
  return { theirs: results['koa-session'], ours: results['sessionkit/koa'] }
}

/** The steps without what differs by design: koa-session's `.sig` cookies, and the cookies' values. */
const withoutSigs = (steps) => steps.map(({ sigs, raw, ...rest }) => rest)

// --- the README -----------------------------------------------------------------------------------

/** The code of the example under `## Example` in koa-session's own README. */
function readmeExample() {
  const readme = readFileSync(require.resolve('koa-session').replace(/dist[/\\].*$/, 'Readme.md'), 'utf8')
  const at = readme.indexOf('## Example')
  assert.notEqual(at, -1, "koa-session's README has its Example")
  const start = readme.indexOf('```js\n', at) + 6
  return readme.slice(start, readme.indexOf('\n```', start))
}

/**
 * Runs the README example with `from 'koa-session'` changed to `moduleName` and no other line changed.
 * Its `import X from 'y'` lines become awaited loads (the same rewrite for both packages), `Koa` is the
 * real Koa whose `listen` is kept from binding port 3000, and its console output is dropped. Returns the app.
 */
async function runReadme(code, moduleName) {
  const changed = code.replace("from 'koa-session'", `from '${moduleName}'`)
  const differing = changed.split('\n').filter((line, index) => line !== code.split('\n')[index])
  assert.equal(differing.length, moduleName === 'koa-session' ? 0 : 1, 'only the import line changes')
  const runnable = changed.replace(/^import (\w+) from '([^']+)';?$/gm, "const $1 = (await load('$2')).default;")
  let app
  class ExampleKoa extends Koa {
    constructor(...args) {
      super(...args)
      app = this
    }
    listen() {}
  }
  const load = async (id) => (id === 'koa' ? { default: ExampleKoa } : import(id))
  const AsyncFunction = (async () => {}).constructor
  await new AsyncFunction('load', 'console', runnable)(load, { log() {}, warn() {} })
  return app
}

describe("koa-session's README example, with only the import changed", () => {
  test('koa-session 7.0.2 itself refuses the example as written (sameSite: null); sessionkit/koa runs it', async () => {
    const code = readmeExample()
    assert.match(code, /sameSite: null/)
    await assert.rejects(runReadme(code, 'koa-session'), /Expected string, received null/)
    const app = await runReadme(code, 'sessionkit/koa')
    const base = await start(app, { tls: true })
    const jar = new Jar()
    const texts = []
    for (let i = 0; i < 3; i++) texts.push((await browse(base, '/', jar)).text)
    assert.deepEqual(texts, ['1 views', '2 views', '3 views'])
  })

  test('the example over HTTPS: the same bodies and cookie attributes as koa-session (sameSite line dropped for it)', async () => {
    const code = readmeExample()
    const runs = {}
    for (const moduleName of ['koa-session', 'sessionkit/koa']) {
      const source = moduleName === 'koa-session' ? code.replace(/^.*sameSite: null.*\n/m, '') : code
      const app = await runReadme(source, moduleName)
      const base = await start(app, { tls: true })
      const jar = new Jar()
      runs[moduleName] = []
      for (const path of ['/', '/', '/favicon.ico', '/']) runs[moduleName].push(observed(await browse(base, path, jar)))
    }
    const ours = runs['sessionkit/koa']
    const theirs = runs['koa-session']
    assert.deepEqual(ours.map((s) => s.text), ['1 views', '2 views', 'Not Found', '3 views'])
    assert.deepEqual(withoutSigs(ours), withoutSigs(theirs))
    const first = parseSetCookie(ours[0].raw[0])
    assert.equal(first.name, 'koa.sess')
    assert.doesNotMatch(Buffer.from(first.value, 'base64').toString('latin1'), /views/, 'the data is sealed, not base64 JSON')
    // Differs by design: koa-session signs with a second cookie; sessionkit's sealed value needs none.
    assert.deepEqual(theirs[0].sigs.map((c) => c.name), ['koa.sess.sig'])
    assert.deepEqual(ours[0].sigs, [])
  })
})

// --- cookie mode side by side ---------------------------------------------------------------------

const counter = {
  '/': (ctx) => {
    ctx.session.views = (ctx.session.views || 0) + 1
    ctx.body = `${ctx.session.views} views`
  },
  '/look': (ctx) => {
    ctx.body = `${ctx.session.views ?? 'none'} ${ctx.session.isNew}`
  },
  '/logout': (ctx) => {
    ctx.session = null
    ctx.body = 'bye'
  },
  '/replace': (ctx) => {
    ctx.session = { views: 100 }
    ctx.body = 'replaced'
  },
  '/untouched': (ctx) => {
    ctx.body = 'untouched'
  },
  '/boom': (ctx) => {
    ctx.session.views = 999
    ctx.throw(418, 'teapot')
  },
}

describe('the whole session in the cookie, side by side with koa-session', () => {
  test('session(app) with every default: counting, null, replacing, untouched requests', async () => {
    const { theirs, ours } = await sideBySide((factory) => ({ app: koaApp((_opts, app) => factory(app), undefined, counter) }), ['/look', '/', '/', '/untouched', '/look', '/replace', '/', '/logout', '/look', '/'])
    assert.deepEqual(ours.steps.map((s) => s.text), ['none true', '1 views', '2 views', 'untouched', '2 false', 'replaced', '101 views', 'bye', 'none true', '1 views'])
    // Differs on purpose: koa-session's default maxAge (a day) reaches the cookie only once a session
    // comes back from the cookie it was saved in, so a new session's first cookie has no Expires;
    // sessionkit/koa gives every cookie of a session the same day.
    const lifetimes = (steps) => steps.flatMap((step) => step.cookies.filter((c) => !c.cleared).map((c) => c.expiresIn))
    assert.deepEqual(lifetimes(ours.steps), [1440, 1440, 1440, 1440, 1440])
    assert.deepEqual(lifetimes(theirs.steps), [undefined, 1440, undefined, 1440, undefined], 'and again after ctx.session = {...}')
    const withoutExpiry = (steps) => withoutSigs(steps).map((step) => ({ ...step, cookies: step.cookies.map(({ expiresIn, ...c }) => c) }))
    assert.deepEqual(withoutExpiry(ours.steps), withoutExpiry(theirs.steps))
    const set = ours.steps[1].cookies[0]
    assert.deepEqual({ name: set.name, path: set.path, httponly: set.httponly }, { name: 'koa.sess', path: '/', httponly: true })
  })

  test("maxAge: 'session', key, sameSite, rolling and renew behave as in koa-session", async () => {
    const options = { key: 'app.sid', maxAge: 'session', sameSite: 'lax', rolling: true }
    const { theirs, ours } = await sideBySide((factory) => ({ app: koaApp(factory, { ...options }, counter) }), ['/', '/look', '/untouched', '/logout'])
    // Differs on purpose: with rolling, koa-session re-sends a cookie session only when the request read
    // ctx.session; sessionkit/koa re-sends it on every response, as rolling says.
    assert.deepEqual(theirs.steps[2].cookies, [])
    assert.deepEqual(ours.steps[2].cookies.map((c) => [c.name, c.cleared]), [['app.sid', false]])
    theirs.steps[2].cookies = ours.steps[2].cookies
    assert.deepEqual(withoutSigs(ours.steps), withoutSigs(theirs.steps))
    assert.equal(ours.steps[0].cookies[0].expiresIn, undefined, 'a browser-session cookie has no Expires')
    assert.equal(ours.steps[0].cookies[0].samesite, 'lax')
  })

  test('ctx.session.maxAge set by the app changes this and later cookies, and save() forces a cookie', async () => {
    const routes = {
      ...counter,
      '/remember': (ctx) => {
        ctx.session.user = 'ada'
        ctx.session.maxAge = 3_600_000
        ctx.body = `${ctx.session.maxAge}`
      },
      '/save': async (ctx) => {
        await ctx.session.save()
        ctx.body = 'saved'
      },
    }
    const { theirs, ours } = await sideBySide((factory) => ({ app: koaApp(factory, { maxAge: 86_400_000 }, routes) }), ['/save', '/remember', '/', '/look'])
    assert.deepEqual(ours.steps.map((s) => s.text), ['saved', '3600000', '1 views', '1 false'])
    assert.deepEqual(withoutSigs(ours.steps), withoutSigs(theirs.steps))
    assert.equal(ours.steps[1].cookies[0].expiresIn, 60)
    assert.equal(ours.steps[2].cookies[0].expiresIn, 60, 'the maxAge the session carries is kept')
  })

  test('autoCommit: false sends nothing until manuallyCommit(); a thrown error still commits with autoCommit', async () => {
    const routes = {
      '/manual': async (ctx) => {
        ctx.session.views = 1
        if (ctx.query.commit) await ctx.session.manuallyCommit()
        ctx.body = 'ok'
      },
    }
    const { theirs, ours } = await sideBySide((factory) => ({ app: koaApp(factory, { autoCommit: false, maxAge: 86_400_000 }, routes) }), ['/manual', '/manual?commit=1'])
    assert.deepEqual(ours.steps.map((s) => s.cookies.length), [0, 1])
    assert.deepEqual(withoutSigs(ours.steps), withoutSigs(theirs.steps))
    const thrown = await sideBySide((factory) => ({ app: koaApp(factory, { maxAge: 86_400_000 }, counter) }), ['/boom', '/look'])
    assert.deepEqual(withoutSigs(thrown.ours.steps), withoutSigs(thrown.theirs.steps))
    assert.equal(thrown.ours.steps[0].status, 418)
  })
})

// --- an external store side by side -----------------------------------------------------------------

describe('an external store of koa-session shape, side by side with koa-session', () => {
  const storeRoutes = {
    ...counter,
    '/key': (ctx) => {
      ctx.body = String(typeof ctx.session.externalKey)
    },
    '/regenerate': async (ctx) => {
      const before = ctx.session.externalKey
      ctx.session.user = 'ada'
      await ctx.session.regenerate()
      ctx.body = String(before !== ctx.session.externalKey)
    },
  }

  test('counting, externalKey, null and regenerate: the same responses, and the store holds the same', async () => {
    const build = (factory) => {
      const store = new KoaShapedStore()
      return { app: koaApp(factory, { store, maxAge: 86_400_000 }, storeRoutes), store }
    }
    const { theirs, ours } = await sideBySide(build, ['/look', '/', '/', '/key', '/regenerate', '/look', '/logout', '/look'])
    assert.deepEqual(ours.steps.map((s) => s.text), ['none true', '1 views', '2 views', 'string', 'true', '2 false', 'bye', 'none true'])
    // Differs on purpose: after regenerate(), koa-session's ctx.session.externalKey still names the
    // destroyed key; sessionkit/koa's names the new one.
    assert.equal(theirs.steps[4].text, 'false')
    theirs.steps[4].text = 'true'
    assert.deepEqual(withoutSigs(ours.steps), withoutSigs(theirs.steps))
    assert.deepEqual(ours.store.held(), theirs.store.held(), 'the store holds the same records')
    assert.deepEqual(ours.store.held(), [])
    // koa-session's store contract: set's maxAge is the cookie's plus ten seconds, with rolling and ctx.
    const sets = ours.store.calls.filter((c) => c.method === 'set')
    assert.ok(sets.length > 0)
    for (const call of sets) assert.deepEqual({ maxAge: call.maxAge, rolling: call.rolling, hasCtx: call.hasCtx }, { maxAge: 86_410_000, rolling: false, hasCtx: true })
  })

  test('rolling: every response saves the unchanged session (changed: false) and sends the cookie', async () => {
    const build = (factory) => {
      const store = new KoaShapedStore()
      return { app: koaApp(factory, { store, rolling: true, maxAge: 86_400_000 }, counter), store }
    }
    const { theirs, ours } = await sideBySide(build, ['/', '/look', '/look'])
    assert.deepEqual(ours.steps.map((s) => s.cookies.length), [1, 1, 1])
    assert.deepEqual(withoutSigs(ours.steps), withoutSigs(theirs.steps))
    const writes = (store) => store.calls.filter((c) => c.method === 'set').map((c) => [c.changed, c.rolling, c.maxAge])
    assert.deepEqual(writes(ours.store), [[true, true, 86_410_000], [false, true, 86_410_000], [false, true, 86_410_000]])
    assert.deepEqual(writes(ours.store), writes(theirs.store))
  })

  test('what the store holds after a visit is koa-session-shaped: the data with _expire and _maxAge', async () => {
    const build = (factory) => {
      const store = new KoaShapedStore()
      return { app: koaApp(factory, { store, maxAge: 86_400_000 }, counter), store }
    }
    const { theirs, ours } = await sideBySide(build, ['/', '/'])
    assert.deepEqual(ours.store.held(), [{ data: { views: 2 }, maxAge: 86_410_000, bookkeeping: { expire: 'number', maxAge: 86_400_000 } }])
    assert.deepEqual(ours.store.held(), theirs.store.held())
  })

  test('an express-session-compatible store (sessionkit MemoryStore) works too, holding its own record shape', async () => {
    const store = new MemoryStore()
    const base = await start(koaApp(ourSession, { store }, counter))
    const jar = new Jar()
    assert.equal((await browse(base, '/', jar)).text, '1 views')
    assert.equal((await browse(base, '/', jar)).text, '2 views')
    const all = await new Promise((resolve, reject) => store.all((err, sessions) => (err ? reject(err) : resolve(sessions))))
    const records = Object.values(all)
    assert.equal(records.length, 1)
    assert.equal(records[0].views, 2)
    assert.equal(records[0].cookie.originalMaxAge, 86_400_000)
  })
})

// --- koa-session's hooks and options ------------------------------------------------------------------

describe("koa-session's hooks and options", () => {
  test('renew: the cookie (and the record) are sent again once less than half the lifetime is left, in both modes', async () => {
    for (const withStore of [true, false]) {
      const runs = {}
      for (const [label, factory] of [['theirs', realSession], ['ours', ourSession]]) {
        const store = new KoaShapedStore()
        const base = await start(koaApp(factory, { ...(withStore ? { store } : {}), maxAge: 1500, renew: true }, counter))
        const jar = new Jar()
        await browse(base, '/', jar)
        const early = await browse(base, '/look', jar)
        await new Promise((resolve) => setTimeout(resolve, 900))
        const setsBefore = store.calls.filter((c) => c.method === 'set').length
        const late = await browse(base, '/look', jar)
        runs[label] = { early: early.setCookies.length, late: late.setCookies.filter((h) => !h.includes('.sig=')).length, text: late.text, sets: store.calls.filter((c) => c.method === 'set').length - setsBefore }
      }
      assert.deepEqual(runs.ours, { early: 0, late: 1, text: '1 false', sets: withStore ? 1 : 0 }, withStore ? 'with a store' : 'in the cookie')
      assert.deepEqual(runs.ours, runs.theirs)
      await Promise.all(open.splice(0).map((server) => server.close()))
    }
  })

  test('ContextStore, genid with prefix, valid, beforeSave and the session:* events', async () => {
    const runs = {}
    for (const [label, factory] of [['theirs', realSession], ['ours', ourSession]]) {
      const records = new Map()
      const seen = []
      class PerRequestStore {
        constructor(ctx) {
          this.path = ctx.path
        }
        async get(key) {
          seen.push(`get ${this.path}`)
          return records.get(key)
        }
        async set(key, sess) {
          seen.push(`set ${this.path}`)
          records.set(key, JSON.parse(JSON.stringify(sess)))
        }
        async destroy(key) {
          records.delete(key)
        }
      }
      const events = []
      const options = {
        ContextStore: PerRequestStore,
        prefix: 'app:',
        valid: (ctx, data) => data.banned !== true,
        beforeSave: (ctx, session) => {
          session.savedAt = 'now'
        },
      }
      const app = koaApp(factory, options, {
        ...counter,
        '/ban': (ctx) => {
          ctx.session.banned = true
          ctx.body = 'banned'
        },
      })
      for (const name of ['missed', 'invalid', 'expired']) app.on(`session:${name}`, ({ key }) => events.push(`${name} ${key === undefined ? '' : key.slice(0, 4)}`))
      const base = await start(app)
      const jar = new Jar()
      const texts = []
      for (const path of ['/', '/', '/ban', '/look']) texts.push((await browse(base, path, jar)).text)
      const stale = await send(base, '/look', { cookie: jar.header.replace(/koa\.sess=[^;]*/, 'koa.sess=gone') })
      await new Promise((resolve) => setImmediate(resolve))
      runs[label] = { texts, seen, events, keys: [...records.keys()].map((key) => key.slice(0, 4)), saved: [...records.values()].map((r) => r.savedAt), staleStatus: stale.status }
    }
    assert.deepEqual(runs.ours.texts, ['1 views', '2 views', 'banned', 'none true'])
    assert.deepEqual(runs.ours.keys, ['app:'])
    assert.deepEqual(runs.ours.saved, ['now'])
    assert.ok(runs.ours.events.includes('invalid app:'), runs.ours.events.join())
    assert.deepEqual({ ...runs.ours, seen: undefined, events: undefined }, { ...runs.theirs, seen: undefined, events: undefined })
    assert.deepEqual(runs.ours.seen.filter((line) => line.startsWith('set')), runs.theirs.seen.filter((line) => line.startsWith('set')))
  })

  test('externalKey: the store key travels in a header of the app\'s choosing, not in a cookie', async () => {
    const runs = {}
    for (const [label, factory] of [['theirs', realSession], ['ours', ourSession]]) {
      const store = new KoaShapedStore()
      const externalKey = {
        get: (ctx) => ctx.get('x-session'),
        set: (ctx, value) => ctx.set('x-session', value),
      }
      const base = await start(koaApp(factory, { store, externalKey }, counter))
      const first = await send(base, '/')
      const key = first.headers['x-session']
      const second = await send(base, '/', { headers: { 'x-session': key } })
      runs[label] = { texts: [first.text, second.text], keyed: typeof key, cookies: [...first.setCookies, ...second.setCookies].filter((h) => !h.includes('.sig=')).length, held: store.held().map((r) => r.data) }
    }
    assert.deepEqual(runs.ours, { texts: ['1 views', '2 views'], keyed: 'string', cookies: 0, held: [{ views: 2 }] })
    assert.deepEqual(runs.ours, runs.theirs)
  })

  test('keys the engine reserves (id, cookie, save) are the app\'s under sessionkit/koa, in both store shapes', async () => {
    const routes = {
      '/set': (ctx) => {
        ctx.session.id = 7
        ctx.session.cookie = 'crumbs'
        ctx.body = 'set'
      },
      '/get': (ctx) => {
        ctx.body = JSON.stringify(ctx.session)
      },
    }
    for (const store of [undefined, new KoaShapedStore(), new MemoryStore()]) {
      const base = await start(koaApp(ourSession, { store }, routes))
      const jar = new Jar()
      await browse(base, '/set', jar)
      assert.deepEqual(JSON.parse((await browse(base, '/get', jar)).text), { id: 7, cookie: 'crumbs' })
      if (store instanceof KoaShapedStore) assert.deepEqual(store.held()[0].data, { id: 7, cookie: 'crumbs' }, 'as koa-session would have stored them')
      await Promise.all(open.splice(0).map((server) => server.close()))
    }
  })

  test('path: the session lives under its path, also for a request without a Host header', async () => {
    const base = await start(koaApp(ourSession, { path: '/app' }, { '/app/count': counter['/'], '/elsewhere': counter['/'] }))
    const inside = await send(base, '/app/count')
    assert.deepEqual(inside.setCookies.map(cookieShape).map((c) => [c.name, c.path]), [['koa.sess', '/app']])
    // Differs on purpose: outside its path ctx.session is a session that is not saved (the browser
    // would not send the cookie there); koa-session would set the cookie for /app from here.
    const outside = await send(base, '/elsewhere')
    assert.equal(outside.text, '1 views')
    assert.deepEqual(outside.setCookies, [])
    const { port } = new URL(base)
    const raw = await new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end('GET /app/count HTTP/1.0\r\n\r\n'))
      let text = ''
      socket.on('data', (chunk) => (text += chunk))
      socket.on('end', () => resolve(text))
      socket.on('error', reject)
    })
    assert.match(raw, /^HTTP\/1\.1 200/)
    assert.match(raw, /set-cookie: koa\.sess=[^;]+; Path=\/app/i)
  })

  test('regenerate() and save() take callbacks too, and regenerate keeps the data under a new cookie', async () => {
    const routes = {
      ...counter,
      '/regenerate': (ctx) =>
        new Promise((resolve, reject) =>
          ctx.session.regenerate((err) => {
            if (err) return reject(err)
            ctx.body = 'regenerated'
            resolve()
          }),
        ),
    }
    const { theirs, ours } = await sideBySide((factory) => ({ app: koaApp(factory, { maxAge: 86_400_000 }, routes) }), ['/', '/regenerate', '/look'])
    assert.deepEqual(ours.steps.map((s) => s.text), ['1 views', 'regenerated', '1 false'])
    assert.deepEqual(withoutSigs(ours.steps), withoutSigs(theirs.steps))
  })
})

// --- moving from koa-session ------------------------------------------------------------------------

describe('moving from koa-session keeps users logged in', () => {
  const who = {
    '/login': (ctx) => {
      ctx.session.user = 'ada'
      ctx.session.cart = [1, 2]
      ctx.body = 'in'
    },
    '/who': (ctx) => {
      ctx.body = JSON.stringify({ user: ctx.session.user ?? null, cart: ctx.session.cart ?? null, isNew: ctx.session.isNew })
    },
    '/add': (ctx) => {
      ctx.session.cart = [...(ctx.session.cart ?? []), 3]
      ctx.body = 'added'
    },
  }

  /** Logs in under the real koa-session and returns the browser's cookies. */
  async function loggedInUnderKoaSession(options) {
    const base = await start(koaApp(realSession, options, who))
    const jar = new Jar()
    await browse(base, '/login', jar)
    assert.deepEqual([...jar.cookies.keys()].sort(), ['koa.sess', 'koa.sess.sig'])
    return jar
  }

  test('a koa-session cookie holding the whole session opens under sessionkit/koa, and is sealed on the first read', async () => {
    const jar = await loggedInUnderKoaSession({})
    const base = await start(koaApp(ourSession, {}, who))
    const first = await browse(base, '/who', jar)
    assert.deepEqual(JSON.parse(first.text), { user: 'ada', cart: [1, 2], isNew: false })
    const set = first.setCookies.map(cookieShape)
    assert.deepEqual(set.map((c) => [c.name, c.cleared]), [['koa.sess', false], ['koa.sess.sig', true]], 'a sealed cookie replaces the pair')
    assert.doesNotMatch(Buffer.from(jar.cookies.get('koa.sess'), 'base64').toString('latin1'), /ada/)
    assert.deepEqual([...jar.cookies.keys()], ['koa.sess'])
    const again = await browse(base, '/who', jar)
    assert.deepEqual(JSON.parse(again.text), { user: 'ada', cart: [1, 2], isNew: false })
    assert.deepEqual(again.setCookies, [], 'an unchanged sealed session sends nothing')
    await browse(base, '/add', jar)
    assert.deepEqual(JSON.parse((await browse(base, '/who', jar)).text), { user: 'ada', cart: [1, 2, 3], isNew: false })
  })

  test('a koa-session external key with its record in a shared store opens the same session; the record stays readable by koa-session', async () => {
    const store = new KoaShapedStore()
    const jar = await loggedInUnderKoaSession({ store })
    const oldKey = [...store.records.keys()][0]
    const theirsBase = await start(koaApp(realSession, { store }, who))
    const base = await start(koaApp(ourSession, { store }, who))
    const oldCookies = jar.header
    assert.deepEqual(JSON.parse((await browse(base, '/who', jar)).text), { user: 'ada', cart: [1, 2], isNew: false })
    const saved = await browse(base, '/add', jar)
    assert.deepEqual(saved.setCookies.map(cookieShape).map((c) => [c.name, c.cleared]), [['koa.sess', false], ['koa.sess.sig', true]], "sessionkit's signed key replaces the pair")
    assert.deepEqual([...jar.cookies.keys()], ['koa.sess'])
    assert.deepEqual([...store.records.keys()], [oldKey], 'the same record, under the same key')
    assert.deepEqual(store.held()[0].data, { user: 'ada', cart: [1, 2, 3] })
    // A process still running koa-session (a rolling deploy) reads what sessionkit/koa wrote.
    assert.deepEqual(JSON.parse((await send(theirsBase, '/who', { cookie: oldCookies })).text), { user: 'ada', cart: [1, 2, 3], isNew: false })
    // And the browser's cookies now open it under sessionkit/koa without koa-session's .sig.
    assert.deepEqual(JSON.parse((await browse(base, '/who', jar)).text), { user: 'ada', cart: [1, 2, 3], isNew: false })
  })

  test('a tampered koa-session cookie gives a fresh session, in both modes', async () => {
    for (const shared of [{}, { store: new KoaShapedStore() }]) {
      // koa-session writes its defaults into the options object it is given: each gets its own.
      const options = () => ({ ...shared })
      const jar = await loggedInUnderKoaSession(options())
      const value = jar.cookies.get('koa.sess')
      jar.cookies.set('koa.sess', value.slice(0, -2) + (value.endsWith('AA') ? 'BB' : 'AA'))
      const base = await start(koaApp(ourSession, options(), who))
      assert.deepEqual(JSON.parse((await browse(base, '/who', jar)).text), { user: null, cart: null, isNew: true })
      const forged = await loggedInUnderKoaSession(options())
      forged.cookies.set('koa.sess.sig', 'not-the-signature')
      assert.deepEqual(JSON.parse((await browse(base, '/who', forged)).text), { user: null, cart: null, isNew: true })
      await Promise.all(open.splice(0).map((server) => server.close()))
    }
  })

  test('a cookie signed with an older key of app.keys still opens', async () => {
    const jar = await loggedInUnderKoaSession({})
    const app = koaApp(ourSession, {}, who)
    app.keys = ['a new key', ...KEYS]
    const base = await start(app)
    assert.equal(JSON.parse((await browse(base, '/who', jar)).text).user, 'ada')
  })
})

// --- failures ---------------------------------------------------------------------------------------

describe('a store that fails', () => {
  const failing = (behaviour) => ({
    get: behaviour,
    set: behaviour,
    destroy: behaviour,
  })

  test('a store whose get throws: an error status, not a hang', async () => {
    const store = failing(async () => {
      throw new Error('store down')
    })
    const base = await start(koaApp(ourSession, { store }, counter))
    const { signSessionId } = require('../dist/cjs/cookie/signature.js')
    // A cookie that verifies, so that the store is asked for its record.
    const cookie = `koa.sess=${encodeURIComponent(signSessionId('some-key', KEYS[0]))}`
    const response = await send(base, '/', { cookie, timeout: 3000 })
    assert.equal(response.status, 503)
    assert.equal(response.text, 'Service Unavailable', "Koa's answer to an error it does not expose")
    const fresh = await send(base, '/', { timeout: 3000 })
    assert.equal(fresh.status, 503, 'a save that throws fails the request too')
  })

  test('a store that never answers: 503 once storeTimeout passes', async () => {
    const store = failing(() => new Promise(() => {}))
    const base = await start(koaApp(ourSession, { store, storeTimeout: 300 }, counter))
    const started = Date.now()
    const response = await send(base, '/', { timeout: 4000 })
    assert.equal(response.status, 503)
    assert.ok(Date.now() - started < 3000)
  })
})

test('session(opts, app) without app.keys, or without an app, throws naming what to set', () => {
  assert.throws(() => ourSession({}, undefined), /app/)
  const app = new Koa()
  assert.throws(() => {
    const middleware = ourSession({}, app)
    return middleware
  }, /app\.keys/)
})
