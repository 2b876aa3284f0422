// examples/basic, the first example (`npm start`), driven over HTTP as a browser would: the visit
// counter keeps counting across the login, whose new session id the page mentions, and the logout.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { listen, request } from './support/http.mjs'

const require = createRequire(import.meta.url)
const views = (response) => Number(/<b id="views">(\d+)<\/b>/.exec(response.text)?.[1])
const sessionId = (cookie) => decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1)).split('.')[0]

test('examples/basic: the count goes on across the login, under a new session id; the logout ends it', async () => {
  const { base, close } = await listen(require('../examples/basic/app.js'))
  try {
    const first = await request(base, '/')
    assert.equal(views(first), 1)
    assert.equal(views(await request(base, '/', { cookie: first.cookie })), 2)

    const login = await request(base, '/login', { method: 'POST', cookie: first.cookie, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=ada' })
    assert.equal(login.status, 302)
    assert.notEqual(sessionId(login.cookie), sessionId(first.cookie), 'the login regenerates the session')
    const home = await request(base, '/', { cookie: login.cookie })
    assert.match(home.text, /Logged in as <b>ada<\/b>/)
    assert.equal(views(home), 3, 'the count came along')
    assert.match(home.text, /new session id/)

    const logout = await request(base, '/logout', { method: 'POST', cookie: login.cookie })
    assert.equal(logout.status, 302)
    const after = await request(base, '/', { cookie: login.cookie })
    assert.equal(views(after), 1)
    assert.doesNotMatch(after.text, /Logged in/)
  } finally {
    await close()
  }
})
