// sessionkit/sveltekit's handle hook, driven as SvelteKit drives a hook: { event, resolve } in, a
// Response out. What a user observes: event.locals.session, the Set-Cookie and Cache-Control headers,
// what the store holds, and a failed commit that fails the request.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { MemoryStore, SessionError } from 'sessionkit'
import { sessionHandle } from 'sessionkit/sveltekit'
import { webCookieSessions } from 'sessionkit/web'

const options = { secret: 'sveltekit-test-secret', resave: false, saveUninitialized: false }
const stored = (store, id) => new Promise((resolve, reject) => store.get(id, (err, s) => (err ? reject(err) : resolve(s ?? null))))

/** Runs the hook for one request, `route(locals)` standing in for the loads and actions; resolves to { response, locals }. */
async function visit(handle, { cookie, route = () => undefined, status = 200, immutable = false } = {}) {
  const event = { request: new Request('http://localhost/page', { headers: cookie ? { cookie } : {} }), locals: {} }
  const response = await handle({
    event,
    resolve: async (e) => {
      await route(e.locals)
      return immutable ? Response.redirect('http://localhost/next', 303) : new Response('page', { status })
    },
  })
  return { response, locals: event.locals }
}
const cookieOf = (response) => response.headers.getSetCookie()[0]?.split(';')[0]

test('locals.session carries values across requests; the response gets the cookie and Cache-Control: private', async () => {
  const store = new MemoryStore()
  const handle = sessionHandle({ ...options, store })
  const first = await visit(handle, { route: (locals) => (locals.session.count = 1) })
  assert.match(first.response.headers.getSetCookie()[0], /^connect\.sid=s%3A/)
  assert.equal(first.response.headers.get('cache-control'), 'private')
  assert.equal((await stored(store, first.locals.sessionID)).count, 1)

  let seen
  const second = await visit(handle, { cookie: cookieOf(first.response), route: (locals) => (seen = locals.session.count) })
  assert.equal(seen, 1)
  assert.equal(second.locals.sessionID, first.locals.sessionID)
})

test('regenerate(), destroy() and = null act through locals, as through req.session', async () => {
  const store = new MemoryStore()
  const handle = sessionHandle({ ...options, store })
  const first = await visit(handle, { route: (locals) => (locals.session.cart = ['apple']) })
  const oldId = first.locals.sessionID
  const login = await visit(handle, {
    cookie: cookieOf(first.response),
    route: async (locals) => {
      await locals.session.regenerate({ keep: ['cart'] })
      locals.session.user = 'alice'
    },
  })
  assert.notEqual(login.locals.sessionID, oldId)
  assert.equal(await stored(store, oldId), null)
  assert.deepEqual((await stored(store, login.locals.sessionID)).cart, ['apple'])

  const logout = await visit(handle, { cookie: cookieOf(login.response), route: (locals) => locals.session.destroy() })
  assert.match(logout.response.headers.getSetCookie()[0], /^connect\.sid=; Path=\/; Expires=Thu, 01 Jan 1970/)
  assert.equal(await stored(store, login.locals.sessionID), null)

  // With unset: 'destroy', `= null` ends the session too, as `req.session = null` does on Express.
  const unsetting = sessionHandle({ ...options, store, unset: 'destroy' })
  const started = await visit(unsetting, { route: (locals) => (locals.session.user = 'bob') })
  let after
  const unset = await visit(unsetting, {
    cookie: cookieOf(started.response),
    route: (locals) => {
      locals.session = null
      after = locals.session
    },
  })
  assert.equal(after, null)
  assert.equal(await stored(store, started.locals.sessionID), null)
  assert.match(unset.response.headers.getSetCookie()[0] ?? '', /^connect\.sid=; /)
})

test('a store that fails makes the hook throw (SvelteKit answers 500); a failed page stands without the cookie', async () => {
  class FailingStore extends MemoryStore {
    set(_id, _session, callback) {
      callback(new Error('store is down'))
    }
  }
  const handle = sessionHandle({ ...options, store: new FailingStore() })
  await assert.rejects(visit(handle, { route: (locals) => (locals.session.n = 1) }), (err) => err instanceof SessionError && err.code === 'SESSION_STORE_FAILED')
  const failed = await visit(handle, { status: 500, route: (locals) => (locals.session.n = 1) })
  assert.equal(failed.response.status, 500)
  assert.deepEqual(failed.response.headers.getSetCookie(), [])
})

test('a change after the response is made throws instead of being lost', async () => {
  const handle = sessionHandle({ ...options })
  const { locals } = await visit(handle, { route: (l) => (l.session.n = 1) })
  assert.throws(() => {
    locals.session.n = 2
  }, TypeError)
  assert.throws(() => {
    locals.session = null
  }, (err) => err.code === 'SESSION_COMMITTED')
})

test("sessions made with webCookieSessions(); a redirect's immutable headers still get the cookie", async () => {
  const handle = sessionHandle(webCookieSessions({ secret: 'x'.repeat(32) }))
  const first = await visit(handle, { immutable: true, route: (locals) => (locals.session.user = 'alice') })
  assert.equal(first.response.status, 303)
  assert.equal(first.response.headers.get('location'), 'http://localhost/next')
  assert.doesNotMatch(first.response.headers.getSetCookie()[0], /alice/)
  let seen
  await visit(handle, { cookie: cookieOf(first.response), route: (locals) => (seen = locals.session.user) })
  assert.equal(seen, 'alice')
})

test('require and import of sessionkit/sveltekit give the same hook factory', () => {
  assert.equal(createRequire(import.meta.url)('sessionkit/sveltekit').sessionHandle, sessionHandle)
})
