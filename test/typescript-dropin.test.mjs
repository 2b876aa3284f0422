// TypeScript apps written for express-session move to sessionkit without a change: the packed
// tarball is installed with real npm (no links, no --legacy-peer-deps) in scratch projects under
// os.tmpdir(), next to the stores, passport and their @types at their current majors, and tsc
// (the repo's, strict, skipLibCheck false) compiles the apps in test/fixtures/ts-dropin/ there.
// Each project is installed once and compiled under several module settings:
//
// - alias:  installed as `express-session` (the README's `npm install express-session@npm:sessionkit`),
//           with @types/express-session kept, as an app written for it has it;
// - bare:   the same alias and sessionkit under its own name, without @types/express-session, where
//           sessionkit's own types apply;
// - direct: installed as `sessionkit`, the app's module names changed, with @types/express-session
//           present because @types/connect-pg-simple depends on it.
//
// Needs `npm run build` first (npm test does it). Uses the npm cache with --prefer-offline, so a
// second run does not go to the registry. The compilations of one project run side by side: each is
// a process of its own, and the repo's tsc spends most of a run on one core.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { snippet } from './support/snippets.mjs'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const fixtures = join(root, 'test/fixtures/ts-dropin')
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const rootPackage = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))

// npm run by `npm test` exports npm_* variables that could point a child npm back at the repo.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'NODE_PATH' && key !== 'NODE_OPTIONS'))

// The other packages of each project, at their current majors.
const STORES = ['express@^5', 'connect-redis@^9', 'redis@^5', 'connect-pg-simple@^10', 'pg@^8', 'passport@^0.7']
const TYPES = ['@types/express@^5', '@types/passport@^1', '@types/connect-pg-simple@^7', '@types/node@^20']

const strict = { target: 'ES2022', strict: true, skipLibCheck: false, noEmit: true }
const WRONG_TYPE = /^wrong\.m?ts\(5,3\): error TS2322: Type 'string' is not assignable to type 'number'\.$/

// What each project installs besides sessionkit, which goes in as `name@file:tarball`.
const PROJECTS = {
  // With the TypeScript a new user gets today (7, the native compiler), besides the repo's.
  alias: { as: ['express-session'], specs: [...STORES, '@types/express-session@^1', ...TYPES, 'typescript@^7'] },
  bare: { as: ['express-session', 'sessionkit'], specs: ['express@^5', 'connect-redis@^9', 'redis@^5', 'passport@^0.7', '@types/express@^5', '@types/passport@^1', '@types/node@^20'] },
  direct: { as: ['sessionkit'], specs: [...STORES, ...TYPES] },
  mongo: { as: ['express-session'], specs: ['express@^5', 'connect-mongo@^6', '@types/express@^5', '@types/node@^20'] },
}

let tmp
const installs = {}

before(async () => {
  if (!existsSync(join(root, 'dist/cjs/sessionkit.cjs'))) throw new Error('dist/ is missing: run `npm run build` before this test')
  tmp = await mkdtemp(join(tmpdir(), 'sessionkit-dropin-'))
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: root, env: cleanEnv })
  const tarball = join(tmp, JSON.parse(stdout)[0].filename)
  // The projects install side by side (npm waits on the network and the disk more than on the CPU);
  // each suite awaits its own, so a failed install fails that suite only.
  for (const [name, { as, specs }] of Object.entries(PROJECTS)) {
    installs[name] = install(name, [...as.map((alias) => `${alias}@file:${tarball}`), ...specs])
    installs[name].catch(() => {})
  }
})

after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true })
})

/** Installs `specs` with plain `npm install` into a new project `name`; returns its folder. */
async function install(name, specs) {
  const dir = join(tmp, name)
  await mkdir(dir)
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `dropin-${name}`, version: '1.0.0', private: true }))
  try {
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...specs], { cwd: dir, env: cleanEnv, timeout: 150_000 })
  } catch (error) {
    throw new Error(`npm install in ${name} failed:\n${String(error.stderr ?? error.message).split('\n').slice(0, 25).join('\n')}`)
  }
  return dir
}

/** The name and version of every package the project's package.json lists, as installed. */
async function installedVersions(dir) {
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
  const names = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).sort()
  const versions = []
  for (const name of names) {
    const installed = JSON.parse(await readFile(join(dir, 'node_modules', name, 'package.json'), 'utf8'))
    versions.push(installed.name === name ? `${name}@${installed.version}` : `${name}@npm:${installed.name}@${installed.version}`)
  }
  return versions
}

/**
 * Copies fixtures into the project as `{ target: fixture }`, with `moduleName` in place of
 * 'express-session' (the one change a direct install asks of an app).
 */
async function writeSources(dir, files, moduleName = 'express-session') {
  for (const [target, fixture] of Object.entries(files)) {
    const source = await readFile(join(fixtures, fixture), 'utf8')
    await writeFile(join(dir, target), source.replaceAll("'express-session'", `'${moduleName}'`))
  }
}

/** Writes the typed store of the "Writing a store" page (which imports 'sessionkit') as `target`, importing `moduleName`. */
async function writeTypedStore(dir, target, moduleName) {
  await writeFile(join(dir, target), snippet('typed-store').replaceAll("'sessionkit'", `'${moduleName}'`))
}

/**
 * Runs tsc (the repo's, or `compiler`) over `files` with `compilerOptions`; returns its diagnostics,
 * one per line (without continuation lines).
 */
async function typecheck(dir, name, compilerOptions, files, compiler = tsc) {
  const config = join(dir, `tsconfig.${name}.json`)
  await writeFile(config, JSON.stringify({ compilerOptions: { ...strict, ...compilerOptions }, files }, null, 2))
  try {
    await run(process.execPath, [compiler, '-p', config], { cwd: dir, env: cleanEnv, timeout: 120_000 })
    return []
  } catch (error) {
    if (typeof error.stdout !== 'string' || error.stdout === '') throw error
    return error.stdout.split('\n').filter((line) => /error TS\d+/.test(line))
  }
}

const nodenext = (module) => ({ module, moduleResolution: module })
const commonjs = { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true }

describe('installed as express-session, next to @types/express-session', { concurrency: true }, () => {
  let dir
  before(async () => {
    dir = await installs.alias
    await writeSources(dir, {
      'app.mts': 'app.ts',
      'app-cjs.cts': 'app.ts',
      'redis-store.mts': 'redis-store.ts',
      'pg-store.cts': 'pg-store.ts',
      'extras.mts': 'extras.ts',
      'wrong.mts': 'wrong.ts',
      'app.ts': 'app.ts',
      'redis-store.ts': 'redis-store.ts',
      'pg-store.ts': 'pg-store.ts',
      'extras.ts': 'extras.ts',
    })
    await writeTypedStore(dir, 'typed-store.mts', 'express-session')
  })

  test('plain npm install accepts it where the stores want express-session', async (t) => {
    const versions = await installedVersions(dir)
    t.diagnostic(versions.join(' '))
    assert.ok(versions.includes(`express-session@npm:sessionkit@${rootPackage.version}`), versions.join(' '))
    const peer = JSON.parse(await readFile(join(dir, 'node_modules/connect-redis/package.json'), 'utf8')).peerDependencies
    assert.equal(peer['express-session'], '>=1')
  })

  test('module node16: the app, the stores and the extras compile; the wrong type does not', async () => {
    const errors = await typecheck(dir, 'node16', nodenext('node16'), ['app.mts', 'app-cjs.cts', 'redis-store.mts', 'pg-store.cts', 'extras.mts', 'typed-store.mts', 'wrong.mts'])
    assert.equal(errors.length, 1, errors.join('\n'))
    assert.match(errors[0], WRONG_TYPE)
  })

  test('module commonjs with esModuleInterop: the same app compiles', async () => {
    assert.deepEqual(await typecheck(dir, 'commonjs', commonjs, ['app.ts', 'redis-store.ts', 'pg-store.ts', 'extras.ts']), [])
  })

  test('TypeScript 7, module nodenext: the same', async (t) => {
    const own = join(dir, 'node_modules/typescript')
    t.diagnostic(`typescript@${JSON.parse(await readFile(join(own, 'package.json'), 'utf8')).version}`)
    const errors = await typecheck(dir, 'ts7', nodenext('nodenext'), ['app.mts', 'app-cjs.cts', 'redis-store.mts', 'pg-store.cts', 'extras.mts', 'wrong.mts'], join(own, 'bin/tsc'))
    assert.equal(errors.length, 1, errors.join('\n'))
    assert.match(errors[0], WRONG_TYPE)
  })
})

describe('without @types/express-session: sessionkit’s own types', { concurrency: true }, () => {
  let dir
  before(async () => {
    dir = await installs.bare
    await writeSources(dir, { 'app.mts': 'app.ts', 'redis-store.mts': 'redis-store.ts', 'extras.mts': 'extras.ts', 'own-types.mts': 'own-types.ts', 'wrong.mts': 'wrong.ts', 'app.ts': 'app.ts', 'own-types.ts': 'own-types.ts' })
    await mkdir(join(dir, 'direct'))
    await writeSources(join(dir, 'direct'), { 'app.mts': 'app.ts', 'extras.mts': 'extras.ts', 'own-types.mts': 'own-types.ts', 'wrong.mts': 'wrong.ts' }, 'sessionkit')
    await writeTypedStore(dir, 'typed-store.mts', 'express-session')
    await writeTypedStore(join(dir, 'direct'), 'typed-store.mts', 'sessionkit')
  })

  test('no @types/express-session is installed', async (t) => {
    t.diagnostic((await installedVersions(dir)).join(' '))
    assert.equal(existsSync(join(dir, 'node_modules/@types/express-session')), false)
  })

  test('as express-session, module nodenext: req.session is sessionkit’s Session; the wrong type fails', async () => {
    const errors = await typecheck(dir, 'nodenext', nodenext('nodenext'), ['app.mts', 'redis-store.mts', 'extras.mts', 'own-types.mts', 'typed-store.mts', 'wrong.mts'])
    assert.equal(errors.length, 1, errors.join('\n'))
    assert.match(errors[0], WRONG_TYPE)
  })

  test('as express-session, module commonjs with esModuleInterop', async () => {
    assert.deepEqual(await typecheck(dir, 'commonjs', commonjs, ['app.ts', 'own-types.ts']), [])
  })

  test('as sessionkit, module nodenext, augmenting sessionkit’s SessionData', async () => {
    const errors = await typecheck(join(dir, 'direct'), 'nodenext', nodenext('nodenext'), ['app.mts', 'extras.mts', 'own-types.mts', 'typed-store.mts', 'wrong.mts'])
    assert.equal(errors.length, 1, errors.join('\n'))
    assert.match(errors[0], WRONG_TYPE)
  })
})

describe('installed as sessionkit, with @types/express-session pulled in by @types/connect-pg-simple', { concurrency: true }, () => {
  let dir
  before(async () => {
    dir = await installs.direct
    const sources = { 'app.mts': 'app.ts', 'redis-store.mts': 'redis-store.ts', 'pg-store.mts': 'pg-store.ts', 'extras.cts': 'extras.ts', 'wrong.mts': 'wrong.ts' }
    await writeSources(dir, { ...sources, 'app.ts': 'app.ts', 'redis-store.ts': 'redis-store.ts', 'pg-store.ts': 'pg-store.ts', 'extras.ts': 'extras.ts', 'subpaths.ts': 'subpaths.ts' }, 'sessionkit')
    await writeTypedStore(dir, 'typed-store.mts', 'sessionkit')
  })

  test('plain npm install; @types/express-session is there', async (t) => {
    t.diagnostic((await installedVersions(dir)).join(' '))
    assert.equal(existsSync(join(dir, 'node_modules/@types/express-session/index.d.ts')), true)
  })

  test('module nodenext: no conflict over req.session (TS2717); the wrong type fails', async () => {
    const errors = await typecheck(dir, 'nodenext', nodenext('nodenext'), ['app.mts', 'redis-store.mts', 'pg-store.mts', 'extras.cts', 'typed-store.mts', 'wrong.mts'])
    assert.equal(errors.length, 1, errors.join('\n'))
    assert.match(errors[0], WRONG_TYPE)
  })

  test('module commonjs with esModuleInterop', async () => {
    assert.deepEqual(await typecheck(dir, 'commonjs', commonjs, ['app.ts', 'redis-store.ts', 'pg-store.ts', 'extras.ts']), [])
  })

  // node10 reads no `exports`: without `typesVersions` each subpath is TS2307 "Cannot find module".
  test('module commonjs (moduleResolution node10): sessionkit/redis, /postgres, /testing and /cookie-session resolve', async () => {
    assert.deepEqual(await typecheck(dir, 'node10-subpaths', commonjs, ['subpaths.ts', 'app.ts']), [])
  })

  // TypeScript 5's default target is ES5, where a declared `#private` field is TS18028.
  test('TypeScript’s default target (ES5) with skipLibCheck false: the declarations compile', async () => {
    const es5 = { ...commonjs, target: undefined }
    assert.deepEqual(await typecheck(dir, 'es5', es5, ['subpaths.ts']), [])
  })
})

// connect-mongo 5 and 6 declare the peer `express-session@^1.17.1`: sessionkit's 1.19 meets it, so a
// plain npm install (no --legacy-peer-deps) must succeed.
test('installed as express-session next to connect-mongo 6: plain npm install; MongoStore.create() is the store', async (t) => {
  const dir = await installs.mongo
  t.diagnostic((await installedVersions(dir)).join(' '))
  await writeSources(dir, { 'mongo-store.mts': 'mongo-store.ts' })
  assert.deepEqual(await typecheck(dir, 'nodenext', nodenext('nodenext'), ['mongo-store.mts']), [])
})
