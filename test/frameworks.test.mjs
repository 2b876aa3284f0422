// The same login / counter / logout app on Express 5, Express 4, connect and plain node:http, and
// responses written with res.writeHead(status, headers) in every form Node accepts: the app's own
// cookies and the session cookie must both reach the client.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { cookieSession } from 'sessionkit'
import {
  CountingStore,
  SECRET,
  expressSession,
  frameworks,
  idOf,
  options,
  redirect,
  send,
  session,
  sessionCookie,
  sessionSetCookie,
  start,
} from './support/flow/apps.mjs'
import { storeKinds } from './support/flow/stores.mjs'

const appRoutes = {
  '/count': (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1
    send(res, { views: req.session.views })
  },
  '/login': async (req, res) => {
    await req.session.regenerate()
    req.session.userId = 42
    await req.session.save()
    redirect(res, '/me')
  },
  '/me': (req, res) => send(res, { userId: req.session.userId ?? null, views: req.session.views ?? null }),
  '/logout': async (req, res) => {
    await req.session.destroy()
    send(res, 'bye')
  },
}

for (const framework of frameworks) {
  describe(`the example app on ${framework.name}`, () => {
    for (const kind of [{ name: 'MemoryStore', create: () => new CountingStore() }, ...storeKinds]) {
      test(`${kind.name}: count, log in (new id, old one destroyed), count again, log out (store emptied, cookie cleared)`, async () => {
        const store = kind.create()
        const app = await start(session(options({ store, cookie: { maxAge: 60_000 } })), appRoutes, { framework })
        try {
          const first = await app.get('/count')
          assert.deepEqual(JSON.parse(first.text), { views: 1 })
          const anonymous = sessionCookie(first)
          const anonymousId = idOf(anonymous, SECRET)
          assert.equal(typeof anonymousId, 'string')
          assert.deepEqual(JSON.parse((await app.get('/count', { cookie: anonymous })).text), { views: 2 })

          const login = await app.get('/login', { method: 'POST', cookie: anonymous })
          assert.equal(login.status, 302)
          assert.equal(login.headers.get('location'), '/me')
          const loggedIn = sessionCookie(login)
          assert.equal(login.setCookies.filter((h) => h.startsWith('connect.sid=')).length, 1, 'one session cookie, not also a cleared one')
          const userId = idOf(loggedIn, SECRET)
          assert.equal(typeof userId, 'string')
          assert.notEqual(userId, anonymousId, 'regenerate gives a new id')
          assert.equal(await store.read(anonymousId), null, 'the old session is gone')
          assert.deepEqual(JSON.parse((await app.get('/me', { cookie: loggedIn })).text), { userId: 42, views: null })
          assert.deepEqual(JSON.parse((await app.get('/me', { cookie: anonymous })).text), { userId: null, views: null })

          assert.deepEqual(JSON.parse((await app.get('/count', { cookie: loggedIn })).text), { views: 1 })
          assert.equal((await store.read(userId)).userId, 42)

          const logout = await app.get('/logout', { method: 'POST', cookie: loggedIn })
          assert.equal(logout.text, 'bye')
          assert.equal(await store.read(userId), null)
          const cleared = sessionSetCookie(logout)
          assert.ok(cleared, 'the cookie is cleared')
          assert.match(cleared, /^connect\.sid=;/)
          assert.match(cleared, /Expires=Thu, 01 Jan 1970 00:00:00 GMT/)
          assert.deepEqual(await store.ids(), [])
          assert.deepEqual(JSON.parse((await app.get('/me', { cookie: loggedIn })).text), { userId: null, views: null })
        } finally {
          await app.close()
        }
      })
    }
  })

  describe(`res.writeHead forms on ${framework.name}`, () => {
    // Each route writes the session and answers with writeHead in one of the forms Node accepts.
    const forms = {
      'object with a Set-Cookie array': (res) =>
        res.writeHead(200, { 'Set-Cookie': ['a=1', 'b=2'], 'Content-Type': 'text/plain' }),
      'object with a single Set-Cookie string, lower-case name': (res) =>
        res.writeHead(200, { 'set-cookie': 'a=1', 'content-type': 'text/plain' }),
      'object, with a status message': (res) => res.writeHead(200, 'Fine', { 'Set-Cookie': ['a=1', 'b=2'] }),
      'nested array': (res) =>
        res.writeHead(200, [
          ['Set-Cookie', 'a=1'],
          ['Set-Cookie', 'b=2'],
          ['Content-Type', 'text/plain'],
        ]),
      'flat array': (res) => res.writeHead(200, ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Type', 'text/plain']),
      'flat array, with a status message': (res) => res.writeHead(200, 'Fine', ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']),
      'setHeader before writeHead(status)': (res) => {
        res.setHeader('Set-Cookie', ['a=1', 'b=2'])
        res.writeHead(200)
      },
      'setHeader, then writeHead with other headers': (res) => {
        res.setHeader('Set-Cookie', ['a=1', 'b=2'])
        res.writeHead(200, { 'Content-Type': 'text/plain' })
      },
    }

    for (const [form, write] of Object.entries(forms)) {
      test(`${form}: the app's cookies and the session cookie both arrive`, async () => {
        const store = new CountingStore()
        const app = await start(
          session(options({ store })),
          {
            '/': (req, res) => {
              req.session.user = 'ann'
              write(res)
              res.end('done')
            },
          },
          { framework },
        )
        try {
          const response = await app.get('/')
          assert.equal(response.status, 200)
          assert.equal(response.text, 'done')
          const app1 = response.setCookies.filter((h) => h === 'a=1').length
          assert.equal(app1, 1, `a=1 once in ${JSON.stringify(response.setCookies)}`)
          const expected = form.includes('single') ? [] : ['b=2']
          for (const cookie of expected) assert.ok(response.setCookies.includes(cookie), `${cookie} in ${JSON.stringify(response.setCookies)}`)
          const sid = sessionCookie(response)
          assert.ok(sid, `session cookie in ${JSON.stringify(response.setCookies)}`)
          assert.equal((await store.read(idOf(sid, SECRET))).user, 'ann')
          if (form.includes('status message')) assert.equal((await fetch(app.base + '/')).statusText, 'Fine')
        } finally {
          await app.close()
        }
      })
    }

    test('without writeHead the app cookie set by setHeader and the session cookie both arrive', async () => {
      const app = await start(session(options()), {
        '/': (req, res) => {
          req.session.user = 'ann'
          res.setHeader('Set-Cookie', 'theme=dark')
          send(res, 'ok')
        },
      }, { framework })
      try {
        const response = await app.get('/')
        assert.ok(response.setCookies.includes('theme=dark'))
        assert.ok(sessionCookie(response))
      } finally {
        await app.close()
      }
    })
  })
}

// express-session goes through the same header hook; where it agrees, the two should match.
describe('writeHead forms compared with express-session', () => {
  test('object form: same set of cookie names', async () => {
    const names = []
    for (const create of [session, expressSession]) {
      const app = await start(create(options()), {
        '/': (req, res) => {
          req.session.user = 'ann'
          res.writeHead(200, { 'Set-Cookie': ['a=1', 'b=2'] })
          res.end()
        },
      })
      try {
        const response = await app.get('/')
        names.push(response.setCookies.map((h) => h.split('=')[0]).sort())
      } finally {
        await app.close()
      }
    }
    assert.deepEqual(names[0], names[1])
  })
})

describe('the middleware leaves req and res as it found them, apart from what it adds', () => {
  // To make property access cheap it switches Express's req and res to dictionary mode by deleting
  // a property and putting it back; an app must not see any difference: same keys in the same order,
  // same attributes, same values.
  // Values are compared by identity, except req.params, which the router replaces for every layer.
  const snapshot = (object) =>
    Reflect.ownKeys(object).map((key) => {
      const { value, get, set, ...attributes } = Reflect.getOwnPropertyDescriptor(object, key)
      return [String(key), attributes, get ?? set ? 'accessor' : key === 'params' ? 'router-owned' : value]
    })
  const sameValues = (after, before) => after.every(([, , value], i) => Object.is(value, before[i][2]))
  for (const name of ['express5', 'express4']) {
    test(name, async () => {
      const express = (await import(name === 'express5' ? 'express' : 'express4')).default
      const app = express()
      const seen = {}
      app.use((req, res, next) => {
        seen.req = snapshot(req)
        seen.res = snapshot(res)
        next()
      })
      app.use(session({ secret: SECRET, resave: false, saveUninitialized: false }))
      app.get('/', (req, res) => {
        seen.reqAfter = snapshot(req)
        seen.resAfter = snapshot(res)
        // Until the app touches its session, a request without a session cookie has nothing to commit:
        // the response is hooked only now.
        void req.session
        seen.resUsed = snapshot(res)
        res.send('ok')
      })
      const { server, base } = await (await import('./support/http.mjs')).listen(app)
      try {
        const res = await fetch(base + '/')
        assert.equal(res.status, 200)
        const added = { req: ['session', 'sessionID', 'sessionStore'], res: [] }
        for (const side of ['req', 'res']) {
          const before = seen[side]
          const after = seen[`${side}After`].filter(([key]) => before.some(([k]) => k === key))
          assert.deepEqual(after.map(([key, attributes]) => [key, attributes]), before.map(([key, attributes]) => [key, attributes]), `${side}: the properties it had keep their order and attributes`)
          assert.ok(sameValues(after, before), `${side}: and their values`)
          const newKeys = seen[`${side}After`].map(([key]) => key).filter((key) => !before.some(([k]) => k === key) && !key.startsWith('Symbol('))
          for (const key of added[side]) assert.ok(newKeys.includes(key), `${side}.${key} is added`)
          // Only the guard that ignores a second end (as express-session's own end does) is there before.
          if (side === 'res') assert.deepEqual(newKeys, ['end'], 'res: nothing but the second-end guard is added before the session is used')
        }
        const hooked = seen.resUsed.map(([key]) => key).filter((key) => !seen.res.some(([k]) => k === key) && !key.startsWith('Symbol('))
        assert.deepEqual(hooked.sort(), ['end', 'writeHead'], 'res: its end and writeHead are hooked once the session is used')
      } finally {
        await server.close()
      }
    })
  }
})

describe('a middleware mounted twice (or both middlewares) handles the request once', () => {
  // express-session's own rule: a request that already has req.session goes on untouched, so a second
  // mount (a router that mounts it again, a copy-pasted app.use) neither reloads nor saves a second time.
  const cases = {
    'session() twice': (store) => [
      session({ secret: SECRET, resave: false, saveUninitialized: false, store }),
      session({ secret: 'another', resave: false, saveUninitialized: false }),
    ],
    'cookieSession() twice': () => [cookieSession({ secret: SECRET }), cookieSession({ secret: 'another' })],
    'cookieSession() then session()': () => [cookieSession({ secret: SECRET }), session({ secret: SECRET, resave: false, saveUninitialized: false })],
  }
  for (const [name, mounts] of Object.entries(cases)) {
    test(name, async () => {
      const store = new CountingStore()
      const [outer, inner] = mounts(store)
      const express = (await import('express')).default
      const app = express()
      app.use(outer)
      const router = express.Router()
      router.use(inner)
      router.get('/count', (req, res) => {
        req.session.views = (req.session.views ?? 0) + 1
        res.json({ views: req.session.views })
      })
      app.use(router)
      const { server, base } = await (await import('./support/http.mjs')).listen(app)
      try {
        const first = await fetch(base + '/count')
        assert.deepEqual(await first.json(), { views: 1 })
        const cookies = first.headers.getSetCookie()
        assert.equal(cookies.length, 1, `one session cookie, from the outer mount: ${cookies}`)
        const second = await fetch(base + '/count', { headers: { cookie: cookies[0].split(';')[0] } })
        assert.deepEqual(await second.json(), { views: 2 }, 'the outer mount loaded it back')
        if (name === 'session() twice') assert.equal(store.calls.set.length, 2, 'one save per request')
      } finally {
        await server.close()
      }
    })
  }
})
