// What waitForReplicas costs: the latency of sessionkit/redis writes (a login's set with an owner
// index, a logout's destroy) on a local Redis Cluster (3 masters + 3 replicas, ports 7160-7165), with
// and without WAIT for one replica, one at a time and 50 at once, with node-redis and ioredis.
//
//   node bench/wait-latency.mjs [--ops=2000] [--out=bench/results/wait-latency.json]
import { writeFileSync } from 'node:fs'
import Redis from 'ioredis'
import { createCluster } from 'redis'
import { Cookie } from '../dist/esm/sessionkit.mjs'
import { RedisStore } from '../dist/esm/redis.mjs'
import { startCluster } from '../test/support/redis-servers.mjs'

const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')))
const ops = Number(args.ops ?? 2000)

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]

/** Runs `op(i)` `count` times, `concurrency` at once; answers latency figures in ms. */
async function measure(count, concurrency, op) {
  const times = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++
        const at = performance.now()
        await op(i)
        times.push(performance.now() - at)
      }
    }),
  )
  const elapsed = performance.now() - started
  times.sort((a, b) => a - b)
  return { p50: percentile(times, 50), p99: percentile(times, 99), perSecond: Math.round((count / elapsed) * 1000) }
}

const cluster = await startCluster({ base: 7160, nodeTimeoutMs: 5000 })
const results = []
try {
  const node = createCluster({ rootNodes: cluster.rootNodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) })
  node.on('error', () => {})
  await node.connect()
  const io = new Redis.Cluster(cluster.rootNodes)
  await new Promise((resolve) => io.once('ready', resolve))
  for (const [clientName, client] of [['node-redis', node], ['ioredis', io]]) {
    for (const wait of [undefined, { replicas: 1, timeoutMs: 200 }]) {
      const store = new RedisStore({ client, prefix: `wait-bench:${clientName}:${wait ? 1 : 0}:`, indexBy: 'user', waitForReplicas: wait })
      const session = (i) => ({ user: `u${i % 100}`, cookie: new Cookie({ maxAge: 60_000 }) })
      await measure(200, 10, (i) => store.set(`warm${i}`, session(i)))
      for (const concurrency of [1, 50]) {
        const login = await measure(ops, concurrency, (i) => store.set(`s${concurrency}-${i}`, session(i)))
        const logout = await measure(ops, concurrency, (i) => store.destroy(`s${concurrency}-${i}`))
        const row = { client: clientName, waitForReplicas: wait ? 1 : 0, concurrency, login, logout }
        results.push(row)
        console.log(JSON.stringify(row))
      }
      await store.clear()
    }
  }
  await node.close()
  await io.quit()
} finally {
  await cluster.stop()
}

const ms = (value) => value.toFixed(2)
console.log('\n| client | at once | waitForReplicas | login set p50 / p99 | logout destroy p50 / p99 | logins/s |')
console.log('| --- | --- | --- | --- | --- | --- |')
for (const r of results) {
  console.log(`| ${r.client} | ${r.concurrency} | ${r.waitForReplicas ? '1 replica' : 'off'} | ${ms(r.login.p50)} / ${ms(r.login.p99)} ms | ${ms(r.logout.p50)} / ${ms(r.logout.p99)} ms | ${r.login.perSecond} |`)
}
if (args.out) writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`)
