// sessionkit/web on real servers: the app in fixtures/runtimes/web-session-app.mjs served by plain
// node:http (a hand-written bridge), Hono on @hono/node-server, Bun.serve and Deno.serve, each against
// a MemoryStore and against Redis through sessionkit/redis. What is checked is what a client and the
// store see: statuses, bodies, Set-Cookie and Cache-Control, and the store's records.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryStore } from 'sessionkit'
import { webSessions } from 'sessionkit/web'
import { SERVE_SCRIPT } from './support/runtimes.mjs'
import { sessionCases } from './support/web-cases.mjs'
import { describeServers } from './support/web-servers.mjs'

const NODE_HTTP = new URL('./fixtures/runtimes/node-http-serve.mjs', import.meta.url).pathname

// Ports 7450-7457: one server per runtime and store.
const SERVERS = [
  { name: 'node:http', runtime: 'node', script: NODE_HTTP },
  { name: 'Hono on @hono/node-server', runtime: 'node', script: SERVE_SCRIPT, env: { FRAMEWORK: 'hono' } },
  { name: 'Bun.serve', runtime: 'bun', script: SERVE_SCRIPT },
  { name: 'Deno.serve', runtime: 'deno', script: SERVE_SCRIPT },
]

describeServers({ servers: SERVERS, firstPort: 7450, app: './web-session-app.mjs' }, sessionCases)

test('after commit the session can be read but not replaced or changed (SESSION_COMMITTED)', async () => {
  const store = new MemoryStore()
  const sessions = webSessions({ secret: 'committed', store, saveUninitialized: false, resave: false })
  const handle = await sessions.load(new Request('http://127.0.0.1/count'))
  handle.session.count = 1
  const commit = await handle.commit()
  assert.equal(commit.setCookie.length, 1)
  assert.equal(handle.session.count, 1, 'still readable')
  assert.throws(() => (handle.session = null), { name: 'SessionError', code: 'SESSION_COMMITTED' })
  assert.throws(() => (handle.session = { count: 5 }), { code: 'SESSION_COMMITTED' })
  assert.throws(() => (handle.session.count = 2), TypeError, 'the frozen session refuses a change')
  assert.equal(await handle.commit(), commit, 'a second commit gives the first result')
  const held = await new Promise((resolve, reject) => store.get(handle.sessionID, (err, value) => (err ? reject(err) : resolve(value))))
  assert.equal(held.count, 1, 'the store holds what was committed')
})

test('webSessions() without a secret stops at startup: no cookie parser can lend one to a Request', () => {
  for (const options of [undefined, {}, { store: new MemoryStore(), resave: false, saveUninitialized: false }]) {
    assert.throws(() => webSessions(options), { name: 'SessionError', code: 'SESSION_CONFIG', message: /webSessions\(\) needs an options object with a secret/ })
  }
  assert.throws(() => webSessions({ secret: '', store: new MemoryStore() }), { code: 'SESSION_CONFIG' }, 'an empty secret, as under Express')
})

test('a request that never touches its session makes none: no genid call, no cookie, even through commit', async () => {
  let made = 0
  const sessions = webSessions({ secret: 'lazy', store: new MemoryStore(), resave: false, saveUninitialized: false, genid: () => `id-${++made}` })
  const handler = sessions.handle(async () => new Response('static'))
  for (let i = 0; i < 3; i++) assert.deepEqual((await handler(new Request('http://127.0.0.1/logo.svg'))).headers.getSetCookie(), [])
  const handle = await sessions.load(new Request('http://127.0.0.1/logo.svg'))
  assert.deepEqual((await handle.commit()).setCookie, [])
  assert.equal(made, 0, 'genid was never called')
  // Read after the commit, the session is made then, frozen, and never stored.
  assert.throws(() => (handle.session.late = true), TypeError)
  assert.equal(made, 1)
})
