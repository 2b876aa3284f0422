// The tests of the framework examples (examples/react-router, examples/sveltekit): each is built with
// its framework's real toolchain into its own git-ignored build folder, then its built server is
// started on 127.0.0.1 and driven over HTTP and in Chromium, its sessions in Redis under a prefix of
// the test's own. Needs `npm run build` first.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'
import { createClient } from 'redis'
import { browserMissing, launchBrowser } from './browser.mjs'
import { CookieJar, startServer } from './runtimes.mjs'
import { requireService } from './services.mjs'
import { buildExample, FRAMEWORK_EXAMPLES } from '../../scripts/framework-example.mjs'

export const root = fileURLToPath(new URL('../..', import.meta.url))

/** The session id a signed `s:<id>.<signature>` cookie value carries. */
export function idOf(cookieValue) {
  const text = decodeURIComponent(cookieValue)
  return text.slice(2, text.lastIndexOf('.'))
}

/** A Redis client, and what it says about the sessions under `prefix`. */
export async function redisSessions(prefix) {
  const client = createClient({ url: 'redis://127.0.0.1:6379' })
  await client.connect()
  const key = (id) => `${prefix}{${id}}`
  return {
    /** The session's data as the store holds it, or null when it holds none. */
    async data(id) {
      const json = await client.hGet(key(id), 'd')
      return json === null || json === undefined ? null : JSON.parse(json)
    },
    /** Removes every key under the prefix and closes the client. */
    async close() {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*` })) {
        for (const k of [keys].flat()) await client.del(k)
      }
      await client.close()
    },
  }
}

const count = (html) => Number(/id="count">(\d+)</.exec(html)?.[1])

/**
 * The tests both examples pass, against a server `serve()` starts once the example is built (each
 * example: a counter at /, a login form at /login for alice / wonderland with a welcome message shown
 * once, and a logout form action at /logout), built as scripts/framework-example.mjs builds it.
 * `spec`: { name, port, cookie (its name), env({ prefix }) → the server's environment, form(fields) →
 * fetch init of a browser's form post,
 * redirect (the status of a post that succeeded), storedAfterLogin (what the store then holds),
 * cacheControl (what the first response says, or null) }.
 */
export async function exampleTests(spec) {
  const { skip } = await requireService('redis')
  const noBrowser = browserMissing()
  const prefix = `${spec.name}-example-test-${randomUUID()}:`
  let server
  let redis
  // Bounded: the build's own limit is 240 s (scripts/framework-example.mjs), the server's start 15 s.
  before(async () => {
    if (skip) return
    if (!existsSync(join(root, 'dist/cjs/sessionkit.cjs'))) throw new Error('dist/ is missing: run `npm run build` before this test')
    const buildMs = await buildExample(spec.name)
    console.log(`# ${spec.name} build: ${buildMs} ms`)
    redis = await redisSessions(prefix)
    const [script, ...args] = FRAMEWORK_EXAMPLES[spec.name].serve
    server = await startServer({ runtime: 'node', script, args, port: spec.port, env: spec.env({ prefix }) })
  }, { timeout: 300_000 })
  after(async () => {
    await server?.stop()
    await redis?.close()
  })
  const get = async (jar) => count(await (await jar.fetch(`${server.url}/`)).text())
  const sid = (jar) => idOf(jar.get(spec.cookie))

  test('the counter counts per browser, in the store', { skip, timeout: 30_000 }, async () => {
    const jar = new CookieJar()
    const first = await jar.fetch(`${server.url}/`)
    assert.equal(first.status, 200)
    assert.equal(count(await first.text()), 1)
    const [setCookie] = first.headers.getSetCookie()
    assert.match(setCookie, new RegExp(`^${spec.cookie.replace('.', '\\.')}=s%3A[^;]+; Path=/; Expires=[^;]+; HttpOnly; SameSite=Lax$`))
    assert.equal(first.headers.get('cache-control'), spec.cacheControl)
    for (const expected of [2, 3]) assert.equal(await get(jar), expected)
    assert.deepEqual(await redis.data(sid(jar)), { count: 3 })
    assert.equal(await get(new CookieJar()), 1, 'another browser has its own count')
  })

  test('login moves the session to a new id with a message shown once; logout clears the cookie and the store', { skip, timeout: 30_000 }, async () => {
    const jar = new CookieJar()
    await jar.fetch(`${server.url}/`)
    const before = sid(jar)

    const wrong = await jar.fetch(`${server.url}/login`, spec.form({ user: 'alice', password: 'nope' }))
    assert.equal(wrong.status, 401)
    assert.match(await wrong.text(), /Wrong user name or password/)
    assert.equal(sid(jar), before)

    const login = await jar.fetch(`${server.url}/login`, spec.form({ user: 'alice', password: 'wonderland' }))
    assert.equal(login.status, spec.redirect)
    assert.equal(login.headers.get('location'), '/')
    const after = sid(jar)
    assert.notEqual(after, before)
    assert.equal(await redis.data(before), null, 'the id from before the login is gone from the store')
    assert.deepEqual(await redis.data(after), spec.storedAfterLogin)

    const home = await (await jar.fetch(`${server.url}/`)).text()
    assert.match(home, /id="message">Welcome, alice!</)
    assert.match(home, /id="welcome">Signed in as (<!-- -->)?alice</)
    assert.equal(count(home), 2)
    assert.doesNotMatch(await (await jar.fetch(`${server.url}/`)).text(), /id="message"/, 'the message shows once')

    const logout = await jar.fetch(`${server.url}/logout`, spec.form({}))
    assert.equal(logout.status, spec.redirect)
    assert.match(logout.headers.getSetCookie()[0] ?? '', new RegExp(`^${spec.cookie.replace('.', '\\.')}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT`))
    assert.equal(jar.get(spec.cookie), undefined)
    assert.equal(await redis.data(after), null, 'logout removed the session from the store')
    assert.equal(await get(jar), 1)
  })

  test('in Chromium: the page counts on reload, and the login and logout forms work', { skip: skip || noBrowser, timeout: 90_000 }, async () => {
    const browser = await launchBrowser()
    try {
      const page = await browser.newPage()
      const cookies = async () => (await page.context().cookies()).filter((c) => c.name === spec.cookie)
      await page.goto(`${server.url}/`)
      assert.equal(await page.locator('#count').textContent(), '1')
      await page.reload()
      assert.equal(await page.locator('#count').textContent(), '2')
      assert.equal((await cookies())[0]?.httpOnly, true)
      await page.getByRole('link', { name: 'Log in' }).click()
      await page.getByLabel('User name').fill('alice')
      await page.getByLabel('Password').fill('wonderland')
      await page.getByRole('button', { name: 'Log in' }).click()
      await page.locator('#message').waitFor()
      assert.equal(await page.locator('#message').textContent(), 'Welcome, alice!')
      assert.equal(await page.locator('#count').textContent(), '3')
      await page.getByRole('button', { name: 'Log out' }).click()
      await page.waitForURL(`${server.url}/login`)
      assert.deepEqual(await cookies(), [])
    } finally {
      await browser.close()
    }
  })
}
