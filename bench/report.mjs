// Writes the README's "Performance" section (between its performance:start and performance:end
// markers) from a benchmark JSON result, so the table, the chart and the numbers always come from the
// same run.
//   node bench/report.mjs [bench/results/latest.json] [README.md]
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SCENARIOS } from './targets.mjs'

export function renderReport(result, chartPath = 'bench/results/latest.svg') {
  const m = result.machine
  const o = result.options
  const lines = []
  lines.push('## Performance', '')
  lines.push(
    'The same Express app (`/hello` never touches the session, `/count` increments `req.session.n`, `/read` reads it) runs in a child process with no session middleware, with express-session and with sessionkit, each driven by autocannon in turn (A B C A B C …) so that a busy machine slows them alike. Both middlewares get the same options: `resave: false`, `saveUninitialized: false`, `cookie.maxAge` of one day. Ratios are req/s against the app without sessions in the same run; "CPU µs/req" is the app process\'s CPU time per request, the number a shared machine distorts least.',
    '',
  )
  lines.push(`![Throughput relative to the app without sessions](${chartPath})`, '')
  lines.push(
    `Measured ${result.date.slice(0, 10)} on ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB, ${m.os}; Node ${m.node}, Express ${m.express4} and ${m.express5}, express-session ${m.expressSession}, connect-redis ${m.connectRedis} (Redis on 127.0.0.1), autocannon ${m.autocannon}, ${o.connections} connections, median of ${o.rounds} rounds of ${o.duration} s${m.commit ? `, sessionkit at ${m.commit}` : ''}. On this 2-core machine autocannon and the app share the CPU; expect the absolute numbers to move by ±20% from run to run, the ratios less.`,
    '',
  )
  for (const group of result.groups) {
    lines.push(`### ${group.framework === 'express4' ? 'Express 4' : 'Express 5'}, ${group.store === 'redis' ? 'Redis store (connect-redis)' : 'in-memory store'}`, '')
    lines.push('| scenario | implementation | req/s | p50 ms | p99 ms | CPU µs/req | × no session | × express-session |')
    lines.push('|---|---|--:|--:|--:|--:|--:|--:|')
    for (const scenario of SCENARIOS) {
      const rows = group.scenarios[scenario.key]
      if (!rows) continue
      for (const impl of ['none', 'express-session', 'sessionkit']) {
        const r = rows[impl]
        if (!r) continue
        const name = impl === 'none' ? 'no session' : impl === 'sessionkit' ? '**sessionkit**' : impl
        lines.push(`| ${scenario.label} | ${name} | ${Math.round(r.rps)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.cpuPerRequest?.toFixed(0) ?? ''} | ${r.vsNone?.toFixed(2) ?? ''} | ${r.vsExpressSession?.toFixed(2) ?? ''} |`)
      }
    }
    lines.push('')
  }
  lines.push('### Why sessionkit can beat the app without sessions', '')
  lines.push(
    "Express gives every `req` and `res` a new prototype (`Object.setPrototypeOf`). V8 then gives such an object a hidden class of its own for each property added to it, copying its whole list of some 40–50 property descriptors every time: about 5 µs per property on this machine, paid for every property Express and Node add during a request, by the app without sessions too. Before it adds anything, sessionkit turns `req` and `res` into dictionary mode (it deletes their last property and defines it again, unchanged), after which adding a property is cheap for everyone, Express and Node included. Where a route does little else, that saving is larger than the session's own work. It is a property of Express on V8, not of the benchmark: any app with sessionkit mounted gets it.",
    '',
    "What sessionkit does for a request with a valid cookie: parse the `Cookie` header (`cookie`); check the signature (`cookie-signature`, HMAC-SHA256), except for a value this middleware has already verified, of which it remembers up to 4,096; get the record from the store (the in-memory store keeps JSON and parses it); compare the data's JSON at the start and the end of the request; touch or save; and, when the session changed, serialize a new `Set-Cookie` (`cookie`). A new session adds an id from `uid-safe` and one HMAC.",
    '',
  )
  if (result.memory) {
    const mem = result.memory
    lines.push('### Memory', '')
    if (mem.sessionkit && mem.expressSession) {
      lines.push(`- Heap per stored session in the in-memory store, after ${mem.sessions.toLocaleString('en-US')} sessions and a forced GC: **sessionkit ${Math.round(mem.sessionkit.bytesPerSession)} B**, express-session ${Math.round(mem.expressSession.bytesPerSession)} B${mem.sessionkit.bytesPerSessionAfterTouch !== undefined ? `; after a touch of every session, ${Math.round(mem.sessionkit.bytesPerSessionAfterTouch)} B and ${Math.round(mem.expressSession.bytesPerSessionAfterTouch)} B` : ''}.`)
    }
    if (mem.sweep) {
      lines.push(`- Sweeping ${mem.sweep.expired.toLocaleString('en-US')} expired sessions out of sessionkit's MemoryStore: ${Math.round(mem.sweep.totalMs)} ms in slices; event-loop delay (\`perf_hooks.monitorEventLoopDelay\`) p99 ${mem.sweep.p99DelayMs.toFixed(1)} ms, longest ${mem.sweep.maxDelayMs.toFixed(1)} ms${mem.sweep.machineMaxDelayMs !== undefined ? ` (the same monitor over a loop that only burns 1 ms slices, for as long: ${mem.sweep.machineMaxDelayMs.toFixed(1)} ms; on this shared virtual machine the host takes the CPU away in whole 4 ms ticks, which both numbers include)` : ''}. express-session's MemoryStore has no sweeper: its \`length()\`/\`all()\` remove the same sessions in one synchronous pass of ${Math.round(mem.sweep.expressSessionPruneMs)} ms.`)
    }
    lines.push('')
  }
  if (result.targets?.length) {
    lines.push('### Targets', '')
    lines.push('| target | result | |', '|---|---|---|')
    for (const t of result.targets) lines.push(`| ${t.name} ${t.target} | ${t.actual} | ${t.pass ? 'PASS' : 'FAIL'} |`)
    lines.push('')
  }
  lines.push('### Running it', '')
  lines.push(
    '```sh',
    'npm run bench          # everything, a few minutes: Express 4 and 5, memory and Redis, memory tests',
    'npm run bench:quick    # one short round, Express 5 and the memory store only',
    'node bench/run.mjs --frameworks=express5 --stores=memory --scenarios=read,count --rounds=5 --duration=3',
    'node bench/run.mjs --memory-only          # heap per session and the sweeper',
    'node bench/run.mjs --cpu-prof             # also writes a CPU profile of the sessionkit app to bench/profiles/',
    'node bench/profile-summary.mjs bench/profiles/<file>.cpuprofile',
    'node bench/micro.mjs                      # the middleware alone, without sockets: steadier while tuning',
    '```',
    '',
    '`npm run bench` builds first, then writes `bench/results/latest.json` and draws `bench/results/latest.svg` from it; `node bench/report.mjs` (run by `npm run bench`) writes this section of the README from that JSON. The Redis runs need Redis on 127.0.0.1:6379 (they are skipped otherwise); their keys use a per-run prefix and are deleted afterwards. Timings are never asserted by the unit tests.',
    '',
  )
  return lines.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // `npm run bench -- --rounds=5` hands its options to this script too (it runs last): skip them.
  const [inputArg, readmeArg] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'))
  const input = inputArg ?? fileURLToPath(new URL('./results/latest.json', import.meta.url))
  const readme = readmeArg ?? fileURLToPath(new URL('../README.md', import.meta.url))
  const START = '<!-- performance:start -->'
  const END = '<!-- performance:end -->'
  const text = readFileSync(readme, 'utf8')
  const from = text.indexOf(START)
  const to = text.indexOf(END)
  if (from === -1 || to < from) throw new Error(`${readme} has no ${START} ... ${END} markers to write between`)
  const section = renderReport(JSON.parse(readFileSync(input, 'utf8')))
  writeFileSync(readme, `${text.slice(0, from + START.length)}\n${section.trim()}\n${text.slice(to)}`)
}
