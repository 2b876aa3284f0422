// sessionkit/redis against the Redis server on 127.0.0.1:6379, with node-redis and with ioredis: the
// conformance kit with the capability tests, the request flow through session() (which uses only
// get/set/destroy/touch today), the key layout, one round trip per operation, and the races across
// two processes. Every key this file writes carries a prefix unique to the run.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import Redis from 'ioredis'
import { createClient } from 'redis'
import { Cookie, isConditionalStore } from 'sessionkit'
import { RedisStore } from 'sessionkit/redis'
import { testStore } from 'sessionkit/testing'
import { requireService } from './support/services.mjs'
import { storeFlow } from './support/store-flow.mjs'
import { crossProcessRaces } from './support/stores-race.mjs'

const { skip } = await requireService('redis')
const URL = 'redis://127.0.0.1:6379'
const prefix = `sessionkit-test:${process.pid}-${Date.now().toString(36)}:`

let nodeClient
let ioClient
before(async () => {
  if (skip) return
  nodeClient = createClient({ url: URL })
  await nodeClient.connect()
  ioClient = new Redis(URL)
})
after(async () => {
  if (!nodeClient) return
  for await (const keys of nodeClient.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) for (const key of keys) await nodeClient.del(key)
  await nodeClient.close()
  await ioClient.quit()
})

/** A node-redis client that records every command the store sends through it. */
function recording(client) {
  const sent = []
  return {
    sent,
    sendCommand(args) {
      sent.push(args)
      return client.sendCommand(args)
    },
  }
}

const record = (data, cookie = { maxAge: 60_000 }) => ({ ...data, cookie: new Cookie(cookie) })
const kitOptions = { ttl: 1000, expiryGrace: 1000 }

describe('sessionkit/redis', { concurrency: true }, () => {
  describe('the conformance kit', { skip, concurrency: true }, () => {
    testStore({ name: 'sessionkit/redis with node-redis', store: () => new RedisStore({ client: nodeClient, prefix: `${prefix}kit-node:`, indexBy: 'userId' }), ...kitOptions })
    testStore({ name: 'sessionkit/redis with ioredis', store: () => new RedisStore({ client: ioClient, prefix: `${prefix}kit-io:`, indexBy: 'userId' }), ...kitOptions })
  })

  let flowStore
  storeFlow('sessionkit/redis in session()', {
    skip,
    store: () => (flowStore ??= new RedisStore({ client: nodeClient, prefix: `${prefix}flow:` })),
    backend: {
      async read(sid) {
        const key = `${prefix}flow:{${sid}}`
        const [fields, pttl] = await Promise.all([nodeClient.hGetAll(key), nodeClient.pTTL(key)])
        if (!fields.d) return null
        return { data: { ...JSON.parse(fields.d), cookie: JSON.parse(fields.c) }, expiresAt: Date.now() + pttl }
      },
    },
  })

  describe('keys, round trips and clients', { skip, concurrency: 1 }, () => {
    test('a session is one hash under <prefix>{<sid>} holding its version, expiring with its cookie', async () => {
      const store = new RedisStore({ client: nodeClient, prefix: `${prefix}layout:`, ttl: 30_000 })
      await store.set('abc', record({ n: 1 }))
      const fields = await nodeClient.hGetAll(`${prefix}layout:{abc}`)
      assert.deepEqual(JSON.parse(fields.d), { n: 1 })
      assert.match(fields.v, /^\d+$/)
      assert.equal(fields.v, (await store.getVersioned('abc', { touch: false })).version)
      const pttl = await nodeClient.pTTL(`${prefix}layout:{abc}`)
      assert.ok(pttl > 59_000 && pttl <= 60_000, `the key expires with the cookie (PTTL ${pttl})`)
      await store.set('browser', record({ n: 2 }, {}))
      const browserTtl = await nodeClient.pTTL(`${prefix}layout:{browser}`)
      assert.ok(browserTtl > 29_000 && browserTtl <= 30_000, `a browser-session cookie gets the ttl option (PTTL ${browserTtl})`)
      await store.set('past', record({ n: 3 }, { expires: new Date(Date.now() - 5000) }))
      const pastTtl = await nodeClient.pTTL(`${prefix}layout:{past}`)
      assert.ok(pastTtl > 0 && pastTtl <= 1000, `a cookie already past its expiry still gets one second (PTTL ${pastTtl})`)
      await store.clear()
    })

    test('every operation is one round trip; ids, length and clear use SCAN and one key per command', async (t) => {
      const client = recording(nodeClient)
      const store = new RedisStore({ client, prefix: `${prefix}trips:`, indexBy: 'userId' })
      const trips = {}
      const count = async (name, work) => {
        const before = client.sent.length
        await work()
        trips[name] = client.sent.length - before
      }
      // Loads the scripts first, so that what is counted is the steady state.
      await store.set('warm', record({ userId: 'u' }))
      await store.getVersioned('warm', { touch: true })
      await store.touch('warm', record({ userId: 'u' }))
      await store.destroy('warm')
      await store.idsOf('u')
      await count('set', () => store.set('s1', record({ userId: 'ann' })))
      await count('get', () => store.get('s1'))
      await count('getVersioned', () => store.getVersioned('s1', { touch: false }))
      await count('getVersioned touch', () => store.getVersioned('s1', { touch: true }))
      const { version } = await store.getVersioned('s1', { touch: false })
      await count('setIfVersion written', () => store.setIfVersion('s1', record({ userId: 'ann', n: 2 }), version))
      await count('setIfVersion changed', () => store.setIfVersion('s1', record({ userId: 'ann', n: 3 }), version))
      await count('touch', () => store.touch('s1', record({ userId: 'ann' })))
      await count('idsOf', () => store.idsOf('ann'))
      await count('destroy', () => store.destroy('s1'))
      await count('setIfVersion gone', () => store.setIfVersion('s1', record({ userId: 'ann' }), version))
      t.diagnostic(`round trips: ${JSON.stringify(trips)}`)
      for (const [name, trips_] of Object.entries(trips)) assert.equal(trips_, 1, `${name} takes one round trip`)

      for (let i = 0; i < 30; i++) await store.set(`many-${i}`, record({ userId: 'bob' }))
      client.sent.length = 0
      assert.equal(await store.length(), 30)
      assert.equal((await store.ids()).length, 30)
      assert.equal(Object.keys(await store.all()).length, 30)
      await store.clear()
      assert.equal(await store.length(), 0)
      assert.deepEqual(await store.idsOf('bob'), [])
      const names = client.sent.map((args) => String(args[0]).toUpperCase())
      assert.ok(!names.includes('KEYS'), 'never KEYS')
      assert.ok(names.includes('SCAN'))
      for (const args of client.sent.filter((a) => ['DEL', 'UNLINK', 'HMGET'].includes(String(a[0]).toUpperCase()))) {
        assert.ok(String(args[1]).startsWith(prefix), 'one key per command')
        if (args[0] !== 'HMGET') assert.equal(args.length, 2, 'one key per command')
      }
    })

    test('a script Redis no longer has (restart, SCRIPT FLUSH) is sent again with EVAL', async () => {
      let refused = 0
      const client = {
        sendCommand(args) {
          if (args[0] === 'EVALSHA' && refused < 1) {
            refused++
            return Promise.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'))
          }
          return nodeClient.sendCommand(args)
        },
      }
      const store = new RedisStore({ client, prefix: `${prefix}noscript:` })
      const outcome = await store.setIfVersion('x', record({ n: 1 }), null)
      assert.equal(refused, 1)
      assert.equal(outcome.written, true)
      assert.equal((await store.get('x')).n, 1)
      await store.destroy('x')
    })

    test('the owner index key expires no earlier than a touch-extended session, and a session leaves it when it expires', async () => {
      const store = new RedisStore({ client: ioClient, prefix: `${prefix}index:`, indexBy: 'userId' })
      const indexKey = `${prefix}index:owner:{ann}`
      const session = record({ userId: 'ann' }, { maxAge: 1500 })
      await store.set('short', session)
      await store.set('long', record({ userId: 'ann' }, { maxAge: 600_000 }))
      await store.destroy('long')
      session.cookie.maxAge = 120_000
      await store.touch('short', session)
      assert.ok((await ioClient.pttl(indexKey)) >= (await ioClient.pttl(`${prefix}index:{short}`)), 'after touch() the index lives at least as long as the session')
      const loaded = record({ userId: 'ann' }, { maxAge: 1500 })
      await store.set('loaded', loaded)
      await store.getVersioned('loaded', { touch: true })
      assert.deepEqual((await store.idsOf('ann')).sort(), ['loaded', 'short'])
      await new Promise((resolve) => setTimeout(resolve, 1700))
      assert.deepEqual(await store.idsOf('ann'), ['short'], 'the session that expired (1.5 s, never extended) has left the index')
      assert.equal(await store.get('loaded'), null)
      assert.ok((await ioClient.pttl(indexKey)) > 100_000, 'the index key lives as long as the touched session')
      await store.clear()
    })

    test('clients are told apart by shape; neither client package is loaded by sessionkit or sessionkit/redis', () => {
      assert.ok(isConditionalStore(new RedisStore({ client: nodeClient })))
      assert.ok(isConditionalStore(new RedisStore({ client: ioClient })))
      assert.throws(() => new RedisStore({ client: {} }), /neither call\(\) \(ioredis\) nor sendCommand\(\) \(node-redis\)/)
      const loaded = execFileSync(
        process.execPath,
        ['-e', "require('sessionkit'); require('sessionkit/redis'); require('sessionkit/postgres'); console.log(JSON.stringify(Object.keys(require.cache).filter((f) => /node_modules\\/(redis|@redis|ioredis|pg)\\//.test(f))))"],
        { encoding: 'utf8' },
      )
      assert.deepEqual(JSON.parse(loaded), [])
    })
  })

  let raceStore
  crossProcessRaces('sessionkit/redis (node-redis in one process, ioredis in the other)', {
    skip,
    kinds: ['node-redis', 'ioredis'],
    config: { url: URL, prefix: `${prefix}race:` },
    store: () => (raceStore ??= new RedisStore({ client: nodeClient, prefix: `${prefix}race:` })),
  })
})
