// `npm run test:quick`: the tests a first change can be checked with in under a minute, i.e. every
// test/*.test.mjs except those that need a service (Redis, PostgreSQL, MariaDB: they import
// test/support/services.mjs or start Redis servers), a browser (test/support/browser.mjs), or npm and
// minutes (SLOW below). `npm test` still runs every file: that is what CI runs.
//
// Files run several at a time: most of their time is spent waiting on timers and sockets, not the CPU.
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const testDir = fileURLToPath(new URL('../test/', import.meta.url))

/** What makes a test file need more than this machine: the support modules it imports. */
// built-example.mjs builds a framework's example app, then drives it in Redis and a browser.
const NEEDS = ['./support/services.mjs', './support/browser.mjs', './support/redis-servers.mjs', './support/built-example.mjs']

/**
 * No service, but long: property tests with thousands of runs, npm pack and installs, Redis servers of
 * their own, and tsc over the shipped declarations (`npm run typecheck` compiles the type tests).
 */
const SLOW = new Set([
  'fuzz-cookie-session.test.mjs',
  'fuzz-cookies.test.mjs',
  'fuzz-signatures.test.mjs',
  'packaging.test.mjs',
  'typescript-dropin.test.mjs',
  'redis-outage.test.mjs',
  'review-regressions.test.mjs',
])

const files = readdirSync(testDir)
  .filter((name) => name.endsWith('.test.mjs') && !SLOW.has(name))
  .filter((name) => {
    const source = readFileSync(join(testDir, name), 'utf8')
    return !NEEDS.some((module) => source.includes(`'${module}'`))
  })
  .sort()
  .map((name) => join('test', name))

if (process.argv.includes('--list')) {
  console.log(files.join('\n'))
} else {
  const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' })
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}
