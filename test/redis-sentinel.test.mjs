// sessionkit/redis behind Sentinel, on servers this file starts (a master on 7120, two replicas, three
// sentinels on 7125-7127, all from the machine's redis-server), with node-redis createSentinel() and
// ioredis with `sentinels`: the conformance kit, waitForReplicas on the sentinel client's lease, and a
// failover: the master is killed (SIGKILL), the sentinels promote a replica, and every session
// written before is read back through both clients, which find the new master by themselves.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import Redis from 'ioredis'
import { createSentinel } from 'redis'
import { Cookie } from 'sessionkit'
import { RedisStore } from 'sessionkit/redis'
import { testStore } from 'sessionkit/testing'
import { missingRedisBinaries, startSentinel, waitFor } from './support/redis-servers.mjs'

const skip = missingRedisBinaries()
const prefix = `sk-sentinel:${process.pid}:`
const record = (data, cookie = { maxAge: 60_000 }) => ({ ...data, cookie: new Cookie(cookie) })

let set
const clients = {}
before(async () => {
  if (skip) return
  set = await startSentinel({ base: 7120, sentinelBase: 7125, replicas: 2, downAfterMs: 1000 })
  clients.node = createSentinel({ name: set.name, sentinelRootNodes: set.sentinelNodes })
  clients.node.on('error', () => {})
  await clients.node.connect()
  clients.io = new Redis({ sentinels: set.sentinelNodes, name: set.name, lazyConnect: true })
  clients.io.on('error', () => {})
  await clients.io.connect()
})
after(async () => {
  await clients.node?.close().catch(() => {})
  clients.io?.disconnect()
  await set?.stop()
})

describe('sessionkit/redis behind Sentinel', { skip, concurrency: 1 }, () => {
  describe('the conformance kit', { concurrency: true }, () => {
    const kitOptions = { ttl: 1000, expiryGrace: 1000 }
    testStore({ name: 'node-redis createSentinel', store: () => new RedisStore({ client: clients.node, prefix: `${prefix}kit-node:`, indexBy: 'userId' }), ...kitOptions })
    testStore({ name: 'ioredis with sentinels', store: () => new RedisStore({ client: clients.io, prefix: `${prefix}kit-io:`, indexBy: 'userId' }), ...kitOptions })
  })

  test('waitForReplicas counts the replicas behind the sentinels’ master', async () => {
    for (const kind of ['node', 'io']) {
      const store = new RedisStore({ client: clients[kind], prefix: `${prefix}wait-${kind}:`, waitForReplicas: { replicas: 2, timeoutMs: 500 } })
      await store.set('a', record({ n: 1 }))
      await store.destroy('a')
      const tooMany = new RedisStore({ client: clients[kind], prefix: `${prefix}wait-${kind}:`, waitForReplicas: { replicas: 3, timeoutMs: 100 } })
      await assert.rejects(tooMany.set('b', record({ n: 2 })), /reached 2 of the 3 replica/, kind)
      await store.clear()
    }
  })

  test('a failover keeps every session: the master is killed, a replica promoted, both clients read on', async (t) => {
    const stores = {
      node: new RedisStore({ client: clients.node, prefix: `${prefix}failover:`, indexBy: 'userId', waitForReplicas: { replicas: 1, timeoutMs: 1000 } }),
      io: new RedisStore({ client: clients.io, prefix: `${prefix}failover:`, indexBy: 'userId' }),
    }
    const sids = Array.from({ length: 100 }, (_, i) => `s${i}`)
    await Promise.all(sids.map((sid, i) => stores.node.set(sid, record({ userId: `u${i % 5}`, n: i }))))
    const oldMaster = await set.masterPort()
    const killedAt = Date.now()
    await set.server(oldMaster).kill('SIGKILL')
    await waitFor(async () => {
      const port = await set.masterPort()
      return port !== oldMaster && port > 0
    }, 'the sentinels to promote a replica', 30_000)
    const promotedAfter = Date.now() - killedAt
    for (const [kind, store] of Object.entries(stores)) {
      // The client learns of the new master on its own; until then its calls fail, which is the window.
      await waitFor(async () => (await store.get('s0').catch(() => null)) !== null, `${kind} to reach the new master`, 30_000)
      const all = await store.all()
      assert.deepEqual(sids.filter((sid) => !all[sid]), [], `${kind}: every session written before the kill is there`)
      assert.equal(all.s42.n, 42)
      assert.equal((await store.idsOf('u1')).filter((sid) => sids.includes(sid)).length, 20, `${kind}: the owner index came along`)
      await store.set(`after-${kind}`, record({ userId: 'u1' }))
      assert.equal((await store.get(`after-${kind}`)).userId, 'u1', `${kind}: writes go to the new master`)
    }
    t.diagnostic(`sentinels promoted a replica ${promotedAfter} ms after the kill; both clients read on ${Date.now() - killedAt} ms after it`)
    await stores.io.clear()
  })
})
