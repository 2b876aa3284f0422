// Minimal stores that complete in each way a real store may: a callback later, a returned Promise
// only, both, or a callback called before the method returns. They share nothing with sessionkit's
// Store class, so the middleware must treat them as plain objects with get/set/destroy/touch.
import { EventEmitter } from 'node:events'

class Records extends EventEmitter {
  map = new Map()
  load(sid) {
    const json = this.map.get(sid)
    return json === undefined ? null : JSON.parse(json)
  }
  /** The stored record (a copy) or null; named as CountingStore's so tests can use either. */
  read(sid) {
    return this.load(sid)
  }
  keep(sid, sess) {
    this.map.set(sid, JSON.stringify(sess))
  }
  ids() {
    return [...this.map.keys()]
  }
}

/** Answers through the callback on a later turn, like a networked store. */
export function callbackStore() {
  const store = new Records()
  store.get = (sid, cb) => setImmediate(() => cb(null, store.load(sid)))
  store.set = (sid, sess, cb) => setImmediate(() => (store.keep(sid, sess), cb(null)))
  store.touch = (sid, sess, cb) => setImmediate(() => cb(null))
  store.destroy = (sid, cb) => setImmediate(() => (store.map.delete(sid), cb(null)))
  return store
}

/** Async methods that take no callback: only the returned Promise says when they are done. */
export function promiseStore() {
  const store = new Records()
  const later = () => new Promise((resolve) => setImmediate(resolve))
  store.get = async (sid) => (await later(), store.load(sid))
  store.set = async (sid, sess) => (await later(), store.keep(sid, sess))
  store.touch = async () => later()
  store.destroy = async (sid) => (await later(), store.map.delete(sid), undefined)
  return store
}

/** Calls the callback and also returns a Promise of the same outcome (connect-redis does both). */
export function bothStore() {
  const store = new Records()
  const both = (work) =>
    function (...args) {
      const cb = typeof args.at(-1) === 'function' ? args.pop() : undefined
      return new Promise((resolve) => setImmediate(resolve)).then(() => {
        const result = work(...args)
        cb?.(null, result)
        return result
      })
    }
  store.get = both((sid) => store.load(sid))
  store.set = both((sid, sess) => store.keep(sid, sess))
  store.touch = both(() => undefined)
  store.destroy = both((sid) => void store.map.delete(sid))
  return store
}

/** Calls back before returning. */
export function syncStore() {
  const store = new Records()
  store.get = (sid, cb) => cb(null, store.load(sid))
  store.set = (sid, sess, cb) => (store.keep(sid, sess), cb(null))
  store.touch = (sid, sess, cb) => cb(null)
  store.destroy = (sid, cb) => (store.map.delete(sid), cb(null))
  return store
}

export const storeKinds = [
  { name: 'callback store', create: callbackStore },
  { name: 'promise-only store', create: promiseStore },
  { name: 'callback-and-promise store', create: bothStore },
  { name: 'synchronous store', create: syncStore },
]
