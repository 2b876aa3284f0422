// Regressions found in a review of src/ against express-session 1.19: each test is a behaviour an app
// that switches from express-session, or a store slower than MemoryStore, would run into.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import express from 'express'
import ts from 'typescript'
import session, { MemoryStore } from 'sessionkit'
import { listen, parseSetCookie, request } from './support/http.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const stored = (store, sid) => new Promise((resolve, reject) => store.get(sid, (err, s) => (err ? reject(err) : resolve(s))))
const count = (store) => new Promise((resolve, reject) => store.length((err, n) => (err ? reject(err) : resolve(n))))
const idOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]

// A rejection nobody handles crashes a Node 20 app; record them so a test can say which one leaked.
const unhandled = []
process.on('unhandledRejection', (reason) => unhandled.push(reason))
after(() => process.removeAllListeners('unhandledRejection'))

/** An Express app with a login route, the given extra routes and an error handler that answers 500 with the message. */
function appWith(options, routes) {
  const app = express()
  app.use(session({ secret: 'review', resave: false, saveUninitialized: false, ...options }))
  app.get('/login', (req, res) => {
    req.session.user = 'ada'
    res.send('in')
  })
  routes(app)
  app.use((err, req, res, _next) => res.status(500).send(`error: ${err.message}`))
  return app
}

test('cookie.expires = false makes a browser-session cookie, as it does in express-session (the common "remember me" idiom)', async () => {
  const store = new MemoryStore({ checkPeriod: 0 })
  const { base, close } = await listen(
    appWith({ store, cookie: { maxAge: 60_000 } }, (app) => {
      app.get('/forget-me', (req, res) => {
        req.session.user = 'ada'
        req.session.cookie.expires = false
        res.send('ok')
      })
    }),
  )
  try {
    const res = await request(base, '/forget-me')
    assert.equal(res.status, 200, res.text)
    assert.equal(res.setCookies.length, 1)
    const cookie = parseSetCookie(res.setCookies[0])
    assert.equal(cookie.expires, undefined, 'a browser-session cookie carries no Expires')
    const record = await stored(store, idOf(res.cookie))
    assert.equal(record.user, 'ada')
    assert.equal(record.cookie.expires, null)
  } finally {
    await close()
  }
})

test('a response ended while the store is still loading the session neither replaces nor saves it', async () => {
  const store = new MemoryStore({ checkPeriod: 0 })
  const mw = session({ secret: 'review', resave: false, saveUninitialized: true, store })
  const { base, close } = await listen((req, res) => {
    if (req.url === '/login') {
      mw(req, res, () => {
        req.session.user = 'ada'
        res.end('in')
      })
      return
    }
    // A timeout middleware (connect-timeout, a load shedder) that answers before the session is loaded.
    mw(req, res, () => {})
    res.statusCode = 503
    res.end('busy')
  })
  try {
    const login = await request(base, '/login')
    assert.ok(login.cookie)
    const sid = idOf(login.cookie)
    const busy = await request(base, '/busy', { cookie: login.cookie })
    assert.equal(busy.status, 503)
    assert.deepEqual(busy.setCookies, [], 'the client keeps its valid session cookie')
    assert.equal((await stored(store, sid))?.user, 'ada')
    assert.equal(await count(store), 1, 'no new session was stored for the early answer')
  } finally {
    await close()
  }
})

/** GET with a deadline, so a request the server never answers fails the test instead of hanging it. */
async function get(base, path, cookie) {
  const response = await fetch(base + path, { headers: { cookie }, signal: AbortSignal.timeout(5_000) })
  return { status: response.status, text: await response.text() }
}

test('regenerate() whose genid throws reports the error to its callback and leaves no unhandled rejection', async () => {
  const before = unhandled.length
  const genid = (req) => {
    if (req.url.startsWith('/regenerate')) throw new Error('no ids today')
    return randomUUID()
  }
  const { base, close } = await listen(
    appWith({ genid }, (app) => {
      app.get('/regenerate', (req, res, next) => req.session.regenerate((err) => (err ? next(err) : res.send('new'))))
    }),
  )
  try {
    const login = await request(base, '/login')
    const res = await get(base, '/regenerate', login.cookie)
    assert.equal(res.status, 500)
    assert.match(res.text, /no ids today/)
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(unhandled.slice(before), [])
  } finally {
    await close()
  }
})

test('regenerate() with an async genid that rejects, on a store slower than a tick, leaves no unhandled rejection', async () => {
  const before = unhandled.length
  class SlowStore extends MemoryStore {
    destroy(sid, callback) {
      setTimeout(() => super.destroy(sid, callback), 30)
    }
  }
  const genid = async (req) => {
    if (req.url.startsWith('/regenerate')) throw new Error('id service down')
    return randomUUID()
  }
  const { base, close } = await listen(
    appWith({ genid, store: new SlowStore({ checkPeriod: 0 }) }, (app) => {
      app.get('/regenerate', async (req, res, next) => {
        try {
          await req.session.regenerate()
          res.send('new')
        } catch (err) {
          next(err)
        }
      })
    }),
  )
  try {
    const login = await request(base, '/login')
    const res = await get(base, '/regenerate', login.cookie)
    assert.equal(res.status, 500)
    assert.match(res.text, /id service down/)
    assert.deepEqual(unhandled.slice(before), [])
  } finally {
    await close()
  }
})

test('regenerate() with an index whose remove() throws (rather than rejects) leaves no unhandled rejection', async () => {
  const before = unhandled.length
  const index = {
    owners: new Map(),
    async add(owner, sid) {
      this.owners.set(sid, owner)
    },
    remove() {
      throw new Error('index is read-only today')
    },
    async ids(owner) {
      return [...this.owners].filter(([, o]) => o === owner).map(([sid]) => sid)
    },
  }
  const { base, close } = await listen(
    appWith({ indexBy: 'user', index }, (app) => {
      app.get('/regenerate', async (req, res) => {
        await req.session.regenerate()
        req.session.user = 'ada'
        res.send('new')
      })
    }),
  )
  try {
    const login = await request(base, '/login')
    const res = await get(base, '/regenerate', login.cookie)
    assert.equal(res.status, 200, res.text)
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.deepEqual(unhandled.slice(before), [])
  } finally {
    await close()
  }
})

test('the CommonJS types declare every name the CommonJS entry exports', async () => {
  const require = createRequire(import.meta.url)
  // Every export of index.d.ts, values and types, read with the compiler rather than listed by hand.
  const indexTypes = join(root, 'dist/cjs/index.d.ts')
  const program = ts.createProgram([indexTypes], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext })
  const checker = program.getTypeChecker()
  const names = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(indexTypes))).map((symbol) => symbol.getName())
  const runtime = Object.keys(require('sessionkit'))
  for (const name of runtime) assert.ok(names.includes(name) || name === 'default', `index.d.ts exports ${name}`)

  const dir = await mkdtemp(join(root, 'test', 'types', '.review-'))
  try {
    const lines = ["import session = require('sessionkit')", ...names.filter((name) => name !== 'default').map((name) => `import _${name} = session.${name}`)]
    await writeFile(join(dir, 'all.cts'), `${lines.join('\n')}\n`)
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, include: ['*.cts'] }),
    )
    const result = await promisify(execFile)(join(root, 'node_modules/.bin/tsc'), ['-p', dir]).then(
      () => '',
      (err) => String(err.stdout),
    )
    assert.equal(result, '', 'every export of index.ts is reachable as require("sessionkit").<name>')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
