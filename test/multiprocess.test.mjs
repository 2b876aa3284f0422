// Two processes of examples/redis-multiprocess/app.js on different ports, sharing one Redis: a login on A is
// seen on B, a change on B is seen on A, and A killed with SIGKILL and started again loses no session.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createClient } from 'redis'
import { request } from './support/http.mjs'
import { requireService } from './support/services.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { skip } = await requireService('redis')
const prefix = `sessionkit-test-mp:${process.pid}-${Date.now().toString(36)}:`
const running = new Set()

/** Starts one app process and resolves once it prints the URL it listens on. */
function startApp(port = 0) {
  const child = spawn(process.execPath, [join(root, 'examples/redis-multiprocess/app.js')], {
    env: { ...process.env, PORT: String(port), SESSION_PREFIX: prefix, SESSION_SECRET: 'multiprocess secret' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  child.on('exit', () => running.delete(child))
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the app did not start within 10 s; it printed:\n${output}`)), 10_000)
    const onData = (text) => {
      output += text
      const match = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve({ child, base: match[1], port: Number(match[2]) })
      }
    }
    child.stdout.setEncoding('utf8').on('data', onData)
    child.stderr.setEncoding('utf8').on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the app exited (${code}) before listening:\n${output}`))
    })
  })
}

const post = (base, path, cookie, body) =>
  request(base, path, { method: 'POST', cookie, body, headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' } })
const whoami = async (base, cookie) => JSON.parse((await request(base, '/whoami', { cookie })).text)

describe('several processes sharing one Redis (examples/redis-multiprocess)', { skip }, () => {
  let a
  let b
  before(async () => {
    ;[a, b] = await Promise.all([startApp(), startApp()])
  })
  after(async () => {
    for (const child of running) child.kill('SIGKILL')
    const client = createClient({ url: 'redis://127.0.0.1:6379' })
    await client.connect()
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys)
    await client.close()
  })

  const cookies = {}

  test('a login on process A is seen on process B', async () => {
    assert.notEqual(a.child.pid, b.child.pid)
    const login = await post(a.base, '/login', undefined, 'name=ann')
    assert.equal(login.status, 200)
    cookies.ann = login.cookie
    const onA = JSON.parse(login.text)
    const onB = await whoami(b.base, cookies.ann)
    assert.equal(onA.pid, a.child.pid)
    assert.equal(onB.pid, b.child.pid, 'answered by the other process')
    assert.equal(onB.user, 'ann')
  })

  test('a change on process B is seen on process A', async () => {
    const visit = await post(b.base, '/visit', cookies.ann)
    assert.equal(JSON.parse(visit.text).visits, 1)
    await post(b.base, '/visit', cookies.ann)
    const onA = await whoami(a.base, cookies.ann)
    assert.equal(onA.pid, a.child.pid)
    assert.deepEqual([onA.user, onA.visits], ['ann', 2])
  })

  test('process A killed with SIGKILL and started again on its port loses no session', async () => {
    const login = await post(b.base, '/login', undefined, 'name=bob')
    cookies.bob = login.cookie
    const gone = new Promise((resolve) => a.child.once('exit', (code, signal) => resolve(signal)))
    a.child.kill('SIGKILL')
    assert.equal(await gone, 'SIGKILL')
    await assert.rejects(request(a.base, '/whoami'), 'process A is down')
    // Meanwhile process B keeps serving both sessions.
    assert.equal((await whoami(b.base, cookies.ann)).user, 'ann')

    const restarted = await startApp(a.port)
    assert.notEqual(restarted.child.pid, a.child.pid)
    a = restarted
    const ann = await whoami(a.base, cookies.ann)
    assert.equal(ann.pid, restarted.child.pid, 'answered by the new process')
    assert.deepEqual([ann.user, ann.visits], ['ann', 2])
    assert.equal((await whoami(a.base, cookies.bob)).user, 'bob')
    // And it keeps working both ways after the restart.
    await post(a.base, '/visit', cookies.bob)
    assert.equal((await whoami(b.base, cookies.bob)).visits, 1)
  })
})
