// The account page of the session metadata and cap tests: a login, the page that lists where the user
// is logged in, and the buttons beside each session. Also run as a process of its own by
// test/owner-cap.test.mjs (see the bottom of this file).
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import express from 'express'
import session from 'sessionkit'
import { request } from './http.mjs'

export const SECRET = 'where am I logged in'

/** An Express app over session(options) with the account routes; `sessions` is the middleware. */
export function accountApp(options = {}) {
  const sessions = session({ secret: SECRET, resave: false, saveUninitialized: false, indexBy: 'userId', metadata: true, cookie: { maxAge: 3_600_000 }, ...options })
  const app = express()
  app.use(sessions)
  app.post('/login/:user', async (req, res) => {
    await req.session.regenerate()
    req.session.userId = req.params.user
    res.send(req.sessionID)
  })
  app.get('/me', (req, res) => res.send(req.session.userId ?? 'nobody'))
  app.get('/account/sessions', async (req, res) => {
    res.json(await sessions.sessionsOf(req.session.userId, { details: true, current: req }))
  })
  app.post('/account/sessions/:handle/end', async (req, res) => {
    const ended = await sessions.endSession(req.session.userId, req.params.handle)
    res.status(ended ? 204 : 404).end()
  })
  app.post('/account/sessions/end-others', async (req, res) => {
    res.send(String(await sessions.destroySessionsOf(req.session.userId, { except: req.sessionID })))
  })
  return { app, sessions }
}

/** Listens on `port` of 127.0.0.1; `close()` ends every connection too. */
export async function listenOn(handler, port) {
  const server = createServer(handler)
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve))
  return {
    base: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

/** Ports handed out one at a time from `first` to `last`: no pooled connection meets a closed server. */
export function portsFrom(first, last) {
  let next = first
  return () => {
    assert.ok(next <= last, `the ports ${first}-${last} are used up`)
    return next++
  }
}

export const post = (base, path, options = {}) => request(base, path, { ...options, method: 'POST' })
/** The account page as the browser with `cookie` sees it. */
export const listSessions = async (base, cookie) => JSON.parse((await request(base, '/account/sessions', { cookie })).text)
