// /read with a cookie, one request at a time over keep-alive: the latency a user waits for when the
// session is unchanged. Run on demand: `node bench/read-latency.mjs [--base=DIR] [--requests=N]`.
// With --base pointing at another checkout's built package (e.g. an older commit), both run side by
// side, interleaved in rounds, against the same Redis store (connect-redis) on 127.0.0.1:6379.
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'node:http'

const require = createRequire(import.meta.url)
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
const requests = Number(args.requests ?? 2000)
const rounds = Number(args.rounds ?? 3)
// A pause between requests, as a user's think time: work a middleware does after a response (a touch)
// then no longer sits in front of the next request on the same Redis connection.
const gapMs = Number(args.gap ?? 0)
const here = fileURLToPath(new URL('..', import.meta.url))
const builds = { current: here, ...(args.base ? { base: resolve(args.base) } : {}) }

const express = require('express')
const { RedisStore } = require('connect-redis')
const { createClient } = require('redis')
const client = createClient({ url: 'redis://127.0.0.1:6379' })
await client.connect()

async function start(dir, label) {
  const session = require(join(dir, 'dist/cjs/sessionkit.cjs'))
  const app = express()
  app.use(session({ secret: 'bench', store: new RedisStore({ client, prefix: `bench-read-${label}-${process.pid}:` }), resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }))
  app.get('/login', (req, res) => {
    req.session.user = 'ada'
    res.send('in')
  })
  app.get('/read', (req, res) => res.send(String(req.session.user)))
  const server = app.listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  return server
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 })
function get(port, path, cookie) {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: cookie ? { cookie } : {} }, (res) => {
      res.resume()
      res.on('end', () => resolvePromise(res.headers['set-cookie']?.[0]?.split(';')[0]))
    })
    req.on('error', reject)
    req.end()
  })
}

const results = Object.fromEntries(Object.keys(builds).map((k) => [k, []]))
const servers = {}
for (const [label, dir] of Object.entries(builds)) servers[label] = await start(dir, label)
for (let round = 0; round < rounds; round++) {
  for (const label of Object.keys(builds)) {
    const port = servers[label].address().port
    const cookie = await get(port, '/login')
    for (let i = 0; i < 200; i++) await get(port, '/read', cookie) // warm-up
    const times = []
    for (let i = 0; i < requests; i++) {
      const t = performance.now()
      await get(port, '/read', cookie)
      times.push(performance.now() - t)
      if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs))
    }
    times.sort((a, b) => a - b)
    results[label].push({ p50: times[Math.floor(times.length / 2)], p99: times[Math.floor(times.length * 0.99)] })
  }
}
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
for (const [label, runs] of Object.entries(results)) {
  console.log(`${label.padEnd(8)} /read p50 ${median(runs.map((r) => r.p50)).toFixed(3)} ms, p99 ${median(runs.map((r) => r.p99)).toFixed(3)} ms (median of ${rounds} rounds of ${requests}, ${gapMs} ms between requests)`)
}
if (results.base) console.log(`ratio p50 current/base: ${(median(results.current.map((r) => r.p50)) / median(results.base.map((r) => r.p50))).toFixed(3)}`)
for (const server of Object.values(servers)) server.close()
agent.destroy()
await client.quit()
