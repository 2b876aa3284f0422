// Redis servers of the test suite's own, started from the machine's redis-server binary: a Cluster
// (masters with one replica each) or a Sentinel set (a master, replicas, three sentinels). Each lives
// on ports the caller names (7100-7199: the shared Redis on 6379 is never touched), keeps its files in
// a fresh temporary folder, persists nothing, and is stopped by PID: by stop(), and on process exit
// whatever happened before.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { answers } from './services.mjs'

const run = promisify(execFile)
export const REDIS_SERVER = '/usr/bin/redis-server'
export const REDIS_CLI = '/usr/bin/redis-cli'

const live = new Set()
const killAll = () => {
  for (const child of live) child.kill('SIGKILL')
}
process.on('exit', killAll)
// A run stopped with Ctrl-C or by a timeout's SIGTERM must not leave servers behind either.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killAll()
    // A program with a handler of its own (the example's launcher) finishes its own shutdown.
    if (process.listenerCount(signal) === 0) process.exit(signal === 'SIGINT' ? 130 : 143)
  })
}

/**
 * Why these tests cannot run here (no binary), or false. Under CI=true a missing binary also
 * registers a failing test, so CI cannot pass by skipping them.
 */
export function missingRedisBinaries() {
  for (const bin of [REDIS_SERVER, REDIS_CLI]) {
    if (existsSync(bin)) continue
    const message = `${bin} is not installed (apt-get install redis-server)`
    if (process.env.CI === 'true') test(`${bin} is installed (required under CI=true)`, () => assert.fail(message))
    else console.log(`# skipping: ${message}`)
    return message
  }
  return false
}

function checkPort(port) {
  if (port === 6379 || port < 7100 || port > 7199) throw new Error(`redis-servers: port ${port} is outside 7100-7199`)
}

/** One redis-server process: its port, its folder, and how to kill and restart it. */
class Server {
  constructor(port, dir, args) {
    checkPort(port)
    this.port = port
    this.dir = dir
    this.args = args
    this.child = null
  }

  async start() {
    if (await answers(this.port, 300)) throw new Error(`redis-servers: something already listens on 127.0.0.1:${this.port}`)
    mkdirSync(this.dir, { recursive: true })
    const child = spawn(REDIS_SERVER, [...this.args], { cwd: this.dir, stdio: 'ignore' })
    this.child = child
    live.add(child)
    child.once('exit', () => live.delete(child))
    await waitFor(async () => (await cli(this.port, 'PING')) === 'PONG', `redis-server on ${this.port} to answer`)
    return this
  }

  get pid() {
    return this.child?.pid
  }

  /** Ends the process with `signal` (SIGKILL by default: a crash) and waits for it to be gone. */
  async kill(signal = 'SIGKILL') {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const gone = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    await gone
  }
}

function serverArgs(port, extra = []) {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--logfile', 'redis.log', ...extra]
}

/** Runs one redis-cli command against 127.0.0.1:port and answers its trimmed output ('' on failure). */
export async function cli(port, ...args) {
  try {
    const { stdout } = await run(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5000 })
    return stdout.trim()
  } catch {
    return ''
  }
}

/** Polls `check` every 100 ms until it is true, failing after `timeoutMs`. */
export async function waitFor(check, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`redis-servers: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/**
 * A Redis Cluster of `masters` masters with one replica each on ports base..base+2*masters-1, made with
 * `redis-cli --cluster create`. nodeTimeoutMs is cluster-node-timeout: how long a silent master has
 * before its replica takes over. Full coverage is not required, so one shard failing over leaves the
 * others serving.
 */
export async function startCluster({ base, masters = 3, nodeTimeoutMs = 1000 }) {
  const root = mkdtempSync(join(tmpdir(), 'sessionkit-cluster-'))
  const ports = Array.from({ length: masters * 2 }, (_, i) => base + i)
  // A replica back after a failover syncs at once, not after the default 5 s wait for other replicas:
  // until it has synced, a write that waits for a replica fails.
  const extra = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeoutMs), '--cluster-require-full-coverage', 'no', '--repl-diskless-sync-delay', '0']
  const servers = ports.map((port) => new Server(port, join(root, String(port)), serverArgs(port, extra)))
  const cluster = {
    root,
    servers,
    ports,
    /** The nodes as client libraries take them. */
    rootNodes: ports.slice(0, masters).map((port) => ({ host: '127.0.0.1', port })),
    /** The server that is master now for the shard that `port` served as master at first, or serves now. */
    async masterPorts() {
      const text = await firstAnswer(servers, 'CLUSTER', 'NODES')
      return parseNodes(text)
        .filter((node) => node.flags.includes('master') && !node.flags.includes('fail') && node.slots)
        .map((node) => node.port)
    },
    async replicaOf(masterPort) {
      const nodes = parseNodes(await firstAnswer(servers, 'CLUSTER', 'NODES'))
      const master = nodes.find((node) => node.port === masterPort)
      return nodes.find((node) => node.masterId === master?.id && !node.flags.includes('fail'))?.port
    },
    server(port) {
      return servers.find((server) => server.port === port)
    },
    /** Waits until every live node says the cluster is ok and knows `nodes` nodes. */
    async settled(timeoutMs = 30_000) {
      await waitFor(
        async () => {
          for (const server of servers) {
            if (!server.child || server.child.exitCode !== null || server.child.signalCode !== null) continue
            const info = await cli(server.port, 'CLUSTER', 'INFO')
            if (!info.includes('cluster_state:ok')) return false
          }
          return true
        },
        'the cluster to be ok',
        timeoutMs,
      )
    },
    async stop() {
      await Promise.all(servers.map((server) => server.kill('SIGKILL')))
      rmSync(root, { recursive: true, force: true })
    },
  }
  try {
    await Promise.all(servers.map((server) => server.start()))
    const { stderr } = await run(REDIS_CLI, ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 }).catch((err) => {
      throw new Error(`redis-cli --cluster create failed: ${err.stderr || err.stdout || err.message}`)
    })
    if (stderr && /ERR/.test(stderr)) throw new Error(`redis-cli --cluster create: ${stderr}`)
    await waitFor(async () => {
      for (const server of servers) {
        const info = await cli(server.port, 'CLUSTER', 'INFO')
        if (!info.includes('cluster_state:ok') || !info.includes(`cluster_known_nodes:${ports.length}`)) return false
      }
      // Each replica has synced with its master, so a WAIT counts it and a kill finds one to promote.
      const nodes = parseNodes(await cli(ports[0], 'CLUSTER', 'NODES'))
      if (nodes.filter((node) => node.masterId).length !== masters) return false
      for (const node of nodes.filter((candidate) => !candidate.masterId)) {
        if (!/slave0:.*state=online/.test(await cli(node.port, 'INFO', 'replication'))) return false
      }
      return true
    }, 'the new cluster to be ok on every node')
  } catch (err) {
    await cluster.stop()
    throw err
  }
  return cluster
}

async function firstAnswer(servers, ...args) {
  for (const server of servers) {
    if (!server.child || server.child.exitCode !== null || server.child.signalCode !== null) continue
    const text = await cli(server.port, ...args)
    if (text) return text
  }
  return ''
}

/** CLUSTER NODES as { id, port, flags, masterId, slots } records. */
function parseNodes(text) {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.split(' ')
      return { id, port: Number(address.split('@')[0].split(':')[1]), flags: flags.split(','), masterId: masterId === '-' ? null : masterId, slots: slots.length > 0 }
    })
}

/**
 * A Sentinel set: a master on `base`, `replicas` replicas on base+1.., and three sentinels on
 * sentinelBase..+2 watching it as `name` with a quorum of 2. downAfterMs is how long a silent master
 * has before the sentinels fail it over.
 */
export async function startSentinel({ base, sentinelBase, replicas = 1, name = 'sessionkit', downAfterMs = 1000 }) {
  const root = mkdtempSync(join(tmpdir(), 'sessionkit-sentinel-'))
  const master = new Server(base, join(root, String(base)), serverArgs(base))
  const replicaServers = Array.from({ length: replicas }, (_, i) => {
    const port = base + 1 + i
    return new Server(port, join(root, String(port)), serverArgs(port, ['--replicaof', '127.0.0.1', String(base)]))
  })
  const sentinels = [0, 1, 2].map((i) => {
    const port = sentinelBase + i
    const dir = join(root, String(port))
    mkdirSync(dir, { recursive: true })
    const conf = join(dir, 'sentinel.conf')
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'protected-mode no',
        `dir ${dir}`,
        'logfile sentinel.log',
        `sentinel monitor ${name} 127.0.0.1 ${base} 2`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    )
    return new Server(port, dir, [conf, '--sentinel'])
  })
  const servers = [master, ...replicaServers, ...sentinels]
  const set = {
    root,
    name,
    servers,
    dataServers: [master, ...replicaServers],
    sentinelNodes: sentinels.map((server) => ({ host: '127.0.0.1', port: server.port })),
    server(port) {
      return servers.find((server) => server.port === port)
    },
    /** The port the sentinels name as master now. */
    async masterPort() {
      const reply = await cli(sentinels[0].port, 'SENTINEL', 'get-master-addr-by-name', name)
      return Number(reply.split('\n')[1])
    },
    async stop() {
      await Promise.all(servers.map((server) => server.kill('SIGKILL')))
      rmSync(root, { recursive: true, force: true })
    },
  }
  try {
    await master.start()
    await Promise.all(replicaServers.map((server) => server.start()))
    await waitFor(async () => (await cli(base, 'INFO', 'replication')).includes(`connected_slaves:${replicas}`), 'the replicas to connect')
    await Promise.all(sentinels.map((server) => server.start()))
    await waitFor(async () => {
      for (const sentinel of sentinels) {
        const info = await cli(sentinel.port, 'SENTINEL', 'master', name)
        const fields = info.split('\n')
        const at = fields.indexOf('num-other-sentinels')
        if (at < 0 || Number(fields[at + 1]) < 2) return false
      }
      return true
    }, 'the sentinels to find each other')
  } catch (err) {
    await set.stop()
    throw err
  }
  return set
}

/**
 * One redis-server on `port` (not started: call start()), persisting every write to its append-only
 * file before answering it (`appendfsync always`), so a SIGKILL loses no acknowledged write and a
 * restart in the same folder reads them back. stop() kills it and removes its folder.
 */
export function persistentRedis(port) {
  const root = mkdtempSync(join(tmpdir(), 'sessionkit-redis-'))
  // A later option wins over the same option earlier on redis-server's command line.
  const server = new Server(port, root, serverArgs(port, ['--appendonly', 'yes', '--appendfsync', 'always']))
  server.stop = async () => {
    await server.kill('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  }
  return server
}
