// The first-party stores warn once when the app's pg Pool or node-redis client has no 'error' listener:
// both report a dropped connection as an 'error' event, which ends the process when nothing listens
// (test/stores-restart.test.mjs shows the crash). No server is needed: the warning comes with the first
// command, whether or not it reaches a database (nothing listens on the ports used here).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { createClient } from 'redis'
import Redis from 'ioredis'
import { PostgresStore } from 'sessionkit/postgres'
import { RedisStore } from 'sessionkit/redis'

const CODE = 'SESSIONKIT_NO_ERROR_LISTENER'
/** The warnings of code CODE emitted while `work` runs (and a tick after). */
async function warningsDuring(work) {
  const seen = []
  const listener = (warning) => warning.code === CODE && seen.push(warning.message)
  process.on('warning', listener)
  try {
    await work()
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', listener)
  }
  return seen
}

test('sessionkit/postgres: a pool without an error listener gets one warning that says what to add; one with a listener none', async () => {
  const bare = new pg.Pool({ host: '127.0.0.1', port: 55439, user: 'postgres', connectionTimeoutMillis: 1000 })
  const store = new PostgresStore({ pool: bare, pruneInterval: 0 })
  const second = new PostgresStore({ pool: bare, pruneInterval: 0 })
  const warned = await warningsDuring(async () => {
    for (const s of [store, store, second]) await assert.rejects(s.get('x'))
  })
  assert.equal(warned.length, 1)
  assert.match(warned[0], /pool\.on\('error'/)

  const listened = new pg.Pool({ host: '127.0.0.1', port: 55439, user: 'postgres', connectionTimeoutMillis: 1000 })
  listened.on('error', () => {})
  const quiet = await warningsDuring(() => assert.rejects(new PostgresStore({ pool: listened, pruneInterval: 0 }).get('x')))
  assert.deepEqual(quiet, [])
  await Promise.all([bare.end(), listened.end()])
})

test('sessionkit/redis: a node-redis client without an error listener gets one warning; with one, or ioredis, none', async () => {
  const bare = createClient({ url: 'redis://127.0.0.1:7189' }) // never connected: every command is refused at once
  const warned = await warningsDuring(async () => {
    const store = new RedisStore({ client: bare })
    await assert.rejects(store.get('x'))
    await assert.rejects(store.getVersioned('x', { touch: true }))
  })
  assert.equal(warned.length, 1)
  assert.match(warned[0], /client\.on\('error'/)

  const listened = createClient({ url: 'redis://127.0.0.1:7189' })
  listened.on('error', () => {})
  const io = new Redis({ host: '127.0.0.1', port: 7189, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null })
  const quiet = await warningsDuring(async () => {
    await assert.rejects(new RedisStore({ client: listened }).get('x'))
    await assert.rejects(new RedisStore({ client: io }).get('x'))
  })
  assert.deepEqual(quiet, [])
  io.disconnect()
})
