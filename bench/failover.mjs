// A master of a Redis Cluster dies under load: how long do requests fail, and what do users lose?
//
// Starts a local cluster (3 masters + 3 replicas, ports of its own, nothing saved to disk) and two
// processes of examples/redis-real-cluster/app.js on it (sessionkit from dist/, sessionkit/redis on a
// node-redis or ioredis Cluster client), creates sessions, then runs `connections` loops of traffic
// against 127.0.0.1 for `durationMs`: log in, read, log out half the time. At `killAtMs` one master
// gets SIGKILL; its replica takes over, and the killed server is started again (as a supervisor
// would), rejoining as the new master's replica. Afterwards every acknowledged login that was not
// logged out must still be logged in, every acknowledged logout must still be logged out, and every
// session created before the kill must be readable. A second scenario pauses the replica 500 ms before
// the kill, so that the master dies holding writes it acknowledged and never passed on.
//
//   node bench/failover.mjs [--duration=20000] [--kill-at=6000] [--connections=50] [--client=node-redis,ioredis] [--wait=0,1] [--lag=0,500] [--out=bench/results/failover.json]
//
// The test suite runs a short version (test/redis-failover.test.mjs); docs/guide/guarantees.md has the figures.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cli, startCluster, waitFor } from '../test/support/redis-servers.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Starts one app process on a free port; answers { url, child, crashed() }. */
function startApp(env) {
  const child = spawn(process.execPath, [join(root, 'examples/redis-real-cluster/app.js')], { cwd: root, env: { ...process.env, ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  let stopping = false
  child.stderr.setEncoding('utf8').on('data', (text) => (output += text))
  const app = {
    child,
    get output() {
      return output
    },
    crashed: () => !stopping && (child.exitCode !== null || child.signalCode !== null),
    async stop() {
      stopping = true
      if (child.exitCode !== null || child.signalCode !== null) return
      const gone = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await gone
      clearTimeout(timer)
    },
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the app printed no URL within 15 s: ${output}`)), 15_000)
    child.stdout.setEncoding('utf8').on('data', (text) => {
      output += text
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match && !app.url) {
        clearTimeout(timer)
        app.url = match[1]
        resolve(app)
      }
    })
    child.once('exit', (code) => reject(new Error(`the app exited (${code}) before listening: ${output}`)))
  })
}

/** One request; answers { ok, status, body, cookie } and never throws (a failure is { ok: false }). */
async function call(url, path, { method = 'GET', cookie, form, timeoutMs }) {
  try {
    const headers = { accept: 'application/json' }
    if (cookie) headers.cookie = cookie
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded'
    const response = await fetch(url + path, { method, headers, body: form ? new URLSearchParams(form).toString() : undefined, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) })
    const body = await response.json().catch(() => null)
    const setCookie = response.headers.getSetCookie()[0]
    return { ok: response.status === 200, status: response.status, body, cookie: setCookie ? setCookie.split(';')[0] : undefined }
  } catch (err) {
    return { ok: false, status: 0, error: err.name === 'TimeoutError' ? 'timeout' : err.message }
  }
}

/** How many of `items` fall under each key. */
function countBy(items, keyOf) {
  const counts = {}
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1
  return counts
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool(items, limit, fn) {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++])
  }))
}

/**
 * One run; answers its figures. Options: base (first of six ports), client, waitReplicas (0: off),
 * connections, durationMs, killAtMs, nodeTimeoutMs, preSessions, requestTimeoutMs, restartKilled (start
 * the killed server again once its replica took over), lagMs (pause the replica this long before the
 * kill, so that it misses the last writes the master acknowledged).
 */
export async function runFailover({ base = 7130, client = 'node-redis', waitReplicas = 0, connections = 50, durationMs = 20_000, killAtMs = 6000, nodeTimeoutMs = 1000, preSessions = 200, restartKilled = true, lagMs = 0, requestTimeoutMs = 3000, log = () => {} } = {}) {
  const cluster = await startCluster({ base, nodeTimeoutMs })
  const apps = []
  try {
    const env = { REDIS_CLUSTER_NODES: cluster.rootNodes.map((node) => `${node.host}:${node.port}`).join(','), REDIS_CLIENT: client, WAIT_REPLICAS: String(waitReplicas), SESSION_PREFIX: `failover-${process.pid}:` }
    apps.push(await startApp(env), await startApp(env))
    const appFor = (n) => apps[n % apps.length].url

    // Sessions made before the load: each must survive the failover.
    const before = []
    await pool(Array.from({ length: preSessions }, (_, i) => i), 20, async (i) => {
      const login = await call(appFor(i), '/login', { method: 'POST', form: { name: `pre-${i}` }, timeoutMs: requestTimeoutMs })
      if (!login.ok || !login.cookie) throw new Error(`could not create session pre-${i} before the kill: ${login.status} ${login.error ?? login.body?.error ?? ''}`)
      before.push({ user: `pre-${i}`, cookie: login.cookie })
    })

    const start = Date.now()
    const deadline = start + durationMs
    const errors = []
    const loggedIn = new Map() // cookie -> user: acknowledged logins not (yet) logged out
    const loggedOut = [] // cookies whose logout was acknowledged
    const unknown = new Set() // cookies whose logout failed: in either state
    let requests = 0
    let wrongReads = 0
    const send = async (n, path, options) => {
      requests++
      const result = await call(appFor(n), path, { ...options, timeoutMs: requestTimeoutMs })
      if (!result.ok) errors.push({ at: Date.now() - start, status: result.status, error: result.error ?? result.body?.error })
      return result
    }
    const loop = async (c) => {
      for (let n = 0; Date.now() < deadline; n++) {
        const user = `u${c}-${n}`
        const login = await send(c + n, '/login', { method: 'POST', form: { name: user } })
        if (!login.ok || !login.cookie) continue
        loggedIn.set(login.cookie, user)
        const read = await send(c + n + 1, '/whoami', { cookie: login.cookie })
        if (read.ok && read.body?.user !== user) wrongReads++
        if (n % 2 === 1) {
          const logout = await send(c + n, '/logout', { method: 'POST', cookie: login.cookie })
          loggedIn.delete(login.cookie)
          if (logout.ok) loggedOut.push(login.cookie)
          else unknown.add(login.cookie)
        }
      }
    }

    // The kill, the promotion, and the killed server back as a replica.
    const events = {}
    const chaos = (async () => {
      await new Promise((resolve) => setTimeout(resolve, killAtMs))
      const [victim] = await cluster.masterPorts()
      const replica = await cluster.replicaOf(victim)
      if (lagMs > 0) {
        // The replica falls behind (a slow network, a busy host): it stops, and the master drops its
        // link, so what the master acknowledges from now on reaches no replica before it dies.
        cluster.server(replica).child.kill('SIGSTOP')
        await cli(victim, 'CLIENT', 'KILL', 'TYPE', 'replica')
        await new Promise((resolve) => setTimeout(resolve, lagMs))
      }
      events.killed = Date.now() - start
      await cluster.server(victim).kill('SIGKILL')
      if (lagMs > 0) cluster.server(replica).child.kill('SIGCONT')
      log(`killed master ${victim} at +${events.killed} ms${lagMs > 0 ? ` after its replica ${replica} lagged ${lagMs} ms` : `; its replica is ${replica}`}`)
      await waitFor(async () => (await cli(replica, 'ROLE')).startsWith('master'), 'the replica to take over', 30_000)
      events.promoted = Date.now() - start
      if (!restartKilled) return log(`promoted at +${events.promoted} ms; the old master stays down`)
      await cluster.server(victim).start()
      await waitFor(async () => /connected_slaves:1/.test(await cli(replica, 'INFO', 'replication')), 'the old master to rejoin as a replica', 30_000)
      events.rejoined = Date.now() - start
      log(`promoted at +${events.promoted} ms, old master back as its replica at +${events.rejoined} ms`)
    })()
    await Promise.all([...Array.from({ length: connections }, (_, c) => loop(c)), chaos])
    const ended = Date.now() - start
    await cluster.settled()

    // What users see afterwards.
    const check = async (cookie) => (await call(appFor(1), '/whoami', { cookie, timeoutMs: requestTimeoutMs })).body?.user ?? null
    let lostBefore = 0
    let lostLogins = 0
    let undoneLogouts = 0
    await pool(before, 50, async ({ cookie, user }) => void ((await check(cookie)) !== user && lostBefore++))
    await pool([...loggedIn], 50, async ([cookie, user]) => void ((await check(cookie)) !== user && lostLogins++))
    await pool(loggedOut, 50, async (cookie) => void ((await check(cookie)) !== null && undoneLogouts++))
    const crashes = apps.filter((app) => app.crashed()).length
    const inWindow = errors.filter((error) => error.at >= events.killed - lagMs)
    const last = errors.at(-1)
    return {
      client,
      waitReplicas,
      connections,
      durationMs: ended,
      requests,
      errors: errors.length,
      lagMs,
      errorsBeforeKill: errors.filter((error) => error.at < events.killed - lagMs).length,
      errorsInLag: errors.filter((error) => error.at >= events.killed - lagMs && error.at < events.killed).length,
      killedAt: events.killed,
      promotedAfterMs: events.promoted - events.killed,
      rejoinedAfterMs: events.rejoined === undefined ? null : events.rejoined - events.killed,
      windowMs: last ? last.at - events.killed : 0,
      quietAfterWindowMs: last ? ended - last.at : ended - events.killed,
      errorKinds: countBy(errors, (error) => String(error.status === 0 ? error.error : `${error.status} ${error.error ?? ''}`.trim().slice(0, 90))),
      errorsPerSecondAfterKill: countBy(inWindow, (error) => String(Math.floor((error.at - events.killed) / 1000))),
      timeline: process.env.FAILOVER_TIMELINE ? countBy(inWindow, (error) => `${Math.floor((error.at - events.killed) / 1000)} ${String(error.error).slice(0, 40)}`) : undefined,
      acknowledgedLogins: loggedIn.size + loggedOut.length + unknown.size,
      acknowledgedLogouts: loggedOut.length,
      loginsLost: lostLogins,
      logoutsUndone: undoneLogouts,
      unknownAfterFailedLogout: unknown.size,
      wrongReads,
      sessionsBefore: before.length,
      sessionsBeforeLost: lostBefore,
      crashes,
    }
  } finally {
    await Promise.all(apps.map((app) => app.stop()))
    await cluster.stop()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')))
  const results = []
  for (const lagMs of (args.lag ?? '0,500').split(',').map(Number)) {
    for (const client of (args.client ?? 'node-redis,ioredis').split(',')) {
      for (const waitReplicas of (args.wait ?? '0,1').split(',').map(Number)) {
        console.log(`\n== ${client}, waitForReplicas ${waitReplicas ? `{ replicas: ${waitReplicas} }` : 'off'}, replica lagging ${lagMs} ms at the kill`)
        const figures = await runFailover({ client, waitReplicas, lagMs, durationMs: Number(args.duration ?? 20_000), killAtMs: Number(args['kill-at'] ?? 6000), connections: Number(args.connections ?? 50), log: console.log })
        console.log(JSON.stringify(figures, null, 2))
        results.push(figures)
      }
    }
  }
  console.log('\n| replica lag at the kill | client | waitForReplicas | requests | errors | error window after the kill | promoted after | logins lost / acknowledged | logouts undone / acknowledged | sessions from before lost | app crashes |')
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const r of results) {
    console.log(`| ${r.lagMs} ms | ${r.client} | ${r.waitReplicas ? `${r.waitReplicas} replica` : 'off'} | ${r.requests} | ${r.errors} | ${(r.windowMs / 1000).toFixed(1)} s | ${(r.promotedAfterMs / 1000).toFixed(1)} s | ${r.loginsLost} / ${r.acknowledgedLogins} | ${r.logoutsUndone} / ${r.acknowledgedLogouts} | ${r.sessionsBeforeLost} / ${r.sessionsBefore} | ${r.crashes} |`)
  }
  if (args.out) writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`)
}
