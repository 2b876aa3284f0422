// sessionkit/redis on a real Redis Cluster that this file starts (3 masters + 3 replicas on ports
// 7100-7105 of its own, from the machine's redis-server), with node-redis createCluster() and ioredis
// Cluster: the conformance kit with the capability tests and the races, the owner index across slots
// and its failure order, ids/all/length/clear over every master, and waitForReplicas.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import Redis from 'ioredis'
import { createCluster } from 'redis'
import session, { Cookie } from 'sessionkit'
import { RedisStore } from 'sessionkit/redis'
import { testStore } from 'sessionkit/testing'
import { listen, request } from './support/http.mjs'
import { cli, missingRedisBinaries, startCluster } from './support/redis-servers.mjs'
import { storeFlow } from './support/store-flow.mjs'

const skip = missingRedisBinaries()
const { keySlot } = createRequire(import.meta.url)('../dist/cjs/store/redis/client.js')
const prefix = `sk-cluster:${process.pid}:`
const record = (data, cookie = { maxAge: 60_000 }) => ({ ...data, cookie: new Cookie(cookie) })

let cluster
const clients = {}
before(async () => {
  if (skip) return
  // A long node timeout: the WAIT tests pause replicas briefly, and nothing here should fail over.
  cluster = await startCluster({ base: 7100, nodeTimeoutMs: 5000 })
  clients.node = createCluster({ rootNodes: cluster.rootNodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) })
  clients.node.on('error', () => {})
  await clients.node.connect()
  clients.io = new Redis.Cluster(cluster.rootNodes)
  await new Promise((resolve, reject) => {
    clients.io.once('ready', resolve)
    clients.io.once('error', reject)
  })
})
after(async () => {
  await clients.node?.close()
  await clients.io?.quit()
  await cluster?.stop()
})

const kitOptions = { ttl: 1000, expiryGrace: 1000 }

describe('sessionkit/redis on a Redis Cluster', { skip, concurrency: 1 }, () => {
  describe('the conformance kit', { concurrency: true }, () => {
    testStore({ name: 'node-redis createCluster', store: () => new RedisStore({ client: clients.node, prefix: `${prefix}kit-node:`, indexBy: 'userId' }), ...kitOptions })
    testStore({ name: 'ioredis Cluster', store: () => new RedisStore({ client: clients.io, prefix: `${prefix}kit-io:`, indexBy: 'userId' }), ...kitOptions })
  })

  let flowStore
  storeFlow('sessionkit/redis on a Cluster in session()', {
    store: () => (flowStore ??= new RedisStore({ client: clients.io, prefix: `${prefix}flow:`, indexBy: 'userId' })),
    backend: {
      async read(sid) {
        const key = `${prefix}flow:{${sid}}`
        const [fields, pttl] = await Promise.all([clients.node.sendCommand(key, true, ['HGETALL', key]), clients.node.sendCommand(key, true, ['PTTL', key])])
        const hash = Array.isArray(fields) ? Object.fromEntries(fields.flatMap((value, i) => (i % 2 === 0 ? [[value, fields[i + 1]]] : []))) : fields
        if (!hash.d) return null
        return { data: { ...JSON.parse(hash.d), cookie: JSON.parse(hash.c) }, expiresAt: Date.now() + Number(pttl) }
      },
    },
  })

  for (const kind of ['node', 'io']) {
    describe(`with ${kind === 'node' ? 'node-redis' : 'ioredis'}`, { concurrency: 1 }, () => {
      const p = `${prefix}${kind}:`

      test('sessions spread over every master; ids, all, length and clear see all of them', async () => {
        const store = new RedisStore({ client: clients[kind], prefix: `${p}walk:`, indexBy: 'userId' })
        const sids = Array.from({ length: 60 }, (_, i) => `s${i}`)
        await Promise.all(sids.map((sid, i) => store.set(sid, record({ userId: `u${i % 7}`, n: i }))))
        const masters = await cluster.masterPorts()
        assert.equal(masters.length, 3)
        for (const port of masters) {
          const found = await cli(port, '--scan', '--pattern', `${p}walk:{*`)
          assert.ok(found.split('\n').filter(Boolean).length > 5, `master ${port} holds some of the sessions`)
        }
        assert.equal(await store.length(), 60)
        assert.deepEqual((await store.ids()).sort(), [...sids].sort())
        const all = await store.all()
        assert.equal(Object.keys(all).length, 60)
        assert.equal(all.s7.n, 7)
        await store.clear()
        assert.equal(await store.length(), 0)
        for (const port of masters) assert.equal(await cli(port, '--scan', '--pattern', `${p}walk:*`), '', `master ${port} keeps nothing under the prefix`)
      })

      test('the owner index finds an owner’s sessions in every slot, follows owner changes and destroys', async () => {
        const store = new RedisStore({ client: clients[kind], prefix: `${p}owner:`, indexBy: 'userId' })
        const sids = Array.from({ length: 12 }, (_, i) => `ann-${i}`)
        assert.ok(new Set(sids.map((sid) => keySlot(`${p}owner:{${sid}}`))).size > 6, 'the sessions sit in many slots')
        for (const sid of sids) await store.set(sid, record({ userId: 'ann' }))
        assert.deepEqual((await store.idsOf('ann')).sort(), [...sids].sort())
        await store.set('ann-0', record({ userId: 'bob' }))
        await store.destroy('ann-1')
        assert.deepEqual((await store.idsOf('ann')).sort(), sids.slice(2).sort())
        assert.deepEqual(await store.idsOf('bob'), ['ann-0'])
        assert.equal(await cli(7100, '-c', 'ZSCORE', `${p}owner:owner:{ann}`, 'ann-0'), '', 'the old owner’s entry is removed after the move')
        await store.clear()
        assert.deepEqual(await store.idsOf('ann'), [])
      })

      test('a step that never lands leaves the index with extra entries, never a missing one', async () => {
        const store = new RedisStore({ client: clients[kind], prefix: `${p}order:`, indexBy: 'userId' })
        const indexKey = `${p}order:owner:{ann}`
        // The index step ran, the session's write did not (a process that died between the two):
        await clients.node.sendCommand(indexKey, false, ['ZADD', indexKey, String(Date.now() + 60_000), 'never-written'])
        // A destroy whose index removal never ran:
        await store.set('destroyed', record({ userId: 'ann' }))
        await clients.node.sendCommand(`${p}order:{destroyed}`, false, ['DEL', `${p}order:{destroyed}`])
        await store.set('live', record({ userId: 'ann' }, { maxAge: 1500 }))
        assert.deepEqual(await store.idsOf('ann'), ['live'], 'entries without a live session of that owner are filtered on read')
        // A touch moves the entry before the session: the entry outlives the session's new expiry.
        const touched = await store.getVersioned('live', { touch: false })
        touched.record.cookie = new Cookie({ maxAge: 120_000 })
        await store.touch('live', touched.record)
        await store.set('loaded', record({ userId: 'ann' }, { maxAge: 1500 }))
        const loaded = await store.getVersioned('loaded', { touch: false })
        loaded.record.cookie.maxAge = 1500
        await store.set('loaded', { ...loaded.record, cookie: new Cookie({ maxAge: 90_000 }) })
        await store.getVersioned('loaded', { touch: true })
        const pttl = async (key) => Number(await clients.node.sendCommand(key, true, ['PTTL', key]))
        const score = async (sid) => Number(await clients.node.sendCommand(indexKey, true, ['ZSCORE', indexKey, sid]))
        for (const sid of ['live', 'loaded']) {
          const sessionPttl = await pttl(`${p}order:{${sid}}`)
          assert.ok((await score(sid)) >= Date.now() + sessionPttl - 50, `the entry of ${sid} lasts as long as the session`)
        }
        assert.ok((await pttl(indexKey)) >= (await pttl(`${p}order:{live}`)), 'the index key lives as long as its longest session')
        assert.deepEqual((await store.idsOf('ann')).sort(), ['live', 'loaded'])
        await store.clear()
      })

      test('waitForReplicas: a write and a destroy wait for the replica; a replica that does not answer fails them', async () => {
        const store = new RedisStore({ client: clients[kind], prefix: `${p}wait:`, indexBy: 'userId', waitForReplicas: { replicas: 1, timeoutMs: 300 } })
        await store.set('a', record({ userId: 'ann' }))
        assert.deepEqual(await store.idsOf('ann'), ['a'])
        const outcome = await store.setIfVersion('b', record({ userId: 'ann' }), null)
        assert.equal(outcome.written, true)
        // The replica of the session's shard stops answering: the write still lands on the master,
        // but WAIT counts 0 replicas, and the call fails instead of acknowledging it.
        const slot = keySlot(`${p}wait:{c}`)
        const masterPort = await masterOfSlot(slot)
        const replica = cluster.server(await cluster.replicaOf(masterPort))
        replica.child.kill('SIGSTOP')
        try {
          const started = Date.now()
          await assert.rejects(store.set('c', record({ userId: 'ann' })), (err) => {
            assert.equal(err.code, 'SESSION_STORE_FAILED')
            assert.match(err.message, /reached 0 of the 1 replica/)
            return true
          })
          assert.ok(Date.now() - started >= 290, 'it waited for the timeout')
          const toDestroy = `${p}wait:{c}`
          assert.equal(await clients.node.sendCommand(toDestroy, false, ['EXISTS', toDestroy]), 1, 'the write is on the master')
          await assert.rejects(store.destroy('c'), /reached 0 of the 1 replica/)
          const strict = new RedisStore({ client: clients[kind], prefix: `${p}wait:`, waitForReplicas: { replicas: 2, timeoutMs: 100 } })
          await assert.rejects(strict.set('a', record({})), /reached \d of the 2 replica/)
        } finally {
          replica.child.kill('SIGCONT')
        }
        await store.clear()
      })

      test('through session(): a login the replicas did not confirm is a 503, not a cookie', async (t) => {
        const store = new RedisStore({ client: clients[kind], prefix: `${p}app:`, waitForReplicas: { replicas: 2, timeoutMs: 100 } })
        const app = express()
        app.use(session({ store, secret: 'cluster secret', resave: false, saveUninitialized: false }))
        app.post('/login', (req, res) => {
          req.session.user = 'ann'
          res.send('ok')
        })
        const server = await listen(app)
        t.after(() => server.close())
        const response = await request(server.base, '/login', { method: 'POST' })
        assert.equal(response.status, 503)
        assert.deepEqual(response.setCookies, [])
        await store.clear()
      })
    })
  }

  test('the slot sessionkit computes for the WAIT is the one Redis uses', async () => {
    for (const key of ['sess:{abc}', 'x{}y', '{', 'a{b}c{d}', `${prefix}{é-ü}`, 'plain', 'sess:owner:{42}']) {
      assert.equal(keySlot(key), Number(await cli(7100, 'CLUSTER', 'KEYSLOT', key)), key)
    }
  })
})

test('options: braces in a prefix and a waitForReplicas without a sound count are refused at once', () => {
  const client = { sendCommand: async () => null }
  assert.throws(() => new RedisStore({ client, prefix: 'app{1}:' }), /prefix must not contain \{ or \}/)
  assert.throws(() => new RedisStore({ client, indexPrefix: 'owner{' }), /indexPrefix must not contain/)
  for (const waitForReplicas of [{ replicas: 0 }, { replicas: 1.5 }, {}, { replicas: 1, timeoutMs: 0 }]) {
    assert.throws(() => new RedisStore({ client, waitForReplicas }), /waitForReplicas\.(replicas|timeoutMs) must be/, JSON.stringify(waitForReplicas))
  }
  assert.ok(new RedisStore({ client, waitForReplicas: { replicas: 2 } }))
})

/** The port of the master serving `slot` now. */
async function masterOfSlot(slot) {
  const lines = (await cli(7100, 'CLUSTER', 'NODES')).split('\n')
  for (const line of lines) {
    const [, address, flags, , , , , , ...ranges] = line.split(' ')
    if (!flags?.includes('master')) continue
    for (const range of ranges) {
      const [from, to = from] = range.split('-').map(Number)
      if (slot >= from && slot <= to) return Number(address.split('@')[0].split(':')[1])
    }
  }
  throw new Error(`no master for slot ${slot}`)
}
