// The Web-standard API's SessionHandle, in-process: what it says about the session it holds.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { webSessions } from 'sessionkit/web'

const SECRET = 'a long random secret for the web handle tests'

test('isNew: true for a session made in the request and after regenerate(), false for the one the cookie opened', async () => {
  const sessions = webSessions({ secret: SECRET, resave: false, saveUninitialized: false })
  const first = await sessions.load(new Request('http://app.test/'))
  assert.equal(first.isNew, true)
  first.session.user = 'amy'
  const cookie = (await first.commit()).setCookie[0].split(';')[0]

  const again = await sessions.load(new Request('http://app.test/', { headers: { cookie } }))
  assert.equal(again.isNew, false)
  assert.equal(again.session.user, 'amy')
  await again.session.regenerate()
  assert.equal(again.isNew, true)
  await again.commit()
})

test('a session the handler kept a reference to is frozen by the commit too: a change through it throws', async () => {
  const sessions = webSessions({ secret: SECRET, resave: false, saveUninitialized: false })
  const handle = await sessions.load(new Request('http://app.test/'))
  const kept = handle.session
  kept.user = 'amy'
  await handle.commit()
  assert.throws(() => {
    kept.user = 'bob'
  }, TypeError)
  assert.equal(kept.user, 'amy')
})

test('a request that never used its session makes none at the commit, and none when the handle is not read', async () => {
  let made = 0
  const sessions = webSessions({ secret: SECRET, resave: false, saveUninitialized: false, genid: () => `id-${++made}` })
  const handle = await sessions.load(new Request('http://app.test/'))
  const commit = await handle.commit()
  assert.deepEqual(commit.setCookie, [])
  assert.equal(made, 0)
})
