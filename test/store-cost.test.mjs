// What a load and a write of the first-party stores cost on the wire, and that a process of an earlier
// release, sharing the Redis or the PostgreSQL table, still reads and writes the same sessions:
// sessionkit/redis sends a write's fields in few script arguments and gets a load's answer in four
// fields; sessionkit/postgres sends named statements (parsed once per connection), unless told not to.
// Redis on 127.0.0.1:6379 (keys under a prefix of the run), PostgreSQL on 127.0.0.1:5432 (a schema of
// the run, dropped after it).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { createClient } from 'redis'
import { Cookie } from 'sessionkit'
import { PostgresStore } from 'sessionkit/postgres'
import { RedisStore } from 'sessionkit/redis'
import { requireService } from './support/services.mjs'

const redisService = await requireService('redis')
const postgresService = await requireService('postgres')
const prefix = `sessionkit-test-cost:${process.pid}-${Date.now().toString(36)}:`
const schema = `sessionkit_test_cost_${process.pid}_${Date.now().toString(36)}`

let client
let pool
before(async () => {
  if (!redisService.skip) {
    client = createClient({ url: 'redis://127.0.0.1:6379' })
    client.on('error', () => {})
    await client.connect()
  }
  if (!postgresService.skip) {
    pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 1 })
    pool.on('error', () => {})
    await pool.query(`CREATE SCHEMA "${schema}"`)
  }
})
after(async () => {
  if (client) {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) for (const key of keys) await client.del(key)
    await client.close()
  }
  if (pool) {
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`)
    await pool.end()
  }
})

const record = (data, cookie = { maxAge: 60_000 }) => ({ ...data, cookie: new Cookie(cookie) })

/** The node-redis client, recording each command the store sends and the reply it gets. */
function recording() {
  const calls = []
  return {
    calls,
    async sendCommand(args) {
      const reply = await client.sendCommand(args)
      calls.push({ args, reply })
      return reply
    },
  }
}

describe('sessionkit/redis on the wire', { skip: redisService.skip }, () => {
  test('a conditional write is one EVALSHA of at most 10 words; a load-and-touch answers 4 fields', async () => {
    const wire = recording()
    const store = new RedisStore({ client: wire, prefix: `${prefix}words:`, indexBy: 'userId' })
    const first = await store.setIfVersion('s1', record({ userId: 'ann', n: 1 }), null)
    assert.equal(first.written, true)
    const loaded = await store.getVersioned('s1', { touch: true })
    assert.equal(loaded.version, first.version)
    const second = await store.setIfVersion('s1', record({ userId: 'ann', n: 2 }), loaded.version)
    assert.equal(second.written, true)
    assert.deepEqual(await store.idsOf('ann'), ['s1'])
    const scripts = wire.calls.filter((call) => call.args[0] === 'EVALSHA' || call.args[0] === 'EVAL')
    const writes = [scripts[0], scripts[2]]
    for (const write of writes) assert.ok(write.args.length <= 10, `a write sent ${write.args.length} words: ${write.args.join(' ').slice(0, 200)}`)
    assert.equal(scripts[1].reply.length, 4, 'the load-and-touch answers v, d, c, e only')
    // What the versions returned say is what Redis holds.
    assert.equal(await client.hGet(`${prefix}words:{s1}`, 'v'), second.version)
  })

  test('a session laid out by an earlier release is loaded, written conditionally and left in the same layout', async () => {
    const store = new RedisStore({ client, prefix: `${prefix}layout:`, indexBy: 'userId' })
    const key = `${prefix}layout:{old}`
    const expires = Date.now() + 60_000
    const cookie = { originalMaxAge: 60_000, expires: new Date(expires).toISOString(), httpOnly: true, path: '/' }
    // The hash as the earlier scripts wrote it: v, d, c, e, m, a, o.
    await client.hSet(key, { v: '41', d: JSON.stringify({ userId: 'bob', n: 1 }), c: JSON.stringify(cookie), e: String(expires), m: '60000', a: '', o: 'bob' })
    await client.pExpireAt(key, expires)
    const loaded = await store.getVersioned('old', { touch: true })
    assert.equal(loaded.version, '41')
    assert.equal(loaded.record.n, 1)
    assert.ok(loaded.record.cookie.expires.getTime() >= expires, 'the touch moved the expiry')
    assert.deepEqual(await store.setIfVersion('old', record({ userId: 'bob', n: 2 }), '40'), { written: false, reason: 'changed', current: loaded })
    const written = await store.setIfVersion('old', record({ userId: 'bob', n: 2 }, { maxAge: 30_000 }), '41')
    assert.equal(written.written, true)
    const fields = await client.hGetAll(key)
    assert.deepEqual(Object.keys(fields).sort(), ['a', 'c', 'd', 'e', 'm', 'o', 'v'])
    assert.equal(fields.v, written.version)
    assert.deepEqual(JSON.parse(fields.d), { userId: 'bob', n: 2 })
    assert.equal(fields.m, '30000')
    assert.equal(fields.a, '')
    assert.equal(fields.o, 'bob')
    assert.equal(fields.e, String(new Date(JSON.parse(fields.c).expires).getTime()))
    assert.deepEqual(await store.idsOf('bob'), ['old'])
    await store.destroy('old')
    assert.deepEqual(await store.setIfVersion('old', record({ n: 3 }), written.version), { written: false, reason: 'gone' })
  })
})

describe('sessionkit/postgres on the wire', { skip: postgresService.skip }, () => {
  const prepared = async () => (await pool.query(`SELECT name FROM pg_prepared_statements WHERE name LIKE 'sessionkit\\_%'`)).rows.map((row) => row.name)

  test('statements are prepared once per connection and run by name', async () => {
    const store = new PostgresStore({ pool, schemaName: schema, tableName: 'named', createTable: true, pruneInterval: 0 })
    const first = await store.setIfVersion('s1', record({ n: 1 }), null)
    for (let n = 2; n <= 4; n++) {
      const loaded = await store.getVersioned('s1', { touch: true })
      assert.equal(loaded.record.n, n - 1)
      assert.ok(loaded.record.cookie.expires instanceof Date)
      assert.equal((await store.setIfVersion('s1', record({ n }), loaded.version)).written, true)
    }
    assert.equal(first.written, true)
    // The pool has one connection: the statements it prepared are the store's.
    assert.equal((await prepared()).length, 3, 'insert-if-absent, load-and-touch, update-if-version')
    await store.close()
  })

  test('preparedStatements: false sends the text each time; a value that is not a boolean is refused', async () => {
    await pool.query('DEALLOCATE ALL')
    const store = new PostgresStore({ pool, schemaName: schema, tableName: 'unnamed', createTable: true, pruneInterval: 0, preparedStatements: false })
    const first = await store.setIfVersion('s1', record({ n: 1 }), null)
    const loaded = await store.getVersioned('s1', { touch: true })
    assert.equal(loaded.version, first.version)
    assert.deepEqual(await prepared(), [])
    await store.close()
    assert.throws(() => new PostgresStore({ pool, preparedStatements: 'yes' }), /preparedStatements must be true or false/)
  })
})
