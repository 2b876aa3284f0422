// MemoryStore keeps a session's data and its cookie apart (the cookie's attributes shared between
// sessions, its expiry a number), so that a touch moves a number. What goes in must come out the same,
// whatever shape the cookie has, and no two sessions, nor two loads of one, may share an object.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MemoryStore } from 'sessionkit'

const ask = (store, method, ...args) => new Promise((resolve, reject) => store[method](...args, (err, value) => (err ? reject(err) : resolve(value))))
const later = Date.now() + 3_600_000

describe('MemoryStore entries', () => {
  const shapes = {
    'a cookie with a Date expiry': { n: 1, cookie: { originalMaxAge: 3_600_000, expires: new Date(later), httpOnly: true, path: '/' } },
    'a browser-session cookie (expires null)': { n: 2, cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' } },
    'a cookie without an expires key': { n: 3, cookie: { originalMaxAge: null } },
    'a cookie whose expiry is text': { n: 4, cookie: { originalMaxAge: 3_600_000, expires: new Date(later).toISOString(), path: '/x', sameSite: 'lax' } },
    'a cookie with an absolute expiry and a nested value': { n: 5, cookie: { originalMaxAge: 60_000, expires: new Date(later), absoluteExpires: new Date(later + 1000).toISOString(), extra: { a: [1] } } },
    'no cookie at all': { n: 6, nested: { deep: [1, { x: 'y' }] } },
    'a cookie that is not an object': { n: 7, cookie: 'not an object' },
    'a cookie whose expiry is no date': { n: 8, cookie: { originalMaxAge: null, expires: 'soon' } },
  }
  // What the store gives back: dates as Dates (from a Date, a number or text), everything else as JSON keeps it.
  const expected = (record) => {
    const copy = JSON.parse(JSON.stringify(record))
    if (copy.cookie && typeof copy.cookie === 'object' && copy.cookie.expires !== null && copy.cookie.expires !== undefined) copy.cookie.expires = new Date(copy.cookie.expires)
    return copy
  }

  // An expiry that is no date comes back as an invalid Date, as it always did; compared apart (NaN is not NaN).
  const sameRecord = (actual, wanted) => {
    const invalid = (r) => r?.cookie?.expires instanceof Date && Number.isNaN(r.cookie.expires.getTime())
    if (invalid(wanted)) {
      assert.ok(invalid(actual), 'an expiry that is no date comes back as an invalid Date')
      actual = { ...actual, cookie: { ...actual.cookie, expires: 'invalid' } }
      wanted = { ...wanted, cookie: { ...wanted.cookie, expires: 'invalid' } }
    }
    assert.deepEqual(actual, wanted)
  }

  for (const [name, record] of Object.entries(shapes)) {
    test(`${name}: set then get gives the same record, a fresh object each time`, async () => {
      const store = new MemoryStore({ checkPeriod: 0 })
      await ask(store, 'set', 'sid', record)
      const first = await ask(store, 'get', 'sid')
      sameRecord(first, expected(record))
      if (first.cookie && typeof first.cookie === 'object') {
        first.cookie.path = '/changed'
        if (first.cookie.extra) first.cookie.extra.a.push(2)
      }
      const second = await ask(store, 'get', 'sid')
      sameRecord(second, expected(record))
      assert.deepEqual(Object.keys(second), Object.keys(expected(record)))
      if (second.cookie && typeof second.cookie === 'object') assert.deepEqual(Object.keys(second.cookie), Object.keys(expected(record).cookie))
    })
  }

  test('two sessions with the same cookie attributes never share a cookie object', async () => {
    const store = new MemoryStore({ checkPeriod: 0 })
    const cookie = { originalMaxAge: 3_600_000, expires: new Date(later), httpOnly: true, path: '/' }
    await ask(store, 'set', 'a', { who: 'a', cookie })
    await ask(store, 'set', 'b', { who: 'b', cookie: { ...cookie, expires: new Date(later + 5000) } })
    const a = await ask(store, 'get', 'a')
    const b = await ask(store, 'get', 'b')
    assert.notEqual(a.cookie, b.cookie)
    a.cookie.httpOnly = false
    assert.equal((await ask(store, 'get', 'b')).cookie.httpOnly, true)
    assert.equal(b.cookie.expires.getTime(), later + 5000)
  })

  test('touch moves the expiry and takes the new attributes, keeping the data', async () => {
    const store = new MemoryStore({ checkPeriod: 0 })
    await ask(store, 'set', 'sid', { n: 1, cookie: { originalMaxAge: 3_600_000, expires: new Date(later), path: '/' } })
    await ask(store, 'touch', 'sid', { n: 999, cookie: { originalMaxAge: 3_600_000, expires: new Date(later + 60_000), path: '/app', secure: true } })
    const record = await ask(store, 'get', 'sid')
    assert.equal(record.n, 1, 'a touch does not write the data')
    assert.equal(record.cookie.expires.getTime(), later + 60_000)
    assert.equal(record.cookie.path, '/app')
    assert.equal(record.cookie.secure, true)
  })

  test('touch of a session kept as a whole record, or with a cookie that does not fit, keeps the data too', async () => {
    const store = new MemoryStore({ checkPeriod: 0 })
    await ask(store, 'set', 'whole', { n: 1, cookie: 'text' })
    await ask(store, 'touch', 'whole', { n: 2, cookie: { originalMaxAge: null, expires: new Date(later) } })
    assert.deepEqual(await ask(store, 'get', 'whole'), { n: 1, cookie: { originalMaxAge: null, expires: new Date(later) } })
    await ask(store, 'set', 'odd', { n: 3, cookie: { originalMaxAge: null, expires: new Date(later) } })
    await ask(store, 'touch', 'odd', { n: 4, cookie: { originalMaxAge: null, expires: 'never' } })
    sameRecord(await ask(store, 'get', 'odd'), { n: 3, cookie: { originalMaxAge: null, expires: new Date('never') } })
  })

  test('getVersioned with touch moves the expiry by originalMaxAge and keeps the version', async () => {
    const store = new MemoryStore({ checkPeriod: 0 })
    await ask(store, 'set', 'sid', { n: 1, cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 1000), path: '/' } })
    const before = await ask(store, 'getVersioned', 'sid', { touch: false })
    const started = Date.now()
    const touched = await ask(store, 'getVersioned', 'sid', { touch: true })
    assert.equal(touched.version, before.version)
    assert.ok(touched.record.cookie.expires.getTime() >= started + 60_000)
    const after = await ask(store, 'get', 'sid')
    assert.equal(after.cookie.expires.getTime(), touched.record.cookie.expires.getTime())
    assert.equal(after.n, 1)
  })
})
