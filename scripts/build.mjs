// Builds dist/: the TypeScript sources compiled once to CommonJS (dist/cjs), the CommonJS entry that
// makes `require('sessionkit')` the factory, and an ESM entry (dist/esm) that wraps it.
// The build goes to a scratch folder that replaces dist/ only when complete, so a test running while
// someone rebuilds never finds dist/ missing or half written.
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const scratch = join(root, `.dist-build-${process.pid}`)
const previous = join(root, `.dist-old-${process.pid}`)

/**
 * A class with `#private` fields is declared with the line `#private;`, which an app compiled for
 * TypeScript's default target (ES5) rejects with TS18028 unless it skips library checks. The line is
 * replaced by a private member named by a string: the class stays nominal (an object of the same
 * shape is still not one of them, as with `#private`), and at run time the fields stay `#` fields.
 */
function withoutPrivateNames(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue
    const file = join(entry.parentPath ?? entry.path, entry.name)
    const text = readFileSync(file, 'utf8')
    const replaced = text.replace(/^(\s*)#private;$/gm, '$1private "#private";')
    if (replaced !== text) writeFileSync(file, replaced)
  }
}

rmSync(scratch, { recursive: true, force: true })
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json'), '--outDir', join(scratch, 'cjs')], { stdio: 'inherit' })
  withoutPrivateNames(join(scratch, 'cjs'))
  mkdirSync(join(scratch, 'esm'), { recursive: true })
  const copies = [
    ['src/entry/sessionkit.cjs', 'cjs/sessionkit.cjs'],
    // Hand-written: it must keep its @ts-ignore lines, which declaration emit would not.
    ['src/adapters/express/express-session-types.d.ts', 'cjs/adapters/express/express-session-types.d.ts'],
    ['src/entry/sessionkit.d.cts', 'cjs/sessionkit.d.cts'],
    ['src/entry/sessionkit.mjs', 'esm/sessionkit.mjs'],
    ['src/entry/sessionkit.d.mts', 'esm/sessionkit.d.mts'],
    ['src/entry/testing.mjs', 'esm/testing.mjs'],
    ['src/entry/testing.d.mts', 'esm/testing.d.mts'],
    ['src/entry/redis.mjs', 'esm/redis.mjs'],
    ['src/entry/redis.d.mts', 'esm/redis.d.mts'],
    ['src/entry/postgres.mjs', 'esm/postgres.mjs'],
    ['src/entry/postgres.d.mts', 'esm/postgres.d.mts'],
    ['src/entry/web.mjs', 'esm/web.mjs'],
    ['src/entry/web.d.mts', 'esm/web.d.mts'],
    ['src/entry/hono.mjs', 'esm/hono.mjs'],
    ['src/entry/hono.d.mts', 'esm/hono.d.mts'],
    ['src/entry/next.mjs', 'esm/next.mjs'],
    ['src/entry/next.d.mts', 'esm/next.d.mts'],
    ['src/entry/koa.cjs', 'cjs/koa.cjs'],
    ['src/entry/koa.d.cts', 'cjs/koa.d.cts'],
    ['src/entry/koa.mjs', 'esm/koa.mjs'],
    ['src/entry/koa.d.mts', 'esm/koa.d.mts'],
    ['src/entry/fastify.cjs', 'cjs/fastify.cjs'],
    ['src/entry/fastify.d.cts', 'cjs/fastify.d.cts'],
    ['src/entry/fastify.mjs', 'esm/fastify.mjs'],
    ['src/entry/fastify.d.mts', 'esm/fastify.d.mts'],
    ['src/entry/react-router.mjs', 'esm/react-router.mjs'],
    ['src/entry/react-router.d.mts', 'esm/react-router.d.mts'],
    ['src/entry/sveltekit.mjs', 'esm/sveltekit.mjs'],
    ['src/entry/sveltekit.d.mts', 'esm/sveltekit.d.mts'],
    ['src/entry/cookie-session.cjs', 'cjs/cookie-session.cjs'],
    ['src/entry/cookie-session.d.cts', 'cjs/cookie-session.d.cts'],
    ['src/entry/cookie-session.mjs', 'esm/cookie-session.mjs'],
    ['src/entry/cookie-session.d.mts', 'esm/cookie-session.d.mts'],
  ]
  for (const [from, to] of copies) copyFileSync(join(root, from), join(scratch, to))
  try {
    renameSync(join(root, 'dist'), previous)
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
  }
  renameSync(scratch, join(root, 'dist'))
  rmSync(previous, { recursive: true, force: true })
} catch (err) {
  rmSync(scratch, { recursive: true, force: true })
  throw err
}
