// Builds dist/: the TypeScript sources compiled once to CommonJS (dist/cjs), the CommonJS entry that
// makes `require('sessionkit')` the factory, and an ESM entry (dist/esm) that wraps it.
// The build goes to a scratch folder that replaces dist/ only when complete, so a test running while
// someone rebuilds never finds dist/ missing or half written.
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const scratch = join(root, `.dist-build-${process.pid}`)
const previous = join(root, `.dist-old-${process.pid}`)

rmSync(scratch, { recursive: true, force: true })
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json'), '--outDir', join(scratch, 'cjs')], { stdio: 'inherit' })
  mkdirSync(join(scratch, 'esm'), { recursive: true })
  const copies = [
    ['src/entry/sessionkit.cjs', 'cjs/sessionkit.cjs'],
    // Hand-written: it must keep its @ts-ignore lines, which declaration emit would not.
    ['src/express-session-types.d.ts', 'cjs/express-session-types.d.ts'],
    ['src/entry/sessionkit.d.cts', 'cjs/sessionkit.d.cts'],
    ['src/entry/sessionkit.mjs', 'esm/sessionkit.mjs'],
    ['src/entry/sessionkit.d.mts', 'esm/sessionkit.d.mts'],
    ['src/entry/testing.mjs', 'esm/testing.mjs'],
    ['src/entry/testing.d.mts', 'esm/testing.d.mts'],
    ['src/entry/redis.mjs', 'esm/redis.mjs'],
    ['src/entry/redis.d.mts', 'esm/redis.d.mts'],
    ['src/entry/postgres.mjs', 'esm/postgres.mjs'],
    ['src/entry/postgres.d.mts', 'esm/postgres.d.mts'],
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
