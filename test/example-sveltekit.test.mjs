// examples/sveltekit, a SvelteKit app on sessionkit/sveltekit's handle hook, built with `vite build`
// and adapter-node, and served by `node build`: the counter keeps counting per browser, login moves
// the session to a new id, logout clears the cookie and the store.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { browserMissing, launchBrowser } from './support/browser.mjs'
import { buildExample, idOf, redisSessions, root } from './support/built-example.mjs'
import { CookieJar, startServer } from './support/runtimes.mjs'
import { requireService } from './support/services.mjs'

const PORT = 7490
const ORIGIN = `http://127.0.0.1:${PORT}`
const { skip } = await requireService('redis')
const noBrowser = browserMissing()
const prefix = `kit-example-test-${randomUUID()}:`

let server
let redis
before(async () => {
  if (skip) return
  const buildMs = await buildExample('sveltekit', 'vite', ['build'])
  console.log(`# sveltekit build: ${buildMs} ms`)
  redis = await redisSessions(prefix)
  server = await startServer({
    runtime: 'node',
    script: join(root, 'examples/sveltekit/build/index.js'),
    port: PORT,
    // ORIGIN: adapter-node takes requests to be HTTPS without it (and then so would the cookie's `secure: 'auto'`).
    env: { REDIS_URL: 'redis://127.0.0.1:6379', SESSION_PREFIX: prefix, ORIGIN },
  })
})
after(async () => {
  await server?.stop()
  await redis?.close()
})

const count = (html) => Number(/id="count">(\d+)</.exec(html)?.[1])

// A browser's form post: SvelteKit checks the Origin of form posts, and answers 303 to a page request.
function form(fields = {}) {
  return { method: 'POST', body: new URLSearchParams(fields), headers: { origin: ORIGIN, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' } }
}

test('the counter counts per browser, in the store; the response is private', { skip }, async () => {
  const jar = new CookieJar()
  const first = await jar.fetch(`${server.url}/`)
  assert.equal(first.status, 200)
  assert.equal(count(await first.text()), 1)
  const [setCookie] = first.headers.getSetCookie()
  assert.match(setCookie, /^kit\.sid=s%3A[^;]+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/)
  assert.equal(first.headers.get('cache-control'), 'private')
  for (const expected of [2, 3]) assert.equal(count(await (await jar.fetch(`${server.url}/`)).text()), expected)
  assert.deepEqual(await redis.data(idOf(jar.get('kit.sid'))), { count: 3 })
  assert.equal(count(await (await new CookieJar().fetch(`${server.url}/`)).text()), 1)
})

test('login moves the session to a new id; logout clears the cookie and the store', { skip }, async () => {
  const jar = new CookieJar()
  await jar.fetch(`${server.url}/`)
  const before = idOf(jar.get('kit.sid'))

  const wrong = await jar.fetch(`${server.url}/login`, form({ user: 'alice', password: 'nope' }))
  assert.equal(wrong.status, 401)
  assert.match(await wrong.text(), /Wrong user name or password/)
  assert.equal(idOf(jar.get('kit.sid')), before)

  const login = await jar.fetch(`${server.url}/login`, form({ user: 'alice', password: 'wonderland' }))
  assert.equal(login.status, 303)
  assert.equal(login.headers.get('location'), '/')
  const after = idOf(jar.get('kit.sid'))
  assert.notEqual(after, before)
  assert.equal(await redis.data(before), null, 'the id from before the login is gone from the store')
  assert.deepEqual(await redis.data(after), { count: 1, user: 'alice', message: 'Welcome, alice!' })

  const home = await (await jar.fetch(`${server.url}/`)).text()
  assert.match(home, /id="message">Welcome, alice!</)
  assert.match(home, /id="welcome">Signed in as alice</)
  assert.equal(count(home), 2)
  assert.doesNotMatch(await (await jar.fetch(`${server.url}/`)).text(), /id="message"/, 'the message shows once')

  const logout = await jar.fetch(`${server.url}/logout`, form())
  assert.equal(logout.status, 303)
  assert.match(logout.headers.getSetCookie()[0], /^kit\.sid=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT/)
  assert.equal(jar.get('kit.sid'), undefined)
  assert.equal(await redis.data(after), null, 'logout removed the session from the store')
  assert.equal(count(await (await jar.fetch(`${server.url}/`)).text()), 1)
})

test('in Chromium: the page counts on reload, and the login form signs in', { skip: skip || noBrowser }, async () => {
  const browser = await launchBrowser()
  try {
    const page = await browser.newPage()
    await page.goto(`${server.url}/`)
    assert.equal(await page.locator('#count').textContent(), '1')
    await page.reload()
    assert.equal(await page.locator('#count').textContent(), '2')
    const [cookie] = (await page.context().cookies()).filter((c) => c.name === 'kit.sid')
    assert.equal(cookie.httpOnly, true)
    await page.getByRole('link', { name: 'Log in' }).click()
    await page.getByLabel('User name').fill('alice')
    await page.getByLabel('Password').fill('wonderland')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.locator('#message').waitFor()
    assert.equal(await page.locator('#message').textContent(), 'Welcome, alice!')
    assert.equal(await page.locator('#count').textContent(), '3')
    await page.getByRole('button', { name: 'Log out' }).click()
    await page.waitForURL(`${server.url}/login`)
    assert.deepEqual((await page.context().cookies()).filter((c) => c.name === 'kit.sid'), [])
  } finally {
    await browser.close()
  }
})
