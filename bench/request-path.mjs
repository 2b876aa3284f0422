#!/usr/bin/env node
// How long is one request's path through sessionkit? Counts the files of a built sessionkit and the
// function calls in them that one `GET /count` with the cookie of an existing session passes through:
// Express 5, sessionkit with its MemoryStore, the bench app's session options (bench/app.mjs), a
// handler that increments a counter. The counts come from V8's precise coverage (call counts per
// function), so they are exact and the same from run to run, unlike a CPU profile's samples; only the
// functions of sessionkit's dist/cjs are counted, not Express's, Node's or the dependencies'.
//
//   node bench/request-path.mjs [--dist=<a dist/cjs folder>] [--list]
//
// --dist measures another build (another checkout's dist/cjs, e.g. the code before a change), so that
// the same script gives the before and the after figures; by default this checkout's dist/cjs.
// --list prints every function that ran, with its call count, by source file.
// The app listens on 127.0.0.1:7420.
import { readFileSync, realpathSync } from 'node:fs'
import { request } from 'node:http'
import { Session } from 'node:inspector/promises'
import { createRequire } from 'node:module'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const PORT = 7420
const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

const args = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg)
    if (!m || !['dist', 'list'].includes(m[1])) throw new Error(`unknown argument ${arg} (use --dist=<dist/cjs folder>, --list)`)
    return [m[1], m[2] ?? true]
  }),
)
const dist = realpathSync(typeof args.dist === 'string' ? args.dist : join(here, '../dist/cjs'))

// Coverage starts before sessionkit is loaded, so that every one of its functions is counted precisely
// from the start; the counts of loading and of the earlier requests are taken away before the measured one.
const inspector = new Session()
inspector.connect()
await inspector.post('Profiler.enable')
await inspector.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false })

const session = require(join(dist, 'sessionkit.cjs'))
// Express from this checkout: before and after are measured with the same one.
const express = require('express')
const app = express()
app.disable('x-powered-by')
app.disable('etag')
app.use(session({ secret: 'bench secret, not a secret', resave: false, saveUninitialized: false, cookie: { maxAge: 86_400_000 } }))
app.get('/count', (req, res) => {
  req.session.count = (req.session.count || 0) + 1
  res.end(String(req.session.count))
})
const server = await new Promise((resolve) => {
  const s = app.listen(PORT, '127.0.0.1', () => resolve(s))
})

try {
  // The first request makes the session; the second, a warm-up, takes the measured path once, so that
  // whatever runs only the first time a path is taken (a cache filled, a lazy setup) is not counted.
  const made = await get()
  const cookie = made.headers['set-cookie']?.[0]?.split(';')[0]
  if (!cookie) throw new Error('the app set no session cookie on the first /count')
  await get(cookie)
  await inspector.post('Profiler.takePreciseCoverage') // resets the counters
  const measured = await get(cookie)
  if (measured.status !== 200 || measured.body !== '3') throw new Error(`expected 200 "3", got ${measured.status} "${measured.body}"`)
  const { result } = await inspector.post('Profiler.takePreciseCoverage')
  report(result)
} finally {
  await inspector.post('Profiler.stopPreciseCoverage')
  inspector.disconnect()
  server.close()
}

/** One GET /count on a connection of its own; resolves once the app has finished with it (see below). */
function get(cookie) {
  return new Promise((resolve, reject) => {
    const headers = cookie ? { cookie } : {}
    request({ host: '127.0.0.1', port: PORT, path: '/count', headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      // The store's write or touch may run after the response was sent, and the server sees the
      // connection close after that: give both time. Nothing of sessionkit's runs on a timer this
      // soon (MemoryStore sweeps once a minute), so the wait adds no calls of its own.
      res.on('end', () => setTimeout(() => resolve({ status: res.statusCode, headers: res.headers, body }), 50))
    })
      .on('error', reject)
      .end()
  })
}

/** Prints the files and calls of the measured request; with --list, each function too. */
function report(scripts) {
  const files = []
  for (const script of scripts) {
    if (!script.url.startsWith('file:')) continue
    const path = fileURLToPath(script.url)
    if (!path.startsWith(dist + sep)) continue
    const ran = script.functions.filter((fn) => fn.ranges[0].count > 0)
    if (ran.length === 0) continue
    const source = readFileSync(path, 'utf8')
    const functions = ran.map((fn) => ({
      name: fn.functionName || '(anonymous)',
      line: source.slice(0, fn.ranges[0].startOffset).split('\n').length,
      count: fn.ranges[0].count,
    }))
    functions.sort((a, b) => a.line - b.line)
    files.push({ name: sourceName(relative(dist, path)), functions, calls: functions.reduce((sum, fn) => sum + fn.count, 0) })
  }
  files.sort((a, b) => b.calls - a.calls || a.name.localeCompare(b.name))
  const calls = files.reduce((sum, file) => sum + file.calls, 0)
  const distinct = files.reduce((sum, file) => sum + file.functions.length, 0)
  console.log(`sessionkit from ${dist}`)
  console.log(`one GET /count with a session cookie (Express 5, MemoryStore):`)
  console.log(`  files touched:  ${files.length}`)
  console.log(`  function calls: ${calls} (${distinct} distinct functions)`)
  for (const file of files) {
    console.log(`  ${file.name.padEnd(30)} ${String(file.calls).padStart(4)} calls, ${file.functions.length} functions`)
    if (args.list) for (const fn of file.functions) console.log(`      ${String(fn.count).padStart(4)}  ${fn.name} (dist line ${fn.line})`)
  }
}

/** The source file a dist/cjs file was built from: x.js from src/x.ts; the copied .cjs entries from src/entry (scripts/build.mjs). */
function sourceName(distPath) {
  const path = distPath.split(sep).join('/')
  return path.endsWith('.js') ? `src/${path.slice(0, -3)}.ts` : `src/entry/${path}`
}
