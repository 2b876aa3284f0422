// Group commit: the saves of one session that queue behind a write in flight become one store write of
// the newest state (with merge, every request's own changes), and each request is answered when the
// write that carries its state is. Checked on a third-party-style store (get/set/destroy only), on a
// versioned one (conditional writes), both over a MemoryStore with a latency, and on sessionkit/redis
// (127.0.0.1:6379, keys under a prefix of this run's own). Every wait is bounded.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { setImmediate as turn } from 'node:timers/promises'
import express from 'express'
import { createClient } from 'redis'
import session, { MemoryStore } from 'sessionkit'
import { RedisStore } from 'sessionkit/redis'
import { listen, request } from './support/http.mjs'
import { requireService } from './support/services.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const idOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]
const hasSessionCookie = (response) => response.setCookies.some((c) => c.startsWith('connect.sid=s%3A'))

/** Polls `condition` every 2 ms for at most 5 s. */
async function until(condition, what) {
  const deadline = Date.now() + 5000
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(2)
  }
}

/**
 * Gives `store`'s write method (`set`, or `setIfVersion` on a versioned store) a counter, a hold (writes
 * called while held wait until release()) and failNextWrite() (the next write called answers an error).
 * Own properties of the instance with the original's arity: a versioned store stays versioned.
 */
function gateWrites(store, method) {
  const original = store[method]
  const gate = { method, writes: 0, held: undefined, fail: false }
  const wrapped = function (...args) {
    gate.writes++
    const callback = args.at(-1)
    const fail = gate.fail
    gate.fail = false
    const go = () => (fail ? setImmediate(callback, new Error('injected write failure')) : original.apply(store, args))
    if (gate.held !== undefined) gate.held.push(go)
    else return go()
  }
  Object.defineProperty(wrapped, 'length', { value: original.length })
  store[method] = wrapped
  Object.assign(gate, {
    hold: () => (gate.held = []),
    release: () => {
      const parked = gate.held ?? []
      gate.held = undefined
      for (const go of parked) go()
    },
    failNextWrite: () => (gate.fail = true),
  })
  return gate
}

/**
 * A store over a MemoryStore whose calls answer after `latencyMs`, copying what it is given at once as a
 * network store would; with `versioned`, also getVersioned/setIfVersion, as the first-party stores have.
 */
function slowStore({ latencyMs = 10, versioned = false } = {}) {
  const inner = new MemoryStore()
  const later = (fn) => setTimeout(fn, latencyMs)
  const copy = (record) => JSON.parse(JSON.stringify(record))
  const store = {
    get: (sid, callback) => later(() => inner.get(sid, callback)),
    set: (sid, record, callback) => {
      const data = copy(record)
      later(() => inner.set(sid, data, callback))
    },
    touch: (sid, record, callback) => later(() => inner.touch(sid, copy(record), callback)),
    destroy: (sid, callback) => later(() => inner.destroy(sid, callback)),
  }
  const loads = { touching: 0, reading: 0 }
  if (versioned) {
    store.getVersioned = (sid, options, callback) => {
      loads[options.touch ? 'touching' : 'reading']++
      later(() => inner.getVersioned(sid, options, callback))
    }
    store.setIfVersion = (sid, record, expected, callback) => {
      const data = copy(record)
      later(() => inner.setIfVersion(sid, data, expected, callback))
    }
  }
  const gate = gateWrites(store, versioned ? 'setIfVersion' : 'set')
  return { store, gate, loads, read: (sid) => new Promise((resolve, reject) => inner.get(sid, (err, s) => (err ? reject(err) : resolve(s ?? undefined)))) }
}

/** Requests that stop before their end until the test lets them go: at(key) in a handler, release(key) in the test; mark(name) / reached(name) say a handler got somewhere. */
function stages() {
  const waiting = new Map()
  const marks = new Set()
  return {
    mark: (name) => marks.add(name),
    reached: (name) => until(() => marks.has(name), name),
    at: (key) => new Promise((resolve) => waiting.set(String(key), resolve)),
    arrived: (count) => until(() => waiting.size >= count, `${count} requests to arrive`),
    release(key) {
      const resolve = waiting.get(String(key))
      waiting.delete(String(key))
      resolve()
    },
    releaseAll() {
      for (const key of [...waiting.keys()]) this.release(key)
    },
  }
}

function groupApp(store, { merge = false, storeTimeout = 5000 } = {}) {
  const stage = stages()
  const app = express()
  app.use(session({ secret: 'group commit', store, merge, resave: false, saveUninitialized: false, storeTimeout, cookie: { maxAge: 60_000 } }))
  app.get('/login', (req, res) => {
    req.session.user = 'ada'
    req.session.n = 0
    res.send('in')
  })
  // Each request changes its own key and `last`, then (with ?hold) waits until the test lets it end.
  app.get('/set/:i', async (req, res) => {
    req.session[`k${req.params.i}`] = Number(req.params.i)
    req.session.last = Number(req.params.i)
    if (req.query.hold !== undefined) await stage.at(req.params.i)
    res.send('ok')
  })
  app.get('/count', async (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1
    if (req.query.hold !== undefined) await stage.at(req.query.hold)
    res.send(String(req.session.n))
  })
  app.get('/read', (req, res) => res.send(String(req.session.n)))
  app.get('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.send('bye')))
    stage.mark('destroy asked') // destroy() queues its store call before it returns
  })
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => res.status(err.status ?? 500).send(err.code ?? 'error'))
  return { app, stage }
}

/** Starts the app on `store`, logs in, and hands the test what it needs; closes the server after. */
async function withLogin(store, options, body) {
  const { app, stage } = groupApp(store, options)
  const server = await listen(app)
  try {
    const login = await request(server.base, '/login')
    assert.equal(login.status, 200)
    await body({ base: server.base, cookie: login.cookie, sid: idOf(login.cookie), stage })
  } finally {
    stage.releaseAll()
    await server.close()
  }
}

/** 50 parallel requests on one session, each setting its own key, with merge: every key kept, in at most 3 writes. */
async function fiftyKeys({ store, gate, read }) {
  await withLogin(store, { merge: true }, async ({ base, cookie, sid, stage }) => {
    const responses = Array.from({ length: 50 }, (_, i) => request(base, `/set/${i}?hold`, { cookie }))
    await stage.arrived(50)
    stage.releaseAll()
    assert.deepEqual(new Set((await Promise.all(responses)).map((r) => r.status)), new Set([200]))
    const stored = await read(sid)
    const kept = Array.from({ length: 50 }, (_, i) => i).filter((i) => stored[`k${i}`] === i)
    assert.equal(kept.length, 50, 'every request keeps its own key')
    assert.equal(stored.user, 'ada', 'a key nobody changed is kept')
    assert.ok(gate.writes - 1 <= 3, `${gate.writes - 1} writes (${gate.method}) for 50 saves`)
  })
}

const KINDS = [
  { name: 'a store with get/set/destroy only', versioned: false },
  { name: 'a versioned store (conditional writes)', versioned: true },
]

for (const kind of KINDS) {
  describe(`group commit on ${kind.name}, 10 ms per call`, () => {
    test('50 saves queued behind one write in flight are one write: 2 store writes for 51 requests, all 200', async () => {
      const { store, gate, read } = slowStore({ versioned: kind.versioned })
      await withLogin(store, {}, async ({ base, cookie, sid, stage }) => {
        gate.hold()
        const first = request(base, '/count', { cookie })
        await until(() => gate.writes === 2, 'the first write to be held') // the login's, then this one
        const queued = Array.from({ length: 50 }, (_, i) => request(base, `/count?hold=${i}`, { cookie }))
        await stage.arrived(50)
        stage.releaseAll()
        await turn()
        gate.release()
        const responses = await Promise.all([first, ...queued])
        assert.deepEqual(new Set(responses.map((r) => r.status)), new Set([200]))
        for (const response of responses) assert.ok(hasSessionCookie(response), 'each answer carries the session cookie')
        assert.equal(gate.writes - 1, 2, `store writes after the login (${gate.method})`)
        // Every request read n = 0 or 1 before any save: without merge the last write wins, as with express-session.
        assert.equal((await read(sid)).n, 1)
      })
    })

    test('ordering: 30 requests ending one after another; the store ends with the newest state, each answered after its state is stored', async () => {
      const { store, gate, read } = slowStore({ versioned: kind.versioned })
      await withLogin(store, {}, async ({ base, cookie, sid, stage }) => {
        const answers = Array.from({ length: 30 }, (_, i) =>
          request(base, `/set/${i}?hold`, { cookie }).then(async (response) => ({ i, response, storedLast: (await read(sid))?.last })),
        )
        await stage.arrived(30)
        for (let i = 0; i < 30; i++) {
          stage.release(i)
          await sleep(3) // several groups form while a write is in flight
        }
        const results = await Promise.all(answers)
        for (const { i, response, storedLast } of results) {
          assert.equal(response.status, 200)
          assert.ok(storedLast >= i, `request ${i} was answered when the store held last = ${storedLast}`)
        }
        const stored = await read(sid)
        assert.equal(stored.last, 29, 'the newest state is the one stored')
        assert.ok(gate.writes - 1 < 30, `${gate.writes - 1} writes for 30 saves`)
      })
    })

    test('with merge, 50 parallel requests each setting its own key: 50 of 50 kept, in at most 3 writes', () => fiftyKeys(slowStore({ versioned: kind.versioned })))

    test('a failed grouped write fails each request it carries: 503, no Set-Cookie, the store keeps the last good state', async () => {
      const { store, gate, read } = slowStore({ versioned: kind.versioned })
      await withLogin(store, {}, async ({ base, cookie, sid, stage }) => {
        gate.hold()
        const first = request(base, '/count', { cookie })
        await until(() => gate.writes === 2, 'the first write to be held')
        const grouped = Array.from({ length: 10 }, (_, i) => request(base, `/set/${i}?hold`, { cookie }))
        await stage.arrived(10)
        stage.releaseAll()
        await turn()
        gate.failNextWrite()
        gate.release()
        const answered = await first
        assert.equal(answered.status, 200)
        assert.ok(hasSessionCookie(answered))
        for (const response of await Promise.all(grouped)) {
          assert.deepEqual([response.status, response.text], [503, 'SESSION_STORE_FAILED'])
          assert.ok(!hasSessionCookie(response), 'a request whose state was not stored gets no cookie')
        }
        assert.equal(gate.writes - 1, 2, 'the ten saves were one write')
        const stored = await read(sid)
        assert.equal(stored.n, 1)
        assert.equal(stored.last, undefined, 'none of the failed changes is stored')
      })
    })

    for (const merge of [false, true]) {
      test(`a destroy between queued saves (merge ${merge}): every save that loaded before it is refused, the session stays destroyed`, async () => {
        const { store, gate, read } = slowStore({ versioned: kind.versioned })
        await withLogin(store, { merge }, async ({ base, cookie, sid, stage }) => {
          // Every request loads now, before the logout.
          const loaded = Array.from({ length: 6 }, (_, i) => request(base, `/set/${i}?hold`, { cookie }))
          await stage.arrived(6)
          gate.hold()
          stage.release(0) // its write is held in flight
          await until(() => gate.writes === 2, 'the first write to be held')
          for (const i of [1, 2]) stage.release(i) // queued before the destroy
          await turn()
          const logout = request(base, '/logout', { cookie })
          await stage.reached('destroy asked')
          for (const i of [3, 4, 5]) stage.release(i) // queued after it
          await turn()
          gate.release()
          const [kept, ...refused] = await Promise.all(loaded)
          assert.equal(kept.status, 200, 'the write already in flight was stored before the destroy')
          for (const response of refused) {
            assert.deepEqual([response.status, response.text], [409, 'SESSION_GONE'])
            assert.ok(!hasSessionCookie(response))
          }
          assert.equal((await logout).status, 200)
          assert.equal(await read(sid), undefined, 'the session stays destroyed')
          assert.equal(gate.writes - 1, 1, 'no refused save reached the store')
        })
      })
    }
  })
}

test('a save that waited in the queue past its own storeTimeout fails alone; a younger save queued with it is written', async () => {
  const { store, gate, read } = slowStore()
  // Two middlewares on one store share its queue; the other one's write, with a long timeout, is held.
  const quick = groupApp(store, { storeTimeout: 500 })
  const patient = groupApp(store, { storeTimeout: 10_000 })
  const servers = [await listen(quick.app), await listen(patient.app)]
  try {
    const login = await request(servers[0].base, '/login')
    const cookie = login.cookie
    gate.hold()
    const held = request(servers[1].base, '/count', { cookie })
    await until(() => gate.writes === 2, 'the first write to be held')
    const old = request(servers[0].base, '/set/1?hold', { cookie })
    await quick.stage.arrived(1)
    quick.stage.release(1)
    await sleep(600) // past its 500 ms
    const young = request(servers[0].base, '/set/2?hold', { cookie })
    await quick.stage.arrived(1)
    quick.stage.release(2)
    await turn()
    gate.release()
    assert.equal((await held).status, 200)
    assert.deepEqual([(await old).status, (await old).text], [503, 'SESSION_STORE_TIMEOUT'])
    assert.equal((await young).status, 200, 'the younger save is not failed by the older one\'s timeout')
    assert.equal((await read(idOf(cookie))).last, 2)
    assert.equal(gate.writes - 1, 2)
  } finally {
    quick.stage.releaseAll()
    patient.stage.releaseAll()
    for (const server of servers) await server.close()
  }
})

test('a versioned store: 30 parallel loads of one session move its expiry once, the others only read', async () => {
  const { store, loads, read } = slowStore({ versioned: true, latencyMs: 100 })
  let touched = 0
  store.touch = (sid, record, callback) => (touched++, setImmediate(callback))
  await withLogin(store, {}, async ({ base, cookie, sid }) => {
    const before = new Date((await read(sid)).cookie.expires).getTime()
    await sleep(5)
    const responses = await Promise.all(Array.from({ length: 30 }, () => request(base, '/read', { cookie })))
    assert.deepEqual(new Set(responses.map((r) => `${r.status} ${r.text}`)), new Set(['200 0']))
    assert.ok(loads.touching >= 1 && loads.touching <= 10, `${loads.touching} of 30 loads moved the expiry`)
    assert.equal(loads.touching + loads.reading, 30)
    assert.equal(touched, 0, 'no touch after the responses either')
    assert.ok(new Date((await read(sid)).cookie.expires).getTime() > before, 'the expiry moved')
  })
})

const redis = await requireService('redis')

describe('group commit on sessionkit/redis', { skip: redis.skip }, () => {
  const prefix = `sk-group-${randomUUID()}:`
  let client
  before(async () => {
    client = createClient({ url: 'redis://127.0.0.1:6379' })
    await client.connect()
  })
  after(async () => {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      const list = Array.isArray(keys) ? keys : [keys]
      if (list.length > 0) await client.del(list)
    }
    await client.close()
  })
  const redisStore = () => {
    const store = new RedisStore({ client, prefix })
    return { store, gate: gateWrites(store, 'setIfVersion'), read: (sid) => store.get(sid).then((s) => s ?? undefined) }
  }

  test('with merge, 50 parallel requests each setting its own key: 50 of 50 kept, in at most 3 conditional writes', () => fiftyKeys(redisStore()))

  test('a failed grouped conditional write fails each of its requests; a destroy between queued saves wins', async () => {
    const { store, gate, read } = redisStore()
    await withLogin(store, {}, async ({ base, cookie, sid, stage }) => {
      const loaded = Array.from({ length: 8 }, (_, i) => request(base, `/set/${i}?hold`, { cookie }))
      await stage.arrived(8)
      gate.hold()
      stage.release(0)
      await until(() => gate.writes === 2, 'the first write to be held')
      for (const i of [1, 2, 3]) stage.release(i)
      await turn()
      gate.failNextWrite()
      gate.release()
      const answers = await Promise.all(loaded.slice(0, 4))
      assert.equal(answers[0].status, 200)
      for (const response of answers.slice(1)) assert.deepEqual([response.status, response.text, hasSessionCookie(response)], [503, 'SESSION_STORE_FAILED', false])
      assert.equal((await read(sid)).last, 0)
      // The rest loaded before this logout: refused after it, and nothing comes back.
      assert.equal((await request(base, '/logout', { cookie })).status, 200)
      for (const i of [4, 5, 6, 7]) stage.release(i)
      for (const response of await Promise.all(loaded.slice(4))) assert.deepEqual([response.status, response.text], [409, 'SESSION_GONE'])
      assert.equal(await read(sid), undefined)
    })
  })
})
