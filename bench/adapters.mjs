#!/usr/bin/env node
// `npm run bench:adapters`: each framework adapter beside the session library its users have now, in
// one run: Fastify with @fastify/session against sessionkit/fastify, Koa with koa-session against
// sessionkit/koa, Hono with hono-sessions against sessionkit/hono; on each library's in-memory store, on
// Redis, and with the session in the cookie where the library has that mode. Each app runs in its own
// child process (bench/adapter-app.mjs), and autocannon drives the two in turn (A B A B ...), so that a
// busy machine slows them alike. Reports req/s, p99 and CPU µs per request, and sessionkit's ratios.
//
//   node bench/adapters.mjs [--duration=1.5] [--rounds=3] [--warmup=0.5] [--connections=50]
//                           [--groups=fastify:memory,fastify:redis,koa:cookie,koa:redis,hono:memory,hono:cookie]
//                           [--out=bench/results/adapters.json]
import { fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { drive } from './drive.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')))
const opts = {
  duration: Number(args.duration ?? 1.5),
  rounds: Number(args.rounds ?? 3),
  warmup: Number(args.warmup ?? 0.5),
  connections: Number(args.connections ?? 50),
  groups: (args.groups ?? 'fastify:memory,fastify:redis,koa:cookie,koa:redis,hono:memory,hono:cookie').split(','),
  out: args.out ?? join(here, 'results/adapters.json'),
}
const LIBRARY = { fastify: '@fastify/session', koa: 'koa-session', hono: 'hono-sessions' }
const SCENARIOS = [
  { key: 'hello', label: '/hello, no cookie', path: '/hello', cookie: false },
  { key: 'new', label: '/count, new session', path: '/count', cookie: false },
  { key: 'read', label: '/read, with cookie', path: '/read', cookie: true },
  { key: 'count', label: '/count, with cookie', path: '/count', cookie: true },
]
const IMPLS = ['theirs', 'sessionkit']

function startChild(framework, impl, store, group) {
  const child = fork(join(here, 'adapter-app.mjs'), [], {
    env: { ...process.env, BENCH_FRAMEWORK: framework, BENCH_IMPL: impl, BENCH_STORE: store, BENCH_PREFIX: `sessionkit-adapter-bench:${process.pid}:${group}:${impl}:` },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${framework} ${impl} app exited early (code ${code})`)))
    child.once('message', (message) => {
      child.removeAllListeners('exit')
      resolve({ port: message.ready, process: child, call: (what) => new Promise((done) => (child.once('message', done), child.send(what))) })
    })
  })
}

function stopChild(child) {
  return new Promise((resolve) => {
    child.process.once('exit', resolve)
    child.process.send('stop')
  })
}

/** The cookies of a new session: what one request to /count sets, as the next request sends them back. */
function sessionCookie(port) {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: '/count' }, (res) => {
      res.resume()
      res.on('end', () => resolve((res.headers['set-cookie'] ?? []).map((line) => line.split(';')[0]).join('; ')))
    })
      .on('error', reject)
      .end()
  })
}

async function measure(child, scenario, seconds) {
  const cookies = scenario.cookie ? await Promise.all(Array.from({ length: opts.connections }, () => sessionCookie(child.port))) : []
  if (scenario.cookie && cookies.some((cookie) => cookie === '')) throw new Error('an app set no session cookie')
  const before = await child.call('cpu')
  const run = await drive({ port: child.port, path: scenario.path, connections: opts.connections, seconds, cookies })
  await new Promise((resolve) => setTimeout(resolve, 20))
  const after = await child.call('cpu')
  return { rps: run.requests.average, p99: run.latency.p99, cpu: (after.cpu - before.cpu) / Math.max(1, after.requests - before.requests), errors: run.errors + run.timeouts + run.non2xx }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const results = []
for (const group of opts.groups) {
  const [framework, store] = group.split(':')
  console.log(`\n=== ${framework} on ${store}: ${LIBRARY[framework]} against sessionkit, ${opts.rounds} round(s) of ${opts.duration}s ===`)
  const children = {}
  for (const impl of IMPLS) children[impl] = await startChild(framework, impl, store, group)
  const runs = {}
  try {
    for (const scenario of SCENARIOS) for (const impl of IMPLS) if (opts.warmup > 0) await measure(children[impl], scenario, opts.warmup)
    for (let round = 1; round <= opts.rounds; round++) {
      for (const scenario of SCENARIOS) {
        for (const impl of IMPLS) {
          const run = await measure(children[impl], scenario, opts.duration)
          ;((runs[scenario.key] ??= {})[impl] ??= []).push(run)
          console.log(`round ${round}  ${scenario.label.padEnd(22)} ${(impl === 'theirs' ? LIBRARY[framework] : 'sessionkit').padEnd(17)} ${run.rps.toFixed(0).padStart(6)} req/s  p99 ${run.p99} ms  cpu ${run.cpu.toFixed(0)} µs/req${run.errors ? `  (${run.errors} errors!)` : ''}`)
        }
      }
    }
  } finally {
    await Promise.all(Object.values(children).map(stopChild))
  }
  for (const scenario of SCENARIOS) {
    const cell = { framework, store, library: LIBRARY[framework], scenario: scenario.key }
    for (const impl of IMPLS) {
      const list = runs[scenario.key][impl]
      cell[impl] = { rps: median(list.map((r) => r.rps)), p99: median(list.map((r) => r.p99)), cpu: median(list.map((r) => r.cpu)), errors: list.reduce((sum, r) => sum + r.errors, 0) }
    }
    cell.ratio = cell.sessionkit.rps / cell.theirs.rps
    cell.cpuRatio = cell.theirs.cpu / cell.sessionkit.cpu
    results.push(cell)
  }
}

console.log('\nframework  store   scenario  library           req/s   sessionkit req/s   × req/s   × cpu')
for (const cell of results) {
  console.log(`${cell.framework.padEnd(10)} ${cell.store.padEnd(7)} ${cell.scenario.padEnd(9)} ${cell.library.padEnd(17)} ${cell.theirs.rps.toFixed(0).padStart(6)}   ${cell.sessionkit.rps.toFixed(0).padStart(16)}   ${cell.ratio.toFixed(2).padStart(6)}×  ${cell.cpuRatio.toFixed(2).padStart(5)}×`)
}
const load = os.loadavg()[0]
writeFileSync(opts.out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, loadBefore: load, opts, results }, null, 2)}\n`)
console.log(`\nwrote ${opts.out} (load average at the end: ${load.toFixed(1)})`)
