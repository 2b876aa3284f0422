// Fastify apps for the tests of sessionkit/fastify: the same app built with the real @fastify/session
// or with sessionkit/fastify, requests sent with Fastify's inject (no port), and a store whose records
// can be read back as the store holds them.
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import { parseSetCookie } from './http.mjs'

/** A secret as @fastify/session requires it: 32 characters or more. */
export const SECRET = 'a secret with minimum length of 32 characters'

/**
 * Builds a Fastify app with @fastify/cookie and `plugin` registered with `options`, then `routes(app)`.
 * `trustProxy` is on so that a test can make a request count as HTTPS with `X-Forwarded-Proto`.
 */
export async function build(plugin, options, routes) {
  const app = Fastify({ trustProxy: true })
  await app.register(fastifyCookie)
  await app.register(plugin, options)
  routes(app)
  await app.ready()
  return app
}

/**
 * One request by inject. `cookie`: a Cookie header; `https`: sent as if behind a TLS proxy.
 * Returns { status, body (parsed when JSON), setCookies: parsed Set-Cookie values, cookie: 'name=value' }.
 */
export async function send(app, url, { method = 'GET', cookie, https = true, headers = {} } = {}) {
  const response = await app.inject({
    method,
    url,
    headers: { ...headers, ...(cookie ? { cookie } : {}), ...(https ? { 'x-forwarded-proto': 'https' } : {}) },
  })
  const raw = response.headers['set-cookie']
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]
  let body = response.body
  try {
    body = JSON.parse(response.body)
  } catch {}
  return { status: response.statusCode, body, headers: response.headers, setCookies: list.map(parseSetCookie), cookie: list[0]?.split(';')[0] }
}

/**
 * A store with express-session's callback API over a Map of JSON strings, as connect-redis keeps them:
 * `records()` reads back what a save wrote. `fail` makes one method answer with an error ('get',
 * 'set', 'destroy'); `hang` makes one never answer.
 */
export function jsonStore({ fail, hang } = {}) {
  const map = new Map()
  const answer = (method, callback, run) => {
    if (hang === method) return
    if (fail === method) return callback(new Error(`store ${method} failed`))
    callback(null, run())
  }
  return {
    map,
    records: () => [...map.values()].map((text) => JSON.parse(text)),
    get: (id, callback) => answer('get', callback, () => (map.has(id) ? JSON.parse(map.get(id)) : undefined)),
    set: (id, session, callback) => answer('set', callback, () => void map.set(id, JSON.stringify(session))),
    destroy: (id, callback) => answer('destroy', callback, () => void map.delete(id)),
  }
}

/** The data of a stored record without its cookie, for comparing what two plugins stored. */
export function dataOf(record) {
  const { cookie, ...data } = record
  return data
}
