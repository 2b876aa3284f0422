// Packs sessionkit as npm would publish it, installs the tarball into a scratch app outside the repo
// and uses it from child processes the way users do: require, import, import of the CommonJS build,
// TypeScript, and an Express app serving a real request. Needs `npm run build` first (npm test does
// it); `npm pack --ignore-scripts` packs that dist/ rather than rebuilding it under other tests' feet.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parseSetCookie } from './support/http.mjs'
import { snippet } from './support/snippets.mjs'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const repoModules = join(root, 'node_modules')
const rootPackage = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))

// npm run by `npm test` exports npm_* variables (npm_config_local_prefix among them) that could point
// a child npm back at the repo; the children get an environment without them.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'NODE_PATH' && key !== 'NODE_OPTIONS'))

let tmp
let app
let packed
let installedBy

before(async () => {
  if (!existsSync(join(root, 'dist/cjs/sessionkit.cjs'))) throw new Error('dist/ is missing: run `npm run build` before this test')
  tmp = await mkdtemp(join(tmpdir(), 'sessionkit-pack-'))
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: root, env: cleanEnv })
  packed = JSON.parse(stdout)[0]
  const tarball = join(tmp, packed.filename)

  app = join(tmp, 'app')
  await mkdir(app)
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', version: '1.0.0', private: true }))
  try {
    // Offline: the runtime dependencies are in the npm cache since the repo installed them.
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', app, tarball], { cwd: app, env: cleanEnv })
    installedBy = 'npm install --offline'
  } catch (error) {
    // A cache filled by `npm ci` (as on CI) holds tarballs but not the registry metadata that resolving
    // `cookie@^1` offline needs. Then unpack the tarball by hand and link the runtime dependencies from
    // the repo's node_modules: the package's own files and its exports map are still what is tested.
    installedBy = `tarball unpacked, dependencies linked from the repo (offline install failed: ${String(error.stderr ?? error.message).split('\n').find((line) => /error code/i.test(line)) ?? 'see npm log'})`
    await rm(join(app, 'node_modules'), { recursive: true, force: true })
    const target = join(app, 'node_modules', 'sessionkit')
    await mkdir(target, { recursive: true })
    await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1'])
    for (const dependency of Object.keys(rootPackage.dependencies)) {
      await mkdir(join(app, 'node_modules', dependency, '..'), { recursive: true })
      await symlink(join(repoModules, dependency), join(app, 'node_modules', dependency), 'dir')
    }
  }
})

after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true })
})

/** Runs `source` as file `name` in the scratch app with node and returns what it printed as JSON. */
async function runInApp(name, source, env = {}) {
  await writeFile(join(app, name), source)
  try {
    const { stdout } = await run(process.execPath, [join(app, name)], { cwd: app, env: { ...cleanEnv, ...env }, timeout: 15_000 })
    return JSON.parse(stdout)
  } catch (error) {
    throw new Error(`${name} failed:\n${error.stderr ?? ''}${error.stdout ?? ''}${error.message}`)
  }
}

/** Compiles `files` of the scratch app with the repo's tsc (strict, nodenext), through a tsconfig named `name`. */
async function compileInApp(name, files) {
  await writeFile(
    join(app, name),
    JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, noEmit: true, typeRoots: [join(repoModules, '@types')], types: ['node'] },
      files,
    }),
  )
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  await run(process.execPath, [tsc, '-p', join(app, name)], { cwd: app, env: cleanEnv }).catch((error) => {
    throw new Error(`tsc failed in the scratch app:\n${error.stdout}${error.stderr}`)
  })
}

/**
 * Type-checks `body` in the scratch app twice, as an ES module importing `subpath` by default import
 * and as CommonJS with `import X = require(subpath)`, both binding it to `binding`; throws tsc's output.
 */
async function typecheckConsumer(name, subpath, binding, body) {
  await writeFile(join(app, `${name}-consumer.mts`), `import ${binding} from '${subpath}'\n${body}`)
  await writeFile(join(app, `${name}-consumer.cts`), `import ${binding} = require('${subpath}')\n${body}`)
  await compileInApp(`tsconfig.${name}.json`, [`${name}-consumer.mts`, `${name}-consumer.cts`])
}

test('the tarball holds the build and its types, not the sources or tests', (t) => {
  t.diagnostic(`installed by: ${installedBy}`)
  const files = packed.files.map((file) => file.path)
  for (const required of ['package.json', 'README.md', 'LICENSE', 'dist/cjs/sessionkit.cjs', 'dist/esm/sessionkit.mjs', 'dist/cjs/sessionkit.d.cts', 'dist/esm/sessionkit.d.mts', 'dist/cjs/index.d.ts', 'dist/cjs/types.d.ts']) {
    assert.ok(files.includes(required), `${required} is in the tarball`)
  }
  // Every file the exports map and the legacy fields point at ships.
  const targets = [rootPackage.main, rootPackage.types]
  const walk = (value) => (typeof value === 'string' ? targets.push(value) : Object.values(value).forEach(walk))
  walk(rootPackage.exports)
  for (const target of targets) assert.ok(files.includes(target.replace(/^\.\//, '')), `${target} is in the tarball`)
  // Each compiled module comes with its declarations.
  for (const file of files.filter((path) => /^dist\/cjs\/.*\.js$/.test(path))) {
    assert.ok(files.includes(file.replace(/\.js$/, '.d.ts')), `${file} has a .d.ts`)
  }
  // Every declaration file that a shipped declaration imports ships too (hand-written ones such as
  // express-session-types.d.ts are copied by the build, not emitted by tsc).
  const declarations = files.filter((path) => /\.d\.[cm]?ts$/.test(path))
  for (const file of declarations) {
    const source = readFileSync(join(app, 'node_modules/sessionkit', file), 'utf8')
    for (const [, specifier] of source.matchAll(/(?:from\s+|require\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = posix.join(posix.dirname(file), specifier).replace(/\.js$/, '.d.ts').replace(/\.cjs$/, '.d.cts').replace(/\.mjs$/, '.d.mts')
      assert.ok(files.includes(target), `${file} imports ${specifier}, so ${target} is in the tarball`)
    }
  }
  const stray = files.filter((path) => path.startsWith('src/') || path.startsWith('test/') || /\.test\.m?js$/.test(path) || (/\.[cm]?ts$/.test(path) && !/\.d\.[cm]?ts$/.test(path)))
  assert.deepEqual(stray, [])
})

test("require('sessionkit') is the factory, with the classes stores need on it", async () => {
  const result = await runInApp(
    'require.cjs',
    `const util = require('node:util')
const { EventEmitter } = require('node:events')
const session = require('sessionkit')
function OldStyle(options) { session.Store.call(this, options) }
util.inherits(OldStyle, session.Store)
const old = new OldStyle({})
let heard = 0
old.on('connect', () => heard++)
old.emit('connect')
class Modern extends session.Store {}
const modern = new Modern()
modern.on('disconnect', () => heard++)
modern.emit('disconnect')
const middleware = session({ secret: 's', resave: false, saveUninitialized: false })
console.log(JSON.stringify({
  resolved: require.resolve('sessionkit'),
  factory: typeof session,
  classes: ['Store', 'MemoryStore', 'Cookie', 'Session'].map((name) => typeof session[name]),
  oldIsEmitter: old instanceof EventEmitter,
  oldIsStore: old instanceof session.Store,
  modernIsEmitter: modern instanceof EventEmitter,
  heard,
  memoryStoreIsStore: new session.MemoryStore() instanceof session.Store,
  middlewareArity: middleware.length,
}))
process.exit(0)
`,
  )
  assert.equal(result.resolved, join(app, 'node_modules/sessionkit/dist/cjs/sessionkit.cjs'))
  assert.equal(result.factory, 'function')
  assert.deepEqual(result.classes, ['function', 'function', 'function', 'function'])
  assert.equal(result.oldIsEmitter, true)
  assert.equal(result.oldIsStore, true)
  assert.equal(result.modernIsEmitter, true)
  assert.equal(result.heard, 2)
  assert.equal(result.memoryStoreIsStore, true)
  assert.equal(result.middlewareArity, 3)
})

test("import session, { Store, MemoryStore, Cookie, Session } from 'sessionkit'", async () => {
  const result = await runInApp(
    'import.mjs',
    `import session, { Store, MemoryStore, Cookie, Session } from 'sessionkit'
import { EventEmitter } from 'node:events'
class Modern extends Store {}
console.log(JSON.stringify({
  resolved: import.meta.resolve('sessionkit'),
  factory: typeof session,
  same: [session.Store === Store, session.MemoryStore === MemoryStore, session.Cookie === Cookie, session.Session === Session],
  modernIsEmitter: new Modern() instanceof EventEmitter,
}))
process.exit(0)
`,
  )
  assert.match(result.resolved, /\/node_modules\/sessionkit\/dist\/esm\/sessionkit\.mjs$/)
  assert.equal(result.factory, 'function')
  assert.deepEqual(result.same, [true, true, true, true])
  assert.equal(result.modernIsEmitter, true)
})

test('an ES module gets named exports from the CommonJS build itself', async () => {
  const cjsBuild = join(app, 'node_modules/sessionkit/dist/cjs/sessionkit.cjs')
  // A named import that Node's CommonJS lexer could not find is a SyntaxError at link time, so
  // merely running this module proves the names are statically detectable.
  const result = await runInApp(
    'cjs-named.mjs',
    `import defaultExport, { Store, MemoryStore, Cookie, Session, session } from ${JSON.stringify(cjsBuild)}
import * as namespace from ${JSON.stringify(cjsBuild)}
console.log(JSON.stringify({
  types: [Store, MemoryStore, Cookie, Session, session].map((value) => typeof value),
  names: Object.keys(namespace).sort(),
  sameAsDefault: defaultExport.Store === Store && defaultExport === session,
}))
process.exit(0)
`,
  )
  assert.deepEqual(result.types, ['function', 'function', 'function', 'function', 'function'])
  for (const name of ['Cookie', 'MemoryStore', 'Session', 'Store', 'default', 'session']) assert.ok(result.names.includes(name), `${name} is a named export`)
  assert.equal(result.sameAsDefault, true)
})

test('require and import give the very same classes (no dual-package hazard)', async () => {
  const result = await runInApp(
    'dual.mjs',
    `import { createRequire } from 'node:module'
import session, { Store, MemoryStore, Session } from 'sessionkit'
const required = createRequire(import.meta.url)('sessionkit')
console.log(JSON.stringify([required === session, required.Store === Store, required.MemoryStore === MemoryStore, required.Session === Session]))
process.exit(0)
`,
  )
  assert.deepEqual(result, [true, true, true, true])
})

test("require('sessionkit/cookie-session') and its import are cookie-session's factory, typed", async () => {
  const result = await runInApp(
    'cookie-session.mjs',
    `import { createRequire } from 'node:module'
import imported, { cookieSession } from 'sessionkit/cookie-session'
const required = createRequire(import.meta.url)('sessionkit/cookie-session')
const middleware = required({ name: 'session', keys: ['k1', 'k2'], maxAge: 60_000 })
console.log(JSON.stringify({
  resolved: createRequire(import.meta.url).resolve('sessionkit/cookie-session'),
  factory: typeof required,
  same: [imported === required, cookieSession === required],
  arity: middleware.length,
}))
process.exit(0)
`,
  )
  assert.equal(result.resolved, join(app, 'node_modules/sessionkit/dist/cjs/cookie-session.cjs'))
  assert.equal(result.factory, 'function')
  assert.deepEqual(result.same, [true, true])
  assert.equal(result.arity, 3)
  const body = `
const options: cookieSession.CookieSessionCompatOptions = { name: 'session', keys: ['k1'], maxAge: 60_000, sameSite: 'lax' }
export const middleware = cookieSession(options)
export function handler(req: cookieSession.CookieSessionRequest): boolean | undefined {
  req.sessionOptions.maxAge = 1000
  return req.session?.isNew
}
// @ts-expect-error sameSite takes cookie-session's values
cookieSession({ keys: ['k1'], sameSite: 'sideways' })
`
  await typecheckConsumer('cookie-session', 'sessionkit/cookie-session', 'cookieSession', body)
})

test("require('sessionkit/koa') and its import are koa-session's factory, typed, without koa installed", async () => {
  const result = await runInApp(
    'koa.mjs',
    `import { createRequire } from 'node:module'
import imported, { createSession } from 'sessionkit/koa'
const require = createRequire(import.meta.url)
const required = require('sessionkit/koa')
const app = { use() {}, emit() { return false }, context: {}, keys: ['k1'] }
let koaInstalled = true
try { require.resolve('koa') } catch { koaInstalled = false }
let withoutApp
try { required({}) } catch (error) { withoutApp = error.message }
console.log(JSON.stringify({
  resolved: require.resolve('sessionkit/koa'),
  factory: typeof required,
  same: [imported === required, createSession === required, required.default === required, required.createSession === required],
  arity: required({ maxAge: 60_000 }, app).length,
  session: Object.getOwnPropertyNames(app.context).includes('session'),
  withoutApp,
  koaInstalled,
}))
`,
  )
  assert.equal(result.resolved, join(app, 'node_modules/sessionkit/dist/cjs/koa.cjs'))
  assert.equal(result.factory, 'function')
  assert.deepEqual(result.same, [true, true, true, true])
  assert.equal(result.arity, 2)
  assert.equal(result.session, true, 'ctx.session is defined on the app\'s context')
  assert.match(result.withoutApp, /app instance required/)
  assert.equal(result.koaInstalled, false, 'koa is an optional peer: the entry loads without it')
  const body = `
declare const app: session.KoaApplication
const options: session.KoaSessionOptions = { key: 'koa.sess', maxAge: 86_400_000, sameSite: null, rolling: false, renew: true }
export const middleware: session.KoaMiddleware = session(options, app)
export const defaults = session(app)
export function read(value: session.KoaSessionObject): [boolean, number | 'session' | undefined, unknown] {
  return [value.isNew, value.maxAge, value.views]
}
// @ts-expect-error maxAge is a number or 'session'
session({ maxAge: 'forever' }, app)
`
  await typecheckConsumer('koa', 'sessionkit/koa', 'session', body)
})

test("require('sessionkit/fastify') and its import are the plugin; a Fastify app registers it; typed as ESM and CommonJS", async () => {
  // Fastify and @fastify/cookie come from the repo, as an app has them installed beside sessionkit.
  for (const name of ['fastify', '@fastify/cookie']) {
    await mkdir(join(app, 'node_modules', name, '..'), { recursive: true })
    await symlink(join(repoModules, name), join(app, 'node_modules', name), 'dir').catch((error) => {
      if (error.code !== 'EEXIST') throw error
    })
  }
  const result = await runInApp(
    'fastify-app.mjs',
    `import { createRequire } from 'node:module'
import Fastify from 'fastify'
import fastifyCookie from '@fastify/cookie'
import imported, { fastifySession, MemoryStore } from 'sessionkit/fastify'
const required = createRequire(import.meta.url)('sessionkit/fastify')
const app = Fastify()
app.register(fastifyCookie)
app.register(imported, { secret: 'a secret with minimum length of 32 characters', store: new MemoryStore(), cookie: { secure: false } })
app.get('/', async (request) => ({ views: (request.session.views = (request.session.views ?? 0) + 1) }))
const first = await app.inject('/')
const second = await app.inject({ url: '/', headers: { cookie: first.headers['set-cookie'].split(';')[0] } })
console.log(JSON.stringify({
  resolved: createRequire(import.meta.url).resolve('sessionkit/fastify'),
  same: [imported === required, fastifySession === required, required.MemoryStore === MemoryStore, required.Store === MemoryStore],
  bodies: [first.json(), second.json()],
}))
await app.close()
`,
  )
  assert.equal(result.resolved, join(app, 'node_modules/sessionkit/dist/cjs/fastify.cjs'))
  assert.deepEqual(result.same, [true, true, true, true])
  assert.deepEqual(result.bodies, [{ views: 1 }, { views: 2 }])
  const body = `
declare module 'fastify' { interface Session { views: number } }
const app = Fastify()
app.register(fastifySession, { secret: ['a secret with minimum length of 32 characters'], cookieName: 'sid', store: new fastifySession.MemoryStore() })
app.get('/', async (request) => {
  request.session.set('views', (request.session.get('views') ?? 0) + 1)
  await request.session.regenerate(['views'])
  // @ts-expect-error views is a number
  request.session.views = 'many'
  return request.session.sessionId
})
`
  await writeFile(join(app, 'fastify-consumer.mts'), `import Fastify from 'fastify'\nimport fastifySession from 'sessionkit/fastify'\n${body}`)
  await writeFile(join(app, 'fastify-consumer.cts'), `import Fastify = require('fastify')\nimport fastifySession = require('sessionkit/fastify')\n${body}`)
  await compileInApp('tsconfig.fastify.json', ['fastify-consumer.mts', 'fastify-consumer.cts'])
})

test("sessionkit/hono's middleware loads by require and import without hono installed", async () => {
  assert.throws(() => createRequire(join(app, 'package.json')).resolve('hono'), { code: 'MODULE_NOT_FOUND' }, 'the scratch app has no hono')
  const result = await runInApp(
    'hono.cjs',
    `const { session, cookieSession } = require('sessionkit/hono')
const { MemoryStore } = require('sessionkit')
const middleware = session({ secret: 's', store: new MemoryStore(), resave: false, saveUninitialized: false })
import('sessionkit/hono').then((esm) => {
  console.log(JSON.stringify({
    resolved: require.resolve('sessionkit/hono'),
    same: [esm.session === session, esm.cookieSession === cookieSession],
    middleware: [typeof middleware, middleware.length, typeof middleware.sessions.sessionsOf],
    cookieMode: typeof cookieSession({ secret: 'x'.repeat(32) }),
  }))
})
`,
  )
  assert.equal(result.resolved, join(app, 'node_modules/sessionkit/dist/cjs/adapters/hono/hono.js'))
  assert.deepEqual(result.same, [true, true], 'one middleware factory whichever way it is loaded')
  assert.deepEqual(result.middleware, ['function', 2, 'function'])
  assert.equal(result.cookieMode, 'function')
})

test('TypeScript apps compile against the installed types, as ESM and as CommonJS', async () => {
  const body = `
declare module 'sessionkit' { interface SessionData { userId: number } }
const middleware = session({ secret: 's', store: new MemoryStore({ max: 10 }) })
class RedisLike extends Store {}
export const checks = [middleware, new RedisLike()]
// @ts-expect-error a secret is required
session({})
`
  await writeFile(join(app, 'consumer.mts'), `import session, { MemoryStore, Store } from 'sessionkit'\n${body}`)
  await writeFile(join(app, 'consumer.cts'), `import session = require('sessionkit')\nconst { MemoryStore, Store } = session\n${body}`)
  await compileInApp('tsconfig.json', ['consumer.mts', 'consumer.cts'])
})

test('an Express app using the installed package sets a session cookie and keeps the session', async () => {
  // Express comes from the repo (NODE_PATH is only consulted after the app's own node_modules, which
  // hold sessionkit and its dependencies); SESSIONKIT_EXPRESS=4 picks the Express 4 alias.
  const expressName = process.env.SESSIONKIT_EXPRESS === '4' ? 'express4' : 'express'
  const result = await runInApp(
    'express-app.cjs',
    `const express = require(${JSON.stringify(expressName)})
const session = require('sessionkit')
const app = express()
app.use(session({ secret: 'packaged', resave: false, saveUninitialized: false }))
app.get('/', (req, res) => {
  req.session.views = (req.session.views || 0) + 1
  res.send(String(req.session.views))
})
const server = app.listen(0, '127.0.0.1', async () => {
  const base = 'http://127.0.0.1:' + server.address().port
  const first = await fetch(base + '/')
  const setCookie = first.headers.getSetCookie()
  const second = await fetch(base + '/', { headers: { cookie: setCookie[0].split(';')[0] } })
  console.log(JSON.stringify({
    expressFrom: require.resolve(${JSON.stringify(expressName)}),
    sessionkitFrom: require.resolve('sessionkit'),
    first: { status: first.status, text: await first.text(), setCookie },
    second: { status: second.status, text: await second.text() },
  }))
  server.closeAllConnections()
  server.close()
})
`,
    { NODE_PATH: repoModules },
  )
  assert.ok(result.expressFrom.startsWith(repoModules), result.expressFrom)
  assert.equal(result.sessionkitFrom, join(app, 'node_modules/sessionkit/dist/cjs/sessionkit.cjs'))
  assert.equal(result.first.status, 200)
  assert.equal(result.first.text, '1')
  assert.equal(result.first.setCookie.length, 1)
  const cookie = parseSetCookie(result.first.setCookie[0])
  assert.equal(cookie.name, 'connect.sid')
  assert.match(cookie.value, /^s%3A[\w-]+\.[\w%+/-]+$/)
  assert.equal(cookie.path, '/')
  assert.equal(cookie.httponly, true)
  assert.equal(result.second.status, 200)
  assert.equal(result.second.text, '2')
})

test("the README's Quick start runs as pasted: a counter that keeps its session, and login", async () => {
  await writeFile(join(app, 'quick-start.cjs'), snippet('quick-start'))
  const child = spawn(process.execPath, [join(app, 'quick-start.cjs')], {
    cwd: app,
    env: { ...cleanEnv, NODE_PATH: repoModules, PORT: '0', SESSION_SECRET: 'quick start secret' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  try {
    let output = ''
    const base = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the Quick start did not say where it listens:\n${output}`)), 15_000)
      const read = (chunk) => {
        output += chunk
        const found = /listening on (http:\/\/localhost:\d+)/.exec(output)
        if (found) {
          clearTimeout(timer)
          resolve(found[1].replace('localhost', '127.0.0.1'))
        }
      }
      child.stdout.on('data', read)
      child.stderr.on('data', read)
      child.on('exit', (code) => reject(new Error(`the Quick start exited with ${code}:\n${output}`)))
    })
    const first = await fetch(`${base}/`)
    assert.equal(await first.text(), '1 views')
    const cookie = first.headers.getSetCookie()[0].split(';')[0]
    assert.equal(await (await fetch(`${base}/`, { headers: { cookie } })).text(), '2 views')
    const login = await fetch(`${base}/login`, { method: 'POST', headers: { cookie }, redirect: 'manual' })
    assert.equal(login.status, 302)
    const loggedIn = login.headers.getSetCookie()[0].split(';')[0]
    assert.notEqual(loggedIn, cookie, 'login regenerates the session id')
    assert.equal(await (await fetch(`${base}/`, { headers: { cookie: loggedIn } })).text(), '1 views')
  } finally {
    child.kill()
  }
})
