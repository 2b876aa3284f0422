// `npm run test:quick` runs the test files that need no service and no browser, and `npm test` every
// file: the quick list leaves out exactly the files that import the service, browser, Redis-server or
// example-building helpers and the few long ones it names, and README's Development section names the command.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const NEEDS = /'\.\/support\/(services|browser|redis-servers|built-example)\.mjs'/

const listed = execFileSync(process.execPath, [join(root, 'scripts/test-quick.mjs'), '--list'], { encoding: 'utf8' }).trim().split('\n')
const all = readdirSync(join(root, 'test')).filter((name) => name.endsWith('.test.mjs')).map((name) => `test/${name}`)

test('the quick list holds no file that needs a service or a browser', () => {
  for (const file of listed) assert.doesNotMatch(readFileSync(join(root, file), 'utf8'), NEEDS, file)
})

test('every file that needs nothing of the kind is quick, unless the script names it as long', () => {
  const script = readFileSync(join(root, 'scripts/test-quick.mjs'), 'utf8')
  const left = all.filter((file) => !listed.includes(file) && !NEEDS.test(readFileSync(join(root, file), 'utf8')))
  for (const file of left) assert.ok(script.includes(`'${file.slice('test/'.length)}'`), `${file} is left out without a reason in scripts/test-quick.mjs`)
  assert.ok(listed.includes('test/test-quick.test.mjs'))
  assert.ok(listed.length >= all.length / 2, `${listed.length} of ${all.length} files`)
})

test('npm test runs every file; test:quick is a script, named in the README', () => {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  assert.match(scripts.test, /node --test test\/\*\.test\.mjs/)
  assert.equal(scripts['test:quick'], 'npm run build --silent && node scripts/test-quick.mjs')
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const development = readme.slice(readme.indexOf('\n## Development'), readme.indexOf('\n## ', readme.indexOf('\n## Development') + 1))
  assert.match(development, /npm run test:quick/)
})
