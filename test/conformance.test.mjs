// The store conformance kit (`sessionkit/testing`): it passes on sessionkit's own MemoryStore and on
// correct stores written in each style (callbacks, util.inherits; async methods only), and it fails,
// in the test that names the flaw, on stores that break one part of the contract each.
import assert from 'node:assert/strict'
import { after, describe, it, test } from 'node:test'
import { createRequire } from 'node:module'
import { inherits } from 'node:util'
import { MemoryStore, Store } from 'sessionkit'
import { testStore } from 'sessionkit/testing'
import { failedExactly as failedOnly, runKit as runKitCollecting } from './support/run-kit.mjs'
import { snippet } from './support/snippets.mjs'

// --- correct stores ------------------------------------------------------------------------------

/** A store written with async methods only, as the docs' "Writing a store" page shows. */
class PromiseStore extends Store {
  #rows = new Map()
  async get(sid) {
    const row = this.#rows.get(sid)
    if (!row || row.expiresAt <= Date.now()) return null
    return JSON.parse(row.json)
  }
  async set(sid, session) {
    this.#rows.set(sid, { json: JSON.stringify(session), expiresAt: expiryOf(session) })
  }
  async destroy(sid) {
    this.#rows.delete(sid)
  }
  async touch(sid, session) {
    const row = this.#rows.get(sid)
    if (row) row.expiresAt = expiryOf(session)
  }
  async length() {
    return [...this.#rows.values()].filter((row) => row.expiresAt > Date.now()).length
  }
  async clear() {
    this.#rows.clear()
  }
}

/** The same store in the old style: a constructor, util.inherits, Node callbacks. */
function CallbackStore() {
  Store.call(this)
  this.rows = new Map()
}
inherits(CallbackStore, Store)
CallbackStore.prototype.get = function (sid, cb) {
  const row = this.rows.get(sid)
  setImmediate(cb, null, row && row.expiresAt > Date.now() ? JSON.parse(row.json) : null)
}
CallbackStore.prototype.set = function (sid, session, cb) {
  this.rows.set(sid, { json: JSON.stringify(session), expiresAt: expiryOf(session) })
  setImmediate(cb, null)
}
CallbackStore.prototype.destroy = function (sid, cb) {
  this.rows.delete(sid)
  setImmediate(cb, null)
}
CallbackStore.prototype.touch = function (sid, session, cb) {
  const row = this.rows.get(sid)
  if (row) row.expiresAt = expiryOf(session)
  setImmediate(cb, null)
}
CallbackStore.prototype.all = function (cb) {
  const all = {}
  for (const [sid, row] of this.rows) if (row.expiresAt > Date.now()) all[sid] = JSON.parse(row.json)
  setImmediate(cb, null, all)
}
CallbackStore.prototype.ids = function (cb) {
  setImmediate(cb, null, [...this.rows.keys()])
}

function expiryOf(session) {
  const expires = session.cookie.expires
  return expires ? new Date(expires).getTime() : Date.now() + 86_400_000
}

// Short lifetimes: these stores keep milliseconds, so the expiry test needs no rounding grace.
const fast = { ttl: 300, expiryGrace: 400 }

// --- the kit passes on correct stores, in node:test's default form and in describe/it form --------

testStore({ name: 'MemoryStore', store: () => new MemoryStore(), close: (store) => store.close(), ...fast })
// A bounded store keeps the contract while the kit's working set fits: its new sessions (up to four at
// once) in the fifth of max that new sessions always have, beside the sessions it read back; length is
// left out because eviction makes "grows by 2" untrue once the bound is reached.
testStore({ name: 'MemoryStore (max: 20, no sweeper)', store: () => new MemoryStore({ max: 20, checkPeriod: 0 }), ...fast, skip: ['length'] })
testStore({ name: 'CallbackStore (util.inherits, callbacks)', store: new CallbackStore(), ...fast })
// The form a vitest, jest or mocha suite uses: the runner's own describe/it/after passed in.
testStore({ name: 'PromiseStore (async methods)', store: () => new PromiseStore(), test: it, describe, after, ...fast })

// The "Writing a store" page's example and its kit call, run as written (CommonJS).
new Function('require', `${snippet('my-store')}\n${snippet('kit-node-test')}`)(createRequire(import.meta.url))

// --- the kit fails on stores that break the contract --------------------------------------------

/** Runs the kit on `store` with a runner that records each test's outcome instead of reporting it. */
const runKit = (store, options = {}) => runKitCollecting(store, { ...fast, ...options })

/** A correct store with one method replaced. */
function flawed(overrides) {
  const store = new PromiseStore()
  Object.assign(store, overrides)
  return store
}

test('the kit registers every part of the contract, and all pass on a correct store', async () => {
  const result = await runKit(new PromiseStore())
  failedOnly(result)
  const names = result.names.join('\n')
  for (const part of ['never stored', 'set stores', 'replaces', 'cookie survives', 'browser-session', 'copy', 'destroy', 'touch', 'exactly once', 'length counts', 'expire', 'clear']) {
    assert.ok(names.includes(part), `no test about "${part}" in:\n${names}`)
  }
})

test('the kit fails a store whose get hands out the stored object itself', async () => {
  const rows = new Map()
  const store = flawed({
    async get(sid) {
      return rows.get(sid) ?? null
    },
    async set(sid, session) {
      rows.set(sid, JSON.parse(JSON.stringify(session)))
    },
    async destroy(sid) {
      rows.delete(sid)
    },
  })
  failedOnly(await runKit(store, { skip: ['expiry', 'length', 'clear'] }), 'copy')
})

test('the kit fails a store that loses cookie.expires (copies the Cookie with a spread)', async () => {
  const rows = new Map()
  const store = flawed({
    async get(sid) {
      return rows.has(sid) ? structuredClone(rows.get(sid)) : null
    },
    async set(sid, session) {
      rows.set(sid, structuredClone({ ...session, cookie: { ...session.cookie } }))
    },
    async destroy(sid) {
      rows.delete(sid)
    },
  })
  failedOnly(await runKit(store, { skip: ['expiry', 'length', 'clear', 'touch'] }), 'cookie survives')
})

test('the kit fails a store that never expires sessions, and one whose touch does nothing', async () => {
  const rows = new Map()
  const forever = flawed({
    async get(sid) {
      return rows.has(sid) ? JSON.parse(rows.get(sid)) : null
    },
    async set(sid, session) {
      rows.set(sid, JSON.stringify(session))
    },
    async destroy(sid) {
      rows.delete(sid)
    },
  })
  failedOnly(await runKit(forever, { skip: ['length', 'clear'] }), 'expire')
  const lazyTouch = flawed({ async touch() {} })
  const result = await runKit(lazyTouch)
  failedOnly(result, 'expire')
  assert.match(result.failures.get([...result.failures.keys()][0]).message, /touch/)
})

test('the kit fails a store that answers an unknown id with an empty object', async () => {
  const store = flawed({
    async get() {
      return {}
    },
  })
  const result = await runKit(store, { skip: ['expiry', 'length', 'clear', 'touch'] })
  assert.ok(result.failures.has('get of an id that was never stored answers with no session'))
})

test('the kit fails a store that calls its callback twice, and one that names a callback but never calls it', async () => {
  const twice = new CallbackStore()
  twice.destroy = function (sid, cb) {
    this.rows.delete(sid)
    setImmediate(cb, null)
    setImmediate(cb, null)
  }
  failedOnly(await runKit(twice), 'exactly once')

  const silent = new CallbackStore()
  silent.destroy = function (sid, cb) {
    this.rows.delete(sid)
  }
  const result = await runKit(silent, { skip: ['expiry'] })
  assert.ok(result.failures.has('destroy removes the session, and destroying an absent id succeeds'))
  assert.match(result.failures.get('every method completes exactly once, through its callback or a returned Promise').message, /did not call it/)
})

test('the kit fails a store whose length ignores new sessions, and one whose clear leaves them', async () => {
  failedOnly(await runKit(flawed({ async length() { return 0 } }), { skip: ['clear'] }), 'length counts')
  failedOnly(await runKit(flawed({ async clear() {} }), { skip: ['length'] }), 'clear')
})

test('an ENOENT answer from get counts as "no session", as express-session reads it', async () => {
  const store = new CallbackStore()
  const get = store.get
  store.get = function (sid, cb) {
    if (!this.rows.has(sid)) return setImmediate(cb, Object.assign(new Error('no such file'), { code: 'ENOENT' }))
    return get.call(this, sid, cb)
  }
  failedOnly(await runKit(store))
})
