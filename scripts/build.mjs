// Builds dist/: the TypeScript sources compiled once to CommonJS (dist/cjs), the CommonJS entry that
// makes `require('sessionkit')` the factory, and an ESM entry (dist/esm) that wraps it.
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

rmSync(join(root, 'dist'), { recursive: true, force: true })
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' })
mkdirSync(join(root, 'dist/esm'), { recursive: true })
const copies = [
  ['src/entry/sessionkit.cjs', 'dist/cjs/sessionkit.cjs'],
  ['src/entry/sessionkit.d.cts', 'dist/cjs/sessionkit.d.cts'],
  ['src/entry/sessionkit.mjs', 'dist/esm/sessionkit.mjs'],
  ['src/entry/sessionkit.d.mts', 'dist/esm/sessionkit.d.mts'],
  ['src/entry/testing.mjs', 'dist/esm/testing.mjs'],
  ['src/entry/testing.d.mts', 'dist/esm/testing.d.mts'],
]
for (const [from, to] of copies) copyFileSync(join(root, from), join(root, to))
