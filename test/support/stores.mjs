// Test stores for the Session API, store-compatibility and laziness tests. Each completes in a
// different way a real store does (callback, Promise only, both, synchronously) or is built the way a
// published store is (old-style util.inherits, class extends, on express-session's own Store). They
// keep records as JSON in `store.records` (a Map), so a test can look at what the store holds without
// going through the store's own methods.
import { createRequire } from 'node:module'
import util from 'node:util'
import { EventEmitter } from 'node:events'
import signature from 'cookie-signature'
import { Store } from 'sessionkit'

const require = createRequire(import.meta.url)
const ExpressSessionStore = require('express-session').Store

/** The record a store holds for `sid` (a fresh copy), or null. */
export function held(store, sid) {
  const json = store.records.get(sid)
  return json === undefined ? null : JSON.parse(json)
}

/** Puts a record into the store directly, as another process sharing the backend would. */
export function plant(store, sid, record) {
  store.records.set(sid, JSON.stringify(record))
}

/** A `Cookie` header value carrying `sid` signed with `secret`, as a browser would send it back. */
export function signedCookie(sid, secret, name = 'connect.sid') {
  return `${name}=${encodeURIComponent(`s:${signature.sign(sid, secret)}`)}`
}

/** The session id inside a `name=s%3A<id>.<signature>` cookie pair. */
export function sidOf(cookiePair) {
  const value = decodeURIComponent(cookiePair.slice(cookiePair.indexOf('=') + 1))
  if (!value.startsWith('s:')) throw new Error(`not a signed session cookie: ${cookiePair}`)
  return value.slice(2, value.lastIndexOf('.'))
}

const later = () => new Promise((resolve) => setImmediate(resolve))

function withRecords(store) {
  store.records = new Map()
  return store
}

// The operations every test store performs, whatever way it reports completion.
const ops = {
  get: (store, sid) => held(store, sid),
  set: (store, sid, sess) => void store.records.set(sid, JSON.stringify(sess)),
  touch: (store, sid, sess) => {
    const record = held(store, sid)
    if (record !== null) plant(store, sid, { ...record, cookie: sess.cookie })
  },
  destroy: (store, sid) => void store.records.delete(sid),
}

/** Answers through the callback on a later turn, like a networked store; no Promise. */
export function callbackStore() {
  const store = withRecords(new EventEmitter())
  store.get = (sid, cb) => setImmediate(() => cb(null, ops.get(store, sid)))
  store.set = (sid, sess, cb) => setImmediate(() => cb(null, ops.set(store, sid, sess)))
  store.touch = (sid, sess, cb) => setImmediate(() => cb(null, ops.touch(store, sid, sess)))
  store.destroy = (sid, cb) => setImmediate(() => cb(null, ops.destroy(store, sid)))
  return store
}

/** `async` methods with no callback parameter: only the returned Promise says when they are done. */
export function promiseStore() {
  const store = withRecords({})
  store.get = async (sid) => (await later(), ops.get(store, sid))
  store.set = async (sid, sess) => (await later(), ops.set(store, sid, sess))
  store.touch = async (sid, sess) => (await later(), ops.touch(store, sid, sess))
  store.destroy = async (sid) => (await later(), ops.destroy(store, sid))
  return store
}

/**
 * Calls the callback and also returns a Promise of the same outcome, as connect-redis does.
 * `store.answers` counts every answer it gives, so a test can see that it did answer twice.
 */
export function bothStore() {
  const store = withRecords(new EventEmitter())
  store.answers = 0
  for (const method of ['get', 'set', 'touch', 'destroy']) {
    store[method] = function (...args) {
      const cb = typeof args.at(-1) === 'function' ? args.pop() : undefined
      return later().then(() => {
        const result = ops[method](store, ...args)
        store.answers += cb ? 2 : 1
        cb?.(null, result)
        return result
      })
    }
  }
  return store
}

/** Calls back before returning, as a store over a synchronous API (or a cache hit) may. */
export function syncStore() {
  const store = withRecords(new EventEmitter())
  store.get = (sid, cb) => cb(null, ops.get(store, sid))
  store.set = (sid, sess, cb) => cb(null, ops.set(store, sid, sess))
  store.touch = (sid, sess, cb) => cb(null, ops.touch(store, sid, sess))
  store.destroy = (sid, cb) => cb(null, ops.destroy(store, sid))
  return store
}

/** Written as memorystore and session-file-store are: a constructor function and util.inherits. */
export function OldStyleStore(options) {
  Store.call(this, options)
  withRecords(this)
}
util.inherits(OldStyleStore, Store)
OldStyleStore.prototype.get = function (sid, cb) {
  setImmediate(() => cb(null, ops.get(this, sid)))
}
OldStyleStore.prototype.set = function (sid, sess, cb) {
  setImmediate(() => cb(null, ops.set(this, sid, sess)))
}
OldStyleStore.prototype.touch = function (sid, sess, cb) {
  setImmediate(() => cb(null, ops.touch(this, sid, sess)))
}
OldStyleStore.prototype.destroy = function (sid, cb) {
  setImmediate(() => cb(null, ops.destroy(this, sid)))
}

/** A modern store: an ES class extending sessionkit's Store. */
export class ClassStore extends Store {
  records = new Map()
  get(sid, cb) {
    setImmediate(() => cb(null, ops.get(this, sid)))
  }
  set(sid, sess, cb) {
    setImmediate(() => cb(null, ops.set(this, sid, sess)))
  }
  touch(sid, sess, cb) {
    setImmediate(() => cb(null, ops.touch(this, sid, sess)))
  }
  destroy(sid, cb) {
    setImmediate(() => cb(null, ops.destroy(this, sid)))
  }
}

/**
 * Built on express-session's own Store, as connect-redis is. It inherits express-session's helpers
 * (`regenerate`, `load`, `createSession`); sessionkit must not call them, so they are replaced by
 * recorders and `store.helperCalls` lists any call.
 */
export class ExpressSessionBasedStore extends ExpressSessionStore {
  records = new Map()
  helperCalls = []
  get(sid, cb) {
    setImmediate(() => cb(null, ops.get(this, sid)))
  }
  set(sid, sess, cb) {
    setImmediate(() => cb(null, ops.set(this, sid, sess)))
  }
  touch(sid, sess, cb) {
    setImmediate(() => cb(null, ops.touch(this, sid, sess)))
  }
  destroy(sid, cb) {
    setImmediate(() => cb(null, ops.destroy(this, sid)))
  }
}
for (const helper of ['regenerate', 'load', 'createSession']) {
  const inherited = ExpressSessionStore.prototype[helper]
  ExpressSessionBasedStore.prototype[helper] = function (...args) {
    this.helperCalls.push(helper)
    return inherited.apply(this, args)
  }
}

/** Every test store, by name, as a factory of a fresh instance. */
export const storeKinds = [
  { name: 'callback-only store', create: callbackStore },
  { name: 'promise-only store', create: promiseStore },
  { name: 'callback-and-promise store', create: bothStore },
  { name: 'synchronous-callback store', create: syncStore },
  { name: 'old-style util.inherits store', create: () => new OldStyleStore() },
  { name: 'class extends Store', create: () => new ClassStore() },
  { name: "store on express-session's Store", create: () => new ExpressSessionBasedStore() },
]

/**
 * Wraps `inner` so that every method call, its own or inherited, is recorded in `calls` as
 * `{ method, args }` before being passed on unchanged. Each wrapper keeps the wrapped method's arity
 * (sessionkit reads `fn.length` to tell callback methods from Promise-only ones) and calls it with the
 * inner store as `this`, so stores with private fields work. `reset()` forgets the calls so far.
 */
export function counting(inner) {
  const calls = []
  const wrappers = new Map()
  const proxy = new Proxy(inner, {
    get(target, key) {
      if (key === 'calls') return calls
      if (key === 'reset') return () => void calls.splice(0)
      if (key === 'inner') return target
      const value = Reflect.get(target, key, target)
      if (typeof value !== 'function') return value
      let wrapper = wrappers.get(value)
      if (wrapper === undefined) {
        wrapper = function (...args) {
          calls.push({ method: String(key), args })
          return value.apply(target, args)
        }
        Object.defineProperty(wrapper, 'length', { value: value.length })
        wrappers.set(value, wrapper)
      }
      return wrapper
    },
  })
  return proxy
}

/** The names of the recorded calls, in order. */
export const methodsCalled = (store) => store.calls.map((call) => call.method)
