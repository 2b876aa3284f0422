// "The cookie is not set": each cause is a DEBUG=sessionkit line every time and a process warning the
// first time, with the fix. A child process, because warnings are once per process and `debug` reads
// DEBUG when it loads.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'node:test'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))

// Each scenario runs twice in one process; the child prints one JSON line per scenario (its responses'
// Set-Cookie headers and the warnings emitted meanwhile).
const script = `
  const http = require('node:http')
  const session = require('sessionkit')
  const warnings = []
  process.on('warning', (w) => warnings.push({ code: w.code, message: w.message }))
  const secret = 'diagnostics, a secret of 32 bytes or more'
  const scenarios = {
    'plain-http': [session({ secret, resave: false, saveUninitialized: false, cookie: { secure: true } }), {}],
    'untrusted-proxy': [session({ secret, resave: false, saveUninitialized: false, cookie: { secure: true } }), { 'x-forwarded-proto': 'https' }],
    'ignored-proxy': [session({ secret, resave: false, saveUninitialized: false, proxy: false, cookie: { secure: true } }), { 'x-forwarded-proto': 'https' }],
    'trusted-proxy': [session({ secret, resave: false, saveUninitialized: false, proxy: true, cookie: { secure: true } }), { 'x-forwarded-proto': 'https' }],
    'same-site-none': [session.cookieSession({ secret, cookie: { sameSite: 'none' } }), {}],
    'host-prefix-changed': [session({ secret, resave: false, saveUninitialized: false, name: '__Host-sid', proxy: true, cookie: { secure: true } }), { 'x-forwarded-proto': 'https' }],
    'outside-path': [session({ secret, resave: false, saveUninitialized: false, cookie: { path: '/app' } }), {}],
    'outside-path-with-cookie': [session({ secret, resave: false, saveUninitialized: false, cookie: { path: '/app' } }), { cookie: 'connect.sid=s%3Asomething.else' }],
  }
  ;(async () => {
    for (const [name, [middleware, headers]] of Object.entries(scenarios)) {
      const server = http.createServer((req, res) => middleware(req, res, () => {
        if (req.session) req.session.n = 1
        if (name === 'host-prefix-changed') req.session.cookie.path = '/page'
        res.end(req.session ? 'session' : 'none')
      }))
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
      const setCookies = []
      for (let i = 0; i < 2; i++) {
        process.stderr.write('--- ' + name + '\\n')
        const res = await fetch('http://127.0.0.1:' + server.address().port + '/page', { headers })
        setCookies.push(res.headers.getSetCookie().length)
        await res.text()
      }
      await new Promise((resolve) => setImmediate(resolve))
      console.log(JSON.stringify({ name, setCookies, warnings: warnings.splice(0) }))
      server.close()
    }
  })()`

test('each reason a session cookie is withheld or dropped: a debug line each time, one warning with the fix', async () => {
  const { stdout, stderr } = await run(process.execPath, ['-e', script], { cwd: root, env: { ...process.env, DEBUG: 'sessionkit', DEBUG_COLORS: '0' }, timeout: 20_000 })
  const results = Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .map((result) => [result.name, result]),
  )
  const debugLines = (name) => stderr.split('--- ').filter((chunk) => chunk.startsWith(`${name}\n`)).map((chunk) => chunk.slice(name.length + 1))

  const expectations = {
    'plain-http': { sent: 0, warning: /not sending the Secure session cookie over plain HTTP.*secure: 'auto'/ },
    'untrusted-proxy': { sent: 0, warning: /X-Forwarded-Proto: https.*not trusted.*app\.set\('trust proxy', 1\).*proxy: true/ },
    'ignored-proxy': { sent: 0, warning: /X-Forwarded-Proto: https.*proxy: false ignores it/ },
    'same-site-none': { sent: 1, warning: /SameSite=None but without Secure.*browsers drop it.*secure: true/ },
    'host-prefix-changed': { sent: 1, warning: /__Host-sid is sent with a Domain or a Path other than \/.*browsers drop it/ },
    'outside-path-with-cookie': { sent: 0, warning: /outside cookie\.path \/app carried a cookie named connect\.sid.*own cookie name/ },
  }
  for (const [name, { sent, warning }] of Object.entries(expectations)) {
    const result = results[name]
    assert.deepEqual(result.setCookies, [sent, sent], name)
    assert.equal(result.warnings.length, 1, `${name}: warned once, not on the second request`)
    assert.equal(result.warnings[0].code, 'SESSIONKIT_COOKIE_NOT_SET', name)
    assert.match(result.warnings[0].message, warning, name)
    const lines = debugLines(name)
    assert.equal(lines.length, 2)
    const said = result.warnings[0].message.replace(/^sessionkit: /, '')
    for (const line of lines) assert.ok(line.includes(`sessionkit ${said}`), `${name}: a debug line on every request`)
  }
  // Normal requests outside cookie.path are a debug line only; a trusted proxy sends the cookie and says nothing.
  assert.deepEqual(results['outside-path'].warnings, [])
  for (const line of debugLines('outside-path')) assert.match(line, /sessionkit request path outside cookie\.path \/app; no session/)
  assert.deepEqual(results['trusted-proxy'], { name: 'trusted-proxy', setCookies: [1, 1], warnings: [] })
  assert.doesNotMatch(stderr, /something\.else/, 'no cookie value in any line')
})
