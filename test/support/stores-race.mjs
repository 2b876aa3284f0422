// The cross-process races of a store with the capabilities, run in two child processes
// (store-worker.mjs), each with its own client, against the store of the test process:
// - a logout racing an in-flight save: one process destroys each session while the other writes it
//   conditionally, from the version it read before; no session may come back;
// - 50 writers over both processes, each adding its own key to one session and retrying on 'changed':
//   every key must be kept.
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { Cookie } from 'sessionkit'

const WORKER = new URL('./store-worker.mjs', import.meta.url)

/** A child process with its own store; `ask(op, args)` answers what the worker's op returned. */
async function startWorker(kind, config) {
  const child = fork(WORKER, [kind, JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const waiting = new Map()
  let nextId = 0
  await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)))
    child.once('message', resolve)
  })
  child.on('message', ({ id, result, error }) => {
    const pending = waiting.get(id)
    waiting.delete(id)
    if (error) pending?.reject(new Error(error))
    else pending?.resolve(result)
  })
  return {
    ask: (op, args = {}) =>
      new Promise((resolve, reject) => {
        const id = nextId++
        waiting.set(id, { resolve, reject })
        child.send({ id, op, ...args })
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.send({ op: 'exit' })
        setTimeout(() => child.kill(), 5000).unref()
      }),
  }
}

const newId = () => `race-${randomBytes(9).toString('base64url')}`
const record = (data) => ({ ...data, cookie: new Cookie({ maxAge: 600_000 }) })

/** How many of `sids` the store holds. */
async function held(store, sids) {
  let count = 0
  for (let at = 0; at < sids.length; at += 100) {
    const found = await Promise.all(sids.slice(at, at + 100).map((sid) => store.get(sid)))
    count += found.filter((r) => r !== null).length
  }
  return count
}

/**
 * Registers the races for one store. `store()` gives the test process's own store (made once the
 * service answers); `kinds` (one per process: the first writes, the second destroys) and `config`
 * tell store-worker.mjs how to open the same store.
 */
export function crossProcessRaces(name, { kinds, config, store, skip = false, rounds = 1000, writers = 50 }) {
  describe(`${name}: across two processes`, { skip, concurrency: 1 }, () => {
    let first
    let second
    before(async () => {
      ;[first, second] = await Promise.all(kinds.map((kind) => startWorker(kind, config)))
    })
    after(async () => {
      await Promise.all([first?.stop(), second?.stop()])
    })

    const seed = async (count) => {
      const sids = Array.from({ length: count }, newId)
      for (let at = 0; at < sids.length; at += 100) await Promise.all(sids.slice(at, at + 100).map((sid, i) => store().set(sid, record({ n: at + i }))))
      return sids
    }

    test(`${rounds} logouts racing an in-flight conditional save: 0 sessions restored`, async (t) => {
      const sids = await seed(rounds)
      // Both read first, so that both are as warm when the race starts: a destroyer that had not run
      // yet once started so late that every save came before its destroy (CI, node-redis vs ioredis).
      await Promise.all([first.ask('read', { sids }), second.ask('read', { sids })])
      // Both walk the ids in the same order at about the same pace, so they meet id after id.
      const [outcomes] = await Promise.all([first.ask('write', { sids, concurrency: 8 }), second.ask('destroy', { sids, concurrency: 8 })])
      const restored = await held(store(), sids)
      t.diagnostic(`conditional saves: ${outcomes.written} written before the destroy, ${outcomes.gone} told gone, ${outcomes.changed} told changed; sessions restored: ${restored}`)
      assert.equal(outcomes.written + outcomes.gone, rounds, 'every save is either before the destroy or told gone')
      assert.equal(restored, 0, 'no destroyed session may be written back')
      assert.ok(outcomes.gone > 0, 'some saves must have come after their destroy, or the race was never run')
    })

    test(`control: the same race with get-then-set (what a store without the capability allows) restores sessions`, async (t) => {
      const sids = await seed(rounds)
      const [outcomes] = await Promise.all([first.ask('naiveWrite', { sids, concurrency: 8 }), second.ask('destroy', { sids, concurrency: 8 })])
      const restored = await held(store(), sids)
      t.diagnostic(`get-then-set saves: ${outcomes.written} written; sessions restored: ${restored} of ${rounds}`)
      // Measured, not asserted: whether a destroy falls between a get and its set is up to timing.
      await Promise.all(sids.map((sid) => store().destroy(sid)))
    })

    test(`${writers} concurrent writers over both processes, each adding its own key and retrying on 'changed': ${writers} of ${writers} kept`, async (t) => {
      const [sid] = await seed(1)
      const all = Array.from({ length: writers }, (_, i) => i)
      const half = Math.ceil(writers / 2)
      const maxAttempts = 4 * writers
      const [a, b] = await Promise.all([
        first.ask('merge', { sid, writers: all.slice(0, half), maxAttempts }),
        second.ask('merge', { sid, writers: all.slice(half), maxAttempts }),
      ])
      const attempts = [...a, ...b]
      const stored = await store().get(sid)
      const kept = all.filter((writer) => stored?.[`k${writer}`] === writer)
      t.diagnostic(`keys kept: ${kept.length} of ${writers}; attempts per writer: max ${Math.max(...attempts)}, total ${attempts.reduce((x, y) => x + y, 0)}`)
      assert.equal(kept.length, writers)
      await store().destroy(sid)
    })
  })
}
