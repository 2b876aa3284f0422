// The runtime × store matrix of the Web API's tests (web-api.test.mjs, hono.test.mjs): one server per
// runtime and store, started once before its tests and stopped after them; Redis runs get a random key
// prefix of their own, removed at the end. Plus what those tests read off a response.
import { randomBytes } from 'node:crypto'
import { after, before, describe } from 'node:test'
import { createClient } from 'redis'
import { runtimeMissing, startServer } from './runtimes.mjs'
import { requireService } from './services.mjs'

/** The stores each server is run against. */
export const STORES = ['memory', 'redis']

// Found once per test file: a missing runtime or Redis skips its servers (fails them under CI=true).
const redisService = await requireService('redis')
const missing = new Map()
const runtimeSkip = (runtime) => {
  if (!missing.has(runtime)) missing.set(runtime, runtimeMissing(runtime))
  return missing.get(runtime)
}

/**
 * For each of `servers` ({ name, runtime, script, env }) and each store, a describe block whose
 * `body(ctx)` registers tests. `ctx.server` is the running server ({ url, startupMs, output() }),
 * `ctx.store` its store, `ctx.redis` a client of the test's own (Redis runs only) and
 * `ctx.redisKey(sid)` where the store keeps session `sid` in Redis. Ports are `firstPort` on.
 */
export function describeServers({ servers, firstPort, app }, body) {
  let port = firstPort
  for (const { name, runtime, script, env = {} } of servers) {
    for (const store of STORES) {
      const serverPort = port++
      const skip = runtimeSkip(runtime) || (store === 'redis' && redisService.skip)
      describe(`${name}, ${store} store`, { skip }, () => {
        const prefix = `sessionkit-test:web:${randomBytes(6).toString('hex')}:`
        const ctx = { store, server: undefined, redis: undefined, redisKey: (sid) => `${prefix}{${sid}}` }
        before(async () => {
          ctx.server = await startServer({ runtime, script, port: serverPort, env: { ...env, APP: app, STORE: store, REDIS_PREFIX: prefix } })
          console.log(`${name} (${store}) answered ${ctx.server.startupMs} ms after spawn`)
          if (store !== 'redis') return
          ctx.redis = createClient({ url: 'redis://127.0.0.1:6379' })
          await ctx.redis.connect()
        })
        after(async () => {
          const output = await ctx.server?.stop()
          if (process.env.WEB_SERVER_OUTPUT && output) console.log(output)
          if (ctx.redis === undefined) return
          const keys = []
          for await (const batch of ctx.redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) keys.push(...[batch].flat())
          if (keys.length > 0) await ctx.redis.del(keys)
          await ctx.redis.quit()
        })
        body(ctx)
      })
    }
  }
}

/** A fetch through `jar` that gives up after 5 s, so a server that hangs fails the test instead of stalling it. */
export async function call(jar, url, init = {}) {
  const response = await jar.fetch(url, { signal: AbortSignal.timeout(5000), ...init })
  const text = await response.text()
  let body = text
  if (response.headers.get('content-type')?.startsWith('application/json')) body = JSON.parse(text)
  return { status: response.status, body, setCookies: response.headers.getSetCookie(), cacheControl: response.headers.get('cache-control'), location: response.headers.get('location') }
}

/** The session id a store-mode cookie value (`s:<id>.<signature>`, URL-encoded) carries. */
export function sidOf(cookieValue) {
  const signed = decodeURIComponent(cookieValue)
  return signed.slice(2, signed.lastIndexOf('.'))
}

/** The cookie named `name` among Set-Cookie values, or undefined. */
export function setCookieOf(setCookies, name) {
  return setCookies.find((header) => header.startsWith(`${name}=`))
}
