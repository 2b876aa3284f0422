// The history example with its sessions in PostgreSQL (connect-pg-simple), in the "session" table
// that connect-pg-simple's own table.sql creates.
// Needs PostgreSQL on DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
// Run: npm run example:postgres-store
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const express = require('express')
const session = require('sessionkit')
const { Pool } = require('pg')
// connect-pg-simple is given the session factory and builds its store class on `session.Store`.
const PgStore = require('connect-pg-simple')(session)
const { sessionSecret, escapeHtml, page, start } = require('../shared/common.js')

/**
 * Creates the table the first time, with the SQL connect-pg-simple ships (the same file its README
 * tells you to run with psql). Later starts find the table and do nothing.
 */
async function ensureSessionTable(pool) {
  const { rows } = await pool.query(`SELECT to_regclass('session') AS name`)
  if (rows[0].name) return
  const sql = fs.readFileSync(path.join(path.dirname(require.resolve('connect-pg-simple')), 'table.sql'), 'utf8')
  try {
    await pool.query(sql)
    console.log('created the "session" table from connect-pg-simple/table.sql')
  } catch (err) {
    if (err.code !== '42P07') throw err // 42P07: another process created it at the same moment
  }
}

async function main() {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' })
  // An idle pooled connection that PostgreSQL closes (a restart) is an 'error' event on the pool: without
  // a listener it would end the process.
  pool.on('error', (err) => console.error('postgres pool:', err.message))
  await ensureSessionTable(pool)

  const app = express()
  app.use(
    session({
      // Rows of "session": sid, sess (json), expire. Expired rows are pruned every 15 minutes.
      store: new PgStore({ pool }),
      secret: sessionSecret(),
      name: 'postgres.sid', // its own name: cookies are shared by every port of localhost
      resave: false, // connect-pg-simple has `touch`, so unchanged sessions need not be rewritten
      saveUninitialized: false,
      cookie: {
        httpOnly: true, // the session id is out of reach of scripts in the page
        sameSite: 'lax', // not sent with cross-site POSTs (CSRF)
        secure: 'auto', // HTTPS-only over HTTPS; behind a TLS proxy also set app.set('trust proxy', 1)
        maxAge: 24 * 60 * 60 * 1000, // one day after the last visit, in the browser and in the table
      },
    }),
  )

  for (const url of ['/', '/about', '/contact']) {
    app.get(url, async (req, res) => {
      req.session.history ??= []
      req.session.history.unshift(url) // changed in place: still saved
      req.session.history.splice(10)
      // Saved now rather than at the end of the response, so that the row shown below is this visit's.
      await req.session.save()
      const { rows } = await pool.query('SELECT sess, expire FROM "session" WHERE sid = $1', [req.sessionID])
      const row = rows[0]
      res.send(
        page(
          'Sessions in PostgreSQL',
          `<nav><a href="/">Home</a><a href="/about">About</a><a href="/contact">Contact</a></nav>
<h1>${escapeHtml(url)}</h1>
<h2>History</h2><ol id="history">${req.session.history.map((u) => `<li>${escapeHtml(u)}</li>`).join('')}</ol>
<h2>What PostgreSQL holds</h2>
<p class="note">SELECT sess, expire FROM "session" WHERE sid = &lt;session id&gt; (expire ${escapeHtml(row?.expire?.toISOString())}):</p>
<pre id="stored">${escapeHtml(JSON.stringify(row?.sess))}</pre>`,
        ),
      )
    })
  }

  const server = start(app, 'postgres-store', 3010)
  // Let requests in flight finish, then close the pool (and its prune timer), so the process ends by itself.
  const shutdown = () => server.close(() => pool.end())
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}

main().catch((err) => {
  console.error(`postgres-store example: ${err.message}. Is PostgreSQL running? (or set DATABASE_URL)`)
  process.exit(1)
})
