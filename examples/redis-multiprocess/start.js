// Starts the example as two processes on ports 3001 and 3002 (PORTS=3001,3002,3003 for more) sharing
// the Redis at REDIS_URL (default redis://127.0.0.1:6379), and restarts any process that dies: kill
// one with `kill -9 <pid>` and your session is still there when it comes back. Ctrl-C stops them all.
'use strict'
const { spawn } = require('node:child_process')
const { join } = require('node:path')

const ports = (process.env.PORTS ?? '3001,3002').split(',').map(Number)
const children = new Map()
let stopping = false

function start(port) {
  const child = spawn(process.execPath, [join(__dirname, 'app.js')], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.set(port, child)
  const prefix = `[port ${port}] `
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8')
    stream.on('data', (text) => process.stdout.write(text.replace(/^(?=.)/gm, prefix)))
  }
  child.on('exit', (code, signal) => {
    children.delete(port)
    if (stopping) return
    console.log(`${prefix}process ${child.pid} ended (${signal ?? `exit code ${code}`}); restarting it`)
    setTimeout(() => start(port), 500)
  })
}

for (const port of ports) start(port)
console.log(`sessionkit on Redis: ${ports.map((p) => `http://127.0.0.1:${p}`).join(' and ')}; Ctrl-C stops`)

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true
    for (const child of children.values()) child.kill('SIGTERM')
    setTimeout(() => process.exit(0), 1000).unref()
  })
}
