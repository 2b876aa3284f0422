// Redis outage under load. Starts a private redis-server (append-only file, fsync on every write) on a
// spare loopback port, an Express app with sessionkit and connect-redis in a child process, and
// autocannon load against it; SIGKILLs Redis a third of the way in and starts it again later. Then it
// checks what issue 5 asks for and exits non-zero when any check fails:
//
//   - the app never crashed;
//   - during the outage every request was answered, with an error status, within storeTimeout + 50 ms
//     at p99 (and none timed out or lost its connection);
//   - after the restart, successful responses resumed within 2 s;
//   - every session whose save was acknowledged to its client (a 200 with its cookie) before the kill
//     is readable through the app afterwards, with the value that was acknowledged.
//
// Usage: node bench/redis-outage.mjs [--duration 60] [--kill-at 20] [--restart-at 35] [--rate 800]
//        [--connections 16] [--store-timeout 500] [--json]
// (times in seconds; --json prints the report as one JSON line, for test/redis-outage.test.mjs;
// --offline-queue keeps node-redis's default queue, to see storeTimeout alone bound the outage).
//
// The Redis client: node-redis v5 with `disableOfflineQueue: true`, so that a command issued while the
// connection is down fails at once instead of waiting in a queue until Redis returns (which would turn
// an outage into hung requests), and a reconnect strategy that retries every 100 ms, for ever, so the
// app is back within a tenth of a second of Redis. storeTimeout still bounds any command that Redis
// accepted but never answers.
import { fork, spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')

const { values: args } = parseArgs({
  options: {
    app: { type: 'boolean', default: false },
    duration: { type: 'string', default: '60' },
    'kill-at': { type: 'string' },
    'restart-at': { type: 'string' },
    rate: { type: 'string', default: '800' },
    connections: { type: 'string', default: '16' },
    'store-timeout': { type: 'string', default: '500' },
    json: { type: 'boolean', default: false },
    'offline-queue': { type: 'boolean', default: false },
  },
})

if (args.app) await runApp()
else process.exitCode = await runOutage()

// ---------------------------------------------------------------------------------------------------
// The app, in its own process so that a crash is a process exit the parent sees.

async function runApp() {
  const { createRequire } = await import('node:module')
  const require = createRequire(import.meta.url)
  const express = require('express')
  const { createClient } = require('redis')
  const { RedisStore } = require('connect-redis')
  const session = require(process.env.OUTAGE_SESSIONKIT)

  let redisErrors = 0
  const client = createClient({
    url: process.env.OUTAGE_REDIS_URL,
    disableOfflineQueue: process.env.OUTAGE_OFFLINE_QUEUE !== '1',
    socket: { connectTimeout: 1000, reconnectStrategy: () => 100 },
  })
  // Without a listener node-redis rethrows connection errors as uncaught exceptions.
  client.on('error', () => redisErrors++)
  await client.connect()
  const store = new RedisStore({ client, prefix: 'outage:' })

  const app = express()
  app.disable('x-powered-by')
  app.use(
    session({
      secret: 'outage secret',
      store,
      resave: false,
      saveUninitialized: false,
      storeTimeout: Number(process.env.OUTAGE_STORE_TIMEOUT),
      cookie: { maxAge: 3_600_000 },
    }),
  )
  app.get('/write', (req, res) => {
    req.session.token = `${process.pid}-${Math.random().toString(36).slice(2)}`
    res.json({ sid: req.sessionID, token: req.session.token })
  })
  app.get('/read', (req, res) => res.json({ token: req.session.token ?? null }))
  app.use((err, req, res, next) => {
    void next
    if (res.headersSent) return res.destroy()
    res.status(err.status ?? 500).json({ error: err.code ?? 'unknown' })
  })
  const server = app.listen(0, '127.0.0.1', () => process.send({ ready: server.address().port }))
  process.on('message', async (message) => {
    if (message !== 'stop') return
    server.closeAllConnections()
    server.close()
    process.send({ redisErrors })
    await client.close().catch(() => {})
    process.disconnect()
  })
}

// ---------------------------------------------------------------------------------------------------
// The run.

async function runOutage() {
  const durationS = Number(args.duration)
  const killAtS = Number(args['kill-at'] ?? durationS / 3)
  const restartAtS = Number(args['restart-at'] ?? (durationS * 7) / 12)
  const storeTimeout = Number(args['store-timeout'])
  const rate = Number(args.rate)
  const connections = Number(args.connections)
  const log = args.json ? () => {} : (...a) => console.log(...a)

  // A private copy of dist/: others may rebuild (and so empty) dist/ during the run. Inside the repo so
  // that its requires still find node_modules.
  mkdirSync(join(root, '.tmp'), { recursive: true })
  const copy = mkdtempSync(join(root, '.tmp', 'outage-'))
  cpSync(join(root, 'dist', 'cjs'), join(copy, 'cjs'), { recursive: true })
  const dataDir = mkdtempSync(join(tmpdir(), 'sessionkit-outage-redis-'))
  const port = await sparePort()

  const cleanups = [() => rmSync(copy, { recursive: true, force: true }), () => rmSync(dataDir, { recursive: true, force: true })]
  let redis
  let app
  try {
    redis = await startRedis(port, dataDir)
    cleanups.unshift(() => redis.kill('SIGKILL'))
    log(`redis-server on 127.0.0.1:${port}, append-only file in ${dataDir}`)

    app = fork(fileURLToPath(import.meta.url), ['--app'], {
      env: {
        ...process.env,
        OUTAGE_SESSIONKIT: join(copy, 'cjs', 'sessionkit.cjs'),
        OUTAGE_REDIS_URL: `redis://127.0.0.1:${port}`,
        OUTAGE_STORE_TIMEOUT: String(storeTimeout),
        OUTAGE_OFFLINE_QUEUE: args['offline-queue'] ? '1' : '0',
        DEBUG: '',
      },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    })
    let appStderr = ''
    app.stderr.on('data', (chunk) => (appStderr += chunk))
    let appExit
    const appExited = new Promise((resolve) => app.on('exit', (code, signal) => resolve((appExit = { code, signal }))))
    cleanups.unshift(() => app.exitCode === null && app.kill('SIGKILL'))
    const appPort = await new Promise((resolve, reject) => {
      app.once('message', (m) => resolve(m.ready))
      appExited.then(() => reject(new Error(`the app exited before it was ready:\n${appStderr}`)))
    })
    const base = `http://127.0.0.1:${appPort}`
    log(`app on ${base}; load for ${durationS} s at ${rate} req/s, Redis killed at ${killAtS} s, restarted at ${restartAtS} s`)

    // Sessions that exist before the load, for the /read half of the traffic.
    const agent = new Agent({ keepAlive: true, maxSockets: 16 })
    const pool = []
    for (let i = 0; i < 100; i++) {
      const res = await get(agent, appPort, '/write')
      if (res.status !== 200) throw new Error(`warm-up write failed: ${res.status} ${res.body}`)
      pool.push(res.cookie)
    }

    // The load. Every response is recorded with when it was sent and how long it took.
    const { default: autocannon } = await import('autocannon')
    const responses = []
    const acknowledged = []
    let unanswered = 0
    let poolIndex = 0
    let t0 = 0
    const instance = autocannon({
      url: base,
      connections,
      overallRate: rate,
      duration: durationS,
      timeout: 10,
      requests: [
        {
          method: 'GET',
          path: '/write',
          onResponse: (status, body, context, headers) => {
            if (status !== 200) return
            const setCookie = headerValue(headers, 'set-cookie')
            if (!setCookie) return
            const { sid, token } = JSON.parse(body)
            acknowledged.push({ at: Date.now() - t0, sid, token, cookie: String(setCookie).split(';')[0] })
          },
        },
        {
          method: 'GET',
          path: '/read',
          setupRequest: (req) => ({ ...req, headers: { ...req.headers, cookie: pool[poolIndex++ % pool.length] } }),
        },
      ],
    })
    t0 = Date.now()
    instance.on('response', (client, status, bytes, ms) => {
      const at = Date.now() - t0
      responses.push({ sent: at - ms, at, status, ms })
    })
    instance.on('reqError', () => unanswered++)
    instance.on('timeout', () => unanswered++)

    let killAt
    let restartAt
    let redisReadyAt
    const killTimer = setTimeout(() => {
      killAt = Date.now() - t0
      redis.kill('SIGKILL')
      log(`${(killAt / 1000).toFixed(1)} s: SIGKILL redis-server`)
    }, killAtS * 1000)
    const restartTimer = setTimeout(async () => {
      restartAt = Date.now() - t0
      log(`${(restartAt / 1000).toFixed(1)} s: restarting redis-server`)
      redis = await startRedis(port, dataDir)
      redisReadyAt = Date.now() - t0
    }, restartAtS * 1000)
    cleanups.unshift(() => {
      clearTimeout(killTimer)
      clearTimeout(restartTimer)
    })

    const result = await new Promise((resolve, reject) => {
      instance.on('done', resolve)
      instance.on('error', reject)
    })
    while (redisReadyAt === undefined) await sleep(50)

    // Read back every session acknowledged before the kill, through the app.
    const beforeKill = acknowledged.filter((a) => a.at < killAt)
    const lost = []
    let next = 0
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < beforeKill.length) {
          const ack = beforeKill[next++]
          const res = await get(agent, appPort, '/read', ack.cookie)
          const token = res.status === 200 ? JSON.parse(res.body).token : `status ${res.status}`
          if (token !== ack.token) lost.push({ sid: ack.sid.slice(0, 6) + '…', expected: ack.token, got: token })
        }
      }),
    )
    agent.destroy()

    const crashed = appExit !== undefined
    let redisErrors
    if (!crashed) {
      const stopped = new Promise((resolve) => app.on('message', (m) => m.redisErrors !== undefined && resolve(m.redisErrors)))
      app.send('stop')
      redisErrors = await Promise.race([stopped, sleep(3000).then(() => undefined)])
    }

    // The numbers.
    const GRACE = 100 // ms after the kill in which a command Redis had already run may still succeed
    const inOutage = responses.filter((r) => r.sent >= killAt && r.sent < restartAt)
    const errorsInOutage = inOutage.filter((r) => r.status >= 400)
    // A request sent just before the restart may be answered after it, legitimately with a success.
    const successesInOutage = inOutage.filter((r) => r.status < 400 && r.sent >= killAt + GRACE && r.at < restartAt)
    const p99 = percentile(errorsInOutage.map((r) => r.ms), 0.99)
    const firstSuccessAfter = responses.filter((r) => r.sent >= restartAt && r.status === 200).sort((a, b) => a.at - b.at)[0]
    const resumeMs = firstSuccessAfter === undefined ? Infinity : firstSuccessAfter.at - restartAt
    const report = {
      durationS,
      requests: responses.length,
      autocannon: { rps: result.requests.average, non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts },
      killAtMs: killAt,
      restartAtMs: restartAt,
      redisReadyMs: redisReadyAt - restartAt,
      appCrashed: crashed,
      appExit: appExit ?? null,
      unanswered,
      outage: {
        requests: inOutage.length,
        errors: errorsInOutage.length,
        statuses: countBy(inOutage.map((r) => r.status)),
        successesAfterGrace: successesInOutage.length,
        errorP99Ms: p99,
        errorMaxMs: Math.max(0, ...errorsInOutage.map((r) => r.ms)),
        limitMs: storeTimeout + 50,
      },
      resumeAfterRestartMs: resumeMs,
      acknowledgedBeforeKill: beforeKill.length,
      lostAfterRestart: lost.length,
      lostExamples: lost.slice(0, 5),
      redisClientErrors: redisErrors ?? null,
    }
    const checks = [
      ['the app did not crash', !crashed],
      ['every request was answered (no timeouts, no connection errors)', unanswered === 0 && result.timeouts === 0 && result.errors === 0],
      ['the outage was exercised', inOutage.length >= 20 && errorsInOutage.length > 0],
      ['during the outage every request got an error status', successesInOutage.length === 0],
      [`p99 of error responses during the outage ≤ storeTimeout + 50 ms (${storeTimeout + 50} ms)`, p99 <= storeTimeout + 50],
      ['successful responses resumed within 2 s of the restart', resumeMs <= 2000],
      ['sessions were acknowledged before the kill', beforeKill.length > 0],
      ['every session acknowledged before the kill is readable after the restart', lost.length === 0],
    ]
    report.checks = Object.fromEntries(checks)
    const ok = checks.every(([, pass]) => pass)
    report.ok = ok
    if (args.json) {
      console.log(JSON.stringify(report))
    } else {
      log('')
      log(`requests: ${responses.length} (${result.requests.average} req/s), unanswered: ${unanswered}`)
      log(`outage: ${inOutage.length} requests, statuses ${JSON.stringify(report.outage.statuses)}, error p99 ${p99} ms, max ${report.outage.errorMaxMs} ms (limit ${storeTimeout + 50} ms)`)
      log(`redis ready ${report.redisReadyMs} ms after restart; first success ${resumeMs} ms after restart`)
      log(`acknowledged before the kill: ${beforeKill.length}, lost: ${lost.length}`)
      log(`app crashed: ${crashed}; redis client errors seen by the app: ${redisErrors}`)
      log('')
      for (const [name, pass] of checks) log(`${pass ? 'PASS' : 'FAIL'}  ${name}`)
      if (crashed) log(appStderr)
    }
    return ok ? 0 : 1
  } finally {
    for (const cleanup of cleanups) {
      try {
        cleanup()
      } catch {
        // best effort
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function percentile(values, p) {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]
}

function countBy(values) {
  const counts = {}
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1
  return counts
}

function headerValue(headers, name) {
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value
  return undefined
}

/** A free loopback port: bound by the OS, then released for redis-server. */
function sparePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Starts redis-server and resolves once it answers PING. */
async function startRedis(port, dir) {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  const started = Date.now()
  while (Date.now() - started < 10_000) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
    if (await ping(port)) return child
    await sleep(20)
  }
  child.kill('SIGKILL')
  throw new Error('redis-server did not answer PING within 10 s')
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let answer = ''
    socket.setTimeout(500, () => socket.destroy())
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      answer += chunk
      if (answer.includes('\r\n')) socket.end()
    })
    socket.on('close', () => resolve(answer.startsWith('+PONG')))
    socket.on('error', () => resolve(false))
  })
}

function get(agent, port, path, cookie) {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent, headers: cookie ? { cookie } : {}, timeout: 10_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode, body, cookie: res.headers['set-cookie']?.[0]?.split(';')[0] }))
    })
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within 10 s`)))
    req.on('error', reject)
    req.end()
  })
}
