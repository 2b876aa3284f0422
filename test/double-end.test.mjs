// A second res.end() after the first, with a body and without. Plain Node crashes the process on
// `end(data)` after an end (an 'error' event no one listens to); express-session ignores every end after
// the first. sessionkit is a drop-in, so an app that ran under express-session must not start crashing:
// the second end is ignored, whether the response is held for a save or not, with MemoryStore and with
// a store that answers later. Node's error still reaches a callback given to that end.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { describe, test } from 'node:test'
import session, { cookieSession, MemoryStore } from 'sessionkit'
import { listen, request } from './support/http.mjs'
import { callbackStore } from './support/stores.mjs'

const require = createRequire(import.meta.url)
const expressSession = require('express-session')

const FORMS = {
  'end(body) again': (res, seen) => res.end('second', (err) => seen.push(`callback ${err?.code}`)),
  'end() again': (res, seen) => res.end((err) => seen.push(`callback ${err?.code ?? 'no error'}`)),
}

/**
 * What the second end looks like under `middleware`: the client's answer, what the app saw ('error'
 * events on the response, the callback), and the cookie. `use` says how the handler uses its session.
 */
async function secondEnd(middleware, form, use, cookie) {
  const seen = []
  const server = await listen((req, res) => {
    // Counts 'error' events; the crash this file is about is the same event with no listener.
    res.on('error', (err) => seen.push(`error event ${err.code}`))
    const go = () => {
      if (use === 'changes it') req.session.user = 'ada'
      if (use === 'reads it') seen.push(`user ${req.session?.user}`)
      res.end('first')
      FORMS[form](res, seen)
    }
    if (middleware === undefined) go()
    else middleware(req, res, go)
  })
  try {
    const answer = await request(server.base, '/', { cookie })
    await new Promise((resolve) => setTimeout(resolve, 50)) // callbacks and errors come on later ticks
    return { status: answer.status, text: answer.text, seen: seen.filter((line) => !line.startsWith('user')), cookie: answer.cookie }
  } finally {
    await server.close()
  }
}

const STORES = {
  MemoryStore: () => new MemoryStore(),
  'a store that answers on a later turn': () => callbackStore(),
}

// changes it: saved; with the later store the response is held meanwhile. reads it (cookie sent): the
// response is hooked and passed on at once. never uses it, no cookie: the response is never held.
const USES = ['changes it', 'reads it', 'never uses it']

describe('a second res.end() is ignored under sessionkit, as under express-session', () => {
  for (const [storeName, makeStore] of Object.entries(STORES)) {
    for (const use of USES) {
      for (const form of Object.keys(FORMS)) {
        test(`${form}, the app ${use} — ${storeName}`, async () => {
          const options = { secret: 'ends', resave: false, saveUninitialized: false }
          const store = makeStore()
          const middleware = session({ ...options, store })
          // A session that exists, for the requests that come with a cookie.
          const login = await secondEnd(middleware, 'end() again', 'changes it')
          const cookie = use === 'reads it' ? login.cookie : undefined
          const ours = await secondEnd(middleware, form, use, cookie)
          const theirs = await secondEnd(expressSession({ ...options, store: new expressSession.MemoryStore() }), form, use, cookie === undefined ? undefined : 'connect.sid=unknown')

          assert.deepEqual({ status: ours.status, text: ours.text }, { status: 200, text: 'first' }, 'the first answer is what the client gets')
          assert.deepEqual({ status: theirs.status, text: theirs.text }, { status: 200, text: 'first' }, 'as under express-session')
          assert.ok(!ours.seen.some((line) => line.startsWith('error event')), `no 'error' event on the response: ${ours.seen}`)
          assert.ok(!theirs.seen.some((line) => line.startsWith('error event')))
          if (form === 'end(body) again') assert.deepEqual(ours.seen, ['callback ERR_STREAM_WRITE_AFTER_END'], "Node's error goes to the callback only")
          else assert.equal(ours.seen.length, 1, 'the callback is called once')
          if (use === 'changes it') assert.ok(ours.cookie?.startsWith('connect.sid='), 'the session was saved and its cookie sent')
        })
      }
    }
  }
})

test('cookieSession(): a second end(body) is ignored too', async () => {
  const middleware = cookieSession({ secret: 'a cookie session secret of 32 bytes or more' })
  for (const use of USES) {
    const ours = await secondEnd(middleware, 'end(body) again', use)
    assert.deepEqual(ours, { status: 200, text: 'first', seen: ['callback ERR_STREAM_WRITE_AFTER_END'], cookie: ours.cookie }, use)
  }
})

describe('plain Node, for comparison', () => {
  test("end(body) after end() emits ERR_STREAM_WRITE_AFTER_END as an 'error' event; end() does not", async () => {
    const body = await secondEnd(undefined, 'end(body) again', 'never uses it')
    assert.deepEqual(body.seen.sort(), ['callback ERR_STREAM_WRITE_AFTER_END', 'error event ERR_STREAM_WRITE_AFTER_END'])
    const bare = await secondEnd(undefined, 'end() again', 'never uses it')
    assert.ok(!bare.seen.some((line) => line.startsWith('error event')))
  })
})

/** Runs a server in a child process whose handler ends twice with a body, no 'error' listener; resolves to its exit. */
function childRun(withSession, use) {
  const script = `
    const { createServer } = require('node:http')
    const session = require('sessionkit')
    const middleware = session({ secret: 'ends', resave: false, saveUninitialized: false })
    const server = createServer((req, res) => {
      const go = () => {
        if (${JSON.stringify(use)} === 'changes it') req.session.user = 'ada'
        res.end('first')
        res.end('second')
      }
      if (${withSession}) middleware(req, res, go)
      else go()
    })
    server.listen(0, '127.0.0.1', async () => {
      const answer = await fetch('http://127.0.0.1:' + server.address().port + '/')
      console.log(answer.status, await answer.text())
      setTimeout(() => server.close(() => console.log('still up')), 50)
    })`
  return spawnSync(process.execPath, ['-e', script], { cwd: new URL('..', import.meta.url), encoding: 'utf8', timeout: 10_000 })
}

test('the process: plain Node crashes on a second end(body); under sessionkit it stays up', () => {
  const plain = childRun(false, 'never uses it')
  assert.notEqual(plain.status, 0, 'plain Node crashes')
  assert.match(plain.stderr, /ERR_STREAM_WRITE_AFTER_END/)
  for (const use of ['changes it', 'never uses it']) {
    const ours = childRun(true, use)
    assert.equal(ours.status, 0, `${use}: ${ours.stderr}`)
    assert.equal(ours.stdout, '200 first\nstill up\n')
  }
})
