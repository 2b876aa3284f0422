// One session across frameworks: an Express app, a Fastify app and a Hono app, each a service of its
// own with its own Redis client and store instance, share one Redis and one secret. A user logs in on
// one, reads and changes the session on the others, logs out on a third, and the session is gone
// everywhere; a logout that races a request in flight on another framework is never undone.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import { createClient } from 'redis'
import session from 'sessionkit'
import fastifySession from 'sessionkit/fastify'
import { session as honoSession } from 'sessionkit/hono'
import { RedisStore } from 'sessionkit/redis'
import { requireService } from './support/services.mjs'
import { listen } from './support/http.mjs'

const { skip } = await requireService('redis')
const SECRET = 'one secret shared by every service, 32+ characters long'
const prefix = `sessionkit-cross:${process.pid}-${Date.now().toString(36)}:`
// The one cookie every service reads and writes. @fastify/session writes its ids without express-session's
// `s:` mark unless told: `cookiePrefix: 's:'` makes the three services' cookies the same.
const NAME = 'sid'

const clients = []
const closers = []
/** A store of one service: its own client, as a separate process would have. */
async function storeOfOwn() {
  const client = createClient({ url: 'redis://127.0.0.1:6379' })
  client.on('error', (err) => console.error('redis:', err.message))
  await client.connect()
  clients.push(client)
  return new RedisStore({ client, prefix })
}

/** Resolves the slow route's wait once the test says so: a request held in flight on purpose. */
let release = () => {}
let reached = () => {}

/** The routes every service has, written in its own framework's idiom. */
const services = {}

before(async () => {
  if (skip) return
  const app = express()
  app.use(session({ secret: SECRET, name: NAME, store: await storeOfOwn(), resave: false, saveUninitialized: false }))
  app.post('/login', async (req, res) => {
    await req.session.regenerate()
    req.session.user = 'amy'
    req.session.visits = 0
    req.session.via = 'express'
    res.send('in')
  })
  app.get('/me', (req, res) => res.json({ user: req.session.user ?? null, visits: req.session.visits ?? null, via: req.session.via ?? null }))
  app.post('/visit', (req, res) => {
    req.session.visits = (req.session.visits ?? 0) + 1
    req.session.via = 'express'
    res.json({ visits: req.session.visits })
  })
  app.post('/logout', async (req, res) => {
    await req.session.destroy()
    res.send('out')
  })
  const expressServer = await listen(app)
  closers.push(expressServer.close)
  services.express = expressServer.base

  const fastify = Fastify()
  fastify.register(fastifyCookie)
  fastify.register(fastifySession, { secret: SECRET, cookieName: NAME, cookiePrefix: 's:', store: await storeOfOwn(), saveUninitialized: false, cookie: { secure: false } })
  fastify.get('/me', async (request) => ({ user: request.session.user ?? null, visits: request.session.visits ?? null, via: request.session.via ?? null }))
  fastify.post('/visit', async (request) => {
    request.session.visits = (request.session.visits ?? 0) + 1
    request.session.via = 'fastify'
    return { visits: request.session.visits }
  })
  fastify.post('/slow', async (request) => {
    const visits = request.session.visits
    reached()
    await new Promise((resolve) => {
      release = resolve
    })
    request.session.visits = (visits ?? 0) + 100
    return { visits: request.session.visits }
  })
  fastify.post('/logout', async (request) => {
    await request.session.destroy()
    return 'out'
  })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  closers.push(() => fastify.close())
  services.fastify = `http://127.0.0.1:${fastify.server.address().port}`

  const hono = new Hono()
  hono.use(honoSession({ secret: SECRET, name: NAME, store: await storeOfOwn(), resave: false, saveUninitialized: false }))
  hono.get('/me', (c) => {
    const current = c.get('session')
    return c.json({ user: current.user ?? null, visits: current.visits ?? null, via: current.via ?? null })
  })
  hono.post('/visit', (c) => {
    const current = c.get('session')
    current.visits = (current.visits ?? 0) + 1
    current.via = 'hono'
    return c.json({ visits: current.visits })
  })
  hono.post('/logout', async (c) => {
    await c.get('session').destroy()
    return c.text('out')
  })
  const honoServer = await new Promise((resolve) => {
    const server = serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(server))
  })
  closers.push(() => new Promise((resolve) => honoServer.close(() => resolve())))
  services.hono = `http://127.0.0.1:${honoServer.address().port}`
})

after(async () => {
  for (const close of closers) await close()
  const [first] = clients
  if (first !== undefined) for await (const keys of first.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) for (const key of keys) await first.del(key)
  for (const client of clients) await client.close()
})

/** One request to a service with the browser's cookie; keeps what the response sets, as a browser does. */
async function call(browser, service, method, path) {
  const response = await fetch(services[service] + path, { method, headers: browser.cookie ? { cookie: browser.cookie } : {} })
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';')[0]
    if (!pair.startsWith(`${NAME}=`)) continue
    const expired = /expires=Thu, 01 Jan 1970/i.test(line) || pair === `${NAME}=`
    browser.cookie = expired ? undefined : pair
  }
  const type = response.headers.get('content-type') ?? ''
  return { status: response.status, body: type.includes('json') ? await response.json() : await response.text() }
}

async function sessionKeys() {
  const keys = []
  for await (const batch of clients[0].scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...batch)
  return keys.filter((key) => !key.includes(':owner:'))
}

describe('one session across Express, Fastify and Hono', { skip }, () => {
  test('log in on Express, change the session on Fastify and Hono, log out on Hono: gone everywhere', async () => {
    const browser = {}
    assert.equal((await call(browser, 'express', 'POST', '/login')).status, 200)
    assert.ok(browser.cookie, 'Express set the session cookie')
    assert.deepEqual((await call(browser, 'fastify', 'GET', '/me')).body, { user: 'amy', visits: 0, via: 'express' })
    assert.deepEqual((await call(browser, 'fastify', 'POST', '/visit')).body, { visits: 1 })
    assert.deepEqual((await call(browser, 'hono', 'GET', '/me')).body, { user: 'amy', visits: 1, via: 'fastify' })
    assert.deepEqual((await call(browser, 'hono', 'POST', '/visit')).body, { visits: 2 })
    assert.deepEqual((await call(browser, 'express', 'GET', '/me')).body, { user: 'amy', visits: 2, via: 'hono' })
    assert.deepEqual((await call(browser, 'express', 'POST', '/visit')).body, { visits: 3 })
    assert.deepEqual((await call(browser, 'fastify', 'GET', '/me')).body, { user: 'amy', visits: 3, via: 'express' })

    const stolen = browser.cookie
    assert.equal((await call(browser, 'hono', 'POST', '/logout')).status, 200)
    assert.equal(browser.cookie, undefined, 'the logout cleared the cookie')
    assert.deepEqual(await sessionKeys(), [], 'the store holds no session')
    // The old cookie, replayed on every service, opens nothing.
    for (const service of ['express', 'fastify', 'hono']) {
      const replay = { cookie: stolen }
      assert.deepEqual((await call(replay, service, 'GET', '/me')).body, { user: null, visits: null, via: null }, service)
    }
  })

  test('a logout on Express while a Fastify request on the same session is in flight: the session is never restored', async () => {
    const browser = {}
    await call(browser, 'express', 'POST', '/login')
    const original = browser.cookie
    const loaded = new Promise((resolve) => {
      reached = resolve
    })
    const inFlight = call({ cookie: browser.cookie }, 'fastify', 'POST', '/slow')
    await loaded // Fastify has loaded the session and holds the request
    assert.equal((await call(browser, 'express', 'POST', '/logout')).status, 200)
    release()
    const late = await inFlight
    // The late save finds the session gone: its request fails with 409 rather than write it back.
    assert.equal(late.status, 409, `the late request's answer: ${JSON.stringify(late.body)}`)
    assert.deepEqual(await sessionKeys(), [], 'the late save did not bring the session back')
    for (const service of ['express', 'fastify', 'hono']) {
      assert.deepEqual((await call({ cookie: original }, service, 'GET', '/me')).body, { user: null, visits: null, via: null }, service)
    }
  })
})
