// The express-session programs of the tutorials in shared/seeds/, run as written with only their
// require line switched to sessionkit (test/fixtures/seeds/, see its README), driven over HTTP.
//
// Left out, because as written they are not programs that use express-session:
// - 000: the option, set-data/get-data and logout snippets, the "improved security settings" snippet
//   (fragments with no app or no listen), and the Redis setup (lines 113-124: no route, no listen).
// - 000 and 002: the connect-mongo examples. There is no MongoDB on this machine and connect-mongo is
//   not installed, so they cannot run here.
// - 002 (a 2013 book chapter): Express 3's `express.session`, `cookieParser` and
//   `require('connect-redis')(express)`; there is no express-session require line to switch, and
//   Express 4 removed those middlewares.
// - 003: the login system has no `app.listen`, and its other snippets are fragments. (Its `<!-- -->`
//   comments would parse: they are HTML-like comments, legal in a CommonJS script.) The Redis snippet
//   uses `require('connect-redis')(session)`, the form of connect-redis 6 and earlier: below, that it
//   fails with the connect-redis this repo has (9), with the error the docs' Stores page names.
//
// 001's connect-redis program is written for connect-redis 7 (`require('connect-redis').default`).
// It runs three ways below: as written with connect-redis 7, the version it was written for (installed
// here as the alias connect-redis-v7); as written with connect-redis 9, where it fails at startup as
// the Stores page says; and with the one line it gives in its place, on connect-redis 9.
// - 004: an app given in pieces ("Code removed for brevity") with pug views; the history middleware it
//   teaches is examples/history and test/e2e-history.test.mjs.
//
// The programs listen on port 3000, hard-coded, so they run one at a time on that port.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseSetCookie, request } from './support/http.mjs'
import { requireService } from './support/services.mjs'
import { snippet } from './support/snippets.mjs'

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'seeds')
const repo = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const PORT = 3000
const base = `http://127.0.0.1:${PORT}`

/** A skip message when port 3000 is taken (an error under CI=true), or false when it is free. */
async function portTaken() {
  const free = await new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen(PORT, () => probe.close(() => resolve(true)))
  })
  if (free) return false
  const message = `port ${PORT} is in use; the tutorial programs hard-code it`
  if (process.env.CI === 'true') throw new Error(message)
  return message
}

/**
 * Runs a fixture with `node`. Resolves once it prints "Server running on port 3000" to
 * { output, stop }, or, if it exits first, to { exited: code, output }. `connectRedis` names the
 * package of the repo's node_modules that `connect-redis` resolves to (the repo's own, 9, by default);
 * `edit` changes the program's text.
 */
function run(file, { connectRedis, edit } = {}) {
  let script = join(fixtures, file)
  const env = { ...process.env }
  if (connectRedis !== undefined || edit !== undefined) {
    // A copy outside the repo, where `connect-redis` resolves to the package asked for and everything
    // else to the repo.
    const dir = mkdtempSync(join(tmpdir(), 'sessionkit-seed-'))
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(join(repo, 'node_modules', connectRedis ?? 'connect-redis'), join(dir, 'node_modules', 'connect-redis'), 'dir')
    symlinkSync(repo, join(dir, 'node_modules', 'sessionkit'), 'dir')
    script = join(dir, file)
    if (edit === undefined) copyFileSync(join(fixtures, file), script)
    else writeFileSync(script, edit(readFileSync(join(fixtures, file), 'utf8')))
    env.NODE_PATH = join(repo, 'node_modules')
  }
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'], env })
  let output = ''
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(async () => {
      await stop()
      reject(new Error(`${file} did not start within 15 s:\n${output}`))
    }, 15_000)
    const onData = (chunk) => {
      output += chunk
      if (output.includes(`Server running on port ${PORT}`)) {
        clearTimeout(timer)
        resolve({ get output() { return output }, stop })
      }
    }
    child.stdout.setEncoding('utf8').on('data', onData)
    child.stderr.setEncoding('utf8').on('data', onData)
    exited.then((code) => {
      clearTimeout(timer)
      resolve({ exited: code, output })
    })
  })
}

async function started(file) {
  const program = await run(file)
  assert.equal(program.exited, undefined, `${file} exited with ${program.exited}:\n${program.output}`)
  return program
}

/** The session id inside a signed connect.sid cookie value (`s:<id>.<signature>`, URI-encoded). */
function sessionIdOf(cookie) {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1))
  assert.ok(value.startsWith('s:'), `not a signed cookie: ${value}`)
  return value.slice(2, value.lastIndexOf('.'))
}

const skipPort = await portTaken()

test('000 basic setup: a visit counter per browser', { skip: skipPort }, async () => {
  const program = await started('000-visit-counter.js')
  try {
    const first = await request(base, '/')
    assert.equal(first.status, 200)
    assert.equal(first.text, 'You have visited this page 1 times')
    assert.equal(first.setCookies.length, 1)
    const cookie = parseSetCookie(first.setCookies[0])
    assert.equal(cookie.name, 'connect.sid')
    assert.equal(cookie.httponly, true)
    assert.equal(cookie.path, '/')
    assert.equal(cookie.secure, undefined, 'cookie: { secure: false }')
    assert.equal(cookie.expires, undefined, 'no maxAge: a browser-session cookie')

    assert.equal((await request(base, '/', { cookie: first.cookie })).text, 'You have visited this page 2 times')
    assert.equal((await request(base, '/', { cookie: first.cookie })).text, 'You have visited this page 3 times')

    // Another client (no cookie, or a cookie whose signature does not verify) starts from one.
    assert.equal((await request(base, '/')).text, 'You have visited this page 1 times')
    const forged = first.cookie.replace(/\.[^.]+$/, '.forged')
    assert.equal((await request(base, '/', { cookie: forged })).text, 'You have visited this page 1 times')
    assert.equal((await request(base, '/', { cookie: first.cookie })).text, 'You have visited this page 4 times')
  } finally {
    await program.stop()
  }
})

test('000 user authentication: login form, protected dashboard, logout', { skip: skipPort }, async () => {
  const program = await started('000-authentication.js')
  const form = (username, password) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  })
  try {
    const home = await request(base, '/')
    assert.match(home.text, /Welcome to Our Site/)
    assert.deepEqual(home.setCookies, [], 'saveUninitialized: false sets no cookie for a visitor')

    const refused = await request(base, '/dashboard')
    assert.equal(refused.status, 302)
    assert.equal(refused.headers.get('location'), '/login')

    assert.match((await request(base, '/login')).text, /<form method="post" action="\/login">/)

    const wrong = await request(base, '/login', form('user1', 'nope'))
    assert.equal(wrong.status, 200)
    assert.match(wrong.text, /Invalid username or password/)
    assert.deepEqual(wrong.setCookies, [])

    const before = Date.now()
    const login = await request(base, '/login', form('user1', 'password1'))
    assert.equal(login.status, 302)
    assert.equal(login.headers.get('location'), '/dashboard')
    const cookie = parseSetCookie(login.setCookies[0])
    assert.equal(cookie.name, 'connect.sid')
    assert.equal(cookie.httponly, true)
    // cookie: { maxAge: 3600000 }: the cookie expires an hour after the login (to the second).
    const expires = Date.parse(cookie.expires)
    assert.ok(expires >= Math.floor(before / 1000) * 1000 + 3_600_000 - 1000, cookie.expires)
    assert.ok(expires <= Date.now() + 3_600_000, cookie.expires)

    const dashboard = await request(base, '/dashboard', { cookie: login.cookie })
    assert.equal(dashboard.status, 200)
    assert.match(dashboard.text, /Welcome, user1!/)
    const again = await request(base, '/', { cookie: login.cookie })
    assert.equal(again.status, 302)
    assert.equal(again.headers.get('location'), '/dashboard')

    // Another user, another session, at the same time.
    const other = await request(base, '/login', form('user2', 'password2'))
    assert.notEqual(other.cookie, login.cookie)
    assert.match((await request(base, '/dashboard', { cookie: other.cookie })).text, /Welcome, user2!/)

    const logout = await request(base, '/logout', { cookie: login.cookie })
    assert.equal(logout.status, 302)
    assert.equal(logout.headers.get('location'), '/login')
    const cleared = parseSetCookie(logout.setCookies[0])
    assert.equal(cleared.name, 'connect.sid')
    assert.ok(Date.parse(cleared.expires) <= Date.now(), 'the destroyed session clears its cookie')

    // The old cookie is refused: the session is gone from the store, not only from the browser.
    const after = await request(base, '/dashboard', { cookie: login.cookie })
    assert.equal(after.status, 302)
    assert.equal(after.headers.get('location'), '/login')
    assert.match((await request(base, '/dashboard', { cookie: other.cookie })).text, /Welcome, user2!/)
  } finally {
    await program.stop()
  }
})

test('001 basic setup: first visit, then a count, with an HttpOnly cookie for a day', { skip: skipPort }, async () => {
  const program = await started('001-views.js')
  try {
    const first = await request(base, '/')
    assert.equal(first.text, 'Welcome to your first visit!')
    const cookie = parseSetCookie(first.setCookies[0])
    assert.equal(cookie.httponly, true)
    assert.equal(cookie.secure, undefined, 'secure only when NODE_ENV is production')
    const day = Date.parse(cookie.expires) - Date.now()
    assert.ok(day > 23 * 3_600_000 && day <= 24 * 3_600_000, cookie.expires)

    assert.equal((await request(base, '/', { cookie: first.cookie })).text, 'You visited this page 2 times.')
    assert.equal((await request(base, '/', { cookie: first.cookie })).text, 'You visited this page 3 times.')
    assert.equal((await request(base, '/')).text, 'Welcome to your first visit!')
  } finally {
    await program.stop()
  }
})

const redisService = await requireService('redis')

/** Drives 001's connect-redis program: a new session kept in the local Redis under sess:<id>, then found again. */
async function checkConnectRedisProgram(program, file) {
  assert.equal(program.exited, undefined, `${file} exited with ${program.exited}:\n${program.output}`)
  const { createClient } = require('redis')
  const redis = createClient({ url: 'redis://127.0.0.1:6379' })
  try {
    await redis.connect()
    const first = await request(base, '/')
    assert.equal(first.status, 200)
    assert.equal(first.text, 'You have a new session!')
    const stored = JSON.parse(await redis.get(`sess:${sessionIdOf(first.cookie)}`))
    assert.match(stored.userId, /^[a-z0-9]+$/)
    assert.ok((await redis.ttl(`sess:${sessionIdOf(first.cookie)}`)) > 86_000, 'TTL from maxAge: 24 hours')

    const again = await request(base, '/', { cookie: first.cookie })
    assert.equal(again.text, `Welcome back, user ${stored.userId}!`)
  } finally {
    await redis.close()
    await program.stop()
  }
}

const TUTORIAL_LINE = "const RedisStore = require('connect-redis').default;"

test('001 connect-redis, as written, with connect-redis 7 (the version it was written for): sessions kept in the local Redis', { skip: skipPort || redisService.skip }, async () => {
  await checkConnectRedisProgram(await run('001-connect-redis.js', { connectRedis: 'connect-redis-v7' }), '001-connect-redis.js')
})

test('001 connect-redis, as written, with connect-redis 9: fails at startup with the error the Stores page names', async () => {
  assert.ok(readFileSync(join(fixtures, '001-connect-redis.js'), 'utf8').includes(TUTORIAL_LINE))
  const program = await run('001-connect-redis.js')
  if (program.exited === undefined) await program.stop()
  assert.notEqual(program.exited, undefined, 'it must not start')
  assert.notEqual(program.exited, 0)
  const error = program.output.split('\n').find((line) => line.startsWith('TypeError'))
  assert.equal(error, 'TypeError: RedisStore is not a constructor')
  assert.ok(readFileSync(join(repo, 'docs', 'guide', 'stores.md'), 'utf8').includes(`\`${error}\``), `docs/guide/stores.md names ${error}`)
})

test("001 connect-redis with the Stores page's line in place of the tutorial's, on connect-redis 9", { skip: skipPort || redisService.skip }, async () => {
  const line = snippet('connect-redis-import')
  const program = await run('001-connect-redis.js', { edit: (source) => source.replace(TUTORIAL_LINE, line) })
  await checkConnectRedisProgram(program, `001-connect-redis.js with ${line}`)
})

test("003's require('connect-redis')(session) is not connect-redis 9's form: the error the Stores page names", () => {
  const session = require('sessionkit')
  let error
  try {
    require('connect-redis')(session)
  } catch (err) {
    error = err
  }
  assert.ok(error instanceof TypeError, 'connect-redis 9 exports no function to call with the session module')
  const readme = readFileSync(join(repo, 'docs', 'guide', 'stores.md'), 'utf8')
  assert.ok(readme.includes(`\`TypeError: ${error.message}\``), `docs/guide/stores.md names TypeError: ${error.message}`)
  assert.ok(readme.includes("`const RedisStore = require('connect-redis')(session)` | connect-redis 6 and earlier"))
})
