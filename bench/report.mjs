// Writes the benchmark's prose from its JSON result, so that the tables, the chart and the numbers
// always come from the same run: docs/performance.md in full (every cell, every column, memory,
// targets, how to run it), and the documentation site's Performance page, docs/guide/performance.md
// (between its performance:start and performance:end markers), as a short summary with the chart and a
// link to the full page.
//   node bench/report.mjs [bench/results/latest.json] [docs/guide/performance.md] [docs/performance.md]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmt, storeCallsText } from './format.mjs'
import { checkHotTargets, HOT_ROWS, HOT_SCENARIOS, keptText } from './hot-cells.mjs'
import { IMPLS, labelOf } from './impls.mjs'
import { checkTargets, SCENARIOS, stepTargetImplOf, sweepsOf } from './targets.mjs'

/** A row's name in the tables: which middleware, and in Redis and PostgreSQL groups which store. */
function implName(impl, store) {
  if (impl === 'none') return 'no session'
  if (impl === 'step') return 'step only'
  const label = labelOf(impl, store)
  return impl === 'express-session' ? label : `**${label}**`
}

const CELLS =
  'Every cell is the same Express app (`/hello` never touches the session, `/count` increments `req.session.n`, `/read` reads it) in a child process of its own: with **no session** middleware; with **step only**, a middleware that does nothing but the first thing sessionkit does to a request, turning `req` and `res` into dictionary mode (`toDictionaryMode` in `src/adapters/express/request.ts`); with **express-session**; and with **sessionkit**; with Redis and PostgreSQL, also with **sessionkit on its own store**. autocannon drives them in turn (A B C D E A B C D E …), so that a busy machine slows them alike. Both middlewares get the same options: `resave: false`, `saveUninitialized: false`, `cookie.maxAge` of one day, and the same store: each its own MemoryStore, or the same third-party store (**express-session + connect-redis** and **sessionkit + connect-redis**, the same with connect-pg-simple). The rows **sessionkit + sessionkit/redis** and **sessionkit + sessionkit/postgres** are sessionkit with its first-party store instead (same client, key prefix or schema), still compared with express-session on the third-party store: the setup it replaces. In the cells with a cookie, each of the connections is a client with a session of its own, as that many users would be.'

const BASELINE =
  'The step alone makes plain Express faster: Express gives every `req` and `res` a new prototype, and V8 then copies the object\'s whole list of property descriptors for every property added to it afterwards (about 5 µs a property here), by Express and Node as much as by a middleware. In dictionary mode adding a property is cheap. So sessionkit can "beat" the app without sessions, and a ratio against that app mixes the step\'s saving with the session\'s cost. The ratios below are therefore against the step-only app: what is left is what the session itself costs.'

const HOT =
  'The cells above give each connection a session of its own, as many users would have. A single-page app or a dashboard often sends many requests at once with one cookie; the hot-session cells measure that: all the connections send the cookie of **one** session (made by one `/count` just before the run) to `/count` and to `/read`, with express-session, with sessionkit, and with sessionkit and `merge: true`, on each store. **increments kept** is the session\'s counter after the run (less the 1 it started at) against the `/count` requests the app handled.'

const HOT_HOW =
  'sessionkit writes the saves of one session in order, and never after that session was destroyed. Saves that arrive while a write of the same session is in flight wait for it, and then go to the store **together, as one write** of the newest state (with `merge`, each request\'s own changed keys, in the order the requests ended, onto the session as the store holds it); each of those requests is answered when that write is, and if it fails, each of them gets the error. A busy session is so written about once per store round trip, however many requests it gets, instead of once per request. Its loads move its expiry once too: with sessionkit/redis and sessionkit/postgres a load also moves the expiry, and one that starts while another load of the same session is doing so only reads (on PostgreSQL such a load is an `UPDATE`, and the others would wait for its row lock). A counter is one key: requests that read the same value and each add one write the same number, with or without `merge`, with sessionkit as with express-session, so most increments of a hot counter are lost on a store with a round trip (with the in-memory store, sessionkit loads and saves within the request\'s own turn, so none is). Keep a count that must not lose increments in the store itself (an atomic increment), not in the session.'

/** The hot-session section of docs/performance.md, with the tables when the run has them. */
function hotLines(result) {
  const lines = ['## One session, many parallel requests', '', HOT, '', HOT_HOW, '']
  for (const group of result.hot ?? []) {
    lines.push(`### ${groupTitle(group)}, one session`, '')
    lines.push('| scenario | implementation | req/s | p99 ms | CPU µs/req | store calls/req | increments kept | × express-session |')
    lines.push('|---|---|--:|--:|--:|--:|--:|--:|')
    for (const scenario of HOT_SCENARIOS) {
      for (const row of HOT_ROWS) {
        const r = group.scenarios[scenario.key]?.[row.key]
        if (!r) continue
        const name = row.impl === 'express-session' ? r.label : `**${r.label}**`
        lines.push(`| ${scenario.label} | ${name} | ${Math.round(r.rps)} | ${r.p99.toFixed(1)} | ${r.cpuPerRequest.toFixed(0)} | ${storeCallsText(r.storeCalls)} | ${r.kept === undefined ? '' : keptText(r)} | ${r.vsExpressSession?.toFixed(2) ?? ''} |`)
      }
    }
    lines.push('')
  }
  if ((result.hot ?? []).length === 0) lines.push('This run has no hot-session cells; `npm run bench:hot` runs them alone.', '')
  return lines
}

function machineLine(result) {
  const m = result.machine
  const o = result.options
  const postgres = result.groups.some((group) => group.store === 'postgres')
  const stores = [`connect-redis ${m.connectRedis}`, postgres && m.connectPgSimple && `connect-pg-simple ${m.connectPgSimple}`, m.redisClient && `redis (node-redis) ${m.redisClient}`, postgres && m.pg && `pg ${m.pg}`].filter(Boolean).join(', ')
  return `Measured ${result.date.slice(0, 10)} on ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB, ${m.os}; Node ${m.node}, Express ${m.express4} and ${m.express5}, express-session ${m.expressSession}, ${stores} (Redis${postgres ? ' and PostgreSQL' : ''} on 127.0.0.1), autocannon ${m.autocannon}, ${o.connections} connections, median of ${o.rounds} round(s) of ${o.duration} s${m.commit ? `, sessionkit at ${m.commit}` : ''}${m.loadAverage ? `; load average at the start ${m.loadAverage.map((n) => n.toFixed(2)).join(', ')}` : ''}. autocannon and the app share the machine's ${m.cores} cores; expect the absolute numbers to move by ±20% from run to run, the ratios less.`
}

function groupTitle(group) {
  // A result from before the sessionkit-own cell has only the third-party store to name.
  const own = Object.values(group.scenarios).some((rows) => rows['sessionkit-own'])
  const store =
    {
      memory: 'in-memory store',
      redis: own ? 'Redis store (connect-redis; sessionkit/redis)' : 'Redis store (connect-redis)',
      postgres: own ? 'PostgreSQL store (connect-pg-simple; sessionkit/postgres)' : 'PostgreSQL store (connect-pg-simple)',
    }[group.store] ?? `${group.store} store`
  return `${group.framework === 'express4' ? 'Express 4' : 'Express 5'}, ${store}`
}

/** The sessionkit rows of a group, in table order: one, or in Redis and PostgreSQL groups two. */
function sessionkitRows(group) {
  return ['sessionkit', 'sessionkit-own'].filter((impl) => Object.values(group.scenarios).some((rows) => rows[impl]))
}

function memoryLines(mem) {
  const lines = []
  if (mem.sessionkit && mem.expressSession) {
    lines.push(`- Heap per stored session in the in-memory store, after ${mem.sessions.toLocaleString('en-US')} sessions and a forced GC: **sessionkit ${Math.round(mem.sessionkit.bytesPerSession)} B**, express-session ${Math.round(mem.expressSession.bytesPerSession)} B${mem.sessionkit.bytesPerSessionAfterTouch !== undefined ? `; after a touch of every session, ${Math.round(mem.sessionkit.bytesPerSessionAfterTouch)} B and ${Math.round(mem.expressSession.bytesPerSessionAfterTouch)} B` : ''}.`)
  }
  const sweeps = sweepsOf(mem)
  if (sweeps.length > 0) {
    const prune = sweeps[0].expressSessionPruneMs
    lines.push(`- Sweeping ${sweeps[0].expired.toLocaleString('en-US')} expired sessions out of sessionkit's MemoryStore, ${sweeps.length} run(s), each in a fresh process: longest event-loop block (\`perf_hooks.monitorEventLoopDelay\`) ${sweeps.map((s) => `${s.maxDelayMs.toFixed(1)}`).join(', ')} ms; ${sweeps.map((s) => Math.round(s.totalMs)).join(', ')} ms in all, in slices${sweeps[0].machineMaxDelayMs !== undefined ? `. The same monitor over a loop that only burns 1 ms slices, for as long: ${sweeps.map((s) => s.machineMaxDelayMs.toFixed(1)).join(', ')} ms (on this shared virtual machine the host takes the CPU away in whole ticks, which both numbers include)` : ''}.${prune !== undefined ? ` express-session's MemoryStore has no sweeper: its \`length()\`/\`all()\` remove the same sessions in one synchronous pass of ${Math.round(prune)} ms.` : ''}`)
  }
  if (mem.evict) {
    const { capped, uncapped } = mem.evict
    lines.push(`- Eviction under \`max\`: ${capped.inserted.toLocaleString('en-US')} new sessions into a store with \`max: ${capped.max.toLocaleString('en-US')}\`, so ${capped.evicted.toLocaleString('en-US')} evictions: **${fmt(capped.medianMicrosPerInsert, 1)} µs per insert** once the store is full (median of its batches of ${capped.batch.toLocaleString('en-US')}; every batch: ${capped.microsPerInsert.map((n) => n.toFixed(1)).join(', ')}), against ${fmt(uncapped.medianMicrosPerInsert, 1)} µs over the same batches for as many inserts into a store without a cap, made in the same process, turn by turn with them. Longest turn of 100 inserts ${fmt(capped.longestTurnMs, 1)} ms with the cap, ${fmt(uncapped.longestTurnMs, 1)} ms without; event-loop maximum ${fmt(capped.maxDelayMs, 1)} ms, young-generation collections of the new sessions included.`)
  }
  return lines
}

/** The memory figures in a line each, for the summary. */
function shortMemoryLines(mem) {
  const lines = []
  if (mem.sessionkit && mem.expressSession) {
    lines.push(`- MemoryStore heap per session: **${Math.round(mem.sessionkit.bytesPerSession)} B** (${Math.round(mem.sessionkit.bytesPerSessionAfterTouch)} B after a touch of each), express-session's ${Math.round(mem.expressSession.bytesPerSession)} B (${Math.round(mem.expressSession.bytesPerSessionAfterTouch)} B).`)
  }
  const sweeps = sweepsOf(mem)
  if (sweeps.length > 0) {
    lines.push(`- Sweeping ${sweeps[0].expired.toLocaleString('en-US')} expired sessions blocks the event loop for at most **${Math.max(...sweeps.map((s) => s.maxDelayMs)).toFixed(1)} ms** at a time (worst of ${sweeps.length} run(s)); express-session's MemoryStore prunes them in one synchronous pass${sweeps[0].expressSessionPruneMs !== undefined ? ` of ${Math.round(sweeps[0].expressSessionPruneMs)} ms` : ''}.`)
  }
  if (mem.evict) {
    const { capped, uncapped } = mem.evict
    lines.push(`- With \`max: ${capped.max.toLocaleString('en-US')}\` and ${capped.evicted.toLocaleString('en-US')} evictions, an insert that evicts costs **${fmt(capped.medianMicrosPerInsert, 1)} µs**; an insert into a store without a cap, side by side with it, ${fmt(uncapped.medianMicrosPerInsert, 1)} µs.`)
  }
  return lines
}

/** docs/performance.md: every number of the run. */
export function renderPerformancePage(result, chartPath = '../bench/results/latest.svg') {
  const lines = ['# Performance', '']
  lines.push('This page is written by `npm run bench` (bench/report.mjs) from `bench/results/latest.json`; the [Performance](./guide/performance.md) page has a summary.', '')
  lines.push(CELLS, '')
  lines.push(BASELINE, '')
  lines.push(`![Throughput relative to the step-only app](${chartPath})`, '')
  lines.push(machineLine(result), '')
  lines.push('Columns: **req/s**, latency **p50**/**p99**; **CPU µs/req**, the app process\'s CPU time per request, the number a shared machine distorts least; **session µs**, that CPU time less the step-only app\'s: the session\'s own cost; **store calls/req**, the calls the middleware made to its store per request, counted by wrapping the store\'s `get`/`set`/`touch`/`destroy` and, for a store that has them, `getVersioned`/`setIfVersion` in the bench app; the throughput ratios against the step-only app, the app without sessions and express-session (on the third-party store, for both sessionkit rows), all from the same run.', '')
  for (const group of result.groups) {
    lines.push(`## ${groupTitle(group)}`, '')
    lines.push('| scenario | implementation | req/s | p50 ms | p99 ms | CPU µs/req | session µs | store calls/req | × step only | × no session | × express-session |')
    lines.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|')
    for (const scenario of SCENARIOS) {
      const rows = group.scenarios[scenario.key]
      if (!rows) continue
      for (const impl of IMPLS) {
        const r = rows[impl]
        if (!r) continue
        lines.push(`| ${scenario.label} | ${implName(impl, group.store)} | ${Math.round(r.rps)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.cpuPerRequest?.toFixed(0) ?? ''} | ${r.sessionCost?.toFixed(0) ?? ''} | ${r.storeCalls ? storeCallsText(r.storeCalls) : ''} | ${r.vsStep?.toFixed(2) ?? ''} | ${r.vsNone?.toFixed(2) ?? ''} | ${r.vsExpressSession?.toFixed(2) ?? ''} |`)
      }
    }
    lines.push('')
  }
  lines.push(...hotLines(result))
  lines.push('## What sessionkit does for a request', '')
  lines.push(
    'With a valid cookie: parse the `Cookie` header (`cookie`); check the signature (`cookie-signature`, HMAC-SHA256), except for a value this middleware has already verified, of which it remembers up to 4,096; get the record from the store (the in-memory store keeps JSON and parses it); compare the data\'s JSON at the start and the end of the request; touch or save; and, when the session changed, serialize a new `Set-Cookie` (`cookie`). A new session adds an id (CSPRNG bytes, drawn 128 ids at a time) and one HMAC.',
    '',
  )
  if (result.memory) {
    lines.push('## Memory', '')
    lines.push(...memoryLines(result.memory), '')
  }
  // Judged again here, so that a result written before the targets changed is judged by today's.
  const targets = [...checkTargets(result), ...checkHotTargets(result)]
  if (targets.length) {
    lines.push('## Targets', '')
    const judgedOnOwn = result.groups.some((group) => stepTargetImplOf(group.store) === 'sessionkit-own')
    if (judgedOnOwn) {
      lines.push('The Redis targets are set against the step-only app "with a first-party Redis store": they are judged on **sessionkit + sessionkit/redis**; **sessionkit + connect-redis**\'s ratio is listed beside them for information. PostgreSQL has targets against express-session only.', '')
    }
    lines.push('| target | result | |', '|---|---|---|')
    for (const t of targets) lines.push(t.info ? `| ${t.name} (${t.target}) | ${t.actual} | info |` : `| ${t.name} ${t.target} | ${t.actual} | ${t.pass ? 'PASS' : 'FAIL'} |`)
    lines.push('')
  }
  lines.push('## Running it', '')
  lines.push(
    '```sh',
    'npm run bench          # everything, a few minutes: Express 4 and 5, memory, Redis and PostgreSQL, memory tests; writes this page',
    'npm run bench:quick    # one short round, Express 5 and the memory store only',
    'npm run bench:hot      # only the hot-session cells (one session, many parallel requests): writes bench/results/hot.json',
    'node bench/run.mjs --hot --stores=redis --frameworks=express5 --rounds=5   # some of them, longer',
    'node bench/run.mjs --no-hot               # everything but the hot-session cells',
    'node bench/run.mjs --frameworks=express5 --stores=memory --scenarios=read,count --rounds=5 --duration=3',
    'node bench/run.mjs --impls=step,sessionkit                # only some of the cells',
    'node bench/run.mjs --stores=redis --impls=step,sessionkit,sessionkit-own   # connect-redis against sessionkit/redis',
    'node bench/run.mjs --memory-only                          # heap per session, the sweeper (--sweeps=5), evictions',
    'node bench/run.mjs --memory-only --evict-max=100000 --evict-total=1000000',
    'node --expose-gc bench/memory.mjs evict 1000000 2500000   # one eviction run, batch by batch',
    'node bench/run.mjs --cpu-prof             # also writes a CPU profile of the sessionkit app to bench/profiles/',
    'node bench/profile-summary.mjs bench/profiles/<file>.cpuprofile',
    'node bench/micro.mjs                      # the middleware alone, without sockets: steadier while tuning',
    '```',
    '',
    '`npm run bench` builds first, then writes `bench/results/latest.json`, draws `bench/results/latest.svg` from it and writes this page and the summary on the Performance page (`node bench/report.mjs`). The Redis runs need Redis on 127.0.0.1:6379, the PostgreSQL runs PostgreSQL on 127.0.0.1:5432 (user postgres, database test; each is skipped when nothing answers on its port); the keys use a prefix per process of the run, the tables a schema per process, and both are deleted afterwards. The benchmark runs on demand only: timings are never asserted by the test suite.',
    '',
  )
  return lines.join('\n')
}

/** The Performance page's summary: what is measured, the chart, one line per cell, a link to the rest. */
export function renderReadmeSection(result, chartPath = '../../bench/results/latest.svg') {
  const lines = ['# Performance', '']
  lines.push(CELLS.replace('Every cell is', 'The benchmark runs'), '')
  lines.push(`![Throughput relative to the step-only app](${chartPath})`, '')
  lines.push(
    '**Where "faster than no session" comes from:** the dictionary-mode step, not the session. That step alone makes plain Express faster (V8 copies an Express `req`/`res`\'s property list for every property added to it; in dictionary mode it does not), so the benchmark compares sessionkit with an app that does only that step: what is left is the session\'s own cost.',
    '',
  )
  const scenarios = SCENARIOS.filter((scenario) => result.groups.some((group) => group.scenarios[scenario.key]))
  // A result from before the step-only cell existed can only give ratios against the app without sessions.
  const hasStep = result.groups.some((group) => Object.values(group.scenarios).some((rows) => rows.step))
  lines.push(
    hasStep
      ? 'sessionkit\'s throughput as a multiple of the step-only app\'s / of express-session\'s (on the third-party store, for both sessionkit rows), and the session\'s own CPU time per request (sessionkit\'s less the step-only app\'s):'
      : 'sessionkit\'s throughput as a multiple of the app\'s without sessions / of express-session\'s (this run predates the step-only cell, so the first ratio includes the step\'s saving):',
    '',
  )
  lines.push(`| | ${scenarios.map((scenario) => scenario.label).join(' | ')} |`)
  lines.push(`|---|${scenarios.map(() => '--:').join('|')}|`)
  for (const group of result.groups) {
    for (const impl of sessionkitRows(group)) {
      const cells = scenarios.map((scenario) => {
        const r = group.scenarios[scenario.key]?.[impl]
        if (!r) return ''
        return hasStep ? `${fmt(r.vsStep, 2)}× / ${fmt(r.vsExpressSession, 2)}×, ${fmt(r.sessionCost, 0)} µs` : `${fmt(r.vsNone, 2)}× / ${fmt(r.vsExpressSession, 2)}×`
      })
      // In memory groups the title already says which store; elsewhere the row says which of the two.
      const name = group.store === 'memory' ? groupTitle(group) : `${groupTitle(group).replace(/ \(.*\)$/, '')}: ${implName(impl, group.store)}`
      lines.push(`| ${name} | ${cells.join(' | ')} |`)
    }
  }
  lines.push('')
  if (result.memory) lines.push(...shortMemoryLines(result.memory), '')
  const targets = checkTargets(result)
  // Informational lines are no targets: they count neither as met nor as missed.
  const judged = targets.filter((t) => !t.info)
  const failed = judged.filter((t) => !t.pass)
  if (judged.length) lines.push(`Performance targets: ${judged.length - failed.length} of ${judged.length} met${failed.length ? `; each miss is listed in [the full results](../performance.md#targets)` : ''}.`, '')
  lines.push(machineLine(result), '')
  lines.push('Every cell with all its columns (latency, CPU per request, store calls by method), the targets and how to run the benchmark: [the full results](../performance.md). `npm run bench` writes both from one run.', '')
  return lines.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // `npm run bench -- --rounds=5` hands its options to this script too (it runs last): skip them.
  const [inputArg, readmeArg, pageArg] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'))
  const input = inputArg ?? fileURLToPath(new URL('./results/latest.json', import.meta.url))
  const readme = readmeArg ?? fileURLToPath(new URL('../docs/guide/performance.md', import.meta.url))
  const page = pageArg ?? fileURLToPath(new URL('../docs/performance.md', import.meta.url))
  const result = JSON.parse(readFileSync(input, 'utf8'))
  const START = '<!-- performance:start -->'
  const END = '<!-- performance:end -->'
  const text = readFileSync(readme, 'utf8')
  const from = text.indexOf(START)
  const to = text.indexOf(END)
  if (from === -1 || to < from) throw new Error(`${readme} has no ${START} ... ${END} markers to write between`)
  writeFileSync(readme, `${text.slice(0, from + START.length)}\n${renderReadmeSection(result).trim()}\n${text.slice(to)}`)
  mkdirSync(dirname(page), { recursive: true })
  writeFileSync(page, renderPerformancePage(result).trim() + '\n')
}
