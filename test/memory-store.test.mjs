// The in-memory store: copies rather than shared objects, expiry, the unref'd sweeper, LRU bound,
// ttl for browser-session cookies, all/ids/length/clear/touch, and asynchronous callbacks. Most tests
// talk to the store directly; the aliasing test also goes through the middleware over HTTP.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, test } from 'node:test'
import express from 'express'
import fc from 'fast-check'
import session, { MemoryStore } from 'sessionkit'
import { listen, request } from './support/http.mjs'

const require = createRequire(import.meta.url)

/** Calls a callback-style store method and resolves with its result. */
function call(store, method, ...args) {
  return new Promise((resolve, reject) => store[method](...args, (err, result) => (err ? reject(err) : resolve(result))))
}

/** A session record as the middleware hands it to a store; `ms` null means a browser-session cookie. */
function record(data = {}, ms = 60_000) {
  return {
    ...data,
    cookie: { originalMaxAge: ms, expires: ms === null ? null : new Date(Date.now() + ms), path: '/', httpOnly: true },
  }
}

/** A store without its sweep timer, for tests that do not need it. */
const quiet = (options = {}) => new MemoryStore({ checkPeriod: 0, ...options })

describe('MemoryStore keeps copies', () => {
  test('changing the object given to set, or returned by get, does not change what the store holds', async () => {
    const store = quiet()
    const sess = record({ profile: { city: 'Oslo' }, list: [1] })
    await call(store, 'set', 'a', sess)
    sess.profile.city = 'Bergen'
    sess.list.push(2)
    sess.added = true

    const got = await call(store, 'get', 'a')
    assert.deepEqual(got.profile, { city: 'Oslo' })
    assert.deepEqual(got.list, [1])
    assert.equal(got.added, undefined)
    assert.ok(got.cookie.expires instanceof Date, 'expires comes back as a Date')
    assert.equal(got.cookie.expires.getTime(), sess.cookie.expires.getTime())

    got.profile.city = 'Tromsø'
    got.list.push(3)
    const again = await call(store, 'get', 'a')
    assert.deepEqual(again.profile, { city: 'Oslo' })
    assert.deepEqual(again.list, [1])
    assert.notEqual(again, got)

    const all = await call(store, 'all')
    all.a.list.push(4)
    assert.deepEqual((await call(store, 'get', 'a')).list, [1])
  })

  test('over HTTP: req.session and the store never share objects', async () => {
    const app = express()
    app.use(session({ secret: 'memory store secret', resave: false, saveUninitialized: false }))
    const stored = (req) => call(req.sessionStore, 'get', req.sessionID)
    app.get('/save-then-change', async (req, res) => {
      req.session.list = [1]
      await req.session.save()
      req.session.list.push(2) // saved only when the response ends
      const during = await stored(req)
      during.list.push('changed by the caller of get')
      res.json({ during: (await stored(req)).list })
    })
    app.get('/change-loaded', async (req, res) => {
      req.session.list.push(3)
      res.json({ during: (await stored(req)).list, session: req.session.list })
    })
    app.get('/read', async (req, res) => res.json({ session: req.session.list, stored: (await stored(req)).list }))
    const { server, base } = await listen(app)
    try {
      const first = await request(base, '/save-then-change')
      assert.deepEqual(JSON.parse(first.text), { during: [1] })
      const read = await request(base, '/read', { cookie: first.cookie })
      assert.deepEqual(JSON.parse(read.text), { session: [1, 2], stored: [1, 2] }, 'the end of the response saved the change')
      const loaded = await request(base, '/change-loaded', { cookie: first.cookie })
      assert.deepEqual(JSON.parse(loaded.text), { during: [1, 2], session: [1, 2, 3] }, 'a loaded session is a copy too')
    } finally {
      server.close()
    }
  })

  test('a session that cannot be serialized is refused with an error', async () => {
    const store = quiet()
    const sess = record()
    sess.self = sess
    await assert.rejects(call(store, 'set', 'loop', sess))
    assert.equal(await call(store, 'get', 'loop'), null)
  })
})

describe('MemoryStore expiry', () => {
  test('get of an expired session is null', async () => {
    const store = quiet()
    await call(store, 'set', 'past', record({ n: 1 }, -1_000))
    await call(store, 'set', 'soon', record({ n: 2 }, 150))
    await call(store, 'set', 'later', record({ n: 3 }))
    assert.equal(await call(store, 'get', 'past'), null)
    assert.equal((await call(store, 'get', 'soon')).n, 2)
    await sleep(200)
    assert.equal(await call(store, 'get', 'soon'), null)
    assert.equal((await call(store, 'get', 'later')).n, 3)
  })

  test('sweep() removes expired sessions and reports how many', async () => {
    const store = quiet()
    await call(store, 'set', 'a', record({}, 20))
    await call(store, 'set', 'b', record({}, 20))
    await call(store, 'set', 'live', record())
    await sleep(50)
    assert.equal(await store.sweep(), 2)
    assert.equal(await store.sweep(), 0, 'nothing left to remove')
    assert.deepEqual(await call(store, 'ids'), ['live'])
  })

  test('the timer sweeps every checkPeriod', async () => {
    const store = new MemoryStore({ checkPeriod: 10 })
    let sweeps = 0
    const sweep = store.sweep.bind(store)
    store.sweep = () => (sweeps++, sweep())
    try {
      await call(store, 'set', 'a', record({}, 20))
      await call(store, 'set', 'live', record())
      await sleep(100)
      assert.ok(sweeps >= 2, `swept ${sweeps} times`)
      assert.equal(await sweep(), 0, 'the expired session was already swept out by the timer')
      assert.deepEqual(await call(store, 'ids'), ['live'])
    } finally {
      store.close()
    }
  })

  test('the sweep timer does not keep the process alive', async () => {
    const entry = require.resolve('sessionkit')
    const scripts = [
      `const { MemoryStore } = require(${JSON.stringify(entry)}); new MemoryStore({ checkPeriod: 5 })`,
      // The default store that session() creates.
      `const session = require(${JSON.stringify(entry)}); session({ secret: 'x', resave: false, saveUninitialized: false })`,
    ]
    for (const script of scripts) {
      const outcome = await new Promise((resolve) => {
        execFile(process.execPath, ['-e', script], { timeout: 10_000 }, (err, stdout, stderr) =>
          resolve({ code: err?.code ?? 0, signal: err?.signal ?? null, killed: err?.killed ?? false, stderr }),
        )
      })
      assert.deepEqual(
        { code: outcome.code, signal: outcome.signal, killed: outcome.killed },
        { code: 0, signal: null, killed: false },
        `the child exited by itself: ${script}\n${outcome.stderr}`,
      )
    }
  })

  test('ttl applies to sessions whose cookie has no expiry', async () => {
    const store = quiet({ ttl: 150 })
    await call(store, 'set', 'browser', record({ n: 1 }, null))
    await call(store, 'set', 'dated', record({ n: 2 }, 60_000))
    assert.equal((await call(store, 'get', 'browser')).n, 1)
    assert.equal((await call(store, 'get', 'browser')).cookie.expires, null)
    await sleep(200)
    assert.equal(await call(store, 'get', 'browser'), null, 'gone after ttl')
    assert.equal((await call(store, 'get', 'dated')).n, 2, 'a dated session keeps its own expiry')
  })

  test('touch moves the expiry without changing the data', async () => {
    const store = quiet()
    await call(store, 'set', 'a', record({ n: 1 }, 150))
    const moved = record({ n: 999 }, 60_000)
    await call(store, 'touch', 'a', moved)
    await sleep(200)
    const got = await call(store, 'get', 'a')
    assert.ok(got, 'still there after its old expiry')
    assert.equal(got.n, 1, 'touch does not write the data')
    assert.equal(got.cookie.expires.getTime(), moved.cookie.expires.getTime())

    await call(store, 'touch', 'missing', record())
    assert.equal(await call(store, 'get', 'missing'), null, 'touch does not create a session')
  })
})

describe('MemoryStore touch keeps the data as stored', () => {
  // touch() splices the new cookie into the stored JSON instead of parsing the data; whatever the data
  // holds (keys named "cookie" at any depth, braces and quotes in strings, in the cookie's own strings
  // too), a touch must change the cookie and the expiry and nothing else.
  const tricky = fc.oneof(
    fc.constantFrom('cookie', '"cookie":', ',"cookie":{', '}]', '{', '}', '\\', '"', 'n'),
    fc.string({ maxLength: 6 }),
  )
  const data = fc.dictionary(
    fc.oneof(tricky, fc.constant('nested')),
    fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.integer(), tricky, fc.boolean(), fc.constant(null), tie('object'), fc.array(tie('value'), { maxLength: 3 })),
      object: fc.oneof(fc.dictionary(tricky, tie('value'), { maxKeys: 3 }), fc.record({ first: fc.integer(), cookie: fc.dictionary(tricky, fc.integer(), { maxKeys: 2 }) })),
    })).value,
    { maxKeys: 4 },
  )
  const cookie = fc.record(
    { path: fc.oneof(fc.constant('/'), tricky), domain: tricky, httpOnly: fc.boolean(), sameSite: fc.constantFrom('lax', 'strict') },
    { requiredKeys: ['path'] },
  )

  test('after set and touch, get gives the data as set and the cookie as touched', async () => {
    const store = quiet()
    await fc.assert(
      // Some records are set without a cookie (a store is not only used by the middleware).
      fc.asyncProperty(data, fc.option(cookie), cookie, async (stored, before, after) => {
        const first = before === null ? { ...stored } : { ...stored, cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000), ...before } }
        await call(store, 'set', 'sid', first)
        const expires = new Date(Date.now() + 120_000)
        const next = { ...stored, ignored: 'touch does not write data', cookie: { originalMaxAge: 120_000, expires, ...after } }
        await call(store, 'touch', 'sid', next)
        const got = await call(store, 'get', 'sid')
        const { cookie: gotCookie, ...gotData } = got
        const { cookie: _unused, ...expectedData } = JSON.parse(JSON.stringify(first))
        assert.deepEqual(gotData, expectedData)
        assert.deepEqual(JSON.parse(JSON.stringify(gotCookie)), JSON.parse(JSON.stringify(next.cookie)))
        assert.equal(gotCookie.expires.getTime(), expires.getTime())
      }),
      { numRuns: 2000 },
    )
  })
})

describe('MemoryStore bound (max)', () => {
  test('evicts the least recently used session; get and set count as use', async () => {
    const store = quiet({ max: 2 })
    await call(store, 'set', 'a', record({ n: 'a' }))
    await call(store, 'set', 'b', record({ n: 'b' }))
    await call(store, 'get', 'a') // now b is the least recently used
    await call(store, 'set', 'c', record({ n: 'c' }))
    assert.equal(await call(store, 'get', 'b'), null, 'b was evicted')
    assert.equal((await call(store, 'get', 'a')).n, 'a')
    assert.equal(await call(store, 'length'), 2)

    const writes = quiet({ max: 2 })
    await call(writes, 'set', 'a', record({ n: 'a' }))
    await call(writes, 'set', 'b', record({ n: 'b' }))
    await call(writes, 'set', 'a', record({ n: 'a2' })) // b is now the oldest
    await call(writes, 'set', 'c', record({ n: 'c' }))
    assert.deepEqual((await call(writes, 'ids')).sort(), ['a', 'c'])
    assert.equal((await call(writes, 'get', 'a')).n, 'a2')
  })

  test('however many sessions are created, the store never holds more than max', async () => {
    const store = quiet({ max: 3 })
    for (let i = 0; i < 10; i++) await call(store, 'set', `s${i}`, record({ i }))
    assert.equal(await call(store, 'length'), 3)
    assert.deepEqual((await call(store, 'ids')).sort(), ['s7', 's8', 's9'])
  })
})

describe('MemoryStore bound (max): eviction order under many evictions', () => {
  // The order is kept in lists of slots that are freed and reused; checked against a plain model of
  // segmented LRU over random sequences of every operation, with far more sessions created than max:
  // new sessions on probation, a get moves one to protected (at most 80% of max, its least recently
  // used going back to probation), set and touch make a session the most recent of its own segment,
  // eviction takes probation's least recently used (protected's when probation is empty).
  const ops = fc.array(
    fc.oneof(
      fc.record({ op: fc.constant('set'), id: fc.nat(11), n: fc.nat() }),
      fc.record({ op: fc.constant('get'), id: fc.nat(11) }),
      fc.record({ op: fc.constant('touch'), id: fc.nat(11) }),
      fc.record({ op: fc.constant('destroy'), id: fc.nat(11) }),
    ),
    { maxLength: 60 },
  )

  test('holds exactly what a model segmented LRU holds, with the data last set', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), ops, async (max, steps) => {
        const store = quiet({ max })
        // id -> n, oldest first, per segment
        const probation = new Map()
        const protectedOnes = new Map()
        const segmentOf = (id) => (probation.has(id) ? probation : protectedOnes.has(id) ? protectedOnes : undefined)
        const oldestOut = (segment) => {
          const [id, n] = segment.entries().next().value
          segment.delete(id)
          return [id, n]
        }
        const moveTo = (segment, id, n) => {
          segmentOf(id)?.delete(id)
          segment.set(id, n)
        }
        for (const step of steps) {
          const sid = `s${step.id}`
          const segment = segmentOf(sid)
          if (step.op === 'set') {
            await call(store, 'set', sid, record({ n: step.n }))
            moveTo(segment ?? probation, sid, step.n)
            if (probation.size + protectedOnes.size > max) oldestOut(probation.size > 0 ? probation : protectedOnes)
          } else if (step.op === 'get') {
            const got = await call(store, 'get', sid)
            assert.equal(got?.n ?? null, segment ? segment.get(sid) : null)
            if (segment) {
              moveTo(protectedOnes, sid, segment.get(sid))
              if (protectedOnes.size > Math.floor(max * 0.8)) probation.set(...oldestOut(protectedOnes))
            }
          } else if (step.op === 'touch') {
            await call(store, 'touch', sid, record({ n: 'ignored' }))
            if (segment) moveTo(segment, sid, segment.get(sid))
          } else {
            await call(store, 'destroy', sid)
            segment?.delete(sid)
          }
        }
        const model = new Map([...probation, ...protectedOnes])
        assert.deepEqual((await call(store, 'ids')).sort(), [...model.keys()].sort())
        assert.equal(await call(store, 'length'), model.size)
        const all = await call(store, 'all')
        for (const [sid, n] of model) assert.equal(all[sid].n, n)
      }),
      { numRuns: 500 },
    )
  })

  test('creating ten times max sessions keeps the last max, and touch counts as use', async () => {
    const store = quiet({ max: 100 })
    for (let i = 0; i < 1000; i++) {
      await call(store, 'set', `s${i}`, record({ i }))
      if (i >= 1 && i % 10 === 0) await call(store, 'touch', 's0', record()) // kept in use throughout
    }
    const ids = await call(store, 'ids')
    assert.equal(ids.length, 100)
    assert.ok(ids.includes('s0'), 's0 was touched every ten sessions, never the least recently used')
    for (let i = 901; i < 1000; i++) assert.equal((await call(store, 'get', `s${i}`)).i, i)
    assert.equal(await call(store, 'get', 's900'), null, 's0 took the place of the oldest')
  })

  test('after a sweep frees slots, new sessions evict in the same order', async () => {
    const store = quiet({ max: 3 })
    await call(store, 'set', 'old1', record({}, 20))
    await call(store, 'set', 'keep1', record({ n: 1 }))
    await call(store, 'set', 'old2', record({}, 20))
    await sleep(50)
    assert.equal(await store.sweep(), 2)
    await call(store, 'set', 'keep2', record({ n: 2 }))
    await call(store, 'set', 'keep3', record({ n: 3 }))
    await call(store, 'set', 'keep4', record({ n: 4 })) // evicts keep1, the oldest left
    assert.deepEqual((await call(store, 'ids')).sort(), ['keep2', 'keep3', 'keep4'])
  })
})

describe('MemoryStore sweep over many sessions', () => {
  test('removes every expired session across many slices, keeps the rest, and keeps sessions set meanwhile', async () => {
    const store = quiet()
    for (let i = 0; i < 50_000; i++) await call(store, 'set', `s${i}`, record({ i }, i % 3 === 0 ? 20 : 60_000))
    await sleep(50)
    await call(store, 'set', 's3', record({ i: 'again' })) // expired, then set anew: no longer expired
    const sweeping = store.sweep()
    await call(store, 'set', 'during', record({ n: 'during' }))
    const removed = await sweeping
    assert.equal(removed, 16_667 - 1)
    assert.equal(await store.sweep(), 0)
    assert.equal(await call(store, 'length'), 50_000 - 16_667 + 1 + 1)
    assert.equal((await call(store, 'get', 's3')).i, 'again')
    assert.equal((await call(store, 'get', 'during')).n, 'during')
    assert.equal(await call(store, 'get', 's0'), null)
    assert.equal((await call(store, 'get', 's1')).i, 1)
  })

  test('clear() during a sweep leaves an empty store that works', async () => {
    const store = quiet({ max: 10_000 })
    for (let i = 0; i < 5000; i++) await call(store, 'set', `s${i}`, record({ i }, 20))
    await sleep(50)
    const sweeping = store.sweep()
    await call(store, 'clear')
    await sweeping
    assert.equal(await call(store, 'length'), 0)
    await call(store, 'set', 'a', record({ n: 1 }))
    assert.equal((await call(store, 'get', 'a')).n, 1)
    assert.deepEqual(await call(store, 'ids'), ['a'])
  })
})

describe('MemoryStore all, ids, length, clear', () => {
  test('all gives an object keyed by id, without expired sessions', async () => {
    const store = quiet()
    await call(store, 'set', 'a', record({ n: 1 }))
    await call(store, 'set', 'b', record({ n: 2 }))
    await call(store, 'set', 'old', record({ n: 3 }, -1))
    const all = await call(store, 'all')
    assert.ok(!Array.isArray(all))
    assert.deepEqual(Object.keys(all).sort(), ['a', 'b'])
    assert.equal(all.a.n, 1)
    assert.equal(all.b.n, 2)
    assert.ok(all.a.cookie.expires instanceof Date)
  })

  test('ids, length and clear', async () => {
    const store = quiet()
    assert.deepEqual(await call(store, 'ids'), [])
    assert.equal(await call(store, 'length'), 0)
    await call(store, 'set', 'a', record())
    await call(store, 'set', 'b', record())
    await call(store, 'set', 'old', record({}, -1))
    assert.deepEqual((await call(store, 'ids')).sort(), ['a', 'b'])
    assert.equal(await call(store, 'length'), 2)
    await call(store, 'destroy', 'a')
    assert.deepEqual(await call(store, 'ids'), ['b'])
    assert.equal(await call(store, 'length'), 1)
    await call(store, 'clear')
    assert.deepEqual(await call(store, 'ids'), [])
    assert.equal(await call(store, 'length'), 0)
    assert.equal(await call(store, 'get', 'b'), null)
  })
})

test('every callback arrives after the method has returned', async () => {
  const store = quiet()
  await call(store, 'set', 'a', record())
  const invocations = [
    ['get', 'a'],
    ['get', 'missing'],
    ['set', 'b', record()],
    ['touch', 'a', record()],
    ['destroy', 'b'],
    ['all'],
    ['ids'],
    ['length'],
    ['clear'],
  ]
  for (const [method, ...args] of invocations) {
    let returned = false
    let early
    await new Promise((resolve) => {
      store[method](...args, () => {
        early = !returned
        resolve()
      })
      returned = true
    })
    assert.equal(early, false, `${method}'s callback ran before ${method} returned`)
  }
})
