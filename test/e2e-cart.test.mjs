// The cart example in a real browser: items added by clicking persist across reloads, belong to one
// browser only, and the cart empties on request.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { browserMissing, launchBrowser, startExample } from './support/browser.mjs'

const skip = browserMissing()

let app
let browser
before(async () => {
  if (skip) return
  app = await startExample('cart')
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await app?.stop()
})

/** The cart as { productId: quantity }, read from the page. */
async function cartOf(page) {
  const lines = await page.locator('#cart li').evaluateAll((items) =>
    items.map((li) => [li.dataset.id, Number(li.querySelector('.quantity').textContent)]),
  )
  return Object.fromEntries(lines)
}

/**
 * Clicks a button of a form that posts and redirects back to the page it is on. The URL does not
 * change, so wait for the next document's load event rather than for a URL.
 */
async function submit(page, selector) {
  await Promise.all([page.waitForEvent('load'), page.locator(selector).click()])
}
const add = (page, id) => submit(page, `#add-${id}`)

test('items added to the cart stay after a reload; quantities change in place', { skip }, async () => {
  const context = await browser.newContext()
  try {
    const page = await context.newPage()
    await page.goto(app.url)
    await page.locator('#cart-empty').waitFor()
    assert.deepEqual(await context.cookies(), [], 'no cookie before the first item')

    await add(page, 'tea')
    await add(page, 'mug')
    await add(page, 'tea')
    assert.deepEqual(await cartOf(page), { tea: 2, mug: 1 })
    assert.equal(await page.locator('#total').textContent(), '€21.00')

    const [sid] = await context.cookies()
    assert.equal(sid.name, 'cart.sid')
    assert.equal(sid.httpOnly, true)
    assert.equal(await page.evaluate(() => document.cookie), '', 'the session id is hidden from scripts')

    await page.reload()
    assert.deepEqual(await cartOf(page), { tea: 2, mug: 1 })

    await submit(page, '#remove-tea')
    await page.reload()
    assert.deepEqual(await cartOf(page), { tea: 1, mug: 1 })

    await submit(page, '#empty')
    await page.reload()
    await page.locator('#cart-empty').waitFor()
  } finally {
    await context.close()
  }
})

test('a second browser context has its own, empty cart', { skip }, async () => {
  const first = await browser.newContext()
  const second = await browser.newContext()
  try {
    const a = await first.newPage()
    await a.goto(app.url)
    await add(a, 'pot')

    const b = await second.newPage()
    await b.goto(app.url)
    await b.locator('#cart-empty').waitFor()
    await add(b, 'mug')
    assert.deepEqual(await cartOf(b), { mug: 1 })

    await a.reload()
    assert.deepEqual(await cartOf(a), { pot: 1 }, "the other browser's item did not land here")
  } finally {
    await first.close()
    await second.close()
  }
})
