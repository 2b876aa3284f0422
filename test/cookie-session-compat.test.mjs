// sessionkit/cookie-session: cookie-session 2's API over sealed cookies. cookie-session's own README
// examples run with only their require line changed, side by side with the real package; cookies the
// real cookie-session made are adopted; the session's behaviour (when a cookie is sent, per-request
// options, null, rotation, expiry) is checked over real HTTP.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, describe, test } from 'node:test'
import express from 'express'
import { listen, parseSetCookie, request } from './support/http.mjs'

const require = createRequire(import.meta.url)
const realCookieSession = require('cookie-session')
const Keygrip = require('keygrip')

const servers = []
after(() => Promise.all(servers.map((server) => server.close())))

async function serve(app) {
  const server = await listen(app)
  servers.push(server)
  return server.base
}

/** A browser's cookie jar, enough for these tests: Set-Cookie replaces, an expired one removes. */
class Jar {
  cookies = new Map()
  take(setCookies) {
    for (const header of setCookies) {
      const cookie = parseSetCookie(header)
      if (cookie.expires !== undefined && new Date(cookie.expires).getTime() <= Date.now()) this.cookies.delete(cookie.name)
      else this.cookies.set(cookie.name, cookie.value)
    }
  }
  get header() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

async function browse(base, path, jar, options = {}) {
  const response = await request(base, path, { ...options, cookie: jar.header || undefined })
  jar.take(response.setCookies)
  return response
}

/** The code of the README example under `heading` in cookie-session's own README. */
function readmeExample(heading) {
  const readme = readFileSync(require.resolve('cookie-session/README.md'), 'utf8')
  const at = readme.indexOf(`### ${heading}`)
  assert.notEqual(at, -1, `cookie-session's README has "${heading}"`)
  const start = readme.indexOf('```js\n', at) + 6
  return readme.slice(start, readme.indexOf('\n```', start))
}

/**
 * Runs an example as written, with `require('cookie-session')` changed to `moduleName` and nothing
 * else; `express()` is the real Express, whose `listen` is kept from binding a fixed port. Returns the app.
 */
function runExample(code, moduleName) {
  const changed = code.replace("require('cookie-session')", `require('${moduleName}')`)
  assert.equal(changed.split('\n').filter((line, index) => line !== code.split('\n')[index]).length, moduleName === 'cookie-session' ? 0 : 1, 'only the require line changes')
  let app
  const expressAt = (...args) => {
    app = express(...args)
    app.listen = () => undefined
    return app
  }
  const localRequire = (id) => (id === 'express' ? expressAt : require(id))
  new Function('require', changed)(localRequire)
  return app
}

/** The same requests against cookie-session and sessionkit/cookie-session: bodies and cookie names sent. */
async function sideBySide(heading, addRoutes, steps) {
  const results = {}
  for (const moduleName of ['cookie-session', 'sessionkit/cookie-session']) {
    const app = runExample(readmeExample(heading), moduleName)
    addRoutes?.(app)
    const base = await serve(app)
    const jar = new Jar()
    results[moduleName] = []
    for (const path of steps) {
      const response = await browse(base, path, jar)
      results[moduleName].push({ status: response.status, text: response.text, sets: response.setCookies.map((header) => parseSetCookie(header).name).filter((name) => !name.endsWith('.sig')), setCookies: response.setCookies })
    }
  }
  return results
}

describe("cookie-session's README examples, with only the require line changed", () => {
  test('the simple view counter counts, as with cookie-session, in an encrypted cookie', async () => {
    const results = await sideBySide('Simple view counter example', undefined, ['/', '/', '/'])
    const ours = results['sessionkit/cookie-session']
    const theirs = results['cookie-session']
    assert.deepEqual(ours.map((step) => step.text), ['1 views', '2 views', '3 views'])
    assert.deepEqual(ours.map(({ status, text, sets }) => ({ status, text, sets })), theirs.map(({ status, text, sets }) => ({ status, text, sets })))
    const cookie = parseSetCookie(ours[0].setCookies[0])
    assert.equal(ours[0].setCookies.length, 1, 'no .sig cookie: the value is sealed')
    assert.equal(cookie.name, 'session')
    assert.equal(cookie.httponly, true)
    assert.equal(cookie.path, '/')
    assert.doesNotMatch(Buffer.from(cookie.value, 'base64').toString('latin1'), /views/, 'the data is not readable in the cookie')
  })

  test('per-user sticky max age: req.sessionOptions.maxAge from the session sets Expires', async () => {
    const addRoutes = (app) => {
      app.get('/remember', (req, res) => {
        req.session.user = 'ada'
        req.session.maxAge = 3_600_000
        res.end('remembered')
      })
      app.get('/visit', (req, res) => {
        req.session.visits = (req.session.visits || 0) + 1
        res.end(`${req.session.user} ${req.session.visits}`)
      })
      app.get('/look', (req, res) => res.end(String(req.session.user)))
    }
    const results = await sideBySide('Per-user sticky max age', addRoutes, ['/look', '/remember', '/visit', '/look'])
    const ours = results['sessionkit/cookie-session']
    assert.deepEqual(ours.map(({ text, sets }) => ({ text, sets })), results['cookie-session'].map(({ text, sets }) => ({ text, sets })))
    assert.deepEqual(ours.map((step) => step.text), ['undefined', 'remembered', 'ada 1', 'ada'])
    assert.equal(parseSetCookie(ours[1].setCookies[0]).expires, undefined, 'the session had no maxAge when this request began')
    const expires = new Date(parseSetCookie(ours[2].setCookies[0]).expires).getTime()
    assert.ok(Math.abs(expires - (Date.now() + 3_600_000)) < 5_000, `Expires is an hour away (${new Date(expires).toISOString()})`)
  })

  test('extending the session expiration: nowInMinutes sends a cookie only when the minute changes', async () => {
    const addRoutes = (app) => app.get('/', (req, res) => res.end(String(req.session.nowInMinutes)))
    const minute = Math.floor(Date.now() / 60e3)
    const results = await sideBySide('Extending the session expiration', addRoutes, ['/', '/', '/'])
    const crossed = Math.floor(Date.now() / 60e3) !== minute
    const ours = results['sessionkit/cookie-session']
    assert.equal(ours[0].sets.length, 1, 'the first visit sets the cookie')
    if (!crossed) {
      assert.deepEqual(ours.map((step) => step.sets.length), [1, 0, 0], 'an unchanged minute sends no cookie')
      assert.deepEqual(ours.map(({ text, sets }) => ({ text, sets })), results['cookie-session'].map(({ text, sets }) => ({ text, sets })))
    }
  })
})

describe('adopting cookies the real cookie-session made', () => {
  /** The Cookie header of a cookie-session session holding `data`, made by cookie-session itself. */
  async function oldCookies(options, data) {
    const app = express()
    app.use(realCookieSession(options))
    app.get('/', (req, res) => {
      Object.assign(req.session, data)
      res.end('ok')
    })
    const response = await request(await serve(app), '/')
    assert.equal(response.setCookies.length, 2, 'cookie-session sets the value and its .sig')
    return response.setCookies.map((header) => header.split(';')[0]).join('; ')
  }

  function sessionkitApp(options) {
    const cookieSession = require('sessionkit/cookie-session')
    const app = express()
    app.use(cookieSession(options))
    app.get('/who', (req, res) => res.json({ user: req.session.user ?? null, cart: req.session.cart ?? null, isNew: req.session.isNew }))
    app.get('/untouched', (req, res) => res.end('ok'))
    return app
  }

  test('a valid old pair is read once, sealed on that response, and the .sig cleared', async () => {
    const cookie = await oldCookies({ name: 'session', keys: ['old key one', 'old key two'] }, { user: 'ada', cart: [1, 2] })
    const base = await serve(sessionkitApp({ name: 'session', keys: ['old key one', 'old key two'] }))
    const first = await request(base, '/who', { cookie })
    assert.deepEqual(JSON.parse(first.text), { user: 'ada', cart: [1, 2], isNew: false })
    const set = first.setCookies.map(parseSetCookie)
    const sealed = set.find((c) => c.name === 'session')
    const sig = set.find((c) => c.name === 'session.sig')
    assert.ok(sealed && sealed.value !== '', 'the session is sealed into the cookie of the same name')
    assert.doesNotMatch(Buffer.from(sealed.value, 'base64').toString('latin1'), /ada/)
    assert.ok(sig && sig.value === '' && new Date(sig.expires).getTime() <= Date.now(), 'the old .sig is cleared')
    // The next request brings only the sealed cookie: the same session, and nothing to send.
    const second = await request(base, '/who', { cookie: `session=${sealed.value}` })
    assert.deepEqual(JSON.parse(second.text), { user: 'ada', cart: [1, 2], isNew: false })
    assert.deepEqual(second.setCookies, [])
  })

  test('the old pair is converted even on a request that does not read the session', async () => {
    const cookie = await oldCookies({ keys: ['k1'] }, { user: 'bob' })
    const base = await serve(sessionkitApp({ keys: ['k1'] }))
    const first = await request(base, '/untouched', { cookie })
    const sealed = first.setCookies.map(parseSetCookie).find((c) => c.name === 'session' && c.value !== '')
    assert.ok(sealed, 'a sealed cookie replaces the old value')
    assert.deepEqual(JSON.parse((await request(base, '/who', { cookie: `session=${sealed.value}` })).text).user, 'bob')
  })

  test('a cookie signed with an older key in the list is adopted', async () => {
    const cookie = await oldCookies({ keys: ['retired key'] }, { user: 'cy' })
    const base = await serve(sessionkitApp({ keys: ['new key', 'retired key'] }))
    assert.equal(JSON.parse((await request(base, '/who', { cookie })).text).user, 'cy')
  })

  test('a Keygrip with another algorithm, or legacyAlgorithm, is honoured', async () => {
    const cookie = await oldCookies({ name: 'sess', keys: new Keygrip(['grip key'], 'sha256') }, { user: 'dee' })
    const withAlgorithm = await serve(sessionkitApp({ name: 'sess', keys: ['grip key'], legacyAlgorithm: 'sha256' }))
    assert.equal(JSON.parse((await request(withAlgorithm, '/who', { cookie })).text).user, 'dee')
    const withKeygrip = await serve(sessionkitApp({ name: 'sess', keys: new Keygrip(['grip key'], 'sha256'), secret: ['grip key'] }))
    assert.equal(JSON.parse((await request(withKeygrip, '/who', { cookie })).text).user, 'dee')
    const sha1 = await serve(sessionkitApp({ name: 'sess', keys: ['grip key'] }))
    assert.equal(JSON.parse((await request(sha1, '/who', { cookie })).text).user, null, 'the wrong algorithm verifies nothing')
  })

  test('a forged, unsigned or foreign old cookie is a fresh session, and adopt: false reads none', async () => {
    const cookie = await oldCookies({ keys: ['k1'] }, { user: 'eve' })
    const base = await serve(sessionkitApp({ keys: ['k1'] }))
    const [valuePair, sigPair] = cookie.split('; ')
    const forgedValue = Buffer.from(JSON.stringify({ user: 'admin' })).toString('base64')
    for (const bad of [`session=${forgedValue}; ${sigPair}`, valuePair, `${valuePair}; session.sig=AAAA`]) {
      const response = await request(base, '/who', { cookie: bad })
      assert.deepEqual(JSON.parse(response.text), { user: null, cart: null, isNew: true }, bad)
    }
    const other = await serve(sessionkitApp({ keys: ['another key'] }))
    assert.equal(JSON.parse((await request(other, '/who', { cookie })).text).user, null)
    const off = await serve(sessionkitApp({ keys: ['k1'], adopt: false }))
    assert.equal(JSON.parse((await request(off, '/who', { cookie })).text).user, null)
  })
})

describe("adopting cookies the real koa-session made (its cookie mode)", () => {
  const Koa = require('koa')
  const koaSession = require('koa-session').default

  /** The Cookie header of a koa-session session holding `data`, made by koa-session in a Koa app. */
  async function koaCookies(options, data) {
    const app = new Koa()
    app.keys = ['koa key']
    app.use(koaSession(options, app))
    app.use((ctx) => {
      Object.assign(ctx.session, data)
      ctx.body = 'ok'
    })
    const response = await request(await serve(app.callback()), '/')
    assert.equal(response.setCookies.length, 2, 'koa-session sets koa.sess and koa.sess.sig')
    return response.setCookies.map((header) => header.split(';')[0]).join('; ')
  }

  function sessionkitApp(options) {
    const app = express()
    app.use(require('sessionkit/cookie-session')(options))
    app.get('/who', (req, res) => res.json({ ...req.session, isNew: req.session.isNew }))
    return app
  }

  test('a valid koa.sess pair is adopted without its bookkeeping, and sealed', async () => {
    const cookie = await koaCookies({}, { user: 'ada' })
    const base = await serve(sessionkitApp({ name: 'koa.sess', keys: ['koa key'] }))
    const first = await request(base, '/who', { cookie })
    assert.deepEqual(JSON.parse(first.text), { user: 'ada', isNew: false }, 'no _expire or _maxAge in the session')
    const set = first.setCookies.map(parseSetCookie)
    const sealed = set.find((c) => c.name === 'koa.sess' && c.value !== '')
    assert.ok(sealed, 'sealed under the same name')
    assert.ok(set.some((c) => c.name === 'koa.sess.sig' && c.value === ''), 'the .sig is cleared')
    assert.deepEqual(JSON.parse((await request(base, '/who', { cookie: `koa.sess=${sealed.value}` })).text), { user: 'ada', isNew: false })
    const browserSession = await koaCookies({ maxAge: 'session' }, { user: 'bo' })
    assert.deepEqual(JSON.parse((await request(base, '/who', { cookie: browserSession })).text), { user: 'bo', isNew: false })
  })

  test("a koa-session cookie past its _expire, or forged, is a fresh session", async () => {
    const base = await serve(sessionkitApp({ name: 'koa.sess', keys: ['koa key'] }))
    const expired = await koaCookies({ maxAge: 50 }, { user: 'ada' })
    await sleep(100)
    assert.deepEqual(JSON.parse((await request(base, '/who', { cookie: expired })).text), { isNew: true })
    const [, sig] = (await koaCookies({}, { user: 'ada' })).split('; ')
    const forged = Buffer.from(JSON.stringify({ user: 'admin', _expire: Date.now() + 1e6, _maxAge: 1e6 })).toString('base64')
    assert.deepEqual(JSON.parse((await request(base, '/who', { cookie: `koa.sess=${forged}; ${sig}` })).text), { isNew: true })
  })
})

describe('sessionkit/cookie-session behaves as cookie-session documents', () => {
  const cookieSession = () => require('sessionkit/cookie-session')

  function app(options, routes) {
    const app = express()
    app.use(cookieSession()(options))
    for (const [path, handler] of Object.entries(routes)) app.get(path, handler)
    return app
  }

  test('isNew, isChanged, isPopulated; a new empty session sends nothing; null clears', async () => {
    const flags = (s) => ({ isNew: s.isNew, isChanged: s.isChanged, isPopulated: s.isPopulated })
    const base = await serve(
      app({ keys: ['k'] }, {
        '/flags': (req, res) => res.json(flags(req.session)),
        '/set': (req, res) => {
          const before = flags(req.session)
          req.session.n = 1
          res.json({ before, after: flags(req.session), keys: Object.keys(req.session), json: JSON.parse(JSON.stringify(req.session)) })
        },
        '/same': (req, res) => {
          req.session.n = 1
          res.json(flags(req.session))
        },
        '/null': (req, res) => {
          req.session = null
          res.json({ session: req.session })
        },
      }),
    )
    const jar = new Jar()
    const empty = await browse(base, '/flags', jar)
    assert.deepEqual(JSON.parse(empty.text), { isNew: true, isChanged: true, isPopulated: false })
    assert.deepEqual(empty.setCookies, [], 'a new, empty session sends no cookie')
    const set = await browse(base, '/set', jar)
    assert.deepEqual(JSON.parse(set.text), { before: { isNew: true, isChanged: true, isPopulated: false }, after: { isNew: true, isChanged: true, isPopulated: true }, keys: ['n'], json: { n: 1 } })
    assert.equal(set.setCookies.length, 1)
    const same = await browse(base, '/same', jar)
    assert.deepEqual(JSON.parse(same.text), { isNew: false, isChanged: false, isPopulated: true })
    assert.deepEqual(same.setCookies, [], 'an unchanged session sends no cookie')
    const nulled = await browse(base, '/null', jar)
    assert.deepEqual(JSON.parse(nulled.text), { session: null })
    const cleared = parseSetCookie(nulled.setCookies[0])
    assert.equal(cleared.name, 'session')
    assert.equal(cleared.value, '')
    assert.ok(new Date(cleared.expires).getTime() <= Date.now())
    assert.deepEqual(JSON.parse((await browse(base, '/flags', jar)).text).isNew, true)
  })

  test("cookie options at the top level and per request; secure over HTTP sends nothing", async () => {
    const base = await serve(
      app({ keys: ['k'], name: 'sid', maxAge: 60_000, sameSite: 'lax', domain: 'example.test', priority: 'high', partitioned: true, secure: false }, {
        '/': (req, res) => {
          req.session.v = 1
          res.end('ok')
        },
        '/short': (req, res) => {
          req.sessionOptions.maxAge = 5_000
          req.sessionOptions.httpOnly = false
          req.session.v = 2
          res.end('ok')
        },
        '/secure': (req, res) => {
          req.sessionOptions.secure = true
          req.session.v = 3
          res.end('ok')
        },
      }),
    )
    const cookie = parseSetCookie((await request(base, '/')).setCookies[0])
    assert.equal(cookie.name, 'sid')
    assert.equal(cookie.samesite, 'Lax')
    assert.equal(cookie.domain, 'example.test')
    assert.equal(cookie.priority, 'High')
    assert.equal(cookie.partitioned, true)
    assert.equal(cookie.httponly, true)
    assert.ok(Math.abs(new Date(cookie.expires).getTime() - Date.now() - 60_000) < 5_000)
    const short = parseSetCookie((await request(base, '/short')).setCookies[0])
    assert.ok(Math.abs(new Date(short.expires).getTime() - Date.now() - 5_000) < 3_000)
    assert.equal(short.httponly, undefined)
    assert.deepEqual((await request(base, '/secure')).setCookies, [])
  })

  test('maxAge is enforced on the server: a copy of the cookie stops opening when it expires', async () => {
    const base = await serve(
      app({ keys: ['k'], maxAge: 300 }, {
        '/in': (req, res) => {
          req.session.user = 'ada'
          res.end('in')
        },
        '/who': (req, res) => res.end(String(req.session.user)),
      }),
    )
    const cookie = (await request(base, '/in')).cookie
    assert.equal((await request(base, '/who', { cookie })).text, 'ada')
    await sleep(400)
    assert.equal((await request(base, '/who', { cookie })).text, 'undefined', 'the browser is not trusted to drop it')
  })

  test('keys rotation: a cookie sealed with an older key opens and is sealed again with the first', async () => {
    const routes = {
      '/in': (req, res) => {
        req.session.user = 'ada'
        res.end('in')
      },
      '/who': (req, res) => res.end(String(req.session.user)),
    }
    const old = await serve(app({ keys: ['key A'] }, routes))
    const rotated = await serve(app({ keys: ['key B', 'key A'] }, routes))
    const retired = await serve(app({ keys: ['key B'] }, routes))
    const oldCookie = (await request(old, '/in')).cookie
    const opened = await request(rotated, '/who', { cookie: oldCookie })
    assert.equal(opened.text, 'ada')
    assert.equal(opened.setCookies.length, 1, 'resealed with the first key')
    assert.equal((await request(retired, '/who', { cookie: opened.cookie })).text, 'ada')
    assert.equal((await request(retired, '/who', { cookie: oldCookie })).text, 'undefined')
  })

  test('startup errors say what to change', () => {
    assert.throws(() => cookieSession()(), /needs keys/)
    assert.throws(() => cookieSession()({ keys: [] }), /non-empty array/)
    assert.throws(() => cookieSession()({ keys: new Keygrip(['a']) }), /also give secret/)
    assert.throws(() => cookieSession()({ keys: ['k'], maxCookies: 4 }), /maxCookies/)
    assert.throws(() => cookieSession()({ keys: ['k'], sameSite: 'sideways' }), /sameSite/)
    assert.throws(() => cookieSession()({ keys: ['k'], legacyAlgorithm: 'nope' }), /legacyAlgorithm/)
    assert.equal(typeof cookieSession()({ secret: 'one key' }), 'function', 'secret alone is one key, as in cookie-session')
  })

  test('a session that is not JSON answers without a cookie rather than failing the response', async () => {
    const base = await serve(
      app({ keys: ['k'] }, {
        '/in': (req, res) => {
          req.session.user = 'ada'
          res.end('in')
        },
        '/bigint': (req, res) => {
          req.session.count = 1n
          res.end('answered')
        },
      }),
    )
    // A loaded session: whether it changed is measured by its JSON, which a BigInt has none of.
    const response = await request(base, '/bigint', { cookie: (await request(base, '/in')).cookie })
    assert.equal(response.status, 200)
    assert.equal(response.text, 'answered')
    assert.deepEqual(response.setCookies, [])
  })

  test('req.session can only be set to null or an object; an object is a new session', async () => {
    const base = await serve(
      app({ keys: ['k'] }, {
        '/bad': (req, res) => {
          try {
            req.session = 'text'
            res.end('accepted')
          } catch (err) {
            res.end(err.message)
          }
        },
        '/replace': (req, res) => {
          req.session = { user: 'ada' }
          res.json({ isNew: req.session.isNew, user: req.session.user })
        },
      }),
    )
    assert.match((await request(base, '/bad')).text, /null or an object/)
    const replaced = await request(base, '/replace')
    assert.deepEqual(JSON.parse(replaced.text), { isNew: true, user: 'ada' })
    assert.equal(replaced.setCookies.length, 1)
  })
})
