// One command for a real Redis Cluster on this machine and an app on it: starts six redis-server
// processes (3 masters + 3 replicas on 127.0.0.1:7140-7145, nothing saved to disk), joins them with
// `redis-cli --cluster create`, then two app processes on ports 3001 and 3002 whose sessions live on
// the cluster. Kill a master (`kill -9` the PID printed for it): its replica takes over within a few
// seconds and every session is still there. Ctrl-C stops the apps and the cluster.
// WAIT_REPLICAS=1 makes every login and logout wait for a replica; REDIS_CLIENT=ioredis switches client.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startCluster } from '../../test/support/redis-servers.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const ports = (process.env.PORTS ?? '3001,3002').split(',').map(Number)

console.log('starting a Redis Cluster on 127.0.0.1:7140-7145 ...')
const cluster = await startCluster({ base: 7140, nodeTimeoutMs: 2000 })
for (const server of cluster.servers) console.log(`  redis-server 127.0.0.1:${server.port} pid ${server.pid}`)
console.log(`masters now: ${(await cluster.masterPorts()).join(', ')}`)

const children = []
for (const port of ports) {
  const child = spawn(process.execPath, [join(here, 'app.js')], {
    env: { ...process.env, PORT: String(port), REDIS_CLUSTER_NODES: cluster.rootNodes.map((node) => `${node.host}:${node.port}`).join(',') },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  children.push(child)
}
console.log(`sessionkit on a Redis Cluster: ${ports.map((port) => `http://127.0.0.1:${port}`).join(' and ')}; Ctrl-C stops everything`)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  for (const child of children) child.kill('SIGTERM')
  await cluster.stop()
  process.exit(0)
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, stop)
