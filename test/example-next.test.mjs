// examples/next, built with Next.js's own `next build` and served by `next start` on 127.0.0.1, its
// sessions in Redis under a prefix of this test's own: a route handler's counter, sign-in and
// sign-out through route handlers and through the page's server actions (in Chromium), the proxy
// reading the session, and a server component that tries to change it. Needs `npm run build` first.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { createClient } from 'redis'
import { buildExample, FRAMEWORK_EXAMPLES } from '../scripts/framework-example.mjs'
import { browserMissing, launchBrowser } from './support/browser.mjs'
import { idOf, root } from './support/built-example.mjs'
import { CookieJar, startServer } from './support/runtimes.mjs'
import { requireService } from './support/services.mjs'

const PORT = 7541
const base = `http://127.0.0.1:${PORT}`
const prefix = `next-example-test-${randomUUID()}:`
const redisService = await requireService('redis')

describe('examples/next: built with next build, served by next start', { skip: redisService.skip, timeout: 300_000 }, () => {
  let server
  let redis
  let buildMs
  const key = (id) => `${prefix}{${id}}`
  const stored = async (id) => {
    const json = await redis.hGet(key(id), 'd')
    return json === null || json === undefined ? null : JSON.parse(json)
  }
  const keys = async () => {
    const found = []
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}*` })) found.push(...[batch].flat())
    return found
  }
  const text = async (response) => {
    const html = await response.text()
    const field = (id) => new RegExp(`id="${id}">([^<]*)`).exec(html)?.[1]
    return { html, status: field('status'), assignment: field('assignment'), change: field('change') }
  }

  // Bounded: the build's own limit is 240 s (scripts/framework-example.mjs), the server's start 15 s.
  before(async () => {
    assert.ok(existsSync(join(root, 'dist/cjs/sessionkit.cjs')), 'dist/ is missing: run `npm run build` before this test')
    buildMs = await buildExample('next')
    console.log(`# next build took ${buildMs} ms`)
    redis = createClient({ url: 'redis://127.0.0.1:6379' })
    await redis.connect()
    const [script, ...args] = FRAMEWORK_EXAMPLES.next.serve
    server = await startServer({
      runtime: 'node',
      script,
      args: [...args, '-H', '127.0.0.1'],
      port: PORT,
      env: { NEXT_TELEMETRY_DISABLED: '1', REDIS_URL: 'redis://127.0.0.1:6379', SESSION_PREFIX: prefix, SESSION_SECRET: randomUUID() },
    })
  })

  after(async () => {
    await server?.stop()
    if (redis !== undefined) {
      for (const k of await keys()) await redis.del(k)
      await redis.close()
    }
  })

  test('the route handler counts with the cookie, in Redis, the response kept from shared caches', async () => {
    const jar = new CookieJar()
    const counts = []
    for (let i = 0; i < 3; i++) {
      const response = await jar.fetch(`${base}/api/counter`)
      assert.equal(response.status, 200)
      counts.push((await response.json()).views)
      if (i === 0) assert.match(response.headers.get('cache-control') ?? '', /private/)
    }
    assert.deepEqual(counts, [1, 2, 3])
    const id = idOf(jar.get('next.sid'))
    assert.equal((await stored(id)).views, 3)
    // Without the cookie, a new session starts at 1.
    assert.equal((await (await fetch(`${base}/api/counter`)).json()).views, 1)
  })

  test('sign-in through a route handler: a new id, the user in Redis, read by the page and the proxy', async () => {
    const jar = new CookieJar()
    await jar.fetch(`${base}/api/counter`)
    const before = idOf(jar.get('next.sid'))
    assert.equal((await jar.fetch(`${base}/members`)).status, 307, 'the proxy sends a signed-out visitor away')
    const body = new FormData()
    body.set('name', 'ann')
    const login = await jar.fetch(`${base}/api/login`, { method: 'POST', body })
    assert.equal(login.status, 200)
    const id = idOf(jar.get('next.sid'))
    assert.notEqual(id, before, 'sign-in gives the session a new id')
    assert.equal(await stored(before), null, 'the old id is gone from the store')
    assert.equal((await stored(id)).user, 'ann')
    assert.equal((await text(await jar.fetch(`${base}/`))).status, 'Signed in as ann')
    const members = await jar.fetch(`${base}/members`)
    assert.equal(members.status, 200)
    assert.match(await members.text(), /welcome, ann</)
  })

  test('sign-out through a route handler clears the cookie and the store', async () => {
    const jar = new CookieJar()
    const body = new FormData()
    body.set('name', 'bo')
    await jar.fetch(`${base}/api/login`, { method: 'POST', body })
    const cookie = jar.get('next.sid')
    const id = idOf(cookie)
    assert.equal((await stored(id)).user, 'bo')
    const logout = await jar.fetch(`${base}/api/logout`, { method: 'POST' })
    assert.equal(logout.status, 200)
    assert.match(logout.headers.get('set-cookie') ?? '', /^next\.sid=;.*Expires=Thu, 01 Jan 1970/)
    assert.equal(jar.get('next.sid'), undefined)
    assert.equal(await redis.exists(key(id)), 0)
    // The old cookie, replayed, opens nothing.
    const replay = await fetch(`${base}/`, { headers: { cookie: `next.sid=${cookie}` } })
    assert.equal((await text(replay)).status, 'Signed out')
  })

  test('a server component that changes the session gets an error that says where to change it, and nothing is stored', async () => {
    for (const jar of [new CookieJar(), await signedIn('cy')]) {
      const id = jar.get('next.sid') === undefined ? undefined : idOf(jar.get('next.sid'))
      const keysBefore = (await keys()).length
      const response = await jar.fetch(`${base}/read-only`)
      assert.equal(response.status, 200)
      assert.deepEqual(response.headers.getSetCookie(), [])
      const page = await text(response)
      for (const message of [page.assignment, page.change]) {
        assert.match(message ?? '', /^SESSION_READ_ONLY: .*server actions and route handlers/)
      }
      assert.equal((await keys()).length, keysBefore, 'no session was made')
      if (id !== undefined) assert.deepEqual(await stored(id), { user: 'cy' }, 'the stored session is unchanged')
    }
  })

  async function signedIn(name) {
    const jar = new CookieJar()
    const body = new FormData()
    body.set('name', name)
    await jar.fetch(`${base}/api/login`, { method: 'POST', body })
    return jar
  }

  test('in Chromium: sign in and out through the page\'s server actions', { skip: browserMissing(), timeout: 90_000 }, async () => {
    const browser = await launchBrowser()
    try {
      const page = await browser.newPage()
      await page.goto(`${base}/`)
      assert.equal(await page.textContent('#status'), 'Signed out')
      await page.fill('input[name="name"]', 'eve')
      await page.click('button[type="submit"]')
      await page.waitForSelector('text=Signed in as eve')
      const [cookie] = (await page.context().cookies()).filter((c) => c.name === 'next.sid')
      assert.ok(cookie !== undefined && cookie.httpOnly, 'the session cookie is set, HttpOnly')
      const id = idOf(cookie.value)
      assert.equal((await stored(id)).user, 'eve')
      await page.goto(`${base}/members`)
      assert.match(await page.textContent('#members'), /welcome, eve/)
      await page.goto(`${base}/`)
      await page.click('button[type="submit"]')
      await page.waitForSelector('text=Signed out')
      assert.equal(await redis.exists(key(id)), 0, 'sign-out removed the session from the store')
      assert.deepEqual((await page.context().cookies()).filter((c) => c.name === 'next.sid'), [])
    } finally {
      await browser.close()
    }
  })
})
