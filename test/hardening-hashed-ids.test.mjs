// hashIds: the store keeps sessions under a keyed hash of their id, never the id the cookie carries.
// Checked by what the store holds (its keys, its files), over HTTP, with first- and third-party stores.
import assert from 'node:assert/strict'
import { createHmac, hkdfSync } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import express from 'express'
import session, { isConditionalStore, MemoryIndex, MemoryStore } from 'sessionkit'
import { listen, request } from './support/http.mjs'

const require = createRequire(import.meta.url)
const SECRET = 'hashed ids at rest, a secret of 32 bytes or more'

/** The store key sessionkit documents: HMAC-SHA256 under a key HKDF derives from the secret. */
function storeKeyOf(sid, secret = SECRET) {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret), Buffer.from('sessionkit ids at rest'), 'store key v1', 32))
  return createHmac('sha256', key).update(sid).digest('base64url')
}

const keysOf = (store) => new Promise((resolve, reject) => store.all((err, all) => (err ? reject(err) : resolve(Object.keys(all ?? {}).sort()))))

function app(options) {
  const middleware = session({ secret: SECRET, resave: false, saveUninitialized: false, ...options })
  const server = express()
  server.use(middleware)
  server.get('/login/:user', async (req, res) => {
    await req.session.regenerate()
    req.session.userId = Number(req.params.user)
    res.send(req.sessionID)
  })
  server.get('/me', (req, res) => res.send(String(req.session.userId ?? 'nobody')))
  server.get('/id', (req, res) => res.send(req.sessionID))
  server.get('/logout', async (req, res) => {
    await req.session.destroy()
    res.send('bye')
  })
  server.get('/everywhere', async (req, res) => res.send(String(await middleware.destroySessionsOf(req.session.userId, { except: req.sessionID }))))
  return { server, middleware }
}

async function withServer(options, run) {
  const { server, middleware } = app(options)
  const { base, close } = await listen(server)
  try {
    await run(base, middleware)
  } finally {
    await close()
  }
}

test('the store holds the keyed hash of the id, the cookie the id; the session loads and logs out', async () => {
  const store = new MemoryStore()
  await withServer({ store, hashIds: true }, async (base) => {
    const login = await request(base, '/login/7')
    const sid = login.text
    assert.deepEqual(await keysOf(store), [storeKeyOf(sid)])
    assert.ok(!JSON.stringify(await new Promise((resolve) => store.all((_, all) => resolve(all)))).includes(sid), 'the id is nowhere in the store')
    assert.equal((await request(base, '/me', { cookie: login.cookie })).text, '7')
    assert.equal((await request(base, '/id', { cookie: login.cookie })).text, sid, 'req.sessionID is still the id')
    await request(base, '/logout', { cookie: login.cookie })
    assert.deepEqual(await keysOf(store), [])
    assert.equal((await request(base, '/me', { cookie: login.cookie })).text, 'nobody')
  })
})

test('without hashIds the store key is the id (the default is unchanged)', async () => {
  const store = new MemoryStore()
  await withServer({ store }, async (base) => {
    const login = await request(base, '/login/7')
    assert.deepEqual(await keysOf(store), [login.text])
  })
})

test('a session stored under its raw id before hashIds is found and moved to its hashed key; migrateRawIds: false no longer looks', async () => {
  const store = new MemoryStore()
  let login
  await withServer({ store }, async (base) => {
    login = await request(base, '/login/3')
  })
  const sid = login.text
  assert.deepEqual(await keysOf(store), [sid])
  await withServer({ store, hashIds: { migrateRawIds: false } }, async (base) => {
    assert.equal((await request(base, '/me', { cookie: login.cookie })).text, 'nobody')
  })
  assert.deepEqual(await keysOf(store), [sid], 'not looked at, not moved')
  await withServer({ store, hashIds: true }, async (base) => {
    assert.equal((await request(base, '/me', { cookie: login.cookie })).text, '3')
    assert.deepEqual(await keysOf(store), [storeKeyOf(sid)], 'moved: the raw key is gone')
    assert.equal((await request(base, '/me', { cookie: login.cookie })).text, '3')
  })
})

test('rotating the secret: the first secret hashes, an older one is still read, and its sessions move', async () => {
  const store = new MemoryStore()
  let login
  await withServer({ store, secret: 'old secret, long enough to be a real one', hashIds: true }, async (base) => {
    login = await request(base, '/login/5')
  })
  assert.deepEqual(await keysOf(store), [storeKeyOf(login.text, 'old secret, long enough to be a real one')])
  await withServer({ store, secret: ['new secret, long enough to be a real one', 'old secret, long enough to be a real one'], hashIds: true }, async (base) => {
    assert.equal((await request(base, '/me', { cookie: login.cookie })).text, '5')
  })
  assert.deepEqual(await keysOf(store), [storeKeyOf(login.text, 'new secret, long enough to be a real one')])
})

test('hashIds: { key } hashes with a key of its own, independent of the secret', async () => {
  const store = new MemoryStore()
  await withServer({ store, hashIds: { key: 'a separate key for the store' } }, async (base) => {
    const login = await request(base, '/login/1')
    assert.deepEqual(await keysOf(store), [storeKeyOf(login.text, 'a separate key for the store')])
  })
})

test('hashIds options are checked at startup', () => {
  assert.throws(() => session({ secret: SECRET, resave: false, saveUninitialized: false, hashIds: 'yes' }), { code: 'SESSION_CONFIG', message: /hashIds/ })
  assert.throws(() => session({ secret: SECRET, resave: false, saveUninitialized: false, hashIds: { key: '' } }), { code: 'SESSION_CONFIG', message: /hashIds\.key/ })
  assert.throws(() => session({ resave: false, saveUninitialized: false, hashIds: true }), { code: 'SESSION_CONFIG', message: /hashIds.*key/ })
})

const ownerStores = {
  'MemoryStore (in-process index)': () => ({ store: new MemoryStore() }),
  'memorystore from npm (scan with all())': () => ({ store: new (require('memorystore')(session))({ checkPeriod: 0 }) }),
}

for (const [name, makeOptions] of Object.entries(ownerStores)) {
  test(`sessionsOf and destroySessionsOf work with hashIds — ${name}`, async () => {
    const options = makeOptions()
    await withServer({ ...options, hashIds: true, indexBy: 'userId' }, async (base, middleware) => {
      const laptop = await request(base, '/login/7')
      const phone = await request(base, '/login/7')
      const other = await request(base, '/login/8')
      const held = await middleware.sessionsOf(7)
      assert.deepEqual(held.sort(), [storeKeyOf(laptop.text), storeKeyOf(phone.text)].sort(), 'sessionsOf gives the store keys, not the ids')
      assert.equal((await request(base, '/everywhere', { cookie: laptop.cookie })).text, '1')
      assert.equal((await request(base, '/me', { cookie: laptop.cookie })).text, '7')
      assert.equal((await request(base, '/me', { cookie: phone.cookie })).text, 'nobody')
      assert.equal((await request(base, '/me', { cookie: other.cookie })).text, '8')
      assert.deepEqual(await middleware.sessionsOf(7), [storeKeyOf(laptop.text)])
    })
  })
}

test('a raw session of an indexed owner moves with its index entry, and log out everywhere still reaches it', async () => {
  const store = new MemoryStore()
  const index = new MemoryIndex()
  let old
  await withServer({ store, index, indexBy: 'userId' }, async (base) => {
    old = await request(base, '/login/9')
  })
  assert.deepEqual(await index.ids('9'), [old.text], 'the index held the raw id')
  await withServer({ store, index, indexBy: 'userId', hashIds: true }, async (base, middleware) => {
    assert.equal((await request(base, '/me', { cookie: old.cookie })).text, '9')
    assert.deepEqual(await index.ids('9'), [storeKeyOf(old.text)], 'the index entry moved with the session')
    const here = await request(base, '/login/9')
    assert.equal((await request(base, '/everywhere', { cookie: here.cookie })).text, '1')
    assert.equal((await request(base, '/me', { cookie: old.cookie })).text, 'nobody')
    assert.deepEqual(await middleware.sessionsOf(9), [storeKeyOf(here.text)])
  })
})

test('session-file-store (third party): no file is named after a session id', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-hashed-'))
  const FileStore = require('session-file-store')(session)
  const store = new FileStore({ path: dir, logFn: () => {}, retries: 0, reapInterval: -1 })
  try {
    await withServer({ store, hashIds: true }, async (base) => {
      const login = await request(base, '/login/4')
      const files = readdirSync(dir)
      assert.deepEqual(files, [`${storeKeyOf(login.text)}.json`])
      assert.equal((await request(base, '/me', { cookie: login.cookie })).text, '4')
      // The touch runs after /me's response; the store's write of it must land before the logout's delete.
      await sleep(200)
      await request(base, '/logout', { cookie: login.cookie })
      // The touch after /me may leave write-file-atomic's temporary file behind; no session file stays.
      assert.deepEqual(readdirSync(dir).filter((file) => file.endsWith('.json')), [])
      assert.ok(!readdirSync(dir).some((file) => file.includes(login.text)))
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('req.sessionStore takes ids as before: an app that calls get(req.sessionID) still finds its session', async () => {
  const store = new MemoryStore()
  const middleware = session({ secret: SECRET, resave: false, saveUninitialized: false, store, hashIds: true })
  const server = express()
  server.use(middleware)
  server.get('/login', (req, res) => {
    req.session.userId = 2
    res.send('in')
  })
  server.get('/peek', (req, res) => req.sessionStore.get(req.sessionID, (err, record) => res.send(String(record?.userId ?? err ?? 'none'))))
  const { base, close } = await listen(server)
  try {
    const login = await request(base, '/login')
    assert.equal((await request(base, '/peek', { cookie: login.cookie })).text, '2')
  } finally {
    await close()
  }
})

test("the wrapped store keeps the inner store's capabilities and no others; a versioned read finds a raw session too", async () => {
  const store = new MemoryStore()
  let login
  await withServer({ store }, async (base) => {
    login = await request(base, '/login/6')
  })
  const plain = { get: (sid, cb) => cb(null, null), set: (sid, s, cb) => cb(), destroy: (sid, cb) => cb() }
  const server = express()
  for (const [path, given] of [['/memory', store], ['/plain', plain]]) {
    const router = express.Router()
    router.use(session({ secret: SECRET, resave: false, saveUninitialized: false, store: given, hashIds: true }))
    // No cookie: nothing was loaded, so the versioned read itself has to find the raw record.
    router.get('/', (req, res) => {
      const wrapped = req.sessionStore
      if (!isConditionalStore(wrapped)) return res.json({ conditional: false, getVersioned: typeof wrapped.getVersioned })
      wrapped.getVersioned(String(req.query.sid), { touch: false }, (err, found) =>
        res.json({ conditional: true, userId: found?.record.userId ?? null, version: typeof found?.version, err: err?.message ?? null }),
      )
    })
    server.use(path, router)
  }
  const { base, close } = await listen(server)
  try {
    const answer = JSON.parse((await request(base, `/memory?sid=${encodeURIComponent(login.text)}`)).text)
    assert.deepEqual(answer, { conditional: true, userId: 6, version: 'string', err: null })
    assert.deepEqual(await keysOf(store), [storeKeyOf(login.text)], 'moved to the hashed key')
    assert.deepEqual(JSON.parse((await request(base, '/plain')).text), { conditional: false, getVersioned: 'undefined' })
  } finally {
    await close()
  }
})

test('a store whose destroy fails for a key it does not have (ENOENT) still logs out: the raw key is usually empty', async () => {
  const records = new Map()
  const enoent = () => Object.assign(new Error('no such file'), { code: 'ENOENT' })
  const store = {
    get: (sid, cb) => (records.has(sid) ? cb(null, JSON.parse(records.get(sid))) : cb(enoent())),
    set: (sid, record, cb) => cb(null, records.set(sid, JSON.stringify(record)) && undefined),
    destroy: (sid, cb) => (records.delete(sid) ? cb() : cb(enoent())),
  }
  await withServer({ store, hashIds: true }, async (base) => {
    const login = await request(base, '/login/2')
    assert.deepEqual([...records.keys()], [storeKeyOf(login.text)])
    const logout = await request(base, '/logout', { cookie: login.cookie })
    assert.deepEqual([logout.status, logout.text], [200, 'bye'])
    assert.equal(records.size, 0)
  })
})
