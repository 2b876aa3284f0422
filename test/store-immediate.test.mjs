// Any store can answer sessionkit's calls inside the call (an `immediate` object beside its methods),
// not only the built-in MemoryStore: its requests then never wait a tick and their responses are never
// held, and its writes get the data's JSON sessionkit already computed. A store can also say its
// sessions live in this process (`inProcess: true`): `indexBy` then gets an owner index in this
// process. And the conformance kit checks that a store's immediate calls really answer inside the call.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import express from 'express'
import session from 'sessionkit'
import { listen, request } from './support/http.mjs'
import { createRequire } from 'node:module'
import { failedExactly, runKit } from './support/run-kit.mjs'
import { snippet } from './support/snippets.mjs'

/**
 * A store of its own, not built on MemoryStore: its methods answer 20 ms later, as a networked store
 * would; its `immediate` calls answer before they return. `calls` records which were used, and the
 * data JSON each immediate write was handed.
 */
class TwoSpeedStore {
  sessions = new Map()
  calls = []
  #immediate

  get(sid, callback) {
    this.calls.push('get')
    setTimeout(() => this.#get(sid, callback), 20)
  }

  set(sid, record, callback) {
    this.calls.push('set')
    setTimeout(() => this.#set(sid, record, callback), 20)
  }

  destroy(sid, callback) {
    this.calls.push('destroy')
    setTimeout(() => this.#destroy(sid, callback), 20)
  }

  // On the class, beside the methods it answers for, as the contract asks.
  get immediate() {
    return (this.#immediate ??= {
      get: (sid, callback) => {
        this.calls.push('immediate.get')
        this.#get(sid, callback)
      },
      set: (sid, record, callback, dataJson) => {
        this.calls.push(`immediate.set ${dataJson}`)
        this.#set(sid, record, callback)
      },
      destroy: (sid, callback) => {
        this.calls.push('immediate.destroy')
        this.#destroy(sid, callback)
      },
    })
  }

  #get(sid, callback) {
    const json = this.sessions.get(sid)
    callback(null, json === undefined ? null : JSON.parse(json))
  }

  #set(sid, record, callback) {
    this.sessions.set(sid, JSON.stringify(record))
    callback?.(null)
  }

  #destroy(sid, callback) {
    this.sessions.delete(sid)
    callback?.(null)
  }
}

/** An app whose /save route records, right after its res.end(), whether Node has the response. */
async function appOn(store, options = {}) {
  const seen = {}
  const app = express()
  app.use(session({ secret: 'immediate', store, resave: false, saveUninitialized: false, storeTimeout: 200, ...options }))
  app.get('/save', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1
    res.end(String(req.session.n))
    // Node's own flag, set when the response is handed to it; a held response has not been yet.
    seen.finishedAtEnd = res.finished
  })
  return { server: await listen(app), seen }
}

describe('a store of its own that offers immediate calls', () => {
  test('is called through them: its saves complete inside res.end() and the response goes to Node at once', async () => {
    const store = new TwoSpeedStore()
    const { server, seen } = await appOn(store)
    try {
      const first = await request(server.base, '/save')
      assert.equal(first.status, 200)
      assert.equal(seen.finishedAtEnd, true, 'the response must not be held for a store that answers inside the call')
      const second = await request(server.base, '/save', { cookie: first.cookie })
      assert.equal(second.text, '2')
      assert.equal(seen.finishedAtEnd, true)
      assert.deepEqual(
        store.calls.map((call) => call.split(' ')[0]),
        ['immediate.set', 'immediate.get', 'immediate.set'],
      )
    } finally {
      await server.close()
    }
  })

  test("its writes are handed the session's data as JSON, the text the store would have made", async () => {
    const store = new TwoSpeedStore()
    const { server } = await appOn(store)
    try {
      const first = await request(server.base, '/save')
      await request(server.base, '/save', { cookie: first.cookie })
      const handed = store.calls.filter((call) => call.startsWith('immediate.set')).map((call) => call.slice('immediate.set '.length))
      assert.deepEqual(handed, ['{"n":1}', '{"n":2}'])
      const [stored] = [...store.sessions.values()].map((json) => JSON.parse(json))
      assert.equal(stored.n, 2)
    } finally {
      await server.close()
    }
  })

  test('a method replaced on the instance is called, not the immediate call beside the original', async () => {
    const store = new TwoSpeedStore()
    const replaced = []
    const set = store.set.bind(store)
    store.set = (sid, record, callback) => {
      replaced.push(sid)
      set(sid, record, callback)
    }
    const { server, seen } = await appOn(store)
    try {
      const res = await request(server.base, '/save')
      assert.equal(res.status, 200)
      assert.equal(replaced.length, 1, 'the replacement must be called')
      assert.equal(seen.finishedAtEnd, false, 'a write that answers later holds the response')
      assert.ok(!store.calls.some((call) => call.startsWith('immediate.set')))
    } finally {
      await server.close()
    }
  })

  test('an immediate call that does not answer inside the call still gets the store timeout', async () => {
    const store = new TwoSpeedStore()
    const silent = { get: () => {}, set: () => {}, destroy: () => {} }
    Object.defineProperty(store, 'immediate', { value: silent })
    const { server } = await appOn(store, { storeTimeout: 100 })
    try {
      const started = Date.now()
      const res = await request(server.base, '/save')
      assert.equal(res.status, 503)
      assert.ok(Date.now() - started < 2_000, 'the timeout must end the wait')
    } finally {
      await server.close()
    }
  })
})

describe('a store whose sessions live in this process (inProcess: true)', () => {
  test('with indexBy and no index, gets an owner index in this process: destroySessionsOf finds the sessions', async () => {
    // No all() and no ids(): without the in-process index there is no way to find an owner's sessions.
    const store = Object.assign(new TwoSpeedStore(), { inProcess: true })
    const middleware = session({ secret: 'in process', store, resave: false, saveUninitialized: false, indexBy: 'user' })
    const app = express()
    app.use(middleware)
    app.get('/login', (req, res) => {
      req.session.user = 'ann'
      res.end('in')
    })
    app.get('/whoami', (req, res) => res.end(req.session.user ?? 'nobody'))
    const server = await listen(app)
    try {
      const login = await request(server.base, '/login')
      assert.equal((await request(server.base, '/whoami', { cookie: login.cookie })).text, 'ann')
      assert.equal(await middleware.destroySessionsOf('ann'), 1)
      assert.equal((await request(server.base, '/whoami', { cookie: login.cookie })).text, 'nobody')
      assert.equal(store.sessions.size, 0)
    } finally {
      await server.close()
    }
  })
})

describe('the conformance kit', () => {
  test('passes a store whose immediate calls answer inside the call', async () => {
    failedExactly(await runKit(new TwoSpeedStore(), { skip: ['expiry', 'touch'] }))
  })

  test('fails a store whose immediate calls answer later, naming the call', async () => {
    const store = new TwoSpeedStore()
    const later = { get: (sid, callback) => store.get(sid, callback) }
    Object.defineProperty(store, 'immediate', { value: later })
    const result = await runKit(store, { skip: ['expiry', 'touch'] })
    failedExactly(result, 'immediate calls')
    assert.match(result.failures.get([...result.failures.keys()][0]).message, /immediate\.get must call its callback before it returns/)
  })
})

describe("the 'Writing a store' page's immediate store, run as written", () => {
  const MapStore = new Function('require', `${snippet('immediate-store')}\nreturn MapStore`)(createRequire(import.meta.url))

  test('answers inside the call and keeps its sessions', async () => {
    const store = new MapStore()
    const { server, seen } = await appOn(store)
    try {
      const first = await request(server.base, '/save')
      assert.equal(seen.finishedAtEnd, true)
      assert.equal((await request(server.base, '/save', { cookie: first.cookie })).text, '2')
      assert.equal(seen.finishedAtEnd, true)
    } finally {
      await server.close()
    }
  })

  test('passes the conformance kit (it keeps no expiry: that part is left out)', async () => {
    failedExactly(await runKit(new MapStore(), { skip: ['expiry'] }))
  })
})
