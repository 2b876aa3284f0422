// sessionkit/next without a Next.js server: `cookies()` and `headers()` given as the `scope` option,
// shaped as Next.js's are (a writable store in a server action, one whose set() throws in a server
// component). What is checked is what Next.js would be handed (the cookie objects), what the store
// holds, and what the app sees when it reads or changes the session. examples/next's test drives a
// real Next.js server.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { MemoryStore } from 'sessionkit'
import { nextCookieSessions, nextSessions } from 'sessionkit/next'

/** A request's cookies() and headers(), as Next.js gives them in a server action (writable) or a server component. */
function scopeOf({ cookie = '', writable = true } = {}) {
  const request = new Map(cookie.split('; ').filter(Boolean).map((pair) => {
    const at = pair.indexOf('=')
    return [pair.slice(0, at), decodeURIComponent(pair.slice(at + 1))]
  }))
  const set = []
  const store = {
    getAll: () => [...request].map(([name, value]) => ({ name, value })),
    set(value) {
      if (!writable) throw new Error('Cookies can only be modified in a Server Action or Route Handler.')
      set.push(value)
    },
  }
  const headers = new Headers({ host: 'example.test', 'user-agent': 'test' })
  // The request's own Cookie header is stale after a server action: the scope must not read it.
  headers.set('cookie', 'next.sid=stale')
  return { set, scope: { cookies: async () => store, headers: async () => headers } }
}

const held = (store, id) => new Promise((resolve, reject) => store.get(id, (err, value) => (err ? reject(err) : resolve(value ?? null))))
const header = (cookie) => `${cookie.name}=${encodeURIComponent(cookie.value)}`

test('change() stores the session and hands Next.js the cookie the engine decided, attribute for attribute', async () => {
  const store = new MemoryStore()
  const { set, scope } = scopeOf()
  const sessions = nextSessions(
    { secret: 's', store, name: 'next.sid', resave: false, saveUninitialized: false, cookie: { maxAge: 60_000, sameSite: 'strict', secure: true, domain: 'example.test' } },
    { scope, secure: true },
  )
  const result = await sessions.change((session) => {
    session.user = 'ann'
    return 'done'
  })
  assert.equal(result, 'done')
  assert.equal(set.length, 1)
  const [cookie] = set
  assert.equal(cookie.name, 'next.sid')
  assert.match(cookie.value, /^s:[\w-]+\.[\w+/]+$/, 'the value decoded: Next.js encodes it again')
  assert.deepEqual(
    { path: cookie.path, domain: cookie.domain, httpOnly: cookie.httpOnly, secure: cookie.secure, sameSite: cookie.sameSite, maxAge: cookie.maxAge },
    { path: '/', domain: 'example.test', httpOnly: true, secure: true, sameSite: 'strict', maxAge: undefined },
  )
  assert.ok(Math.abs(cookie.expires.getTime() - Date.now() - 60_000) < 5_000, 'Expires a minute ahead')
  const id = cookie.value.slice(2, cookie.value.lastIndexOf('.'))
  assert.equal((await held(store, id)).user, 'ann')

  // The next request carries that cookie, as Next.js would send it: the session is found.
  const next = scopeOf({ cookie: header(cookie) })
  const again = nextSessions({ secret: 's', store, name: 'next.sid', resave: false, saveUninitialized: false }, { scope: next.scope })
  assert.equal((await again.get()).user, 'ann')
})

test('change(): the session it passes follows regenerate(), so a sign-in\'s user reaches the new session', async () => {
  const store = new MemoryStore()
  const options = { secret: 's', store, name: 'next.sid', resave: false, saveUninitialized: false }
  const first = scopeOf()
  await nextSessions(options, { scope: first.scope }).change((session) => {
    session.views = 1
  })
  const before = first.set[0].value.slice(2, first.set[0].value.lastIndexOf('.'))
  const second = scopeOf({ cookie: header(first.set[0]) })
  const id = await nextSessions(options, { scope: second.scope }).change(async (session, handle) => {
    await session.regenerate()
    session.user = 'ann'
    return handle.sessionID
  })
  assert.notEqual(id, before)
  assert.equal(second.set.length, 1)
  assert.equal(second.set[0].value.slice(2, second.set[0].value.lastIndexOf('.')), id, 'the cookie carries the new id')
  assert.equal(await held(store, before), null, 'the old id is gone')
  assert.equal((await held(store, id)).user, 'ann')
})

test('get() gives a read-only session: reading works, every change throws SESSION_READ_ONLY, nothing is stored', async () => {
  const store = new MemoryStore()
  const { set, scope } = scopeOf()
  const options = { secret: 's', store, name: 'next.sid', resave: false, saveUninitialized: false }
  await nextSessions(options, { scope }).change((session) => {
    session.user = 'bo'
    session.cart = { items: ['tea'] }
  })
  const reader = scopeOf({ cookie: header(set[0]), writable: false })
  const session = await nextSessions(options, { scope: reader.scope }).get()
  assert.equal(session.user, 'bo')
  assert.deepEqual([...session.cart.items], ['tea'])
  assert.ok(session.cookie.expires === null || session.cookie.expires instanceof Date)
  const readOnly = { name: 'SessionError', code: 'SESSION_READ_ONLY', message: /server actions and route handlers/ }
  assert.throws(() => (session.user = 'eve'), readOnly)
  assert.throws(() => delete session.user, readOnly)
  assert.throws(() => session.cart.items.push('milk'), readOnly)
  assert.throws(() => (session.cookie.maxAge = 1), readOnly)
  assert.throws(() => session.regenerate(), readOnly)
  assert.throws(() => session.destroy(), readOnly)
  const id = set[0].value.slice(2, set[0].value.lastIndexOf('.'))
  assert.deepEqual(await held(store, id).then(({ cookie, ...data }) => data), { user: 'bo', cart: { items: ['tea'] } })
  assert.deepEqual(reader.set, [])
})

test('change() where Next.js refuses cookies rejects with SESSION_READ_ONLY, carrying Next.js\'s error', async () => {
  const { scope } = scopeOf({ writable: false })
  const sessions = nextCookieSessions({ secret: 'x'.repeat(32), name: 'next.sid' }, { scope })
  await assert.rejects(
    sessions.change((session) => {
      session.views = 1
    }),
    (err) => err.code === 'SESSION_READ_ONLY' && /Server Action or Route Handler/.test(err.cause?.message),
  )
})

test('cookie mode: the sealed session goes to Next.js whole, and comes back', async () => {
  const options = { secret: 'y'.repeat(32), name: 'next.sid' }
  const first = scopeOf()
  await nextCookieSessions(options, { scope: first.scope }).change((session) => {
    session.theme = 'dark'
  })
  assert.equal(first.set.length, 1)
  const second = scopeOf({ cookie: header(first.set[0]), writable: false })
  assert.equal((await nextCookieSessions(options, { scope: second.scope }).get()).theme, 'dark')
})

test('cookie.path: a session only on the path the option names', async () => {
  const store = new MemoryStore()
  const options = { secret: 's', store, resave: false, saveUninitialized: false, cookie: { path: '/app' } }
  assert.equal(await nextSessions(options, { scope: scopeOf().scope }).get(), undefined)
  assert.notEqual(await nextSessions(options, { scope: scopeOf().scope, path: '/app/page' }).get(), undefined)
})

test('route(): the Response carries the cookie, and the handler gets Next.js\'s context', async () => {
  const store = new MemoryStore()
  const sessions = nextSessions({ secret: 's', store, name: 'next.sid', resave: false, saveUninitialized: false })
  const handler = sessions.route(async (request, handle, context) => {
    handle.session.seen = (await context.params).slug
    return Response.json({ ok: true })
  })
  const response = await handler(new Request('http://example.test/api/x'), { params: Promise.resolve({ slug: 'x' }) })
  assert.equal(response.status, 200)
  const [cookie] = response.headers.getSetCookie()
  assert.match(cookie, /^next\.sid=s%3A/)
  assert.match(response.headers.get('cache-control'), /private/)
  const read = await sessions.read(new Request('http://example.test/', { headers: { cookie: cookie.split(';')[0] } }))
  assert.equal(read.seen, 'x')
  assert.throws(() => (read.seen = 'y'), { code: 'SESSION_READ_ONLY' })
})

test('typed server code: get(), change(), route() and read() carry SessionData, and misuse does not compile', async () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const project = fileURLToPath(new URL('./types/next/tsconfig.json', import.meta.url))
  const { stdout } = await promisify(execFile)(process.execPath, [tsc, '-p', project], { encoding: 'utf8' }).catch((err) => err)
  assert.equal(stdout.trim(), '', 'tsc reports nothing')
})
