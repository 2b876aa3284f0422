// The session middleware's own cost per request, without sockets or a router: a real
// http.IncomingMessage/ServerResponse pair per request, the middleware, a handler, res.end. On a
// shared machine this is steadier than the HTTP numbers, so it guides the tuning; the HTTP run
// (bench/run.mjs) is what the targets are judged on.
//   node bench/micro.mjs [--n=100000] [--rounds=5] [--impls=none,step,express-session,sessionkit] [--scenarios=hello,new,read,count]
//                        [--shape=express|node]
// --shape=express (the default) gives req and res new prototypes and the properties Express's own
// init middleware adds, as every Express app does: V8 then treats every later property addition as
// costly (see docs/guide/performance.md), which a bare IncomingMessage never shows.
// --shape=node leaves them as node:http makes them (plain http, connect).
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
const n = Number(args.n ?? 100_000)
const rounds = Number(args.rounds ?? 5)
const impls = (args.impls ?? 'none,step,express-session,sessionkit').split(',')
const scenarios = (args.scenarios ?? 'hello,new,read,count').split(',')
const expressShape = (args.shape ?? 'express') === 'express'
// What Express's init middleware does to every request (express/lib/middleware/init.js in Express 4,
// the same steps in Express 5's application.handle).
const appRequest = Object.create(IncomingMessage.prototype)
const appResponse = Object.create(ServerResponse.prototype)
const options = { secret: 'bench secret, not a secret', resave: false, saveUninitialized: false, cookie: { maxAge: 86_400_000 } }

function middlewareFor(impl) {
  if (impl === 'none') return (req, res, next) => next()
  if (impl === 'step') {
    // Only sessionkit's dictionary-mode step: the baseline the session's own cost is measured from.
    const entry = process.env.BENCH_SESSIONKIT ?? require.resolve('sessionkit')
    const { toDictionaryMode } = require(join(dirname(entry), 'request.js'))
    return (req, res, next) => {
      toDictionaryMode(req, res)
      next()
    }
  }
  if (impl === 'express-session') {
    const session = require('express-session')
    return session({ ...options, store: new session.MemoryStore() })
  }
  const session = require(process.env.BENCH_SESSIONKIT ?? 'sessionkit')
  return session({ ...options, store: new session.MemoryStore({ checkPeriod: 0 }) })
}

const socket = new Socket()
const handlers = {
  hello: (req, res) => res.end('hello'),
  new: (req, res) => {
    const data = req.session ?? {}
    data.n = (data.n ?? 0) + 1
    res.end(String(data.n))
  },
  read: (req, res) => res.end(String((req.session ?? {}).n ?? 0)),
}
handlers.count = handlers.new

function once(middleware, handler, cookie) {
  return new Promise((resolve) => {
    const req = new IncomingMessage(socket)
    req.method = 'GET'
    req.url = '/x'
    req.headers = cookie ? { host: 'x', cookie } : { host: 'x' }
    const res = new ServerResponse(req)
    if (expressShape) {
      req.res = res
      res.req = req
      req.next = resolve
      Object.setPrototypeOf(req, appRequest)
      Object.setPrototypeOf(res, appResponse)
      res.locals = Object.create(null)
    }
    const end = res.end
    res.end = function (...a) {
      const out = end.apply(this, a)
      resolve(res)
      return out
    }
    middleware(req, res, (err) => {
      if (err) throw err
      handler(req, res)
    })
  })
}

async function cookieFor(middleware) {
  const res = await once(middleware, handlers.count)
  const header = res.getHeader('set-cookie')
  return header ? String(Array.isArray(header) ? header[0] : header).split(';')[0] : 'connect.sid=s%3Axxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy'
}

async function run(middleware, scenario) {
  const cookie = scenario === 'read' || scenario === 'count' ? await cookieFor(middleware) : undefined
  const handler = handlers[scenario]
  const before = process.cpuUsage()
  for (let i = 0; i < n; i++) await once(middleware, handler, cookie)
  const used = process.cpuUsage(before)
  return (used.user + used.system) / n
}

const middlewares = Object.fromEntries(impls.map((impl) => [impl, middlewareFor(impl)]))
const results = {}
for (let round = 0; round <= rounds; round++) {
  for (const scenario of scenarios) {
    for (const impl of impls) {
      const us = await run(middlewares[impl], scenario)
      if (round > 0) ((results[scenario] ??= {})[impl] ??= []).push(us) // round 0 warms up
    }
  }
}
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1]
// The baseline is the step-only middleware when it ran: sessionkit's own cost is what it adds to that.
const baseline = impls.includes('step') ? 'step' : 'none'
console.log(`CPU µs per request (median of ${rounds} rounds of ${n}), and the middleware's own cost above "${baseline}"`)
for (const scenario of scenarios) {
  const base = median(results[scenario][baseline] ?? [0])
  console.log(scenario.padEnd(6), impls.map((impl) => `${impl} ${median(results[scenario][impl]).toFixed(2)}${impl === baseline ? '' : ` (${(median(results[scenario][impl]) - base >= 0 ? '+' : '')}${(median(results[scenario][impl]) - base).toFixed(2)})`}`).join('   '))
}
