// When the session is stored, touched, destroyed, and when Set-Cookie is sent: express-session's
// rules, observed over HTTP on every framework, and where the behaviour is shared, checked against
// express-session itself running the same scenario.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, test } from 'node:test'
import {
  CountingStore,
  SECRET,
  cookieSignature,
  expressSession,
  frameworks,
  idOf,
  options,
  redirect,
  send,
  session,
  sessionCookie,
  sessionSetCookie,
  signedCookie,
  start,
} from './support/flow/apps.mjs'

const implementations = [
  { name: 'sessionkit', create: session },
  { name: 'express-session', create: expressSession },
]

const query = (req, key) => new URL(req.url, 'http://localhost').searchParams.get(key)

// One set of routes for every scenario; each uses only node:http so it runs on every framework.
const routes = {
  '/nothing': (req, res) => send(res, 'ok'),
  '/read': (req, res) => send(res, { value: req.session.value ?? null }),
  '/write': (req, res) => {
    req.session.value = query(req, 'v') ?? 'x'
    send(res, 'written')
  },
  '/history': (req, res) => {
    req.session.history ??= []
    req.session.history.unshift(query(req, 'page'))
    send(res, req.session.history)
  },
  '/profile': (req, res) => {
    req.session.profile ??= { name: 'ann', address: { city: 'Oslo' } }
    const city = query(req, 'city')
    if (city) req.session.profile.address.city = city
    send(res, req.session.profile)
  },
  '/remember': (req, res) => {
    req.session.cookie.maxAge = Number(query(req, 'ms'))
    send(res, 'remembered')
  },
  '/unset-null': (req, res) => {
    req.session = null
    send(res, 'unset')
  },
  '/unset-delete': (req, res) => {
    delete req.session
    send(res, 'deleted')
  },
  '/kind': (req, res) => send(res, { session: typeof req.session, id: req.sessionID ?? null }),
  '/login-end': (req, res) => {
    req.session.user = query(req, 'user')
    redirect(res, '/whoami')
  },
  '/login-save': (req, res) => {
    req.session.user = query(req, 'user')
    req.session.save((err) => {
      if (err) send(res, 'save failed', 500)
      else redirect(res, '/whoami')
    })
  },
  '/whoami': (req, res) => send(res, { user: req.session.user ?? null }),
}

/** Starts `create(opts)` with the shared routes on `framework`; returns the server and its store. */
async function setup(create, framework, extra = {}, storeOptions = {}) {
  const store = new CountingStore(storeOptions)
  const app = await start(create({ ...options(extra), store }), routes, { framework })
  return { ...app, store }
}

/** Logs in a session holding value `v` and returns its cookie and id. */
async function seed(app, v = 'seed') {
  const response = await app.get(`/write?v=${v}`)
  const cookie = sessionCookie(response)
  assert.ok(cookie, 'the first write sends a cookie')
  app.store.reset()
  return { cookie, id: idOf(cookie, SECRET) }
}

for (const framework of frameworks) {
  describe(`save rules on ${framework.name}`, () => {
    for (const impl of implementations) {
      describe(`shared with express-session (${impl.name})`, () => {
        test('saveUninitialized false: an untouched request stores nothing and sends no cookie', async () => {
          const app = await setup(impl.create, framework)
          try {
            const response = await app.get('/nothing')
            assert.equal(response.status, 200)
            assert.deepEqual(response.setCookies, [])
            assert.equal(app.store.calls.set.length, 0)
            assert.deepEqual(await app.store.ids(), [])
          } finally {
            await app.close()
          }
        })

        test('saveUninitialized false: reading req.session without writing stores nothing', async () => {
          const app = await setup(impl.create, framework)
          try {
            const response = await app.get('/read')
            assert.deepEqual(JSON.parse(response.text), { value: null })
            assert.deepEqual(response.setCookies, [])
            assert.deepEqual(await app.store.ids(), [])
          } finally {
            await app.close()
          }
        })

        test('saveUninitialized false: writing a key stores it and sends the cookie', async () => {
          const app = await setup(impl.create, framework)
          try {
            const response = await app.get('/write?v=hello')
            const cookie = sessionCookie(response)
            assert.ok(cookie)
            const id = idOf(cookie, SECRET)
            assert.equal(typeof id, 'string')
            assert.deepEqual(await app.store.ids(), [id])
            assert.equal((await app.store.read(id)).value, 'hello')
            assert.deepEqual(JSON.parse((await app.get('/read', { cookie })).text), { value: 'hello' })
          } finally {
            await app.close()
          }
        })

        test('saveUninitialized true: a new untouched session is stored and its cookie sent', async () => {
          const app = await setup(impl.create, framework, { saveUninitialized: true })
          try {
            const response = await app.get('/nothing')
            const cookie = sessionCookie(response)
            assert.ok(cookie, 'cookie sent for an uninitialized session')
            const id = idOf(cookie, SECRET)
            assert.deepEqual(await app.store.ids(), [id])
            assert.equal(app.store.calls.set.length, 1)
          } finally {
            await app.close()
          }
        })

        test('resave false: an unchanged loaded session is touched, not saved, and gets no cookie', async () => {
          const app = await setup(impl.create, framework)
          try {
            const { cookie, id } = await seed(app)
            const response = await app.get('/read', { cookie })
            assert.deepEqual(JSON.parse(response.text), { value: 'seed' })
            assert.equal(sessionCookie(response), undefined)
            assert.deepEqual(app.store.calls.set, [])
            assert.deepEqual(app.store.calls.touch, [id])
            // Also when the app never looks at the session.
            const untouched = await app.get('/nothing', { cookie })
            assert.equal(sessionCookie(untouched), undefined)
            assert.deepEqual(app.store.calls.set, [])
            assert.deepEqual(app.store.calls.touch, [id, id])
          } finally {
            await app.close()
          }
        })

        // express-session writes nothing, so the session expires maxAge after its last change however
        // active its user is; sessionkit writes it back after the response, so that its expiry moves.
        test('resave false without store.touch: an unchanged session is written back by sessionkit only', async () => {
          const app = await setup(impl.create, framework, {}, { touch: false })
          try {
            const { cookie, id } = await seed(app)
            await app.get('/read', { cookie })
            if (impl.name === 'sessionkit') {
              for (let tries = 0; tries < 40 && app.store.calls.set.length === 0; tries++) await sleep(25)
              assert.deepEqual(app.store.calls.set, [id])
            } else {
              await sleep(50)
              assert.deepEqual(app.store.calls.set, [])
            }
            assert.deepEqual(app.store.calls.touch, [])
          } finally {
            await app.close()
          }
        })

        test('resave true: an unchanged loaded session is saved on every request', async () => {
          const app = await setup(impl.create, framework, { resave: true })
          try {
            const { cookie, id } = await seed(app)
            await app.get('/read', { cookie })
            await app.get('/nothing', { cookie })
            assert.deepEqual(app.store.calls.set, [id, id])
            assert.deepEqual(app.store.calls.touch, [])
          } finally {
            await app.close()
          }
        })

        test('a modified loaded session is saved once, not touched', async () => {
          const app = await setup(impl.create, framework)
          try {
            const { cookie, id } = await seed(app)
            await app.get('/write?v=changed', { cookie })
            assert.deepEqual(app.store.calls.set, [id])
            assert.deepEqual(app.store.calls.touch, [])
            assert.equal((await app.store.read(id)).value, 'changed')
          } finally {
            await app.close()
          }
        })

        test('rolling: the cookie is re-sent on every response, with a fresh expiry', async () => {
          const app = await setup(impl.create, framework, { rolling: true, cookie: { maxAge: 60_000 } })
          try {
            const { cookie, id } = await seed(app)
            for (const path of ['/read', '/nothing']) {
              const response = await app.get(path, { cookie })
              const header = sessionSetCookie(response)
              assert.ok(header, `Set-Cookie on ${path}`)
              assert.equal(idOf(header.split(';')[0], SECRET), id, 'same session id')
              const expires = Date.parse(/Expires=([^;]+)/.exec(header)[1])
              assert.ok(Math.abs(expires - (Date.now() + 60_000)) < 5_000)
            }
          } finally {
            await app.close()
          }
        })

        test('without rolling: a modified session with maxAge gets a cookie; without maxAge it does not', async () => {
          const withMaxAge = await setup(impl.create, framework, { cookie: { maxAge: 60_000 } })
          const browserSession = await setup(impl.create, framework)
          try {
            const a = await seed(withMaxAge)
            assert.ok(sessionCookie(await withMaxAge.get('/write?v=2', { cookie: a.cookie })))
            assert.equal(sessionCookie(await withMaxAge.get('/read', { cookie: a.cookie })), undefined)
            const b = await seed(browserSession)
            assert.equal(sessionCookie(await browserSession.get('/write?v=2', { cookie: b.cookie })), undefined)
            assert.equal((await browserSession.store.read(b.id)).value, '2', 'still saved')
          } finally {
            await withMaxAge.close()
            await browserSession.close()
          }
        })

        test('in-place mutation of an array in the session is saved', async () => {
          const app = await setup(impl.create, framework)
          try {
            const first = await app.get('/history?page=a')
            const cookie = sessionCookie(first)
            const id = idOf(cookie, SECRET)
            await app.get('/history?page=b', { cookie })
            await app.get('/history?page=c', { cookie })
            assert.deepEqual((await app.store.read(id)).history, ['c', 'b', 'a'])
          } finally {
            await app.close()
          }
        })

        test('changing a nested object property is saved', async () => {
          const app = await setup(impl.create, framework)
          try {
            const cookie = sessionCookie(await app.get('/profile'))
            const id = idOf(cookie, SECRET)
            app.store.reset()
            await app.get('/profile?city=Bergen', { cookie })
            assert.deepEqual(app.store.calls.set, [id])
            assert.equal((await app.store.read(id)).profile.address.city, 'Bergen')
            assert.equal(JSON.parse((await app.get('/profile', { cookie })).text).address.city, 'Bergen')
          } finally {
            await app.close()
          }
        })

        test('unset keep: req.session = null and delete req.session leave the stored session', async () => {
          for (const path of ['/unset-null', '/unset-delete']) {
            const app = await setup(impl.create, framework, { unset: 'keep' })
            try {
              const { cookie, id } = await seed(app)
              const response = await app.get(path, { cookie })
              assert.equal(response.status, 200)
              assert.deepEqual(app.store.calls.destroy, [])
              assert.equal((await app.store.read(id)).value, 'seed')
              assert.deepEqual(JSON.parse((await app.get('/read', { cookie })).text), { value: 'seed' })
            } finally {
              await app.close()
            }
          }
        })

        test('unset destroy: req.session = null and delete req.session destroy the stored session', async () => {
          for (const path of ['/unset-null', '/unset-delete']) {
            const app = await setup(impl.create, framework, { unset: 'destroy' })
            try {
              const { cookie, id } = await seed(app)
              const response = await app.get(path, { cookie })
              assert.equal(response.status, 200)
              assert.deepEqual(app.store.calls.destroy, [id])
              assert.equal(await app.store.read(id), null)
              assert.deepEqual(JSON.parse((await app.get('/read', { cookie })).text), { value: null })
            } finally {
              await app.close()
            }
          }
        })

        test('the response waits for the save at res.end: a followed redirect sees the data', async () => {
          const app = await setup(impl.create, framework, {}, { setDelay: 50 })
          try {
            for (const path of ['/login-end?user=ann', '/login-save?user=bob']) {
              const response = await app.get(path)
              assert.equal(response.status, 302)
              const cookie = sessionCookie(response)
              assert.ok(cookie)
              const followed = await app.get(response.headers.get('location'), { cookie })
              assert.deepEqual(JSON.parse(followed.text), { user: path.endsWith('ann') ? 'ann' : 'bob' })
            }
          } finally {
            await app.close()
          }
        })

        test('a cookie whose signature was tampered with gets a new id and costs no store lookup', async () => {
          const app = await setup(impl.create, framework)
          try {
            const { cookie, id } = await seed(app, 'secret-data')
            const signed = cookieSignature.sign(id, SECRET)
            const lastChar = signed.at(-1) === 'A' ? 'B' : 'A'
            const forged = `connect.sid=${encodeURIComponent('s:' + signed.slice(0, -1) + lastChar)}`
            assert.notEqual(forged, cookie)
            const otherSecret = signedCookie(id, 'not the secret')
            for (const bad of [forged, otherSecret]) {
              app.store.reset()
              const response = await app.get('/write?v=mine', { cookie: bad })
              const fresh = sessionCookie(response)
              assert.ok(fresh)
              const freshId = idOf(fresh, SECRET)
              assert.notEqual(freshId, id, 'never the id the client sent')
              assert.deepEqual(app.store.calls.get, [], 'no store lookup for a bad signature')
              assert.equal((await app.store.read(id)).value, 'secret-data', 'the real session is untouched')
            }
          } finally {
            await app.close()
          }
        })

        test('an unsigned cookie gets a new id and costs no store lookup', async () => {
          const app = await setup(impl.create, framework)
          try {
            const { id } = await seed(app, 'secret-data')
            for (const bad of [`connect.sid=${id}`, `connect.sid=${encodeURIComponent('s:' + id)}`]) {
              app.store.reset()
              const response = await app.get('/read', { cookie: bad })
              assert.deepEqual(JSON.parse(response.text), { value: null })
              const written = await app.get('/write?v=mine', { cookie: bad })
              assert.notEqual(idOf(sessionCookie(written), SECRET), id)
              assert.deepEqual(app.store.calls.get, [])
            }
          } finally {
            await app.close()
          }
        })

        test('a well-signed cookie for an id the store does not have gets a new id', async () => {
          const app = await setup(impl.create, framework)
          try {
            const planted = 'planted-by-attacker-0000000000'
            const response = await app.get('/write?v=mine', { cookie: signedCookie(planted, SECRET) })
            assert.deepEqual(app.store.calls.get, [planted], 'looked up once')
            const freshId = idOf(sessionCookie(response), SECRET)
            assert.notEqual(freshId, planted)
            assert.equal(await app.store.read(planted), null)
            assert.equal((await app.store.read(freshId)).value, 'mine')
          } finally {
            await app.close()
          }
        })

        test('rolling and resave send and store nothing for a new untouched session when saveUninitialized is false', async () => {
          const app = await setup(impl.create, framework, { rolling: true, resave: true })
          try {
            for (const path of ['/nothing', '/read']) {
              const response = await app.get(path)
              assert.deepEqual(response.setCookies, [], path)
            }
            assert.deepEqual(app.store.calls.set, [])
            assert.deepEqual(await app.store.ids(), [])
          } finally {
            await app.close()
          }
        })

        test("a store that emits 'disconnect' serves requests without a session until 'connect'", async () => {
          const app = await setup(impl.create, framework)
          try {
            const { cookie } = await seed(app)
            app.store.emit('disconnect')
            const during = await app.get('/kind', { cookie })
            assert.equal(JSON.parse(during.text).session, 'undefined')
            assert.deepEqual(during.setCookies, [])
            assert.deepEqual(app.store.calls.get, [])
            app.store.emit('connect')
            const after = await app.get('/read', { cookie })
            assert.deepEqual(JSON.parse(after.text), { value: 'seed' })
          } finally {
            await app.close()
          }
        })
      })
    }

    describe('sessionkit only (deliberate differences or stronger guarantees)', () => {
      test('setting cookie.maxAge on a loaded session (remember me) sends a new cookie and stores it', async () => {
        const app = await setup(session, framework)
        try {
          const { cookie, id } = await seed(app)
          const month = 30 * 24 * 3600 * 1000
          const response = await app.get(`/remember?ms=${month}`, { cookie })
          const header = sessionSetCookie(response)
          assert.ok(header, 'a new cookie for the new lifetime')
          assert.equal(idOf(header.split(';')[0], SECRET), id, 'same id')
          const expires = Date.parse(/Expires=([^;]+)/.exec(header)[1])
          assert.ok(Math.abs(expires - (Date.now() + month)) < 10_000)
          assert.deepEqual(app.store.calls.set, [id], 'stored, not only touched')
          const stored = await app.store.read(id)
          assert.equal(stored.cookie.originalMaxAge, month)
          assert.equal(stored.value, 'seed')
        } finally {
          await app.close()
        }
      })

      test('changing cookie.maxAge of a new session counts as a change: stored and cookie sent', async () => {
        const app = await setup(session, framework)
        try {
          const response = await app.get('/remember?ms=60000')
          const cookie = sessionCookie(response)
          assert.ok(cookie)
          assert.equal((await app.store.read(idOf(cookie, SECRET))).cookie.originalMaxAge, 60_000)
        } finally {
          await app.close()
        }
      })

      test('a failed save is an error: 5xx from the error handler, no session cookie', async () => {
        const store = new CountingStore()
        store.set = (sid, sess, callback) => callback(new Error('disk full'))
        const app = await start(session({ ...options(), store }), routes, { framework })
        try {
          const response = await app.get('/write?v=lost')
          assert.ok(response.status >= 500, `status ${response.status}`)
          assert.match(response.text, /disk full/)
          assert.equal(sessionCookie(response), undefined)
        } finally {
          await app.close()
        }
      })

      test('of two cookies with the session name, the one that verifies is used', async () => {
        const app = await setup(session, framework)
        try {
          const { cookie } = await seed(app, 'real')
          const stale = 'connect.sid=' + encodeURIComponent('s:stale.signature')
          const response = await app.get('/read', { cookie: `${stale}; ${cookie}` })
          assert.deepEqual(JSON.parse(response.text), { value: 'real' })
        } finally {
          await app.close()
        }
      })

      test('unset destroy clears the cookie of the destroyed session', async () => {
        const app = await setup(session, framework, { unset: 'destroy' })
        try {
          const { cookie } = await seed(app)
          const header = sessionSetCookie(await app.get('/unset-null', { cookie }))
          assert.ok(header, 'an expired Set-Cookie')
          assert.match(header, /^connect\.sid=;/)
          assert.match(header, /Expires=Thu, 01 Jan 1970 00:00:00 GMT/)
        } finally {
          await app.close()
        }
      })

      test('a client that follows the redirect as soon as the headers arrive sees the saved session', async () => {
        // sessionkit saves before the headers go out (express-session only holds back the last byte).
        const app = await setup(session, framework, {}, { setDelay: 50 })
        try {
          const response = await fetch(app.base + '/login-end?user=cid', { redirect: 'manual' })
          const cookie = response.headers.getSetCookie()[0].split(';')[0]
          const followed = await app.get('/whoami', { cookie })
          await response.text()
          assert.deepEqual(JSON.parse(followed.text), { user: 'cid' })
        } finally {
          await app.close()
        }
      })

      test('a secure cookie is not sent over plain http, but the session is still saved', async () => {
        const app = await setup(session, framework, { cookie: { secure: true } })
        try {
          const response = await app.get('/write?v=kept')
          assert.deepEqual(response.setCookies, [])
          const ids = await app.store.ids()
          assert.equal(ids.length, 1)
          assert.equal((await app.store.read(ids[0])).value, 'kept')
        } finally {
          await app.close()
        }
      })
    })
  })
}
