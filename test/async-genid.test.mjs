// genid may be an async function (express-session #107).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import express from 'express'
import session, { MemoryStore } from 'sessionkit'
import { listen, request } from './support/http.mjs'

const idOf = (cookie) => decodeURIComponent(cookie.split('=')[1]).slice(2).split('.')[0]

test('an async genid is awaited for new sessions and for regenerate', async () => {
  const store = new MemoryStore()
  let made = 0
  const app = express()
  app.use(
    session({
      secret: 'genid',
      resave: false,
      saveUninitialized: false,
      store,
      genid: async (req) => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        made++
        return `${req.headers['x-tenant'] ?? 'anon'}-${made}`
      },
    }),
  )
  app.get('/', (req, res) => {
    req.session.seen = true
    res.send(req.sessionID)
  })
  app.get('/login', async (req, res) => {
    await req.session.regenerate()
    req.session.user = 1
    res.send(req.sessionID)
  })
  const { base, close } = await listen(app)
  try {
    const first = await request(base, '/', { headers: { 'x-tenant': 'acme' } })
    assert.equal(first.text, 'acme-1')
    assert.equal(idOf(first.cookie), 'acme-1')
    const again = await request(base, '/', { cookie: first.cookie })
    assert.equal(again.text, 'acme-1', 'a loaded session needs no new id')
    const login = await request(base, '/login', { cookie: first.cookie, headers: { 'x-tenant': 'acme' } })
    assert.equal(login.text, 'acme-2')
    assert.equal(idOf(login.cookie), 'acme-2')
  } finally {
    await close()
  }
})

test('an async genid that fails gives an error to next(), not a crash', async () => {
  const app = express()
  app.use(
    session({
      secret: 'genid',
      resave: false,
      saveUninitialized: false,
      genid: async () => {
        throw new Error('id service down')
      },
    }),
  )
  app.get('/', (req, res) => res.send('unreachable'))
  app.use((err, req, res, _next) => res.status(503).send(err.message))
  const { base, close } = await listen(app)
  try {
    const response = await request(base, '/')
    assert.equal(response.status, 503)
    assert.equal(response.text, 'id service down')
  } finally {
    await close()
  }
})

test('a plain function returning a Promise is refused with a message that says what to do', async () => {
  const app = express()
  app.use(session({ secret: 'genid', resave: false, saveUninitialized: false, genid: () => Promise.resolve('x') }))
  app.get('/', (req, res) => {
    req.session.a = 1
    res.send('ok')
  })
  app.use((err, req, res, _next) => res.status(500).send(err.message))
  const { base, close } = await listen(app)
  try {
    const response = await request(base, '/')
    assert.equal(response.status, 500)
    assert.match(response.text, /async function/)
  } finally {
    await close()
  }
})
