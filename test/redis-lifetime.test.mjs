// Issue-8 features against a real Redis through connect-redis: the owner index in Redis (log out
// everywhere across processes) and rewriteOnTouch (the stored cookie.expires follows the TTL).
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'
import session, { RedisIndex } from 'sessionkit'
import { listen, request } from './support/http.mjs'
import { requireService } from './support/services.mjs'

const { skip } = await requireService('redis')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const idOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]

describe('sessionkit features on connect-redis', { skip }, () => {
  let client
  const prefix = `sk-test-${randomUUID()}:`
  before(async () => {
    client = createClient({ url: 'redis://127.0.0.1:6379' })
    await client.connect()
  })
  after(async () => {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) {
      const list = Array.isArray(keys) ? keys : [keys]
      if (list.length > 0) await client.del(list)
    }
    await client.close()
  })

  test('two processes sharing Redis and a RedisIndex: a password change on one logs the user out on both', async () => {
    // Two middlewares stand for two processes: they share only Redis.
    const servers = []
    for (let i = 0; i < 2; i++) {
      const middleware = session({
        secret: 'shared secret',
        resave: false,
        saveUninitialized: false,
        store: new RedisStore({ client, prefix: `${prefix}sess:` }),
        indexBy: 'userId',
        index: new RedisIndex(client, { prefix: `${prefix}owner:` }),
      })
      const app = express()
      app.use(middleware)
      app.get('/login/:user', async (req, res) => {
        await req.session.regenerate()
        req.session.userId = req.params.user
        res.send(req.sessionID)
      })
      app.get('/me', (req, res) => res.send(String(req.session.userId ?? 'nobody')))
      app.get('/password-changed', async (req, res) => {
        res.send(String(await middleware.destroySessionsOf(req.session.userId, { except: req.sessionID })))
      })
      servers.push(await listen(app))
    }
    const [a, b] = servers
    try {
      const onA = await request(a.base, '/login/ada')
      const onB = await request(b.base, '/login/ada')
      const alsoOnB = await request(b.base, '/login/ada')
      const other = await request(a.base, '/login/bob')
      const members = await client.zRange(`${prefix}owner:ada`, 0, -1)
      assert.deepEqual(members.sort(), [onA.text, onB.text, alsoOnB.text].sort(), 'the index in Redis names all three sessions')
      assert.ok((await client.pTTL(`${prefix}owner:ada`)) > 0, 'the index set expires')

      const changed = await request(a.base, '/password-changed', { cookie: onA.cookie })
      assert.equal(changed.text, '2')
      assert.equal((await request(b.base, '/me', { cookie: onB.cookie })).text, 'nobody')
      assert.equal((await request(a.base, '/me', { cookie: alsoOnB.cookie })).text, 'nobody')
      assert.equal((await request(b.base, '/me', { cookie: onA.cookie })).text, 'ada', 'the session that changed the password stays')
      assert.equal((await request(b.base, '/me', { cookie: other.cookie })).text, 'bob')
      assert.equal(await client.exists(`${prefix}sess:${onB.text}`), 0, 'gone from Redis')
      assert.deepEqual(await client.zRange(`${prefix}owner:ada`, 0, -1), [onA.text])
    } finally {
      for (const server of servers) await server.close()
    }
  })

  for (const rewriteOnTouch of [false, true]) {
    test(`touch ${rewriteOnTouch ? 'with' : 'without'} rewriteOnTouch: the stored cookie.expires ${rewriteOnTouch ? 'moves with' : 'lags behind'} the TTL`, async () => {
      const app = express()
      app.use(
        session({
          secret: 'touch',
          resave: false,
          saveUninitialized: false,
          rewriteOnTouch,
          merge: rewriteOnTouch,
          cookie: { maxAge: 60_000 },
          store: new RedisStore({ client, prefix: `${prefix}touch${rewriteOnTouch}:` }),
        }),
      )
      app.get('/write', (req, res) => {
        req.session.n = 1
        res.send('ok')
      })
      app.get('/read', (req, res) => res.send(String(req.session.n)))
      const { base, close } = await listen(app)
      try {
        const first = await request(base, '/write')
        const key = `${prefix}touch${rewriteOnTouch}:${idOf(first.cookie)}`
        const storedFirst = Date.parse(JSON.parse(await client.get(key)).cookie.expires)
        await sleep(1_100)
        const read = await request(base, '/read', { cookie: first.cookie })
        assert.equal(read.text, '1')
        // The touch runs after the response (a read and a write with merge): wait for it, bounded.
        let storedAfter = JSON.parse(await client.get(key))
        for (let waited = 0; rewriteOnTouch && Date.parse(storedAfter.cookie.expires) < storedFirst + 1_000 && waited < 2_000; waited += 20) {
          await sleep(20)
          storedAfter = JSON.parse(await client.get(key))
        }
        let ttl = await client.pTTL(key)
        for (let waited = 0; ttl <= 58_000 && waited < 2_000; waited += 20) {
          await sleep(20)
          ttl = await client.pTTL(key)
        }
        const storedExpires = Date.parse(storedAfter.cookie.expires)
        assert.ok(ttl > 58_000, `the TTL was moved by the touch (${ttl} ms)`)
        assert.equal(storedAfter.n, 1, 'the data is unchanged')
        if (rewriteOnTouch) {
          assert.ok(storedExpires >= storedFirst + 1_000, 'the stored cookie.expires moved with the TTL')
          assert.ok(Math.abs(storedExpires - (Date.now() + ttl)) < 1_500, 'and agrees with it')
        } else {
          assert.equal(storedExpires, storedFirst, "connect-redis's own touch moves only the TTL")
        }
      } finally {
        await close()
      }
    })
  }
})
