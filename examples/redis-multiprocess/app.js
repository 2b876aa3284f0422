// One process of an app that runs as several behind one Redis. Every process shares the store (and its
// key prefix) and the secret, so a session made by one is seen by all, and a process that dies takes
// no session with it. Start two with `npm run example:redis-multiprocess`; the test suite starts this same file.
'use strict'
const express = require('express')
const session = require('sessionkit')
const { RedisStore } = require('connect-redis')
const { createClient } = require('redis')

const port = Number(process.env.PORT ?? 3001)
const redisClient = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
redisClient.on('error', (err) => console.error(`[${process.pid}] redis: ${err.message}`))

const app = express()
app.use(express.urlencoded({ extended: false }))
app.use(
  session({
    store: new RedisStore({ client: redisClient, prefix: process.env.SESSION_PREFIX ?? 'sessionkit-example:' }),
    // Every process must have the same secret; in a real deployment it comes from the environment.
    secret: process.env.SESSION_SECRET ?? 'example secret: set SESSION_SECRET',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: 60 * 60 * 1000 },
  }),
)

const whoami = (req) => ({ pid: process.pid, port: server.address().port, user: req.session.user ?? null, visits: req.session.visits ?? 0 })

app.get('/', (req, res) => {
  const me = whoami(req)
  const form = me.user
    ? `<p>Logged in as <b>${escapeHtml(me.user)}</b>.</p><form method="post" action="/visit"><button>Count a visit</button></form><form method="post" action="/logout"><button>Log out</button></form>`
    : '<form method="post" action="/login"><label>Name <input name="name" autofocus></label> <button>Log in</button></form>'
  res.send(
    `<!doctype html><meta charset="utf-8"><title>sessionkit on Redis</title><h1>Process ${me.pid}, port ${me.port}</h1>` +
      `<p>Visits counted in this session: <b>${me.visits}</b>.</p>${form}<p>Open the other port: the session is the same.</p>`,
  )
})

app.get('/whoami', (req, res) => res.json(whoami(req)))

app.post('/login', async (req, res, next) => {
  try {
    // A new id at login, so an id planted before it is worth nothing.
    await req.session.regenerate()
    req.session.user = String(req.body.name || 'anonymous')
    if (req.accepts(['html', 'json']) === 'json') res.json(whoami(req))
    else res.redirect('/')
  } catch (err) {
    next(err)
  }
})

app.post('/visit', (req, res) => {
  req.session.visits = (req.session.visits ?? 0) + 1
  if (req.accepts(['html', 'json']) === 'json') res.json(whoami(req))
  else res.redirect('/')
})

app.post('/logout', async (req, res, next) => {
  try {
    await req.session.destroy()
    res.redirect('/')
  } catch (err) {
    next(err)
  }
})

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

let server
redisClient.connect().then(
  () => {
    server = app.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port} (pid ${process.pid})`))
  },
  (err) => {
    console.error(`cannot reach Redis at ${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'}: ${err.message}`)
    process.exit(1)
  },
)

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server?.close()
    server?.closeAllConnections()
    redisClient.close().finally(() => process.exit(0))
  })
}
