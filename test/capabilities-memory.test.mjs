// The store capability contract on MemoryStore, and the kit's capability tests failing, each in the
// test that names the flaw, on stores that break one part of the contract: a conditional write that
// reads then writes, a touch that changes the version, a write after destroy, a load that does not
// move the expiry, an owner index whose entries expire with the first lifetime.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Cookie, isConditionalStore, isOwnerIndexedStore, MemoryStore } from 'sessionkit'
import { failedExactly, runKit } from './support/run-kit.mjs'

const record = (data, cookie = { maxAge: 60_000 }) => ({ ...data, cookie: new Cookie(cookie) })
const promised = (store, method, ...args) => new Promise((resolve, reject) => store[method](...args, (err, result) => (err ? reject(err) : resolve(result))))

test('MemoryStore is a conditional store; a store with only get/set/destroy is not', () => {
  const store = new MemoryStore({ checkPeriod: 0 })
  assert.equal(isConditionalStore(store), true)
  assert.equal(isOwnerIndexedStore(store), false)
  assert.equal(isConditionalStore({ get() {}, set() {}, destroy() {} }), false)
  assert.equal(isConditionalStore({ get() {}, set() {}, destroy() {}, getVersioned() {} }), false, 'both methods are needed')
  assert.equal(isOwnerIndexedStore({ indexBy: 'userId', idsOf() {} }), true)
  assert.equal(isOwnerIndexedStore({ indexBy: undefined, idsOf() {} }), false, 'an idsOf without indexBy is no index')
})

test('MemoryStore: a touch keeps the version whether the entry is patched in place or rewritten', async () => {
  const store = new MemoryStore({ checkPeriod: 0 })
  // A brace inside the cookie makes touch() rewrite the entry rather than patch its text.
  for (const cookie of [{ maxAge: 60_000 }, { maxAge: 60_000, domain: 'odd{domain}.test' }]) {
    const sid = `s-${cookie.domain ?? 'plain'}`
    await promised(store, 'set', sid, record({ n: 1 }, cookie))
    const { version } = await promised(store, 'getVersioned', sid, { touch: false })
    await promised(store, 'touch', sid, record({ n: 1 }, { ...cookie, maxAge: 120_000 }))
    const touched = await promised(store, 'getVersioned', sid, { touch: true })
    assert.equal(touched.version, version)
    assert.equal(touched.record.n, 1)
    assert.equal((await promised(store, 'setIfVersion', sid, record({ n: 2 }, cookie), version)).written, true)
    assert.equal((await promised(store, 'get', sid)).n, 2)
  }
})

test('MemoryStore: versions never repeat for an id, not even after a destroy and a new session under it', async () => {
  const store = new MemoryStore({ checkPeriod: 0 })
  await promised(store, 'set', 'same', record({ n: 1 }))
  const { version } = await promised(store, 'getVersioned', 'same', { touch: false })
  await promised(store, 'destroy', 'same')
  assert.equal((await promised(store, 'setIfVersion', 'same', record({ n: 2 }), null)).written, true)
  const stale = await promised(store, 'setIfVersion', 'same', record({ n: 3 }), version)
  assert.deepEqual([stale.written, stale.reason], [false, 'changed'], 'the version from before the destroy must not match the new session')
})

test('MemoryStore: a session evicted by max, or expired, is gone for a conditional write', async () => {
  const store = new MemoryStore({ checkPeriod: 0, max: 2 })
  // Written, never read back: the first session to evict.
  const { version } = await promised(store, 'setIfVersion', 'first', record({}), null)
  await promised(store, 'set', 'second', record({}))
  await promised(store, 'set', 'third', record({}))
  assert.equal((await promised(store, 'setIfVersion', 'first', record({}), version)).reason, 'gone')
  await promised(store, 'set', 'short', record({}, { maxAge: 20 }))
  const short = await promised(store, 'getVersioned', 'short', { touch: false })
  await new Promise((resolve) => setTimeout(resolve, 40))
  assert.equal((await promised(store, 'setIfVersion', 'short', record({}), short.version)).reason, 'gone')
  assert.equal(await promised(store, 'getVersioned', 'short', { touch: true }), null)
})

test('the kit registers the capability tests, and all pass on MemoryStore', async () => {
  const result = await runKit(new MemoryStore({ checkPeriod: 0 }))
  failedExactly(result)
  const names = result.names.join('\n')
  for (const part of ['getVersioned answers null', 'every write changes the version', 'stale version', 'after destroy', 'expected null', 'getVersioned with touch', 'owner index', 'kept alive by touches', 'race: 200 rounds', 'exactly one wins']) {
    assert.ok(names.includes(part), `no test about "${part}" in:\n${names}`)
  }
})

/** A MemoryStore with some of its methods replaced. */
function flawed(overrides) {
  const store = new MemoryStore({ checkPeriod: 0 })
  Object.assign(store, overrides)
  return store
}
const later = () => new Promise((resolve) => setTimeout(resolve, 1))

describe('the kit fails a store that breaks the capability contract', { concurrency: true }, () => {
  test('a conditional write that reads, then writes (not atomic)', async () => {
    const inner = new MemoryStore({ checkPeriod: 0 })
    const store = flawed({
      getVersioned: (...args) => inner.getVersioned(...args),
      get: (...args) => inner.get(...args),
      set: (...args) => inner.set(...args),
      destroy: (...args) => inner.destroy(...args),
      touch: (...args) => inner.touch(...args),
      setIfVersion(sid, session, expected, callback) {
        inner.getVersioned(sid, { touch: false }, async (err, found) => {
          if (err) return callback(err)
          if ((found?.version ?? null) !== expected) return callback(null, { written: false, reason: found ? 'changed' : 'gone' })
          await later() // the gap in which another request's destroy or write lands
          inner.set(sid, session, () => inner.getVersioned(sid, { touch: false }, (e, now) => callback(e, { written: true, version: now.version })))
        })
      },
    })
    failedExactly(await runKit(store, { skip: ['all', 'ids', 'length', 'clear'] }), 'against destroy', 'exactly one wins')
  })

  test('a touch that changes the version', async () => {
    const store = flawed({})
    const { getVersioned } = store
    store.getVersioned = function (sid, options, callback) {
      if (!options.touch) return getVersioned.call(this, sid, options, callback)
      getVersioned.call(this, sid, options, (err, found) => (err || !found ? callback(err, found) : callback(null, { ...found, version: `${found.version}-touched` })))
    }
    failedExactly(await runKit(store), 'a touch does not')
  })

  test('a conditional write that brings a destroyed session back', async () => {
    const store = flawed({})
    const { setIfVersion } = store
    store.setIfVersion = function (sid, session, expected, callback) {
      setIfVersion.call(this, sid, session, expected, (err, outcome) => {
        if (err || outcome.written || outcome.reason !== 'gone') return callback(err, outcome)
        this.set(sid, session, () => callback(null, { written: true, version: 'x' }))
      })
    }
    failedExactly(await runKit(store), 'after destroy', 'against destroy')
  })

  test('a load-and-touch that does not move the expiry', async () => {
    const store = flawed({})
    const { getVersioned } = store
    store.getVersioned = function (sid, options, callback) {
      return getVersioned.call(this, sid, { touch: false }, callback)
    }
    failedExactly(await runKit(store), 'getVersioned with touch', 'kept alive by touches')
  })

  test('an owner index whose entries expire with the first lifetime of the session', async () => {
    const store = new MemoryStore({ checkPeriod: 0 })
    const firstExpiry = new Map() // sid -> [owner, expiry at the first save]
    const { set, destroy } = store
    store.indexBy = 'userId'
    // The entry's expiry is set when the session first joins its owner, and never moved after.
    const note = (sid, session) => {
      const owner = session.userId === undefined ? undefined : String(session.userId)
      const known = firstExpiry.get(sid)
      if (owner === undefined) firstExpiry.delete(sid)
      else if (known?.[0] !== owner) firstExpiry.set(sid, [owner, new Date(session.cookie.expires ?? Date.now() + 86_400_000).getTime()])
    }
    store.set = function (sid, session, callback) {
      note(sid, session)
      return set.call(this, sid, session, callback)
    }
    store.setIfVersion = function (sid, session, expected, callback) {
      MemoryStore.prototype.setIfVersion.call(this, sid, session, expected, (err, outcome) => {
        if (!err && outcome.written) note(sid, session)
        callback(err, outcome)
      })
    }
    store.destroy = function (sid, callback) {
      firstExpiry.delete(sid)
      return destroy.call(this, sid, callback)
    }
    store.idsOf = function (owner, callback) {
      const now = Date.now()
      process.nextTick(callback, null, [...firstExpiry].filter(([, [o, until]]) => o === owner && until > now).map(([sid]) => sid))
    }
    failedExactly(await runKit(store, { skip: ['races'] }), 'kept alive by touches')
  })
})
