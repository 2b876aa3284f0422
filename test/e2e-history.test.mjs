// The history example in a real browser: the array kept in the session (and changed in place) grows
// with every page visited, survives a reload, and is one browser's own.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { browserMissing, launchBrowser, startExample } from './support/browser.mjs'

const skip = browserMissing()

let app
let browser
before(async () => {
  if (skip) return
  app = await startExample('history')
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await app?.stop()
})

const historyOf = (page) => page.locator('#history li').allTextContents()

async function follow(page, linkText, path) {
  await Promise.all([page.waitForURL(`${app.url}${path}`), page.getByRole('link', { name: linkText, exact: true }).click()])
}

test('every page visited is added to the history, most recent first, and a reload keeps it', { skip }, async () => {
  const context = await browser.newContext()
  try {
    const page = await context.newPage()
    await page.goto(app.url)
    assert.deepEqual(await historyOf(page), ['/'])

    await follow(page, 'About', '/about')
    await follow(page, 'Contact', '/contact')
    assert.deepEqual(await historyOf(page), ['/contact', '/about', '/'])

    const cookies = await context.cookies()
    assert.deepEqual(cookies.map((c) => [c.name, c.httpOnly]), [['history.sid', true]])

    // A reload is one more visit: the in-place change was saved each time, nothing was lost.
    await page.reload()
    assert.deepEqual(await historyOf(page), ['/contact', '/contact', '/about', '/'])

    // The example keeps the last ten: the eleventh visit pushes the oldest ('/') out.
    for (let i = 0; i < 6; i++) await page.reload()
    assert.deepEqual((await historyOf(page)).slice(-3), ['/contact', '/about', '/'])
    await page.reload()
    const history = await historyOf(page)
    assert.equal(history.length, 10)
    assert.deepEqual(history.slice(-2), ['/contact', '/about'])
  } finally {
    await context.close()
  }
})

test('a second browser context starts its own history', { skip }, async () => {
  const first = await browser.newContext()
  const second = await browser.newContext()
  try {
    const a = await first.newPage()
    await a.goto(`${app.url}/about`)
    await follow(a, 'Home', '/')

    const b = await second.newPage()
    await b.goto(`${app.url}/contact`)
    assert.deepEqual(await historyOf(b), ['/contact'])

    await a.reload()
    assert.deepEqual(await historyOf(a), ['/', '/', '/about'])
  } finally {
    await first.close()
    await second.close()
  }
})

test('"Forget my history" destroys the session and starts afresh', { skip }, async () => {
  const context = await browser.newContext()
  try {
    const page = await context.newPage()
    await page.goto(`${app.url}/about`)
    const [before] = await context.cookies()
    await Promise.all([page.waitForURL(`${app.url}/`), page.getByRole('button', { name: 'Forget my history' }).click()])
    assert.deepEqual(await historyOf(page), ['/'])
    const [now] = await context.cookies()
    assert.notEqual(now.value, before.value, 'a new session, not the old one emptied')
  } finally {
    await context.close()
  }
})
