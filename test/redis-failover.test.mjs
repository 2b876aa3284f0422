// A master of a Redis Cluster is SIGKILLed under load (the short run of bench/failover.mjs): two app
// processes from examples/redis-real-cluster (sessionkit from dist/) on a cluster this file starts on
// ports 7110-7115, 50 connections of logins, reads and logouts to 127.0.0.1, bounded in time. Neither
// app crashes, errors start only after the kill and stop before the run ends, every session created
// before the kill is readable after it, also when the dead master never comes back; with waitForReplicas no acknowledged login or logout is lost,
// without it the count is reported.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { runFailover } from '../bench/failover.mjs'
import { missingRedisBinaries } from './support/redis-servers.mjs'

const skip = missingRedisBinaries()

function checkCommon(figures) {
  assert.equal(figures.crashes, 0, 'no app process crashed')
  assert.equal(figures.errorsBeforeKill, 0, 'no error before the kill')
  assert.ok(figures.errors > 0, 'the kill was felt (requests to the dead shard failed)')
  assert.ok(figures.quietAfterWindowMs >= 500, `errors stopped before the run did (last error ${figures.quietAfterWindowMs} ms before its end)`)
  assert.equal(figures.sessionsBeforeLost, 0, `every session created before the kill is readable (${figures.sessionsBefore})`)
  assert.equal(figures.wrongReads, 0, 'no read answered another user or no user for an acknowledged login')
}

describe('a Redis Cluster master killed under load', { skip, concurrency: 1 }, () => {
  test('with waitForReplicas (ioredis Cluster): no acknowledged login or logout is lost', { timeout: 90_000 }, async (t) => {
    const figures = await runFailover({ base: 7110, client: 'ioredis', waitReplicas: 1, lagMs: 500, connections: 50, durationMs: 10_000, killAtMs: 2500, preSessions: 100 })
    t.diagnostic(JSON.stringify(figures))
    checkCommon(figures)
    assert.equal(figures.loginsLost, 0, `acknowledged logins lost (of ${figures.acknowledgedLogins})`)
    assert.equal(figures.logoutsUndone, 0, `acknowledged logouts undone (of ${figures.acknowledgedLogouts})`)
  })

  // The killed master stays down here: node-redis alone would keep its slots on the dead node for good.
  test('without it (node-redis createCluster, the dead master never back): the same bounds; what was lost is reported', { timeout: 90_000 }, async (t) => {
    const figures = await runFailover({ base: 7110, client: 'node-redis', waitReplicas: 0, lagMs: 500, restartKilled: false, connections: 50, durationMs: 8000, killAtMs: 2500, preSessions: 100 })
    t.diagnostic(JSON.stringify(figures))
    checkCommon(figures)
    t.diagnostic(`without waitForReplicas: ${figures.loginsLost} of ${figures.acknowledgedLogins} acknowledged logins lost, ${figures.logoutsUndone} of ${figures.acknowledgedLogouts} logouts undone, error window ${figures.windowMs} ms`)
  })
})
