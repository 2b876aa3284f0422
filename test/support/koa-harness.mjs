// Helpers for test/koa.test.mjs: Koa apps served on the ports that test owns (7440-7449), over HTTP or
// HTTPS (a self-signed certificate made once with openssl), a client that accepts that certificate,
// a browser-like cookie jar, and a store of koa-session's shape that records what it holds.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, request as httpRequest } from 'node:http'
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseSetCookie } from './http.mjs'

const FIRST_PORT = 7440
const LAST_PORT = 7449
const inUse = new Set()

let certificate
/** A self-signed certificate for 127.0.0.1, made on first use. */
function tlsOptions() {
  if (certificate) return certificate
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-koa-tls-'))
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
    certificate = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return certificate
}

/**
 * Serves `handler` ((req, res), such as a Koa app's callback()) on the first free port of 7440-7449.
 * Returns { base, close }.
 */
export async function serve(handler, { tls = false } = {}) {
  for (let port = FIRST_PORT; port <= LAST_PORT; port++) {
    if (inUse.has(port)) continue
    const server = tls ? createHttpsServer(tlsOptions(), handler) : createHttpServer(handler)
    const listening = await new Promise((resolve) => {
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => resolve(true))
    })
    if (!listening) continue
    inUse.add(port)
    return {
      base: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
      close: () =>
        new Promise((resolve) => {
          server.closeAllConnections?.()
          server.close(() => {
            inUse.delete(port)
            resolve()
          })
        }),
    }
  }
  throw new Error('no free port in 7440-7449')
}

/**
 * One request, over HTTP or HTTPS (a self-signed certificate is accepted). Options: method, cookie,
 * headers, timeout (ms; the promise rejects when no answer came by then). Returns { status, text, setCookies }.
 * No keep-alive agent: a pooled connection to a closed server would fail the next test on that port.
 */
export function send(base, path, options = {}) {
  const url = new URL(path, base)
  const headers = { ...(options.headers ?? {}) }
  if (options.cookie) headers.cookie = options.cookie
  const make = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = make(url, { method: options.method ?? 'GET', headers, agent: false, rejectUnauthorized: false, timeout: options.timeout ?? 5000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode, text, setCookies: res.headers['set-cookie'] ?? [], headers: res.headers }))
    })
    req.on('timeout', () => req.destroy(new Error(`no answer to ${path} within ${options.timeout ?? 5000} ms`)))
    req.on('error', reject)
    req.end()
  })
}

/** A browser's cookie jar, enough for these tests: a Set-Cookie replaces, an expired one removes. */
export class Jar {
  cookies = new Map()
  take(setCookies) {
    for (const header of setCookies) {
      const cookie = parseSetCookie(header)
      if (cookie.value === '' || (cookie.expires !== undefined && new Date(cookie.expires).getTime() <= Date.now())) this.cookies.delete(cookie.name)
      else this.cookies.set(cookie.name, cookie.value)
    }
  }
  get header() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

/** Sends `path` with the jar's cookies and keeps what comes back. */
export async function browse(base, path, jar, options = {}) {
  const response = await send(base, path, { ...options, cookie: jar.header || undefined })
  jar.take(response.setCookies)
  return response
}

/**
 * A Set-Cookie header as the things a user can rely on: its name, whether it clears the cookie, and
 * its attributes, with Expires given as seconds from now (rounded to the minute) so that two
 * implementations writing it a few milliseconds apart compare equal.
 */
export function cookieShape(header) {
  const { name, value, expires, ...attributes } = parseSetCookie(header)
  const cleared = value === '' || (expires !== undefined && new Date(expires).getTime() <= Date.now())
  const shape = { name, cleared }
  for (const [key, attribute] of Object.entries(attributes)) {
    if (key === 'max-age') continue
    // Attribute values such as SameSite's are case-insensitive (RFC 6265 §5.2): Lax and lax are one.
    shape[key] = typeof attribute === 'string' ? attribute.toLowerCase() : attribute
  }
  if (expires !== undefined && !cleared) shape.expiresIn = Math.round((new Date(expires).getTime() - Date.now()) / 60_000)
  return shape
}

/**
 * An external store with koa-session's shape: async get(key, maxAge, { rolling, ctx }),
 * set(key, sess, maxAge, { rolling, changed, ctx }) and destroy(key, { ctx }). It keeps a copy of what
 * it was given (as a real store would serialize it) and the calls it got.
 */
export class KoaShapedStore {
  records = new Map()
  calls = []
  async get(key, maxAge, options) {
    this.calls.push({ method: 'get', key, maxAge, rolling: options?.rolling, hasCtx: Boolean(options?.ctx?.cookies) })
    const record = this.records.get(key)
    return record === undefined ? undefined : JSON.parse(record.json)
  }
  async set(key, sess, maxAge, options) {
    this.calls.push({ method: 'set', key, maxAge, rolling: options?.rolling, changed: options?.changed, hasCtx: Boolean(options?.ctx?.cookies) })
    this.records.set(key, { json: JSON.stringify(sess), maxAge })
  }
  async destroy(key, options) {
    this.calls.push({ method: 'destroy', key, hasCtx: Boolean(options?.ctx?.cookies) })
    this.records.delete(key)
  }
  /** What the store holds, without koa-session's expiry bookkeeping (whose values depend on the clock). */
  held() {
    return [...this.records.values()].map(({ json, maxAge }) => {
      const { _expire, _maxAge, ...data } = JSON.parse(json)
      return { data, maxAge, bookkeeping: { expire: typeof _expire, maxAge: _maxAge } }
    })
  }
}
