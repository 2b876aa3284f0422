// connect-redis with the `redis` client against the Redis server on 127.0.0.1:6379: constructed as its
// README shows, as installed (it extends express-session's Store) and through the npm alias that makes
// it extend sessionkit's. Every key this file writes carries a prefix unique to the run.
import assert from 'node:assert/strict'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import express from 'express'
import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'
import session from 'sessionkit'
import { testStore } from 'sessionkit/testing'
import { listen, request } from './support/http.mjs'
import { requireService } from './support/services.mjs'
import { runSnippet, snippet } from './support/snippets.mjs'
import { sidOf, storeFlow } from './support/store-flow.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const { skip } = await requireService('redis')
const URL = 'redis://127.0.0.1:6379'
const prefix = `sessionkit-test:${process.pid}-${Date.now().toString(36)}:`

let client
before(async () => {
  if (skip) return
  client = createClient({ url: URL })
  await client.connect()
})
after(async () => {
  if (!client) return
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys)
  await client.close()
})

/** What Redis holds under the session's key: its JSON and when the key expires. */
const backend = {
  async read(sid) {
    const key = `${prefix}flow:${sid}`
    const [json, pttl] = await Promise.all([client.get(key), client.pTTL(key)])
    if (json === null) return null
    return { data: JSON.parse(json), expiresAt: Date.now() + pttl }
  },
}

let flowStore
// The flows, the kit and the snippet use separate keys/tables/directories, so they run side by side;
// each runs its own steps in order.
describe('connect-redis on Redis', { concurrency: true }, () => {
  storeFlow('connect-redis', {
    skip,
    store: () => (flowStore ??= new RedisStore({ client, prefix: `${prefix}flow:` })),
    backend,
  })

  describe('connect-redis as installed', { skip }, () => {
    test('extends express-session\'s Store, not sessionkit\'s, and sessionkit needs no more', () => {
      const store = new RedisStore({ client, prefix: `${prefix}plain:` })
      assert.ok(store instanceof require('express-session').Store)
      assert.ok(!(store instanceof session.Store))
    })
    testStore({ name: 'connect-redis (conformance kit)', store: () => new RedisStore({ client, prefix: `${prefix}kit:` }) })
  })

  describe('connect-redis through the npm alias "express-session": "npm:sessionkit@..."', { skip }, () => {
    // The layout `npm install` makes for an app with the alias: connect-redis next to a package named
    // express-session that is sessionkit.
    let app
    let appRequire
    let AliasedRedisStore
    before(() => {
      app = mkdtempSync(join(tmpdir(), 'sessionkit-alias-'))
      const modules = join(app, 'node_modules')
      mkdirSync(modules)
      cpSync(join(root, 'node_modules/connect-redis'), join(modules, 'connect-redis'), { recursive: true })
      symlinkSync(root, join(modules, 'express-session'), 'dir')
      symlinkSync(join(root, 'node_modules/redis'), join(modules, 'redis'), 'dir')
      appRequire = createRequire(join(app, 'app.js'))
      AliasedRedisStore = appRequire('connect-redis').RedisStore
    })
    after(() => app && rmSync(app, { recursive: true, force: true }))

    test('the alias on the Stores page names this package and version', () => {
      const { version, name } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
      const { dependencies } = JSON.parse(snippet('alias'))
      const [major, minor] = version.split('.')
      assert.equal(dependencies['express-session'], `npm:${name}@^${major}.${minor}.0`)
    })

    test('connect-redis then extends sessionkit\'s Store', () => {
      assert.equal(appRequire('express-session'), session, 'express-session resolves to sessionkit')
      assert.ok(new AliasedRedisStore({ client, prefix: `${prefix}alias:` }) instanceof session.Store)
    })

    testStore({ name: 'aliased connect-redis (conformance kit)', store: () => new AliasedRedisStore({ client, prefix: `${prefix}alias-kit:` }) })
  })

  describe('the Redis snippet on the Stores page', { skip }, () => {
    test('runs as written: a login is stored under myapp: and read back', async () => {
      const middleware = runSnippet('redis', { REDIS_URL: URL, SESSION_SECRET: 'snippet secret' })
      let store
      const app = express()
      app.use(middleware)
      app.get('/login', (req, res) => {
        store = req.sessionStore
        req.session.user = 'ann'
        res.send('ok')
      })
      app.get('/me', (req, res) => res.send(req.session.user ?? 'nobody'))
      const server = await listen(app)
      try {
        const login = await request(server.base, '/login')
        const sid = sidOf(login.cookie)
        assert.equal(JSON.parse(await client.get(`myapp:${sid}`)).user, 'ann')
        assert.equal((await request(server.base, '/me', { cookie: login.cookie })).text, 'ann')
        await client.del(`myapp:${sid}`)
      } finally {
        await server.close()
        await store?.client.close()
      }
    })
  })
})
