// A short run of bench/redis-outage.mjs (about 15 s) so that CI checks the outage behaviour on every
// run: a private redis-server is SIGKILLed under load and restarted. The script checks the numbers
// itself and exits non-zero on a failure; here its JSON report is read back so a failure names the check.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('../bench/redis-outage.mjs', import.meta.url))

function hasRedisServer() {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

test('Redis killed under load and restarted: no crash, bounded errors, quick recovery, no acknowledged session lost', { skip: !hasRedisServer() && 'redis-server is not installed', timeout: 60_000 }, async () => {
  const { code, stdout, stderr } = await new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, '--json', '--duration', '11', '--kill-at', '4', '--restart-at', '7', '--rate', '250', '--connections', '8', '--store-timeout', '300'],
      { timeout: 50_000, maxBuffer: 10 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }),
    )
  })
  const last = stdout.trim().split('\n').at(-1)
  let report
  try {
    report = JSON.parse(last)
  } catch {
    assert.fail(`no report from the outage script (exit ${code}):\n${stdout}\n${stderr}`)
  }
  const failed = Object.entries(report.checks).filter(([, pass]) => !pass).map(([name]) => name)
  assert.deepEqual(failed, [], JSON.stringify(report, null, 2))
  assert.equal(report.appCrashed, false)
  assert.ok(report.outage.errorP99Ms <= report.outage.limitMs)
  assert.equal(report.lostAfterRestart, 0)
  assert.ok(report.acknowledgedBeforeKill > 0)
  assert.equal(code, 0)
})
