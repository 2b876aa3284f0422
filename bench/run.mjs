#!/usr/bin/env node
// `npm run bench`: the same Express app without sessions, with only sessionkit's dictionary-mode step
// (the baseline: see bench/app.mjs), with express-session and with sessionkit, and in the Redis and
// PostgreSQL groups also with sessionkit on its own store (sessionkit/redis, sessionkit/postgres) beside
// the third-party one both middlewares share, each in its own child process, driven by autocannon in
// turn (A B C D E A B C D E ...) so that a noisy, shared machine slows them alike; then the memory measurements (bench/memory.mjs). Prints a table and PASS/FAIL against
// the targets (bench/targets.mjs), writes the numbers as JSON and draws the SVG chart from that JSON
// (bench/chart.mjs); --readme also writes docs/performance.md and the summary on docs/guide/performance.md (bench/report.mjs).
// The hot-session cells (bench/hot-cells.mjs) follow: every connection on one session, express-session
// against sessionkit with and without `merge`; --hot runs only those, --no-hot leaves them out.
// --baseline=<another sessionkit checkout, built> adds sessionkit-before, that checkout's dist/cjs, in
// the same app with the same store as sessionkit, beside it in every round (and in the hot cells with
// and without `merge`), and prints this checkout's numbers against it. The memory measurements and the
// chart are of this checkout only. `npm run bench:compare -- --baseline=<checkout>` builds this checkout
// (never the baseline, which must be built already) and runs every cell so, without the memory
// measurements, into bench/results/compare.json; add --stores=, --frameworks=, --rounds= to narrow it.
//
//   node bench/run.mjs [--duration=1.5] [--rounds=3] [--warmup=0.5] [--connections=50]
//                      [--frameworks=express4,express5] [--stores=memory,redis,postgres]
//                      [--scenarios=hello,new,read,count] [--impls=none,step,express-session,sessionkit,sessionkit-own]
//                      [--no-memory] [--memory-only] [--sessions=100000] [--expired=1000000] [--sweeps=5]
//                      [--evict-max=<--expired>] [--evict-total=<2.5 × --evict-max>] [--no-evict]
//                      [--out=bench/results/latest.json] [--no-chart] [--cpu-prof] [--readme] [--hot | --no-hot]
//                      [--baseline=<path of another sessionkit checkout>]
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createRequire } from 'node:module'
import os from 'node:os'
import { dirname, join, relative, resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execFileSync } from 'node:child_process'
import { drive } from './drive.mjs'
import { renderChart } from './chart.mjs'
import { fmt, storeCallsText } from './format.mjs'
import { checkHotTargets, HOT_SCENARIOS, HOT_VS_BEFORE, hotLabelOf, hotRowsFor, keptText } from './hot-cells.mjs'
import { BEFORE, IMPLS, implsFor, labelOf, SESSION_IMPLS, storeNameOf } from './impls.mjs'
import { checkTargets, SCENARIOS } from './targets.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const require = createRequire(import.meta.url)
// With --baseline, the row compared with the code before in the per-connection cells (hot cells: HOT_VS_BEFORE).
const VS_BEFORE = [['sessionkit', BEFORE]]

const args = parseArgs(process.argv.slice(2))
const opts = {
  duration: Number(args.duration ?? 1.5),
  rounds: Number(args.rounds ?? 3),
  warmup: Number(args.warmup ?? 0.5),
  connections: Number(args.connections ?? 50),
  frameworks: list(args.frameworks, ['express4', 'express5']),
  stores: list(args.stores, ['memory', 'redis', 'postgres']),
  scenarios: list(args.scenarios, SCENARIOS.map((s) => s.key)),
  // sessionkit-own only where there is a first-party store of the group's kind (see implsFor).
  impls: list(args.impls, IMPLS),
  baseline: typeof args.baseline === 'string' ? resolvePath(args.baseline) : undefined,
  // --hot: only the hot-session cells.
  memory: args.memory !== false && args['no-memory'] !== true && args.hot !== true,
  http: args['memory-only'] !== true && args.hot !== true,
  hot: args['memory-only'] !== true && args['no-hot'] !== true && args.hot !== false,
  sessions: Number(args.sessions ?? 100_000),
  expired: Number(args.expired ?? 1_000_000),
  sweeps: Number(args.sweeps ?? 5),
  // A store capped at evictMax gets evictTotal new sessions: more evictions than the cap holds. By
  // default the cap is the sweep's size (so that npm run bench:quick's smaller --expired is quick too).
  evict: args['no-evict'] !== true,
  evictMax: Number(args['evict-max'] ?? args.expired ?? 1_000_000),
  out: args.out ?? join(root, 'bench/results/latest.json'),
  chart: args['no-chart'] !== true && args.chart !== false,
  // --cpu-prof profiles the sessionkit app; --cpu-prof=none (or express-session, sessionkit-own) another one.
  cpuProf: args['cpu-prof'] === true ? 'sessionkit' : args['cpu-prof'],
}

opts.evictTotal = Number(args['evict-total'] ?? Math.round(opts.evictMax * 2.5))
// The code before takes its turn right after sessionkit's, so that the two are measured closest in time.
if (opts.baseline !== undefined) opts.impls = opts.impls.flatMap((impl) => (impl === 'sessionkit' ? [impl, BEFORE] : [impl]))
if (args.baseline === true || (opts.impls.includes(BEFORE) && opts.baseline === undefined)) throw new Error('give the checkout to compare with: --baseline=<path>')
// Checked before anything is copied: this script does not build the baseline, whose dist/ is its own business.
// The documentation's pages are of one version, not of a comparison.
if (opts.baseline !== undefined && args.readme === true) throw new Error('--readme and --baseline do not go together')
if (opts.baseline !== undefined && !existsSync(join(opts.baseline, 'dist/cjs/sessionkit.cjs'))) throw new Error(`no build in ${opts.baseline}: run npm run build there first`)

let prefixCounter = 0
// Redis keys and PostgreSQL schemas of this run are named after it: other runs may share the servers.
const runId = `${process.pid}-${randomBytes(4).toString('hex')}`
const sessionkitEntry = snapshotSessionkit(root)
const baselineEntry = opts.baseline === undefined ? undefined : snapshotSessionkit(opts.baseline)
const result = {
  date: new Date().toISOString(),
  machine: machine(),
  options: { duration: opts.duration, rounds: opts.rounds, warmup: opts.warmup, connections: opts.connections },
  baseline: opts.baseline === undefined ? undefined : { path: opts.baseline, commit: gitCommit(opts.baseline) },
  groups: [],
  hot: [],
  memory: undefined,
  targets: [],
}

try {
  for (const [wanted, rowsFor, run, into] of [
    [opts.http, implsFor, runGroup, result.groups],
    [opts.hot, hotRowsFor, runHotGroup, result.hot],
  ]) {
    if (!wanted) continue
    for (const framework of opts.frameworks) {
      for (const store of opts.stores) {
        const port = { redis: 6379, postgres: 5432 }[store]
        if (port !== undefined && !(await portOpen(port))) {
          console.log(`\n(skipping ${framework} + ${store}: nothing answers on 127.0.0.1:${port})`)
          continue
        }
        // --impls=sessionkit-own alone has nothing to run against the memory store.
        if (rowsFor(store, opts.impls).length === 0) {
          console.log(`\n(skipping ${framework} + ${store}: none of --impls=${opts.impls.join(',')} runs with it)`)
          continue
        }
        into.push(await run(framework, store))
      }
    }
  }
  if (opts.memory) result.memory = await runMemory()
  result.targets = [...checkTargets(result), ...checkHotTargets(result)]
  printTargets(result.targets)
  if (opts.out !== 'none') {
    mkdirSync(dirname(opts.out), { recursive: true })
    writeFileSync(opts.out, JSON.stringify(result, null, 2) + '\n')
    console.log(`\nwrote ${relative(process.cwd(), opts.out)}`)
    if (opts.chart) {
      const svgPath = opts.out.replace(/\.json$/, '') + '.svg'
      writeFileSync(svgPath, renderChart(result))
      console.log(`wrote ${relative(process.cwd(), svgPath)}`)
    }
    if (args.readme === true) {
      // --readme (what `npm run bench` passes): the documentation's Performance pages from this very run.
      execFileSync(process.execPath, [join(here, 'report.mjs'), opts.out], { stdio: 'inherit' })
      console.log('wrote docs/performance.md and docs/guide/performance.md')
    }
  }
} finally {
  for (const entry of [sessionkitEntry, baselineEntry]) if (entry) rmSync(dirname(dirname(entry)), { recursive: true, force: true })
}

// --- one framework + store: every scenario, every implementation, interleaved ------------------

async function runGroup(framework, store) {
  console.log(`\n=== ${framework} + ${store} store: ${opts.rounds} round(s) of ${opts.duration}s, ${opts.connections} connections ===`)
  const impls = implsFor(store, opts.impls)
  const children = {}
  for (const impl of impls) children[impl] = await startChild(impl, framework, store)
  const scenarios = SCENARIOS.filter((s) => opts.scenarios.includes(s.key))
  const runs = {} // runs[scenario][impl] = [{ rps, p50, p99, errors }]
  try {
    if (opts.warmup > 0) {
      process.stdout.write('warming up ')
      for (const scenario of scenarios) {
        for (const impl of impls) {
          await measure(children[impl], scenario, opts.warmup)
          process.stdout.write('.')
        }
      }
      process.stdout.write('\n')
    }
    for (let round = 1; round <= opts.rounds; round++) {
      for (const scenario of scenarios) {
        for (const impl of impls) {
          const run = await measure(children[impl], scenario, opts.duration)
          ;((runs[scenario.key] ??= {})[impl] ??= []).push(run)
          const calls = SESSION_IMPLS.includes(impl) ? storeCallsText(run.storeCalls) : ''
          console.log(`round ${round}  ${scenario.label.padEnd(26)} ${labelOf(impl, store).padEnd(35)} ${fmt(run.rps, 0).padStart(7)} req/s  p50 ${fmt(run.p50, 1)} ms  p99 ${fmt(run.p99, 1)} ms  cpu ${fmt(run.cpuPerRequest, 0)} µs/req${calls ? `  store/req: ${calls}` : ''}${run.errors ? `  (${run.errors} errors/non-2xx!)` : ''}`)
        }
      }
    }
  } finally {
    await Promise.all(Object.values(children).map(stopChild))
  }
  const group = { framework, store, impls, scenarios: {} }
  for (const scenario of scenarios) {
    const byImpl = {}
    for (const impl of impls) {
      const list = runs[scenario.key][impl]
      byImpl[impl] = {
        // Spelled out in the JSON too: in the Redis and PostgreSQL groups two rows are sessionkit.
        label: labelOf(impl, store),
        store: storeNameOf(impl, store),
        rps: median(list.map((r) => r.rps)),
        p50: median(list.map((r) => r.p50)),
        p99: median(list.map((r) => r.p99)),
        cpuPerRequest: median(list.map((r) => r.cpuPerRequest)),
        errors: list.reduce((sum, r) => sum + r.errors, 0),
        rounds: list.map((r) => Math.round(r.rps)),
      }
      if (SESSION_IMPLS.includes(impl)) {
        const calls = {}
        for (const method of Object.keys(list[0].storeCalls)) calls[method] = median(list.map((r) => r.storeCalls[method]))
        byImpl[impl].storeCalls = calls
        byImpl[impl].storeCallsPerRequest = Object.values(calls).reduce((sum, n) => sum + n, 0)
      }
    }
    for (const impl of impls) {
      const row = byImpl[impl]
      if (byImpl.none) row.vsNone = row.rps / byImpl.none.rps
      if (byImpl.step) {
        row.vsStep = row.rps / byImpl.step.rps
        // What the session itself costs: CPU per request above the app that only does the step.
        if (SESSION_IMPLS.includes(impl)) row.sessionCost = row.cpuPerRequest - byImpl.step.cpuPerRequest
      }
      if (byImpl['express-session']) row.vsExpressSession = row.rps / byImpl['express-session'].rps
    }
    compareWithBefore(byImpl, VS_BEFORE)
    group.scenarios[scenario.key] = byImpl
  }
  printGroup(group, scenarios)
  printVsBefore(`${group.framework} + ${group.store} store`, group, scenarios, VS_BEFORE)
  return group
}

async function measure(child, scenario, seconds) {
  await child.call('reset')
  // With a cookie, each connection is a client of its own with a session of its own, as 50 users
  // would be: a real session for the session middlewares, a cookie of the same shape for the apps
  // without one, so that every app parses the same requests. One session shared by all connections
  // is a case of its own, the hot-session cells (bench/hot-cells.mjs).
  let cookies = []
  // The hot-session cells: every connection sends the cookie of the one session made here.
  if (scenario.hot) cookies = [await sessionCookie(child.port)]
  else if (scenario.cookie) {
    cookies = !SESSION_IMPLS.includes(child.impl)
      ? Array.from({ length: opts.connections }, () => `connect.sid=s%3A${'x'.repeat(32)}.${'y'.repeat(43)}`)
      : await Promise.all(Array.from({ length: opts.connections }, () => sessionCookie(child.port)))
  }
  const before = await child.call('cpu')
  const run = await drive({ port: child.port, path: scenario.path, connections: opts.connections, seconds, cookies })
  // Let the app finish the requests that were in flight when autocannon stopped.
  await new Promise((resolve) => setTimeout(resolve, 20))
  const after = await child.call('cpu')
  const requests = Math.max(1, after.requests - before.requests)
  const storeCalls = {}
  for (const method of Object.keys(after.storeCalls)) storeCalls[method] = (after.storeCalls[method] - before.storeCalls[method]) / requests
  // The one session's counter after the run: the increments that survived, against the /count requests
  // the app handled (the session was made by one /count before the run, so its counter started at 1).
  const counted = after.counts - before.counts
  const kept = scenario.hot && scenario.path === '/count' ? (await readCounter(child.port, cookies[0])) - 1 : undefined
  return {
    cpuPerRequest: (after.cpu - before.cpu) / requests,
    counted,
    kept,
    storeCalls,
    rps: run.requests.average,
    p50: run.latency.p50,
    p99: run.latency.p99,
    errors: run.errors + run.timeouts + run.non2xx,
  }
}

function sessionCookie(port) {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: '/count' }, (res) => {
      res.resume()
      const header = res.headers['set-cookie']?.[0]
      if (!header) reject(new Error('the app set no session cookie on /count'))
      else resolve(header.split(';')[0])
    })
      .on('error', reject)
      .end()
  })
}

/** The counter `/read` answers with `cookie`. */
function readCounter(port, cookie) {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: '/read', headers: { cookie } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve(Number(body)))
    })
      .on('error', reject)
      .end()
  })
}

// --- the hot-session cells: every connection on one session -------------------------------------

async function runHotGroup(framework, store) {
  console.log(`\n=== hot session, ${framework} + ${store} store: ${opts.connections} connections on one session, ${opts.rounds} round(s) of ${opts.duration}s ===`)
  const rows = hotRowsFor(store, opts.impls)
  const children = {}
  for (const row of rows) children[row.key] = await startChild(row.impl, framework, store, row.merge)
  const runs = {} // runs[scenario][row] = [measure(...)]
  try {
    if (opts.warmup > 0) {
      for (const scenario of HOT_SCENARIOS) for (const row of rows) await measure(children[row.key], scenario, opts.warmup)
    }
    for (let round = 1; round <= opts.rounds; round++) {
      for (const scenario of HOT_SCENARIOS) {
        for (const row of rows) {
          const run = await measure(children[row.key], scenario, opts.duration)
          ;((runs[scenario.key] ??= {})[row.key] ??= []).push(run)
          const kept = run.kept === undefined ? '' : `  kept ${run.kept} of ${run.counted} increments`
          console.log(`round ${round}  ${scenario.label.padEnd(20)} ${hotLabelOf(row, store).padEnd(42)} ${fmt(run.rps, 0).padStart(7)} req/s  p99 ${fmt(run.p99, 1)} ms  cpu ${fmt(run.cpuPerRequest, 0)} µs/req  store/req: ${storeCallsText(run.storeCalls)}${kept}${run.errors ? `  (${run.errors} errors/non-2xx!)` : ''}`)
        }
      }
    }
  } finally {
    await Promise.all(Object.values(children).map(stopChild))
  }
  const group = { framework, store, rows: rows.map((row) => row.key), scenarios: {} }
  for (const scenario of HOT_SCENARIOS) {
    const byRow = {}
    for (const row of rows) {
      const list = runs[scenario.key][row.key]
      const calls = {}
      for (const method of Object.keys(list[0].storeCalls)) calls[method] = median(list.map((r) => r.storeCalls[method]))
      byRow[row.key] = {
        label: hotLabelOf(row, store),
        store: storeNameOf(row.impl, store),
        merge: row.merge,
        rps: median(list.map((r) => r.rps)),
        p50: median(list.map((r) => r.p50)),
        p99: median(list.map((r) => r.p99)),
        cpuPerRequest: median(list.map((r) => r.cpuPerRequest)),
        storeCalls: calls,
        errors: list.reduce((sum, r) => sum + r.errors, 0),
        rounds: list.map((r) => Math.round(r.rps)),
      }
      if (list[0].kept !== undefined) {
        Object.assign(byRow[row.key], { kept: median(list.map((r) => r.kept)), counted: median(list.map((r) => r.counted)), keptShare: median(list.map((r) => r.kept / Math.max(1, r.counted))) })
      }
    }
    const reference = byRow['express-session']
    if (reference) for (const r of Object.values(byRow)) r.vsExpressSession = r.rps / reference.rps
    compareWithBefore(byRow, HOT_VS_BEFORE)
    group.scenarios[scenario.key] = byRow
  }
  printHotGroup(group)
  printVsBefore(`hot session, ${group.framework} + ${group.store} store`, group, HOT_SCENARIOS, HOT_VS_BEFORE)
  return group
}

function printHotGroup(group) {
  console.log(`\nhot session, ${group.framework} + ${group.store} store (median of ${opts.rounds} round(s))`)
  const header = ['scenario', 'implementation', 'req/s', 'p99 ms', 'CPU µs/req', 'store calls/req', 'increments kept', '× express-session']
  const rows = [header]
  for (const scenario of HOT_SCENARIOS) {
    for (const key of group.rows) {
      const r = group.scenarios[scenario.key][key]
      rows.push([scenario.label, r.label, fmt(r.rps, 0), fmt(r.p99, 1), fmt(r.cpuPerRequest, 0), storeCallsText(r.storeCalls), r.kept === undefined ? '' : keptText(r), fmt(r.vsExpressSession, 2)])
    }
  }
  printTable(rows)
}

// --- with --baseline: this checkout against the code before ----------------------------------

/** Gives each row of `pairs` ([after, before] keys) present in `rows` its throughput and CPU time against the before row. */
function compareWithBefore(rows, pairs) {
  for (const [after, before] of pairs) {
    if (!rows[after] || !rows[before]) continue
    rows[after].vsBefore = rows[after].rps / rows[before].rps
    rows[after].cpuVsBefore = rows[after].cpuPerRequest / rows[before].cpuPerRequest
  }
}

/** The after/before table of a group: req/s and CPU µs/req of both, and their ratios. */
function printVsBefore(title, group, scenarios, pairs) {
  const header = ['scenario', 'implementation', 'req/s', 'before', '× before', 'CPU µs/req', 'before', '× before']
  const rows = [header]
  for (const scenario of scenarios) {
    for (const [after, before] of pairs) {
      const a = group.scenarios[scenario.key][after]
      const b = group.scenarios[scenario.key][before]
      if (a?.vsBefore === undefined) continue
      rows.push([scenario.label, a.label, fmt(a.rps, 0), fmt(b.rps, 0), fmt(a.vsBefore, 2), fmt(a.cpuPerRequest, 0), fmt(b.cpuPerRequest, 0), fmt(a.cpuVsBefore, 2)])
    }
  }
  if (rows.length === 1) return
  console.log(`\n${title}: this checkout against ${opts.baseline} (× before: req/s higher is better, CPU lower is better)`)
  printTable(rows)
}

// --- child processes ---------------------------------------------------------------------------

function startChild(impl, framework, store, merge = false) {
  const execArgv = ['--expose-gc']
  if (opts.cpuProf === impl) {
    const dir = join(root, 'bench/profiles')
    mkdirSync(dir, { recursive: true })
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${impl}${merge ? '-merge' : ''}-${framework}-${store}-${Date.now()}.cpuprofile`)
  }
  const child = fork(join(here, 'app.mjs'), [], {
    execArgv,
    env: {
      ...process.env,
      // The code before is sessionkit to the app, only loaded from elsewhere.
      BENCH_IMPL: impl === BEFORE ? 'sessionkit' : impl,
      BENCH_FRAMEWORK: framework,
      BENCH_STORE: store,
      BENCH_MERGE: merge ? '1' : '0',
      BENCH_PREFIX: `sessionkit-bench:${runId}:${++prefixCounter}:`,
      BENCH_SESSIONKIT: impl === BEFORE ? baselineEntry : sessionkitEntry,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`${impl} app exited early (code ${code})`)))
    child.once('message', (message) => {
      if (!message?.ready) return reject(new Error(`unexpected message from ${impl} app`))
      child.removeAllListeners('exit')
      resolve({
        impl,
        port: message.ready,
        process: child,
        call: (what) =>
          new Promise((done) => {
            child.once('message', done)
            child.send(what)
          }),
      })
    })
  })
}

function stopChild(child) {
  return new Promise((resolve) => {
    child.process.once('exit', resolve)
    child.process.send('stop')
  })
}

function portOpen(port) {
  return new Promise((resolve) => {
    import('node:net').then(({ connect }) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
  })
}

/**
 * A private copy of a checkout's dist/ for this run: `npm run build` empties dist/ first, and on a
 * shared working tree someone may build while the bench runs. The copy sits inside this repository so
 * that sessionkit's own dependencies still resolve from its node_modules: a --baseline checkout's
 * build so runs with the very same dependencies, and only sessionkit's code differs.
 */
function snapshotSessionkit(checkout) {
  const dir = mkdtempSync(join(here, '.dist-'))
  for (let attempt = 0; ; attempt++) {
    try {
      cpSync(join(checkout, 'dist/cjs'), join(dir, 'cjs'), { recursive: true })
      const entry = join(dir, 'cjs/sessionkit.cjs')
      execFileSync(process.execPath, ['-e', `require(${JSON.stringify(entry)})`], { stdio: 'ignore' })
      return entry
    } catch (err) {
      if (attempt >= 20) throw new Error(`cannot load sessionkit from ${join(checkout, 'dist')} (run npm run build there first): ${err.message}`)
      rmSync(join(dir, 'cjs'), { recursive: true, force: true })
      execFileSync('sleep', ['0.5'])
    }
  }
}

// --- memory ------------------------------------------------------------------------------------

async function runMemory() {
  console.log(`\n=== memory: heap per session after ${opts.sessions} sessions; ${opts.sweeps} sweep(s) of ${opts.expired} expired sessions; evictions ===`)
  const runOne = (...measurement) =>
    new Promise((resolve, reject) => {
      const child = fork(join(here, 'memory.mjs'), measurement.map(String), {
        execArgv: ['--expose-gc', '--max-old-space-size=4096'],
        env: { ...process.env, BENCH_SESSIONKIT: sessionkitEntry },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      let answer
      child.on('message', (m) => (answer = m))
      child.on('exit', (code) => (answer ? resolve(answer) : reject(new Error(`memory.mjs ${measurement.join(' ')} exited with ${code}`))))
    })
  const memory = {
    sessions: opts.sessions,
    sessionkit: await runOne('sessionkit', opts.sessions),
    expressSession: await runOne('express-session', opts.sessions),
    sweeps: [],
  }
  // Each sweep in a fresh process; express-session's synchronous prune is timed in the first only.
  for (let i = 0; i < opts.sweeps; i++) memory.sweeps.push(await runOne('sweep', opts.expired, ...(i === 0 ? [] : ['--no-express-session'])))
  // The capped store and one without a cap side by side in one process (see bench/memory.mjs).
  if (opts.evict) memory.evict = await runOne('evict', opts.evictMax, opts.evictTotal)
  console.log(`heap per session     sessionkit ${fmt(memory.sessionkit.bytesPerSession, 0)} B   express-session ${fmt(memory.expressSession.bytesPerSession, 0)} B`)
  console.log(`  after a touch each  sessionkit ${fmt(memory.sessionkit.bytesPerSessionAfterTouch, 0)} B   express-session ${fmt(memory.expressSession.bytesPerSessionAfterTouch, 0)} B`)
  for (const sweep of memory.sweeps) {
    console.log(`sweep of ${sweep.expired} expired: ${fmt(sweep.totalMs, 0)} ms in all, longest event-loop block ${fmt(sweep.maxDelayMs, 1)} ms (p99 ${fmt(sweep.p99DelayMs, 1)} ms; a do-nothing loop: ${fmt(sweep.machineMaxDelayMs, 1)} ms); removed ${sweep.removed}`)
  }
  const prune = memory.sweeps[0]?.expressSessionPruneMs
  if (prune !== undefined) console.log(`  (express-session's MemoryStore has no sweeper; its length() prunes the same sessions in one synchronous pass of ${fmt(prune, 0)} ms)`)
  if (memory.evict) {
    const { capped, uncapped } = memory.evict
    console.log(`evictions: max ${capped.max}, ${capped.inserted} new sessions, ${capped.evicted} evicted: ${fmt(capped.medianMicrosPerInsert, 1)} µs per insert once full (median of its batches), ${fmt(uncapped.medianMicrosPerInsert, 1)} µs without a cap; longest turn ${fmt(capped.longestTurnMs, 1)} ms (${fmt(uncapped.longestTurnMs, 1)} ms without a cap)`)
  }
  return memory
}

// --- output ------------------------------------------------------------------------------------

function printGroup(group, scenarios) {
  // Both sessionkit rows are compared with the same express-session row: say which store that has.
  console.log(`\n${group.framework} + ${group.store} store (median of ${opts.rounds} round(s); × express-session is against ${labelOf('express-session', group.store)})`)
  const header = ['scenario', 'implementation', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'session µs', 'store calls/req', '× step', '× none', '× express-session']
  const rows = [header]
  const optional = (n, digits) => (n === undefined ? '' : fmt(n, digits))
  for (const scenario of scenarios) {
    for (const impl of group.impls) {
      const r = group.scenarios[scenario.key][impl]
      rows.push([
        scenario.label,
        r.label,
        fmt(r.rps, 0),
        fmt(r.p50, 1),
        fmt(r.p99, 1),
        fmt(r.cpuPerRequest, 0),
        optional(r.sessionCost, 0),
        r.storeCalls === undefined ? '' : storeCallsText(r.storeCalls),
        optional(r.vsStep, 2),
        optional(r.vsNone, 2),
        optional(r.vsExpressSession, 2),
      ])
    }
  }
  printTable(rows)
}

/** Prints rows of cells in columns: the first two (scenario, implementation) to the left, the numbers to the right. */
function printTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  for (const row of rows) console.log(row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '))
}

function printTargets(targets) {
  if (targets.length === 0) return
  console.log('\n=== targets (issue 16) ===')
  for (const t of targets) console.log(`${t.info ? 'INFO' : t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.actual} (${t.info ? '' : 'target '}${t.target})`)
  // Informational lines (a ratio the issue sets no target for) count neither way.
  const judged = targets.filter((t) => !t.info)
  const failed = judged.filter((t) => !t.pass).length
  console.log(failed === 0 ? 'all targets met' : `${failed} of ${judged.length} targets missed`)
}

function machine() {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    // The machine is shared: how busy it was when the run started says how far to trust the numbers.
    loadAverage: os.loadavg(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    express4: require('express4/package.json').version,
    express5: require('express/package.json').version,
    expressSession: require('express-session/package.json').version,
    connectRedis: packageVersion('connect-redis'),
    connectPgSimple: packageVersion('connect-pg-simple'),
    // The clients both kinds of store are given: the first-party stores' numbers depend on them too.
    redisClient: packageVersion('redis'),
    pg: packageVersion('pg'),
    autocannon: require('autocannon/package.json').version,
    sessionkit: require(join(root, 'package.json')).version,
    commit: gitCommit(root),
  }
}

// Read from node_modules directly: not every package exports its package.json.
function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version
  } catch {
    return undefined
  }
}

function gitCommit(checkout) {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: checkout, encoding: 'utf8' }).trim()
  } catch {
    return undefined
  }
}

function parseArgs(argv) {
  const out = {}
  for (const arg of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg)
    if (!m) throw new Error(`unknown argument ${arg}`)
    out[m[1]] = m[2] === undefined ? true : m[2]
  }
  return out
}

function list(value, fallback) {
  return typeof value === 'string' ? value.split(',').filter(Boolean) : fallback
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}


