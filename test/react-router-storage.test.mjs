// sessionkit/react-router: React Router's SessionStorage API (getSession, commitSession,
// destroySession, and the Session's get/set/has/unset/flash/data) on sessionkit's engine, with
// what a user can observe: the Set-Cookie values, what the store holds, and the errors.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { MemoryStore, SessionError } from 'sessionkit'
import { cookieSessionStorage, storeSessionStorage } from 'sessionkit/react-router'

const options = { secret: 'react-router-test-secret', resave: false, saveUninitialized: false }
const stored = (store, id) => new Promise((resolve, reject) => store.get(id, (err, s) => (err ? reject(err) : resolve(s ?? null))))
const pair = (setCookie) => setCookie.split(';')[0]
const request = (cookie, url = 'http://localhost/') => new Request(url, { headers: cookie === undefined ? {} : { cookie } })

/** A MemoryStore whose writes fail: a store that went away. */
class FailingStore extends MemoryStore {
  set(_id, _session, callback) {
    callback(new Error('store is down'))
  }
}

test('get, set, has, unset and data as React Router has them; the store holds what was committed', async () => {
  const store = new MemoryStore()
  const { getSession, commitSession } = storeSessionStorage({ ...options, store })
  const session = await getSession(request())
  assert.equal(session.has('user'), false)
  session.set('user', 'alice')
  session.set('theme', 'dark')
  session.unset('theme')
  assert.equal(session.get('user'), 'alice')
  assert.equal(session.has('user'), true)
  assert.deepEqual(session.data, { user: 'alice' }, 'data shows the values only, not the cookie')
  const setCookie = await commitSession(session)
  assert.match(setCookie, /^connect\.sid=s%3A[^;]+; Path=\/; HttpOnly$/)
  assert.equal((await stored(store, session.id)).user, 'alice')

  const again = await getSession(pair(setCookie))
  assert.equal(again.id, session.id)
  assert.equal(again.get('user'), 'alice')
  assert.equal(await commitSession(again), '', 'an unchanged session needs no cookie')
})

test('a flash is read once: the next request after the read no longer has it', async () => {
  const store = new MemoryStore()
  const { getSession, commitSession } = storeSessionStorage({ ...options, store })
  const first = await getSession(request())
  first.flash('notice', 'Saved')
  assert.deepEqual(first.data, { __flash_notice__: 'Saved' })
  const cookie = pair(await commitSession(first))

  const second = await getSession(request(cookie))
  assert.equal(second.has('notice'), true)
  assert.equal(second.get('notice'), 'Saved')
  assert.equal(second.has('notice'), false)
  await commitSession(second)
  assert.equal(Object.hasOwn(await stored(store, second.id), '__flash_notice__'), false)
  assert.equal((await getSession(request(cookie))).get('notice'), undefined)
})

test('a store that fails makes commitSession reject: the write is never reported as done', async () => {
  const { getSession, commitSession } = storeSessionStorage({ ...options, store: new FailingStore() })
  const session = await getSession(request())
  session.set('user', 'alice')
  await assert.rejects(commitSession(session), (err) => err instanceof SessionError && err.code === 'SESSION_STORE_FAILED' && err.status >= 500)
})

test('a change after the commit throws rather than being lost; reserved keys are refused', async () => {
  const { getSession, commitSession } = storeSessionStorage({ ...options })
  const session = await getSession(request())
  assert.throws(() => session.set('cookie', 'x'), TypeError)
  assert.throws(() => session.set('save', 'x'), TypeError)
  session.set('user', 'alice')
  await commitSession(session)
  assert.throws(() => session.set('user', 'bob'), (err) => err instanceof SessionError && err.code === 'SESSION_COMMITTED')
  assert.throws(() => session.unset('user'), (err) => err.code === 'SESSION_COMMITTED')
  assert.equal(session.get('user'), 'alice')
  const other = storeSessionStorage({ ...options })
  await assert.rejects(other.commitSession(session), TypeError, 'a session of another storage')
})

test('the Cookie header alone, as React Router passes it: a Secure cookie is still sent', async () => {
  const { getSession, commitSession } = storeSessionStorage({ ...options, cookie: { secure: true, path: '/app' } })
  const session = await getSession(null)
  session.set('n', 1)
  const setCookie = await commitSession(session)
  assert.match(setCookie, /; Path=\/app; HttpOnly; Secure$/)
  const again = await getSession(pair(setCookie))
  assert.equal(again.get('n'), 1)
  // A plain-HTTP Request: the Secure cookie is withheld, as express-session does.
  const plain = await getSession(request(undefined, 'http://localhost/app/'))
  plain.set('n', 2)
  assert.equal(await commitSession(plain), '')
})

test("commitSession's maxAge is in seconds, as React Router's; other attributes are refused", async () => {
  const { getSession, commitSession } = storeSessionStorage({ ...options })
  const session = await getSession(request())
  session.set('remember', true)
  await assert.rejects(commitSession(session, { path: '/x' }), TypeError)
  const fresh = await getSession(request())
  fresh.set('remember', true)
  const setCookie = await commitSession(fresh, { maxAge: 3600 })
  const expires = Date.parse(/Expires=([^;]+)/.exec(setCookie)[1])
  assert.ok(Math.abs(expires - (Date.now() + 3600_000)) < 5000, setCookie)
})

test('destroySession removes the session from the store and clears the cookie', async () => {
  const store = new MemoryStore()
  const { getSession, commitSession, destroySession } = storeSessionStorage({ ...options, store })
  const session = await getSession(request())
  session.set('user', 'alice')
  const cookie = pair(await commitSession(session))
  const loaded = await getSession(request(cookie))
  assert.match(await destroySession(loaded), /^connect\.sid=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT/)
  assert.equal(await stored(store, session.id), null)
})

test('regenerate() moves the values to a new id and removes the old one from the store', async () => {
  const store = new MemoryStore()
  const { getSession, commitSession } = storeSessionStorage({ ...options, store })
  const session = await getSession(request())
  session.set('cart', ['apple'])
  const cookie = pair(await commitSession(session))
  const loaded = await getSession(request(cookie))
  await loaded.regenerate()
  loaded.set('user', 'alice')
  assert.notEqual(loaded.id, session.id)
  await commitSession(loaded)
  assert.equal(await stored(store, session.id), null)
  const kept = await stored(store, loaded.id)
  assert.deepEqual([kept.cart, kept.user], [['apple'], 'alice'])
})

test('cookie mode: the session travels sealed in the cookie; a split session needs commit()', async () => {
  const { getSession, commitSession } = cookieSessionStorage({ secret: 'x'.repeat(32) })
  const session = await getSession(request())
  session.set('user', 'alice')
  const setCookie = await commitSession(session)
  assert.doesNotMatch(setCookie, /alice/)
  assert.equal((await getSession(pair(setCookie))).get('user'), 'alice')

  const split = cookieSessionStorage({ secret: 'x'.repeat(32), maxCookies: 3 })
  const big = await split.getSession(request())
  big.set('blob', 'y'.repeat(6000))
  await assert.rejects(split.commitSession(big), /needs \d Set-Cookie headers/)
  const whole = await split.commit(big)
  assert.ok(whole.setCookie.length > 1)
  const headers = new Headers()
  whole.applyTo(headers)
  assert.deepEqual(headers.getSetCookie(), whole.setCookie)
  const cookie = whole.setCookie.map(pair).join('; ')
  assert.equal((await split.getSession(cookie)).get('blob').length, 6000)
})

test('require and import of sessionkit/react-router give the same functions', () => {
  const required = createRequire(import.meta.url)('sessionkit/react-router')
  assert.equal(required.storeSessionStorage, storeSessionStorage)
  assert.equal(required.cookieSessionStorage, cookieSessionStorage)
})

test('getSession for a path outside cookie.path rejects, saying so, rather than give a session nothing can save', async () => {
  const { getSession } = storeSessionStorage({ ...options, cookie: { path: '/admin' } })
  await assert.rejects(getSession(request(undefined, 'http://localhost/shop')), (err) => err instanceof SessionError && err.code === 'SESSION_CONFIG' && /\/shop is outside cookie\.path \(\/admin\)/.test(err.message))
  assert.equal((await getSession(request(undefined, 'http://localhost/admin/users'))).has('x'), false)
})

test('cookie mode: destroySession clears the cookie', async () => {
  const { getSession, commitSession, destroySession } = cookieSessionStorage({ secret: 'x'.repeat(32) })
  const session = await getSession(request())
  session.set('user', 'alice')
  const loaded = await getSession(pair(await commitSession(session)))
  const cleared = await destroySession(loaded)
  assert.match(cleared, /^session=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT/)
})
