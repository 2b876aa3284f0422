// sessionkit/hono on real servers: the Hono app in fixtures/runtimes/hono-session-app.mjs under Node
// (@hono/node-server), Bun and Deno, each against a MemoryStore and against Redis through
// sessionkit/redis: the cases of the Web API (support/web-cases.mjs), what is Hono's own (the session
// seen through c.get('session') after a replacement, a throwing handler, a path outside the cookie's),
// and the types a TypeScript app gets.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Hono } from 'hono'
import { MemoryStore } from 'sessionkit'
import { session } from 'sessionkit/hono'
import { CookieJar, SERVE_SCRIPT } from './support/runtimes.mjs'
import { sessionCases } from './support/web-cases.mjs'
import { call, describeServers, sidOf } from './support/web-servers.mjs'

const run = promisify(execFile)
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

// Ports 7460-7465: one server per runtime and store.
const SERVERS = [
  { name: 'Hono on @hono/node-server', runtime: 'node', script: SERVE_SCRIPT },
  { name: 'Hono on Bun', runtime: 'bun', script: SERVE_SCRIPT },
  { name: 'Hono on Deno', runtime: 'deno', script: SERVE_SCRIPT },
]

describeServers({ servers: SERVERS, firstPort: 7460, app: './hono-session-app.mjs' }, (ctx) => {
  sessionCases(ctx)
  const url = (path) => `${ctx.server.url}${path}`

  test("c.get('session') follows a replacement made through the handle", async () => {
    const jar = new CookieJar()
    await call(jar, url('/s/count'))
    const old = sidOf(jar.get('sid'))
    const response = await call(jar, url('/s/replace'))
    assert.equal(response.status, 200)
    assert.equal(response.body.before, old)
    assert.notEqual(response.body.after, old)
    assert.equal(response.body.fresh, true)
    assert.equal(sidOf(jar.get('sid')), response.body.after)
    assert.equal((await call(jar, url(`/store/${response.body.after}`))).body.fresh, true)
    assert.equal((await call(jar, url(`/store/${old}`))).body, null)
  })

  test("a handler that throws gets Hono's 500, and the server goes on answering", async () => {
    const jar = new CookieJar()
    const failed = await call(jar, url('/s/throw'))
    assert.equal(failed.status, 500)
    assert.equal((await call(jar, url('/s/count'))).status, 200)
  })

  test("outside the cookie's path there is no session: c.get('session') is undefined and no cookie is sent", async () => {
    const outside = await call(new CookieJar(), url('/p/out'))
    assert.deepEqual(outside.body, { where: 'out', hasSession: false })
    assert.deepEqual(outside.setCookies, [])
    const inside = await call(new CookieJar(), url('/p/in'))
    assert.deepEqual(inside.body, { where: 'in', hasSession: true })
  })
})

test("a typed Hono app: c.get('session') carries SessionData, and misuse does not compile", async () => {
  const project = fileURLToPath(new URL('./types/hono/tsconfig.json', import.meta.url))
  const { stdout } = await run(process.execPath, [tsc, '-p', project], { encoding: 'utf8' }).catch((err) => err)
  assert.equal(stdout.trim(), '', 'tsc reports nothing')
})

test('a route that never reads c.get(\'session\') makes no session: no genid call, no cookie', async () => {
  let made = 0
  const app = new Hono()
  app.use(session({ secret: 'lazy', store: new MemoryStore(), resave: false, saveUninitialized: false, genid: () => `id-${++made}` }))
  app.get('/static', (c) => c.text('static'))
  app.get('/count', (c) => c.json({ id: c.get('session').id }))
  for (let i = 0; i < 3; i++) assert.deepEqual((await app.request('/static')).headers.getSetCookie(), [])
  assert.equal(made, 0)
  const counted = await app.request('/count')
  assert.deepEqual(await counted.json(), { id: 'id-1' })
  assert.equal(made, 1)
})

test("the header option: a client without cookies gets its token in the response header, also on a redirect", async () => {
  const app = new Hono()
  app.use(session({ secret: 'header', store: new MemoryStore(), resave: false, saveUninitialized: false, header: 'x-session' }))
  app.post('/login', (c) => {
    c.get('session').userId = 42
    return Response.redirect('http://127.0.0.1/me', 303)
  })
  app.get('/me', (c) => c.json({ userId: c.get('session').userId ?? null }))
  const login = await app.request('/login', { method: 'POST', headers: { 'x-session': '' } })
  assert.equal(login.status, 303)
  const token = login.headers.get('x-session')
  assert.match(token ?? '', /^[^.]+\.[^.]+$/, 'a signed token')
  assert.deepEqual(login.headers.getSetCookie(), [], 'a header request gets no cookie')
  assert.equal(login.headers.get('cache-control'), 'private')
  assert.deepEqual(await (await app.request('/me', { headers: { 'x-session': token } })).json(), { userId: 42 })
})
