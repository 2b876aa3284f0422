// The history example with its sessions in Redis (connect-redis): they survive a restart of the app
// and are shared by every process that uses the same Redis.
// Needs Redis on REDIS_URL (default redis://127.0.0.1:6379).
// Run: npm run example:redis-store
'use strict'
const express = require('express')
const session = require('sessionkit')
// connect-redis 9 exports the class by name (`.default` was the v7 way). It extends express-session's
// Store class, so express-session must be installed next to it; sessionkit works with it as it is.
const { RedisStore } = require('connect-redis')
const { createClient } = require('redis')
const { sessionSecret, escapeHtml, page, start } = require('../shared/common.js')

const PREFIX = 'sessionkit-example:'

async function main() {
  const client = createClient({ url: process.env.REDIS_URL || 'redis://127.0.0.1:6379' })
  // Without a listener an 'error' event (Redis going away) would crash the process; the client
  // reconnects by itself, and requests fail with a 503 meanwhile.
  client.on('error', (err) => console.error(`Redis: ${err.message}`))
  await client.connect()

  const app = express()
  app.use(
    session({
      // Keys are PREFIX + session id; the TTL of each key follows the cookie's maxAge.
      store: new RedisStore({ client, prefix: PREFIX }),
      secret: sessionSecret(),
      name: 'redis.sid', // its own name: cookies are shared by every port of localhost
      resave: false, // connect-redis has `touch`, so unchanged sessions need not be rewritten
      saveUninitialized: false,
      cookie: {
        httpOnly: true, // the session id is out of reach of scripts in the page
        sameSite: 'lax', // not sent with cross-site POSTs (CSRF)
        secure: 'auto', // HTTPS-only over HTTPS; behind a TLS proxy also set app.set('trust proxy', 1)
        maxAge: 24 * 60 * 60 * 1000, // one day after the last visit, in the browser and in Redis
      },
    }),
  )

  for (const path of ['/', '/about', '/contact']) {
    app.get(path, async (req, res) => {
      req.session.history ??= []
      req.session.history.unshift(path) // changed in place: still saved
      req.session.history.splice(10)
      // Saved now rather than at the end of the response, so that the record shown below is this visit's.
      await req.session.save()
      const stored = await client.get(PREFIX + req.sessionID)
      res.send(
        page(
          'Sessions in Redis',
          `<nav><a href="/">Home</a><a href="/about">About</a><a href="/contact">Contact</a></nav>
<h1>${escapeHtml(path)}</h1>
<h2>History</h2><ol id="history">${req.session.history.map((url) => `<li>${escapeHtml(url)}</li>`).join('')}</ol>
<h2>What Redis holds</h2>
<p class="note">GET ${escapeHtml(PREFIX)}&lt;session id&gt; (TTL ${await client.ttl(PREFIX + req.sessionID)} s):</p>
<pre id="stored">${escapeHtml(stored)}</pre>`,
        ),
      )
    })
  }

  const server = start(app, 'redis-store', 3009)
  // Let requests in flight finish, then close the connection, so that the process ends by itself.
  const shutdown = () => server.close(() => client.close())
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}

main().catch((err) => {
  console.error(`redis-store example: ${err.message}. Is Redis running? (redis-server, or set REDIS_URL)`)
  process.exit(1)
})
