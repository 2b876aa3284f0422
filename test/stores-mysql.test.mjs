// express-mysql-session against MariaDB/MySQL on 127.0.0.1:3306 (database `test`, root without a
// password), constructed as its README shows with sessionkit where the README passes express-session.
// The store creates a table named for this run; it is dropped at the end.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, describe, test } from 'node:test'
import express from 'express'
import session from 'sessionkit'
import { testStore } from 'sessionkit/testing'
import { listen, request } from './support/http.mjs'
import { requireService } from './support/services.mjs'
import { runSnippet } from './support/snippets.mjs'
import { sidOf, storeFlow } from './support/store-flow.mjs'

const require = createRequire(import.meta.url)
const { skip } = await requireService('mariadb')
const connection = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' }
const run = `${process.pid}_${Date.now().toString(36)}`
const MySQLStore = require('express-mysql-session')(session)

const stores = []
/** A store on its own table; it creates the table itself, as it does by default. */
async function open(tableName) {
  const store = new MySQLStore({ ...connection, schema: { tableName } })
  stores.push({ store, tableName })
  await store.onReady()
  return store
}
after(async () => {
  for (const { store, tableName } of stores) {
    await store.query('DROP TABLE IF EXISTS ??', [tableName]).catch(() => {})
    await store.close().catch(() => {})
  }
})

const flowTable = `sk_sessions_${run}`
// Opened before any test is registered: node:test starts running tests while this module still awaits.
const flowStore = skip ? undefined : await open(flowTable)
// The flows, the kit and the snippet use separate keys/tables/directories, so they run side by side;
// each runs its own steps in order.
describe('express-mysql-session on MariaDB', { concurrency: true }, () => {
  storeFlow('express-mysql-session', {
    skip,
    // The store keeps expiry as whole seconds, rounded.
    secondResolution: true,
    store: () => flowStore,
    backend: {
      async read(sid) {
        const [rows] = await flowStore.query('SELECT data, expires FROM ?? WHERE session_id = ?', [flowTable, sid])
        if (rows.length === 0) return null
        return { data: JSON.parse(rows[0].data), expiresAt: rows[0].expires * 1000 }
      },
    },
  })

  describe('express-mysql-session', { skip }, () => {
    test('created its table with the columns of the schema.sql it ships', async () => {
      const [rows] = await flowStore.query('SHOW COLUMNS FROM ??', [flowTable])
      assert.deepEqual(rows.map((row) => row.Field).sort(), ['data', 'expires', 'session_id'])
    })
    testStore({ name: 'express-mysql-session (conformance kit)', store: () => open(`sk_kit_${run}`) })
  })

  describe('the MySQL snippet on the Stores page', { skip }, () => {
    test('runs as written: a login is stored in the `sessions` table and read back', async () => {
      const middleware = runSnippet('mysql', {
        MYSQL_HOST: connection.host,
        MYSQL_USER: connection.user,
        MYSQL_PASSWORD: connection.password,
        MYSQL_DATABASE: connection.database,
        SESSION_SECRET: 'snippet secret',
      })
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
      let sid
      try {
        const login = await request(server.base, '/login')
        assert.ok(login.setCookies[0].startsWith('session_cookie_name='), 'the snippet names its cookie')
        sid = sidOf(login.cookie)
        const [rows] = await store.query('SELECT data FROM sessions WHERE session_id = ?', [sid])
        assert.equal(JSON.parse(rows[0].data).user, 'ann')
        assert.equal((await request(server.base, '/me', { cookie: login.cookie })).text, 'ann')
      } finally {
        await server.close()
        // The snippet's default table may be shared with other runs: remove only this run's row.
        if (sid) await store.query('DELETE FROM sessions WHERE session_id = ?', [sid])
        await store?.close()
      }
    })
  })
})
