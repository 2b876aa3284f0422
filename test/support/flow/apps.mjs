// Shared helpers for the option and request-flow tests: the same app on Express 5, Express 4,
// connect and plain node:http, a store that counts (and can slow down) calls, and a tiny cookie jar.
import { createRequire } from 'node:module'
import connect from 'connect'
import express5 from 'express'
import express4 from 'express4'
import expressSession from 'express-session'
import session, { MemoryStore } from 'sessionkit'
import { listen, request } from '../http.mjs'

const require = createRequire(import.meta.url)
export const cookieSignature = require('cookie-signature')
export { session, MemoryStore, expressSession, listen, request }

/** Answers from a route handler using only node:http, so one handler serves every framework. */
export function send(res, body, status = 200) {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.end(typeof body === 'string' ? body : JSON.stringify(body))
}

export function redirect(res, location) {
  res.statusCode = 302
  res.setHeader('Location', location)
  // A body, as Express's res.redirect sends one: with a body the headers can leave before res.end
  // completes, which is what a middleware that saves after the headers gets wrong.
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.end(`Found. Redirecting to ${location}`)
}

// Errors become `500 error: <message>` (or the error's status) on every framework, so a test can
// tell the middleware's error from the app's answer.
function errorBody(err) {
  return `error: ${err && err.message ? err.message : String(err)}`
}
function errorStatus(err) {
  const status = err && (err.status ?? err.statusCode)
  return Number.isInteger(status) && status >= 400 ? status : 500
}

/** Calls `routes[pathname](req, res)`; an async route's rejection goes to `next`; no route → 404. */
function dispatch(routes) {
  return (req, res, next) => {
    const path = new URL(req.url, 'http://localhost').pathname
    const route = routes[path] ?? routes['*']
    if (!route) return send(res, 'not found', 404)
    try {
      const result = route(req, res)
      if (result && typeof result.then === 'function') result.then(undefined, next)
    } catch (err) {
      next(err)
    }
  }
}

function expressApp(create) {
  return (middleware, routes, setup) => {
    const app = create()
    setup?.(app)
    app.use(middleware)
    app.use(dispatch(routes))
    app.use((err, req, res, _next) => send(res, errorBody(err), errorStatus(err)))
    return app
  }
}

/**
 * Each framework builds an app from (middleware, routes, setup?). `setup(app)` runs first (Express
 * only, for `app.set('trust proxy', ...)`).
 */
export const frameworks = [
  { name: 'express5', build: expressApp(() => express5()) },
  { name: 'express4', build: expressApp(() => express4()) },
  {
    name: 'connect',
    build: (middleware, routes) => {
      const app = connect()
      app.use(middleware)
      app.use(dispatch(routes))
      app.use((err, req, res, _next) => send(res, errorBody(err), errorStatus(err)))
      return app
    },
  },
  {
    name: 'http',
    build: (middleware, routes) => {
      const handle = dispatch(routes)
      return (req, res) => {
        const fail = (err) => send(res, errorBody(err), errorStatus(err))
        middleware(req, res, (err) => {
          if (err) fail(err)
          else handle(req, res, (routeError) => fail(routeError))
        })
      }
    },
  },
]

export const express5Framework = frameworks[0]

/**
 * Starts an app on a free port. Returns { base, close, get(path, options) } where `get` is `request`
 * bound to the server.
 */
export async function start(middleware, routes, { framework = express5Framework, setup } = {}) {
  const server = await listen(framework.build(middleware, routes, setup))
  return {
    ...server,
    get: (path, options) => request(server.base, path, options),
  }
}

/** The session cookie (name=value) among a response's Set-Cookie headers, or undefined. */
export function sessionCookie(response, name = 'connect.sid') {
  const header = response.setCookies.find((h) => h.startsWith(`${name}=`))
  return header === undefined ? undefined : header.split(';')[0]
}

/** The full Set-Cookie header for the session cookie, or undefined. */
export function sessionSetCookie(response, name = 'connect.sid') {
  return response.setCookies.find((h) => h.startsWith(`${name}=`))
}

/** The session id inside `name=s:<id>.<mac>`, verified with `secret`; false when it does not verify. */
export function idOf(cookie, secret) {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1))
  if (!value.startsWith('s:')) return false
  return cookieSignature.unsign(value.slice(2), secret)
}

/** A cookie value for `id`, signed with `secret` as express-session and sessionkit sign it. */
export function signedCookie(id, secret, name = 'connect.sid') {
  return `${name}=${encodeURIComponent('s:' + cookieSignature.sign(id, secret))}`
}

const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A store around sessionkit's MemoryStore that records every call, optionally delays `set`, and can
 * leave out `touch`. It extends express-session's Store (an EventEmitter with the helpers
 * express-session itself needs) so the same store serves both middlewares in side-by-side tests;
 * sessionkit must not need those helpers.
 */
export class CountingStore extends expressSession.Store {
  constructor({ setDelay = 0, touch = true } = {}) {
    super()
    this.inner = new MemoryStore({ checkPeriod: 0 })
    this.setDelay = setDelay
    this.calls = { get: [], set: [], touch: [], destroy: [] }
    if (!touch) this.touch = undefined
  }

  get(sid, callback) {
    this.calls.get.push(sid)
    this.inner.get(sid, callback)
  }

  set(sid, sess, callback) {
    this.calls.set.push(sid)
    // Copy now: what counts is what the middleware handed over at the time of the call.
    const copy = JSON.parse(JSON.stringify(sess))
    const write = () => this.inner.set(sid, copy, callback)
    if (this.setDelay > 0) setTimeout(write, this.setDelay)
    else write()
  }

  touch(sid, sess, callback) {
    this.calls.touch.push(sid)
    this.inner.touch(sid, JSON.parse(JSON.stringify(sess)), callback)
  }

  destroy(sid, callback) {
    this.calls.destroy.push(sid)
    this.inner.destroy(sid, callback)
  }

  /** The stored record for `sid` (JSON copy) or null. */
  read(sid) {
    return new Promise((resolve, reject) => this.inner.get(sid, (err, record) => (err ? reject(err) : resolve(record ?? null))))
  }

  ids() {
    return new Promise((resolve, reject) => this.inner.ids((err, ids) => (err ? reject(err) : resolve(ids))))
  }

  reset() {
    for (const key of Object.keys(this.calls)) this.calls[key] = []
  }
}

/** Options shared by most tests: explicit flags (so no warning) and a fixed secret. */
export const SECRET = 'keyboard cat'
export function options(extra = {}) {
  return { secret: SECRET, resave: false, saveUninitialized: false, ...extra }
}

export { tick }
