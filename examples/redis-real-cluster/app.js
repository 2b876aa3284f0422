// One process of an app whose sessions live on a Redis Cluster, in sessionkit/redis: each session a
// hash in its own slot, the owner index (indexBy) spread over the cluster, SCAN over every master.
// `npm run example:redis-real-cluster` starts a local cluster and two of these; the failover bench
// (bench/failover.mjs) and test start this same file. Environment:
//   REDIS_CLUSTER_NODES  seed nodes, default 127.0.0.1:7140,127.0.0.1:7141,127.0.0.1:7142
//   REDIS_CLIENT         node-redis (default) or ioredis
//   WAIT_REPLICAS        0 (default) or the number of replicas each login and logout must reach first
//   WAIT_TIMEOUT_MS      how long each of those waits may take, default 200
'use strict'
const express = require('express')
const session = require('sessionkit')
const { RedisStore } = require('sessionkit/redis')

const port = Number(process.env.PORT ?? 3001)
const nodes = (process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:7140,127.0.0.1:7141,127.0.0.1:7142').split(',').map((address) => {
  const [host, nodePort] = address.split(':')
  return { host, port: Number(nodePort) }
})
const waitReplicas = Number(process.env.WAIT_REPLICAS ?? 0)
const waitTimeoutMs = Number(process.env.WAIT_TIMEOUT_MS ?? 200)

/** A connected Cluster client of the kind asked for, set to fail fast while a shard fails over. */
async function connectCluster() {
  if (process.env.REDIS_CLIENT === 'ioredis') {
    const Redis = require('ioredis')
    const cluster = new Redis.Cluster(nodes, { enableOfflineQueue: true, clusterRetryStrategy: () => 100, redisOptions: { connectTimeout: 1000, maxRetriesPerRequest: 1 } })
    cluster.on('error', (err) => console.error(`[${process.pid}] redis: ${err.message}`))
    await new Promise((resolve, reject) => {
      cluster.once('ready', resolve)
      cluster.once('error', reject)
    })
    return { client: cluster, close: () => cluster.quit() }
  }
  const { createCluster } = require('redis')
  const cluster = createCluster({
    rootNodes: nodes.map((node) => ({ url: `redis://${node.host}:${node.port}` })),
    defaults: { disableOfflineQueue: true, socket: { connectTimeout: 1000, reconnectStrategy: () => 100 } },
  })
  cluster.on('error', (err) => console.error(`[${process.pid}] redis: ${err.message}`))
  await cluster.connect()
  return { client: cluster, close: () => cluster.close() }
}

let server

async function main() {
  const redis = await connectCluster()
  const store = new RedisStore({
    client: redis.client,
    prefix: process.env.SESSION_PREFIX ?? 'sessionkit-cluster-example:',
    indexBy: 'user',
    // With it, a login or logout is answered only once a replica has it, so a failover cannot undo it.
    // WAIT holds the connection it runs on, so every command behind it waits too: keep it short.
    waitForReplicas: waitReplicas > 0 ? { replicas: waitReplicas, timeoutMs: waitTimeoutMs } : undefined,
  })
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(
    session({
      store,
      secret: process.env.SESSION_SECRET ?? 'example secret: set SESSION_SECRET',
      resave: false,
      saveUninitialized: false,
      // A shard that is failing over answers 503 within this, instead of holding the request.
      storeTimeout: 1000,
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: 60 * 60 * 1000 },
    }),
  )
  const wantsJson = (req) => req.accepts(['html', 'json']) === 'json'
  const whoami = (req) => ({ pid: process.pid, port: server.address().port, user: req.session.user ?? null, visits: req.session.visits ?? 0 })

  app.get('/', (req, res) => {
    const me = whoami(req)
    const form = me.user
      ? `<p>Logged in as <b>${escapeHtml(me.user)}</b>.</p><form method="post" action="/visit"><button>Count a visit</button></form>` +
        '<form method="post" action="/logout"><button>Log out</button></form><form method="post" action="/logout-everywhere"><button>Log out everywhere</button></form>'
      : '<form method="post" action="/login"><label>Name <input name="name" autofocus></label> <button>Log in</button></form>'
    res.send(
      `<!doctype html><meta charset="utf-8"><title>sessionkit on a Redis Cluster</title><h1>Process ${me.pid}, port ${me.port}</h1>` +
        `<p>Visits counted in this session: <b>${me.visits}</b>.</p>${form}<p>Log in from two browsers, then log out everywhere: the owner index finds both on whichever masters they live.</p>`,
    )
  })

  app.get('/whoami', (req, res) => res.json(whoami(req)))

  app.post('/login', async (req, res, next) => {
    try {
      await req.session.regenerate()
      req.session.user = String(req.body.name || 'anonymous')
      if (wantsJson(req)) res.json(whoami(req))
      else res.redirect('/')
    } catch (err) {
      next(err)
    }
  })

  app.post('/visit', (req, res) => {
    req.session.visits = (req.session.visits ?? 0) + 1
    if (wantsJson(req)) res.json(whoami(req))
    else res.redirect('/')
  })

  app.post('/logout', async (req, res, next) => {
    try {
      await req.session.destroy()
      if (wantsJson(req)) res.json({ user: null })
      else res.redirect('/')
    } catch (err) {
      next(err)
    }
  })

  app.post('/logout-everywhere', async (req, res, next) => {
    try {
      const user = req.session.user
      const sids = user ? await store.idsOf(user) : []
      for (const sid of sids) if (sid !== req.sessionID) await store.destroy(sid)
      await req.session.destroy()
      if (wantsJson(req)) res.json({ user: null, ended: sids.length })
      else res.redirect('/')
    } catch (err) {
      next(err)
    }
  })

  // A store failure is a 503 from sessionkit; answer it plainly rather than with a stack trace.
  app.use((err, req, res, _next) => res.status(err.status ?? 500).json({ error: err.message }))

  server = app.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port} (pid ${process.pid})`))
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      server.close()
      server.closeAllConnections()
      redis.close().finally(() => process.exit(0))
    })
  }
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

main().catch((err) => {
  console.error(`cannot start: ${err.message}`)
  process.exit(1)
})
