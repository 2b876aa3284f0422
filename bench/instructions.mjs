// Counts what one request costs in CPU instructions rather than time, so that two builds can be
// compared on a busy machine: run under valgrind's callgrind (instructions, not seconds), this process
// serves an Express 5 app with sessionkit from `--dist=<dist/cjs>` and sends itself `--requests` of
// `--path` over loopback, after a warm-up; callgrind is switched on only for the measured requests
// (`callgrind_control -i on <pid>` by bench/instructions.sh). The app and the client are the same for
// both builds, so the difference between two runs is the session middleware's.
//
//   valgrind --tool=callgrind --instr-atstart=no node bench/instructions.mjs --dist=... [--path=/count] [--requests=2000] [--fresh]
import { request } from 'node:http'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')))
const require = createRequire(import.meta.url)
const express = require('express')
const session = require(join(args.dist, 'sessionkit.cjs'))
const path = args.path ?? '/count'
const total = Number(args.requests ?? 2000)
const warmup = Number(args.warmup ?? 3000)

const app = express()
app.use(session({ secret: 'instructions benchmark secret, 32+ chars', resave: false, saveUninitialized: false, cookie: { maxAge: 86_400_000 } }))
app.get('/count', (req, res) => {
  req.session.n = (req.session.n ?? 0) + 1
  res.send(String(req.session.n))
})
app.get('/read', (req, res) => res.send(String(req.session.n ?? 0)))
app.get('/hello', (req, res) => res.send('hello'))
const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const { port } = server.address()

function get(target, cookie) {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: target, headers: cookie ? { cookie } : {}, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.headers['set-cookie']?.[0]?.split(';')[0]))
    })
      .on('error', reject)
      .end()
  })
}

// `--fresh`: every request comes without a cookie (a new session each time).
const cookie = path === '/hello' || args.fresh !== undefined ? undefined : await get('/count')
for (let i = 0; i < warmup; i++) await get(path, cookie)
process.stdout.write(`ready ${process.pid}\n`)
// bench/instructions.sh turns collection on now; a file in /tmp says when it has.
const { existsSync } = await import('node:fs')
while (!existsSync(`/tmp/vg/on-${process.pid}`)) await new Promise((resolve) => setTimeout(resolve, 50))
for (let i = 0; i < total; i++) await get(path, cookie)
process.stdout.write('done\n')
server.close()
process.exit(0)
