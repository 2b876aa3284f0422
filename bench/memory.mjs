// Memory measurements, one per process (run with --expose-gc; bench/run.mjs starts it):
//   node --expose-gc bench/memory.mjs sessionkit 100000       heap per stored session, sessionkit MemoryStore
//   node --expose-gc bench/memory.mjs express-session 100000  the same with express-session's MemoryStore
//   node --expose-gc bench/memory.mjs sweep 1000000           longest event-loop block while sessionkit's
//                                                             sweeper removes that many expired sessions
//   node --expose-gc bench/memory.mjs evict 100000 1000000    new sessions into a store capped at the first
//                                                             number, as many as the second (so more are
//                                                             evicted than the cap holds), and as many into
//                                                             a store without a cap, interleaved: µs per
//                                                             insert in each batch of 100,000, and the
//                                                             longest event-loop block; `evict none N` for
//                                                             a store without a cap alone
//   node --expose-gc bench/memory.mjs sessionkit 100000 --max    the same as `sessionkit`, in a store
//                                                             capped at that number (its eviction
//                                                             order's arrays counted in)
//   node --expose-gc bench/memory.mjs flood 100000 --rate=20000 --seconds=10 [--compare=DIR]
//                                                             a store capped at that number, 100 users
//                                                             idle and 100 active (a read a second)
//                                                             while new sessions come at that rate for
//                                                             that long: how many of each are kept, and
//                                                             µs per insert; with --compare, the same
//                                                             into the sessionkit package in DIR, side
//                                                             by side, turn by turn; with --returning,
//                                                             each new session is read back once (a
//                                                             flood that returns its cookies)
// Each prints its numbers and, when forked, sends them to the parent.
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'

const require = createRequire(import.meta.url)
const [what = 'sessionkit', countArg] = process.argv.slice(2)
const count = Number(countArg ?? (what === 'sweep' ? 1_000_000 : 100_000))
const extraArgs = process.argv.slice(4)
const sessionkit = require(process.env.BENCH_SESSIONKIT ?? 'sessionkit')
const expressSession = require('express-session')

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc')

// A session as /count leaves it: the cookie express-session and sessionkit both store, and one counter.
function record(expires) {
  return { cookie: { originalMaxAge: 86_400_000, expires, httpOnly: true, path: '/' }, n: 1 }
}

// Ids as both middlewares make them (24 random bytes, base64url), made inside the loop so that only
// the store keeps them alive.
function newId() {
  return randomBytes(24).toString('base64url')
}

function fill(store, n, expiresAt) {
  return new Promise((resolve) => {
    let pending = n
    const done = () => {
      if (--pending === 0) resolve()
    }
    for (let i = 0; i < n; i++) store.set(newId(), record(new Date(expiresAt)), done)
  })
}

function heapAfterGc() {
  for (let i = 0; i < 4; i++) globalThis.gc()
  return process.memoryUsage().heapUsed
}

let result
if (what === 'sessionkit' || what === 'express-session') {
  const capped = extraArgs.includes('--max')
  const store = what === 'sessionkit' ? new sessionkit.MemoryStore(capped ? { checkPeriod: 0, max: count } : { checkPeriod: 0 }) : new expressSession.MemoryStore()
  const before = heapAfterGc()
  const arraysBefore = process.memoryUsage().arrayBuffers
  await fill(store, count, Date.now() + 86_400_000)
  const after = heapAfterGc()
  // Typed arrays keep their elements outside the JavaScript heap: the store's expiries, versions and
  // eviction order are counted here, apart from the heap figure.
  const arrayBytes = process.memoryUsage().arrayBuffers - arraysBefore
  const length = await new Promise((resolve) => store.length((err, n) => resolve(n)))
  if (length !== count) throw new Error(`${what}: expected ${count} sessions in the store, found ${length}`)
  result = { store: what, max: capped ? count : null, sessions: count, heapBytes: after - before, bytesPerSession: (after - before) / count, arrayBytesPerSession: arrayBytes / count }

  // Then every session touched once, as a request that only reads it leaves it: the stored entry is
  // rewritten, and must not grow (a string joined from pieces would, until V8 flattens it).
  const ids = what === 'sessionkit' ? await new Promise((resolve) => store.ids((err, list) => resolve(list))) : Object.keys(store.sessions)
  const withIds = heapAfterGc()
  await new Promise((resolve) => {
    let pending = ids.length
    for (const sid of ids) store.touch(sid, record(new Date(Date.now() + 86_400_000)), () => --pending === 0 && resolve())
  })
  const touched = heapAfterGc()
  result.bytesPerSessionAfterTouch = result.bytesPerSession + (touched - withIds) / count
  console.log(`${what}${capped ? ` (max ${count})` : ''}: ${count} sessions, ${((after - before) / 2 ** 20).toFixed(1)} MiB, ${result.bytesPerSession.toFixed(0)} B per session, ${result.bytesPerSessionAfterTouch.toFixed(0)} B after a touch of each; typed arrays outside the heap ${result.arrayBytesPerSession.toFixed(1)} B per session`)
} else if (what === 'sweep') {
  const store = new sessionkit.MemoryStore({ checkPeriod: 0 })
  // Expired a second ago: the store keeps them until the sweeper (or a read of that id) removes them.
  await fill(store, count, Date.now() - 1000)
  heapAfterGc()
  // Then a pause, as an app's sweep timer never fires straight after four forced full collections:
  // right after them V8 is still finishing its own work on helper threads, and the first slices of a
  // sweep started at once were measured 10-20 ms longer.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  const started = performance.now()
  const sweeping = store.sweep()
  // The first slice runs inside sweep(), before the monitor's timer has fired once: the monitor
  // cannot see it, so it is timed here.
  const firstSliceMs = performance.now() - started
  const removed = await sweeping
  const totalMs = performance.now() - started
  // Let the monitor's timer fire once more, so the last slice's delay is recorded too.
  await new Promise((resolve) => setTimeout(resolve, 5))
  histogram.disable()
  if (removed !== count) throw new Error(`sweep removed ${removed} of ${count} expired sessions`)
  result = { expired: count, removed, totalMs, firstSliceMs, maxDelayMs: Math.max(histogram.max / 1e6, firstSliceMs), p99DelayMs: histogram.percentile(99) / 1e6, meanDelayMs: histogram.mean / 1e6 }

  // The machine's own share of that number: the same monitor over a loop that does nothing but burn
  // 1 ms slices between setImmediate yields, for as long as the sweep took. On a shared virtual
  // machine the host's scheduler takes the CPU away in whole ticks (multiples of 4 ms were seen
  // inside single Map.get calls), and that shows up here as it does in the sweep.
  result.machineMaxDelayMs = await idleLoopMaxDelay(Math.max(totalMs, 500))

  // For comparison: express-session's MemoryStore has no timer; its length()/all() drop expired
  // sessions in one synchronous pass. (Skipped with --no-express-session: the runner times it once.)
  if (!extraArgs.includes('--no-express-session')) {
    const theirs = new expressSession.MemoryStore()
    await fill(theirs, count, Date.now() - 1000)
    heapAfterGc()
    const t0 = performance.now()
    await new Promise((resolve) => theirs.length(() => resolve()))
    result.expressSessionPruneMs = performance.now() - t0
  }
  console.log(`sweep: ${count} expired sessions removed in ${totalMs.toFixed(0)} ms; longest event-loop delay ${result.maxDelayMs.toFixed(1)} ms (a loop doing nothing: ${result.machineMaxDelayMs.toFixed(1)} ms)${result.expressSessionPruneMs === undefined ? '' : `; express-session's synchronous prune ${result.expressSessionPruneMs.toFixed(0)} ms`}`)
} else if (what === 'evict') {
  result = await evictions(countArg === 'none' ? Infinity : count, Number(extraArgs[0] ?? 1_000_000))
  for (const run of result.capped ? [result.capped, result.uncapped] : [result]) {
    console.log(`evict, ${run.max === null ? 'no cap' : `max ${run.max}`}: ${run.inserted} inserted, ${run.evicted} evicted; µs per insert, first batch ${run.microsPerInsert[0].toFixed(1)}, last ${run.microsPerInsert.at(-1).toFixed(1)}, worst ${Math.max(...run.microsPerInsert).toFixed(1)}, median once full ${run.medianMicrosPerInsert?.toFixed(1)}; longest turn of 100 inserts ${run.longestTurnMs.toFixed(1)} ms, event-loop max ${run.maxDelayMs.toFixed(1)} ms`)
  }
} else if (what === 'flood') {
  const option = (name, fallback) => extraArgs.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
  const compare = option('compare', undefined)
  const impls = [{ label: 'this', module: sessionkit }]
  if (compare !== undefined) impls.push({ label: compare, module: require(compare) })
  result = await flood(impls, count, Number(option('rate', 20_000)), Number(option('seconds', 10)), extraArgs.includes('--returning'))
  for (const run of result) {
    console.log(`flood, ${run.label}: max ${run.max}, ${run.inserted} new sessions${run.returning ? ', each read back once' : ''}; idle users kept ${run.idleKept} of ${run.users}, active users kept ${run.activeKept} of ${run.users}; largest size ${run.largestSize}; µs per insert once full, median of ${run.turns} turns ${run.medianMicrosPerInsert?.toFixed(2) ?? '(never full)'}`)
  }
} else {
  throw new Error(`unknown measurement ${what}`)
}
process.send?.(result)

async function idleLoopMaxDelay(durationMs) {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  const until = performance.now() + durationMs
  await new Promise((resolve) => {
    const step = () => {
      const started = performance.now()
      while (performance.now() - started < 1);
      if (performance.now() < until) setImmediate(step)
      else resolve()
    }
    step()
  })
  await new Promise((resolve) => setTimeout(resolve, 5))
  histogram.disable()
  return histogram.max / 1e6
}

/**
 * New sessions, `total` of them, into a store with `max` and into one without a cap, side by side in
 * this process: 100 into one, 100 into the other, turn by turn (which goes first alternates), as
 * requests would bring them. So a busy machine, and the garbage collector working for both heaps,
 * slow both alike, and "eviction costs no more than an insert" is judged under the same conditions.
 * The time per insert is each store's set() calls' own time, batch by batch of 100,000; `max: none`
 * runs the store without a cap alone.
 */
async function evictions(max, total) {
  const BATCH = 100_000
  const TURN = 100
  const noop = () => {}
  const expires = new Date(Date.now() + 86_400_000)
  const runs = [{ max, store: new sessionkit.MemoryStore(max === Infinity ? { checkPeriod: 0 } : { checkPeriod: 0, max }), batches: [], longestTurnMs: 0 }]
  if (max !== Infinity) runs.push({ max: Infinity, store: new sessionkit.MemoryStore({ checkPeriod: 0 }), batches: [], longestTurnMs: 0 })
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  let turns = 0
  for (let done = 0; done < total; ) {
    const size = Math.min(BATCH, total - done)
    for (const run of runs) run.spent = 0
    for (let inBatch = 0; inBatch < size; ) {
      const turn = Math.min(TURN, size - inBatch)
      const order = turns++ % 2 === 0 ? runs : [...runs].reverse()
      for (const run of order) {
        const started = performance.now()
        for (let i = 0; i < turn; i++) run.store.set(newId(), record(expires), noop)
        const took = performance.now() - started
        run.spent += took
        if (took > run.longestTurnMs) run.longestTurnMs = took
      }
      inBatch += turn
      await new Promise(setImmediate)
    }
    done += size
    for (const run of runs) run.batches.push((run.spent * 1000) / size)
    process.stdout.write(`batch ${runs[0].batches.length} (${done} inserted): ${runs.map((run) => `${run.max === Infinity ? 'no cap' : `max ${run.max}`} ${run.batches.at(-1).toFixed(1)} µs`).join(', ')} per insert\n`)
  }
  await new Promise((resolve) => setTimeout(resolve, 5))
  histogram.disable()
  // The batches that started with the capped store full: each of their inserts evicted one. The store
  // without a cap is judged on the same batches.
  const full = max === Infinity ? 0 : Math.ceil(max / BATCH)
  const results = []
  for (const run of runs) {
    const length = await new Promise((resolve) => run.store.length((err, n) => resolve(n)))
    const expected = Math.min(run.max, total)
    if (length !== expected) throw new Error(`expected ${expected} sessions in the store, found ${length}`)
    const judged = run.batches.slice(full).sort((a, b) => a - b)
    results.push({
      max: run.max === Infinity ? null : run.max,
      inserted: total,
      evicted: total - length,
      batch: BATCH,
      microsPerInsert: run.batches,
      medianMicrosPerInsert: judged.length === 0 ? undefined : judged[judged.length >> 1],
      longestTurnMs: run.longestTurnMs,
      // One event loop for both stores: the longest block, whichever store (or collector) caused it.
      maxDelayMs: histogram.max / 1e6,
    })
  }
  return results.length === 1 ? results[0] : { capped: results[0], uncapped: results[1] }
}

/**
 * A flood of new sessions into stores capped at `max`, one per implementation, side by side in this
 * process as in evictions(). Before it, 100 users log in (a set, then the next request's read) and
 * stay idle, and 100 more do the same and then make a request (a read) every simulated second, a
 * second being `rate` new sessions: the store does not look at the clock, so the flood runs as fast
 * as the machine goes, with the same order of calls as at that rate. The time per insert is each
 * store's set() calls' own time, per turn of 100, judged on the turns that started with the store full.
 * `returning`: each new session is read back right after it is set, as a second request would.
 */
async function flood(impls, max, rate, seconds, returning) {
  const USERS = 100
  const TURN = 100
  const noop = () => {}
  const expires = new Date(Date.now() + 86_400_000)
  const total = rate * seconds
  const call = (store, method, ...args) => new Promise((resolve) => store[method](...args, (err, value) => resolve(value)))
  const runs = []
  for (const { label, module } of impls) {
    const store = new module.MemoryStore({ checkPeriod: 0, max })
    const idle = Array.from({ length: USERS }, () => newId())
    const active = Array.from({ length: USERS }, () => newId())
    for (const sid of [...idle, ...active]) {
      await call(store, 'set', sid, { ...record(expires), user: sid })
      await call(store, 'get', sid)
    }
    runs.push({ label, store, idle, active, turnMicros: [], largestSize: 0 })
  }
  let turns = 0
  for (let done = 0; done < total; ) {
    const turn = Math.min(TURN, total - done)
    const order = turns++ % 2 === 0 ? runs : [...runs].reverse()
    for (const run of order) {
      const started = performance.now()
      if (returning) {
        for (let i = 0; i < turn; i++) {
          const sid = newId()
          run.store.set(sid, record(expires), noop)
          run.store.get(sid, noop)
        }
      } else {
        for (let i = 0; i < turn; i++) run.store.set(newId(), record(expires), noop)
      }
      const took = performance.now() - started
      if (done + 2 * USERS >= max) run.turnMicros.push((took * 1000) / turn)
    }
    done += turn
    if (done % rate < turn) for (const run of runs) for (const sid of run.active) await call(run.store, 'get', sid)
    if (turns % 100 === 0) {
      for (const run of runs) run.largestSize = Math.max(run.largestSize, await call(run.store, 'length'))
      await new Promise(setImmediate)
    }
  }
  const results = []
  for (const run of runs) {
    const kept = async (ids) => (await Promise.all(ids.map((sid) => call(run.store, 'get', sid)))).filter((found) => found?.user !== undefined).length
    const sorted = run.turnMicros.sort((a, b) => a - b)
    results.push({
      label: run.label,
      max,
      rate,
      seconds,
      returning,
      inserted: total,
      users: USERS,
      idleKept: await kept(run.idle),
      activeKept: await kept(run.active),
      largestSize: Math.max(run.largestSize, await call(run.store, 'length')),
      turns: sorted.length,
      medianMicrosPerInsert: sorted[sorted.length >> 1],
    })
  }
  return results
}
