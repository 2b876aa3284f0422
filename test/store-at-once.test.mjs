// The built-in MemoryStore answers sessionkit's own calls before they return, so a request whose store
// is in memory is never held: the app's res.end() hands the response to Node at once, with the session
// already stored. An app's own calls on the store still answer on a later tick, as express-session's
// MemoryStore does. And a store that answers synchronously never swallows what the app then throws.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import express from 'express'
import session, { MemoryStore } from 'sessionkit'
import { listen, request } from './support/http.mjs'

/** An app whose /save route records, right after its res.end(), whether Node has the response and what the store holds. */
async function appOn(store) {
  const seen = {}
  const app = express()
  app.use(session({ secret: 'at once', store, resave: false, saveUninitialized: false }))
  app.get('/save', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1
    res.end('saved')
    // res.finished is Node's own flag, set when the response is handed to it; a held response has not been yet.
    seen.finishedAtEnd = res.finished
    seen.sid = req.sessionID
  })
  const server = await listen(app)
  return { server, seen }
}

describe('with the built-in MemoryStore, nothing waits for the store', () => {
  test('a save completes inside res.end(): the response goes to Node at once, the session is stored', async () => {
    const store = new MemoryStore()
    const { server, seen } = await appOn(store)
    try {
      const first = await request(server.base, '/save')
      assert.equal(first.status, 200)
      assert.equal(first.setCookies.length, 1)
      assert.equal(seen.finishedAtEnd, true)
      const stored = await new Promise((resolve, reject) => store.get(seen.sid, (err, record) => (err ? reject(err) : resolve(record))))
      assert.equal(stored.n, 1)
      const second = await request(server.base, '/save', { headers: { cookie: first.setCookies[0].split(';')[0] } })
      assert.equal(second.status, 200)
      assert.equal(seen.finishedAtEnd, true)
      const again = await new Promise((resolve, reject) => store.get(seen.sid, (err, record) => (err ? reject(err) : resolve(record))))
      assert.equal(again.n, 2)
    } finally {
      await server.close()
    }
  })

  test('a store whose set answers later still holds the response until it has', async () => {
    const store = new MemoryStore()
    const set = store.set.bind(store)
    store.set = (sid, record, callback) => setTimeout(() => set(sid, record, callback), 20)
    const { server, seen } = await appOn(store)
    try {
      const res = await request(server.base, '/save')
      assert.equal(res.status, 200)
      assert.equal(seen.finishedAtEnd, false)
      const stored = await new Promise((resolve, reject) => store.get(seen.sid, (err, record) => (err ? reject(err) : resolve(record))))
      assert.equal(stored.n, 1)
    } finally {
      await server.close()
    }
  })

  test("an app's own calls on the MemoryStore answer on a later tick, as express-session's do", async () => {
    const store = new MemoryStore()
    const order = []
    await new Promise((resolve) => {
      store.set('a', { cookie: { originalMaxAge: null }, n: 1 }, () => {
        order.push('set answered')
        resolve()
      })
      order.push('set returned')
    })
    await new Promise((resolve) => {
      store.get('a', (err, record) => {
        order.push(`get answered ${record?.n}`)
        resolve()
      })
      order.push('get returned')
    })
    assert.deepEqual(order, ['set returned', 'set answered', 'get returned', 'get answered 1'])
  })
})

describe('a store that answers synchronously', () => {
  /** A third-party store that calls back before it returns. */
  function syncStore() {
    const data = new Map()
    return {
      get: (sid, callback) => callback(null, data.has(sid) ? JSON.parse(data.get(sid)) : null),
      set: (sid, record, callback) => {
        data.set(sid, JSON.stringify(record))
        callback(null)
      },
      destroy: (sid, callback) => {
        data.delete(sid)
        callback(null)
      },
    }
  }

  test('an error thrown by what runs after the load reaches the caller, not the store error path', async () => {
    const store = syncStore()
    const middleware = session({ secret: 'sync', store, resave: false, saveUninitialized: true })
    // A first request, to have a stored session and its cookie.
    let cookie
    const server = await listen((req, res) => middleware(req, res, () => res.end('ok')))
    try {
      const res = await request(server.base, '/')
      cookie = res.setCookies[0].split(';')[0]
    } finally {
      await server.close()
    }
    // Plain connect-style use: the request goes on inside the store's callback, and `next` throws.
    const thrown = await new Promise((resolve) => {
      const server2 = listen((req, res) => {
        try {
          middleware(req, res, () => {
            throw new Error('boom from the app')
          })
          resolve(undefined)
        } catch (err) {
          resolve(err)
        }
        res.end('answered')
      })
      server2.then(async (s) => {
        await request(s.base, '/', { headers: { cookie } })
        await s.close()
      })
    })
    assert.ok(thrown instanceof Error, 'the throw must reach the caller, not vanish inside the store call')
    assert.equal(thrown.message, 'boom from the app')
  })
})

describe('a request without a session cookie is hooked only once it uses its session', () => {
  test('a session first used after the headers went out is still saved (without a cookie, as before)', async () => {
    const store = new MemoryStore()
    const app = express()
    app.use(session({ secret: 'late', store, resave: false, saveUninitialized: false }))
    let sid
    app.get('/', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('streaming; ')
      req.session.late = true
      sid = req.sessionID
      res.end('done')
    })
    const server = await listen(app)
    try {
      const res = await request(server.base, '/')
      assert.equal(res.status, 200)
      assert.equal(res.text, 'streaming; done')
      assert.equal(res.setCookies.length, 0)
      const stored = await new Promise((resolve, reject) => store.get(sid, (err, record) => (err ? reject(err) : resolve(record))))
      assert.equal(stored?.late, true)
    } finally {
      await server.close()
    }
  })

  test('with saveUninitialized, an untouched request still gets its new session and cookie', async () => {
    const store = new MemoryStore()
    const app = express()
    app.use(session({ secret: 'eager', store, resave: false, saveUninitialized: true }))
    app.get('/', (req, res) => res.send('untouched'))
    const server = await listen(app)
    try {
      const res = await request(server.base, '/')
      assert.equal(res.status, 200)
      assert.equal(res.setCookies.length, 1)
      const length = await new Promise((resolve, reject) => store.length((err, n) => (err ? reject(err) : resolve(n))))
      assert.equal(length, 1)
    } finally {
      await server.close()
    }
  })
})
