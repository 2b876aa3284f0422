// The runtimes harness (test/support/runtimes.mjs) on its own, before any sessionkit code runs in
// Bun or Deno: each runtime serves a Web-standard app from test/fixtures/runtimes/ (Bun.serve,
// Deno.serve, @hono/node-server under Node; plain handlers and Hono apps) that sets and reads
// cookies and increments a Redis key through the `redis` package from node_modules.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { createClient } from 'redis'
import { answers, requireService } from './support/services.mjs'
import { CookieJar, runtimeMissing, startServer, SERVE_SCRIPT, withServer } from './support/runtimes.mjs'

// Ports 7400-7419 are this suite's for runtime servers.
const CASES = [
  { runtime: 'node', app: './hono-app.mjs', port: 7400 },
  { runtime: 'node', app: './probe-app.mjs', port: 7401 },
  { runtime: 'bun', app: './probe-app.mjs', port: 7402 },
  { runtime: 'bun', app: './hono-app.mjs', port: 7403 },
  { runtime: 'deno', app: './probe-app.mjs', port: 7404 },
  { runtime: 'deno', app: './hono-app.mjs', port: 7405 },
]
const TAKEN_PORT = 7406
const CRASH_PORT = 7407
const SILENT_PORT = 7408
const NO_REDIS_PORT = 7409

const redisService = await requireService('redis')
const missing = Object.fromEntries(['node', 'bun', 'deno'].map((runtime) => [runtime, runtimeMissing(runtime)]))

describe('a Web-standard app under each runtime', { skip: redisService.skip }, () => {
  let redis
  const keys = []
  before(async () => {
    redis = createClient({ url: 'redis://127.0.0.1:6379' })
    await redis.connect()
  })
  after(async () => {
    if (keys.length > 0) await redis.del(keys)
    await redis.quit()
  })

  for (const { runtime, app, port } of CASES) {
    test(`${runtime} serving ${app}: cookies round-trip, Redis INCR lands in Redis`, { skip: missing[runtime] }, async (t) => {
      await withServer({ runtime, app, port }, async (server) => {
        t.diagnostic(`${runtime} ${app} answered ${server.startupMs} ms after spawn`)

        const name = await (await fetch(`${server.url}/runtime`)).text()
        assert.match(name, new RegExp(`^${runtime} \\d+\\.\\d+`), 'the runtime that answered')

        const jar = new CookieJar()
        const value = `v ${randomBytes(6).toString('hex')};=`
        const set = await jar.fetch(`${server.url}/set?value=${encodeURIComponent(value)}`)
        assert.equal(set.status, 200)
        const setCookies = set.headers.getSetCookie()
        assert.equal(setCookies.length, 2, `two Set-Cookie headers stay two: ${JSON.stringify(setCookies)}`)
        assert.match(setCookies[0], /^probe=[^;]+; /)
        assert.match(setCookies[0], /; HttpOnly/)
        assert.match(setCookies[0], /; SameSite=Lax/)
        assert.equal(decodeURIComponent(jar.get('probe')), value)

        const read = await jar.fetch(`${server.url}/read`)
        assert.deepEqual(await read.json(), { probe: value, probe2: [...value].reverse().join('') })

        const key = `sessionkit-test:runtimes:${runtime}:${randomBytes(8).toString('hex')}`
        keys.push(key)
        const first = await fetch(`${server.url}/incr?key=${encodeURIComponent(key)}`, { method: 'POST' })
        assert.equal(first.status, 200)
        assert.equal(await first.text(), '1')
        const second = await fetch(`${server.url}/incr?key=${encodeURIComponent(key)}`, { method: 'POST' })
        assert.equal(await second.text(), '2')
        assert.equal(await redis.get(key), '2', 'what Redis holds')

        await server.stop()
        assert.equal(await answers(port, 300), false, 'the port is closed after stop()')
        assert.throws(() => process.kill(server.pid, 0), { code: 'ESRCH' }, 'the process is gone after stop()')
      })
    })
  }
})

test('a server that exits before it answers fails the start, with its stderr', async () => {
  await assert.rejects(
    // serve.mjs refuses to start without APP.
    startServer({ runtime: 'node', script: SERVE_SCRIPT, port: CRASH_PORT }),
    (err) => {
      assert.match(err.message, /exited \(code 1\) before it answered/)
      assert.match(err.message, /APP must name the app module/)
      return true
    },
  )
  assert.equal(await answers(CRASH_PORT, 300), false)
})

test('a server that never answers fails the start after the timeout, with its stderr, and is stopped', async () => {
  // Nothing listens on NO_REDIS_PORT, so the probe app's Redis client retries and logs, and the app never serves.
  const start = startServer({ runtime: 'node', script: SERVE_SCRIPT, port: SILENT_PORT, timeoutMs: 1500, env: { APP: './probe-app.mjs', REDIS_URL: `redis://127.0.0.1:${NO_REDIS_PORT}` } })
  await assert.rejects(start, (err) => {
    assert.match(err.message, /did not answer within 1500 ms/)
    assert.match(err.message, new RegExp(`probe redis client: .*ECONNREFUSED 127\\.0\\.0\\.1:${NO_REDIS_PORT}`))
    const pid = Number(/pid (\d+)/.exec(err.message)?.[1])
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the child is gone')
    return true
  })
})

test('a port that is already taken fails the start instead of talking to the wrong server', async () => {
  const other = createServer()
  await new Promise((resolve) => other.listen(TAKEN_PORT, '127.0.0.1', resolve))
  try {
    await assert.rejects(startServer({ runtime: 'node', script: SERVE_SCRIPT, port: TAKEN_PORT, env: { APP: './probe-app.mjs' } }), /already listens on 127\.0\.0\.1:7406/)
  } finally {
    await new Promise((resolve) => other.close(resolve))
  }
})

test('the cookie jar sends what was set and forgets what expired', async () => {
  const jar = new CookieJar()
  jar.take(['a=1; Path=/', 'b=2; Path=/; HttpOnly', 'c=3'])
  assert.equal(jar.header, 'a=1; b=2; c=3')
  jar.take(['a=10', 'b=; Max-Age=0', 'c=; Expires=Thu, 01 Jan 1970 00:00:00 GMT'])
  assert.equal(jar.header, 'a=10')
  assert.equal(jar.get('b'), undefined)
})
