// touchAfter: an unchanged session's expiry moves at most once per interval, so a session that is only
// read costs one store write per interval instead of one per request; the cookie's Expires and the
// store's expiry stay in agreement, and `rolling` re-sends the cookie only when the expiry moved.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import express from 'express'
import session, { MemoryStore } from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'
import { counting } from './support/stores.mjs'

const WRITES = new Set(['set', 'touch', 'setIfVersion'])
/** The store calls that write: a set or touch, and a load that also moves the expiry (getVersioned with touch). */
const writesIn = (store) => store.calls.filter((c) => WRITES.has(c.method) || (c.method === 'getVersioned' && c.args[1]?.touch === true)).length
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function start(options) {
  const store = counting(new MemoryStore())
  const app = express()
  app.use(session({ secret: 'touch-after', store, resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 }, ...options }))
  app.get('/login', (req, res) => {
    req.session.user = req.query.as ?? 'ada'
    res.send('in')
  })
  app.get('/read', (req, res) => res.send(String(req.session.user)))
  const server = await listen(app)
  return { store, server }
}

/** `count` reads of one session; resolves to the store writes they caused and the Set-Cookie headers they got. */
async function reads(options, count, pauseMs = 0) {
  const { store, server } = await start(options)
  try {
    const login = await request(server.base, '/login')
    await sleep(20) // let the login's own work settle
    store.reset()
    const cookies = []
    for (let i = 0; i < count; i++) {
      const res = await request(server.base, '/read', { cookie: login.cookie })
      assert.equal(res.text, 'ada')
      cookies.push(...res.setCookies)
      if (pauseMs > 0) await sleep(pauseMs)
    }
    await sleep(20) // touches run after the response
    return { writes: writesIn(store), cookies, store, sid: decodeURIComponent(login.cookie.split('=')[1]).slice(2).split('.')[0] }
  } finally {
    await server.close()
  }
}

describe('touchAfter', () => {
  test('without it, every read of an unchanged session moves its expiry (express-session): 50 reads, 50 writes', async () => {
    const { writes } = await reads({}, 50)
    assert.equal(writes, 50)
  })

  test('with touchAfter: 60 s, 50 reads within a second write nothing', async () => {
    const { writes } = await reads({ touchAfter: 60_000 }, 50)
    assert.equal(writes, 0)
  })

  test('with touchAfter: 150 ms, reads over ~600 ms write about once per interval, never once per request', async () => {
    const { writes } = await reads({ touchAfter: 150 }, 30, 20)
    assert.ok(writes >= 2 && writes <= 6, `${writes} writes for 30 reads over ~600 ms`)
  })

  test('rolling with touchAfter re-sends the cookie only when the expiry moved, and then it says what the store holds', async () => {
    const without = await reads({ rolling: true }, 10)
    assert.equal(without.cookies.length, 10, 'rolling alone sends the cookie on every response')
    const quiet = await reads({ rolling: true, touchAfter: 60_000 }, 10)
    assert.equal(quiet.cookies.length, 0, 'within the interval the expiry did not move: no cookie')
    const moving = await reads({ rolling: true, touchAfter: 100 }, 12, 20)
    assert.ok(moving.cookies.length >= 1 && moving.cookies.length < 12, `${moving.cookies.length} cookies for 12 reads`)
    const lastExpires = Date.parse(parseSetCookie(moving.cookies.at(-1)).expires)
    const stored = await new Promise((resolve) => moving.store.inner.get(moving.sid, (err, s) => resolve(Date.parse(s.cookie.expires))))
    assert.ok(Math.abs(stored - lastExpires) < 1000, `the cookie's Expires (${lastExpires}) and the store's expiry (${stored}) agree`)
  })

  test('a changed session is saved as always, whatever touchAfter says', async () => {
    const { store, server } = await start({ touchAfter: 60_000 })
    try {
      const login = await request(server.base, '/login')
      await request(server.base, '/read', { cookie: login.cookie })
      store.reset()
      // The same value again: unchanged, nothing written; then a change: written.
      await request(server.base, '/login', { cookie: login.cookie })
      assert.equal(writesIn(store), 0)
      await request(server.base, '/login?as=bob', { cookie: login.cookie })
      assert.equal(writesIn(store), 1)
      assert.equal((await request(server.base, '/read', { cookie: login.cookie })).text, 'bob')
    } finally {
      await server.close()
    }
  })

  test('a touchAfter that is not a number of milliseconds is refused at startup, naming the option', () => {
    assert.throws(() => session({ secret: 's', touchAfter: -1 }), /touchAfter/)
    assert.throws(() => session({ secret: 's', touchAfter: '1h' }), /touchAfter/)
  })
})
