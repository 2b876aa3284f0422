// The login example in a real browser: the form, the HttpOnly cookie, reload, logout, and two browsers.
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { browserMissing, launchBrowser, startExample } from './support/browser.mjs'
import { request } from './support/http.mjs'

const skip = browserMissing()
const screenshot = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'images', 'login-example.png')

let app
let browser
before(async () => {
  if (skip) return
  app = await startExample('login')
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await app?.stop()
})

async function logIn(page, username, password) {
  await page.goto(`${app.url}/dashboard`)
  assert.match(new URL(page.url()).pathname, /^\/login$/, 'an anonymous visitor is sent to the login form')
  await page.getByLabel('User name').fill(username)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL(`${app.url}/dashboard`)
}

test('log in through the form; the cookie is HttpOnly, survives a reload, and dies at logout', { skip }, async () => {
  const context = await browser.newContext({ viewport: { width: 800, height: 280 } })
  try {
    const page = await context.newPage()
    await logIn(page, 'alice', 'wonderland')
    assert.equal(await page.locator('#welcome').textContent(), 'Welcome, Alice!')

    mkdirSync(dirname(screenshot), { recursive: true })
    await page.screenshot({ path: screenshot })

    // The browser holds the cookie with the attributes the example sets...
    const cookies = await context.cookies()
    const sid = cookies.find((c) => c.name === 'login.sid')
    assert.ok(sid, `no login.sid cookie among ${cookies.map((c) => c.name)}`)
    assert.equal(sid.httpOnly, true)
    assert.equal(sid.sameSite, 'Lax')
    assert.equal(sid.secure, false, "secure: 'auto' over plain HTTP")
    assert.ok(sid.expires > Date.now() / 1000, 'maxAge gives the cookie an expiry date')
    // ...but scripts in the page cannot see it.
    const visible = await page.evaluate(() => document.cookie)
    assert.doesNotMatch(visible, /login\.sid/)

    await page.reload()
    assert.equal(await page.locator('#welcome').textContent(), 'Welcome, Alice!')
    assert.equal(new URL(page.url()).pathname, '/dashboard')

    await page.getByRole('button', { name: 'Log out' }).click()
    await page.waitForURL(`${app.url}/login`)
    assert.equal((await context.cookies()).find((c) => c.name === 'login.sid'), undefined, 'the browser dropped the cookie')

    await page.goto(`${app.url}/dashboard`)
    assert.equal(new URL(page.url()).pathname, '/login', 'the dashboard is refused after logout')

    // The server destroyed the session too: the old cookie, replayed by hand, is worth nothing.
    const replay = await request(app.url, '/dashboard', { cookie: `login.sid=${sid.value}` })
    assert.equal(replay.status, 302)
    assert.match(replay.headers.get('location'), /^\/login/)
  } finally {
    await context.close()
  }
})

test('a wrong password keeps the visitor out and sets no cookie', { skip }, async () => {
  const context = await browser.newContext()
  try {
    const page = await context.newPage()
    await page.goto(`${app.url}/login`)
    await page.getByLabel('User name').fill('alice')
    await page.getByLabel('Password').fill('not her password')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.locator('#error').waitFor()
    assert.equal(new URL(page.url()).pathname, '/login')
    assert.deepEqual(await context.cookies(), [])
  } finally {
    await context.close()
  }
})

test('a second browser context is a different session', { skip }, async () => {
  const first = await browser.newContext()
  const second = await browser.newContext()
  try {
    const alice = await first.newPage()
    await logIn(alice, 'alice', 'wonderland')

    // The second context shares nothing with the first: it is anonymous until it logs in itself.
    const other = await second.newPage()
    await other.goto(`${app.url}/dashboard`)
    assert.equal(new URL(other.url()).pathname, '/login')
    await logIn(other, 'bob', 'builder')
    assert.equal(await other.locator('#welcome').textContent(), 'Welcome, Bob!')

    await alice.reload()
    assert.equal(await alice.locator('#welcome').textContent(), 'Welcome, Alice!')
    const [a] = (await first.cookies()).filter((c) => c.name === 'login.sid')
    const [b] = (await second.cookies()).filter((c) => c.name === 'login.sid')
    assert.notEqual(a.value, b.value)

    // Bob logging out leaves Alice logged in.
    await other.getByRole('button', { name: 'Log out' }).click()
    await other.waitForURL(`${app.url}/login`)
    await alice.reload()
    assert.equal(await alice.locator('#welcome').textContent(), 'Welcome, Alice!')
  } finally {
    await first.close()
    await second.close()
  }
})

test('logging in replaces the session id the browser had before (no session fixation)', { skip }, async () => {
  // The login form sets no cookie (saveUninitialized: false), so an attacker plants the id of a
  // session of their own in the victim's browser.
  const attacker = await browser.newContext()
  const victim = await browser.newContext()
  try {
    const page = await attacker.newPage()
    await logIn(page, 'bob', 'builder')
    const [planted] = (await attacker.cookies()).filter((c) => c.name === 'login.sid')
    await victim.addCookies([planted])

    const victimPage = await victim.newPage()
    await victimPage.goto(`${app.url}/login`)
    await victimPage.getByLabel('User name').fill('alice')
    await victimPage.getByLabel('Password').fill('wonderland')
    await victimPage.getByRole('button', { name: 'Log in' }).click()
    await victimPage.waitForURL(`${app.url}/dashboard`)
    assert.equal(await victimPage.locator('#welcome').textContent(), 'Welcome, Alice!')
    const [now] = (await victim.cookies()).filter((c) => c.name === 'login.sid')
    assert.notEqual(now.value, planted.value, 'regenerate() gave the victim a new id')

    // The attacker's copy of the planted id does not lead to Alice: regenerate destroyed that session.
    await page.goto(`${app.url}/dashboard`)
    assert.equal(new URL(page.url()).pathname, '/login')
  } finally {
    await attacker.close()
    await victim.close()
  }
})
