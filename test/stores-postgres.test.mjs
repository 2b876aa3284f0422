// connect-pg-simple against PostgreSQL on 127.0.0.1:5432 (database `test`), constructed as its README
// shows with sessionkit where the README passes express-session: once with createTableIfMissing, once
// with the table.sql it ships. Each run works in a table and a schema named for it, dropped at the end.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import pg from 'pg'
import session from 'sessionkit'
import { testStore } from 'sessionkit/testing'
import { listen, request } from './support/http.mjs'
import { requireService } from './support/services.mjs'
import { runSnippet } from './support/snippets.mjs'
import { sidOf, storeFlow } from './support/store-flow.mjs'

const require = createRequire(import.meta.url)
const { skip } = await requireService('postgres')
const connection = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' }
const run = `${process.pid}_${Date.now().toString(36)}`
// Two schemas of this run's own: table.sql names its constraint and index after "session" whatever the
// table is called, so two session tables cannot share a schema.
const autoSchema = `sk_auto_${run}` // createTableIfMissing makes "user_sessions" in it
const schema = `sk_sql_${run}` // table.sql, as shipped, makes "session" in it
const table = 'user_sessions'

const PgStore = require('connect-pg-simple')(session)

let pool
const stores = []
before(async () => {
  if (skip) return
  pool = new pg.Pool(connection)
  // As the README has it (psql mydb < table.sql), with a search_path so the file runs unchanged.
  const tableSql = readFileSync(require.resolve('connect-pg-simple/table.sql'), 'utf8')
  const client = await pool.connect()
  try {
    await client.query(`CREATE SCHEMA "${autoSchema}"`)
    await client.query(`CREATE SCHEMA "${schema}"`)
    await client.query(`SET search_path TO "${schema}"`)
    await client.query(tableSql)
  } finally {
    client.release()
  }
})
after(async () => {
  if (!pool) return
  await Promise.allSettled(stores.map((store) => store.close()))
  await pool.query(`DROP SCHEMA IF EXISTS "${autoSchema}" CASCADE`)
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await pool.end()
})

/** Opens a store the way the README's advanced example does (a shared pool); closed at the end. */
function open(options) {
  const store = new PgStore({ pool, ...options })
  stores.push(store)
  return store
}

/** The row the store wrote: its JSON and its expiry as PostgreSQL will compare it. */
function backendFor(quotedTable) {
  return {
    async read(sid) {
      const { rows } = await pool.query(`SELECT sess, extract(epoch from expire::timestamptz) * 1000 AS ms FROM ${quotedTable} WHERE sid = $1`, [sid])
      if (rows.length === 0) return null
      return { data: rows[0].sess, expiresAt: Number(rows[0].ms) }
    },
  }
}

let created
const autoStore = () => (created ??= open({ schemaName: autoSchema, tableName: table, createTableIfMissing: true }))
// The flows, the kit and the snippet use separate keys/tables/directories, so they run side by side;
// each runs its own steps in order.
describe('connect-pg-simple on PostgreSQL', { concurrency: true }, () => {
  storeFlow('connect-pg-simple (createTableIfMissing)', {
    skip,
    secondResolution: true,
    store: autoStore,
    backend: backendFor(`"${autoSchema}"."${table}"`),
  })

  let shipped
  storeFlow('connect-pg-simple (table.sql)', {
    skip,
    secondResolution: true,
    store: () => (shipped ??= open({ schemaName: schema })),
    backend: backendFor(`"${schema}"."session"`),
  })

  describe('connect-pg-simple', { skip }, () => {
    test('createTableIfMissing made the table, with the columns of table.sql', async () => {
      // The store makes its table on its first query.
      await new Promise((resolve, reject) => autoStore().get('absent', (err) => (err ? reject(err) : resolve())))
      const { rows } = await pool.query('SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY column_name', [autoSchema, table])
      assert.deepEqual(rows.map((row) => row.column_name), ['expire', 'sess', 'sid'])
    })
    testStore({ name: 'connect-pg-simple (conformance kit, table.sql)', store: () => open({ schemaName: schema }) })
  })

  describe('the PostgreSQL snippet on the Stores page', { skip }, () => {
    test('runs as written: a login is stored in the "session" table and read back', async () => {
      const middleware = runSnippet('postgres', {
        DATABASE_URL: `postgres://${connection.user}@${connection.host}:${connection.port}/${connection.database}`,
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
        sid = sidOf(login.cookie)
        const { rows } = await pool.query('SELECT sess FROM public."session" WHERE sid = $1', [sid])
        assert.equal(rows[0]?.sess.user, 'ann')
        assert.equal((await request(server.base, '/me', { cookie: login.cookie })).text, 'ann')
      } finally {
        await server.close()
        // The snippet's default table may be shared with other runs: remove only this run's row.
        if (sid) await pool.query('DELETE FROM public."session" WHERE sid = $1', [sid])
        await store?.close()
      }
    })
  })
})
