// sessionkit/postgres against the PostgreSQL server on 127.0.0.1:5432: the conformance kit with the
// capability tests, the request flow through session() (which uses only get/set/destroy/touch today),
// the table it creates (also when several processes start at once), statements per operation,
// pruning that never waits for a request's lock, and the races across two processes. Everything lives
// in a schema made for the run and dropped after it.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import { Cookie } from 'sessionkit'
import { PostgresStore } from 'sessionkit/postgres'
import { testStore } from 'sessionkit/testing'
import { requireService } from './support/services.mjs'
import { storeFlow } from './support/store-flow.mjs'
import { crossProcessRaces } from './support/stores-race.mjs'

const { skip } = await requireService('postgres')
const connection = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' }
const schema = `sessionkit_test_${process.pid}_${Date.now().toString(36)}`

let pool
const stores = []
/** A store in the run's schema, closed after the run. */
function open(options) {
  const store = new PostgresStore({ pool, schemaName: schema, createTable: true, pruneInterval: 0, ...options })
  stores.push(store)
  return store
}
before(async () => {
  if (skip) return
  pool = new pg.Pool({ ...connection, max: 10 })
  await pool.query(`CREATE SCHEMA "${schema}"`)
})
after(async () => {
  if (!pool) return
  await Promise.all(stores.map((store) => store.close()))
  await pool.query(`DROP SCHEMA "${schema}" CASCADE`)
  await pool.end()
})

/** A pool that counts the statements the store sends through it. */
function counting(inner) {
  const sent = []
  // A named statement comes as pg's query config, { name, text, values }.
  return { sent, query: (text, values) => (sent.push(typeof text === 'string' ? text : text.text), inner.query(text, values)) }
}

const record = (data, cookie = { maxAge: 60_000 }) => ({ ...data, cookie: new Cookie(cookie) })
const rowOf = async (table, sid) => (await pool.query(`SELECT * FROM "${schema}"."${table}" WHERE sid = $1`, [sid])).rows[0] ?? null

describe('sessionkit/postgres', { concurrency: true }, () => {
  describe('the conformance kit', { skip }, () => {
    testStore({ name: 'sessionkit/postgres', store: () => open({ tableName: 'kit', indexBy: 'userId' }), ttl: 1000, expiryGrace: 1000 })
  })

  let flowStore
  storeFlow('sessionkit/postgres in session()', {
    skip,
    store: () => (flowStore ??= open({ tableName: 'flow' })),
    backend: {
      async read(sid) {
        const row = await rowOf('flow', sid)
        return row && { data: row.data, expiresAt: row.expires.getTime() }
      },
    },
  })

  describe('table, statements and pruning', { skip, concurrency: 1 }, () => {
    test('creates its table with a version column, also when eight stores start at once', async () => {
      const pools = Array.from({ length: 8 }, () => new pg.Pool({ ...connection, max: 1 }))
      try {
        // Connected first, so that the eight CREATE TABLEs arrive together (without the advisory lock
        // most of them fail so: duplicate key in pg_type).
        await Promise.all(pools.map((p) => p.query('SELECT 1')))
        const starting = pools.map((p) => new PostgresStore({ pool: p, schemaName: schema, tableName: 'created', createTable: true, pruneInterval: 0 }))
        await Promise.all(starting.map((store, i) => store.set(`s${i}`, record({ n: i }))))
        assert.equal(await starting[0].length(), 8)
      } finally {
        await Promise.all(pools.map((p) => p.end()))
      }
      const columns = await pool.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'created' ORDER BY ordinal_position`, [schema])
      assert.deepEqual(
        columns.rows.map((c) => `${c.column_name} ${c.data_type}`),
        ['sid text', 'data jsonb', 'expires timestamp with time zone', 'version bigint', 'owner text'],
      )
      const row = await rowOf('created', 's0')
      assert.equal(row.data.n, 0)
    })

    test('a table name is quoted, never spliced as SQL', async () => {
      const store = open({ tableName: 'odd "name"; DROP TABLE x; --' })
      await store.set('a', record({ n: 1 }))
      assert.equal((await store.get('a')).n, 1)
    })

    test('statements per operation: one each, and a refused conditional write a second to say why', async (t) => {
      const sent = counting(pool)
      const store = new PostgresStore({ pool: sent, schemaName: schema, tableName: 'trips', createTable: true, pruneInterval: 0, indexBy: 'userId' })
      stores.push(store)
      await store.get('warm')
      const trips = {}
      const count = async (name, work) => {
        const before = sent.sent.length
        await work()
        trips[name] = sent.sent.length - before
      }
      await count('set', () => store.set('s1', record({ userId: 'ann' })))
      await count('get', () => store.get('s1'))
      await count('getVersioned', () => store.getVersioned('s1', { touch: false }))
      await count('getVersioned touch', () => store.getVersioned('s1', { touch: true }))
      const { version } = await store.getVersioned('s1', { touch: false })
      await count('setIfVersion written', () => store.setIfVersion('s1', record({ userId: 'ann', n: 2 }), version))
      await count('setIfVersion changed', () => store.setIfVersion('s1', record({ userId: 'ann' }), version))
      await count('touch', () => store.touch('s1', record({ userId: 'ann' })))
      await count('idsOf', () => store.idsOf('ann'))
      await count('destroy', () => store.destroy('s1'))
      await count('setIfVersion gone', () => store.setIfVersion('s1', record({ userId: 'ann' }), version))
      t.diagnostic(`statements: ${JSON.stringify(trips)}`)
      assert.deepEqual(trips, { set: 1, get: 1, getVersioned: 1, 'getVersioned touch': 1, 'setIfVersion written': 1, 'setIfVersion changed': 2, touch: 1, idsOf: 1, destroy: 1, 'setIfVersion gone': 2 })
      assert.ok(
        sent.sent.every((text) => !/'ann'|'s1'/.test(text)),
        'values travel as parameters, never in the SQL text',
      )
    })

    test('an expired row left for the pruner counts as gone, and a new session may take its id', async () => {
      const store = open({ tableName: 'expired' })
      await store.set('old', record({ n: 1 }, { maxAge: 60_000 }))
      const { version } = await store.getVersioned('old', { touch: false })
      await pool.query(`UPDATE "${schema}"."expired" SET expires = now() - interval '1 second' WHERE sid = 'old'`)
      assert.equal(await store.get('old'), null)
      assert.equal((await store.setIfVersion('old', record({ n: 2 }), version)).reason, 'gone')
      assert.equal((await store.getVersioned('old', { touch: true })), null, 'a load-and-touch does not revive it')
      assert.equal((await store.setIfVersion('old', record({ n: 3 }), null)).written, true)
      assert.equal((await store.get('old')).n, 3)
    })

    test('pruning deletes expired rows in small batches, skips rows a request holds, and close() stops it', async () => {
      const sent = counting(pool)
      const store = new PostgresStore({ pool: sent, schemaName: schema, tableName: 'prune', createTable: true, pruneInterval: 0, pruneBatch: 100 })
      stores.push(store)
      const past = { expires: new Date(Date.now() - 1000) }
      await Promise.all(Array.from({ length: 250 }, (_, i) => store.set(`dead-${i}`, record({ i }, past))))
      await store.set('live', record({ n: 1 }))
      // A request's transaction holds one expired row: pruning must not wait for it.
      const holder = await pool.connect()
      try {
        await holder.query('BEGIN')
        await holder.query(`SELECT * FROM "${schema}"."prune" WHERE sid = 'dead-0' FOR UPDATE`)
        sent.sent.length = 0
        const started = Date.now()
        const removed = await store.prune()
        assert.equal(removed, 249)
        assert.ok(Date.now() - started < 2000, 'pruning did not wait for the held row')
        assert.equal(sent.sent.length, 3, 'three batches of at most 100')
      } finally {
        await holder.query('ROLLBACK')
        holder.release()
      }
      assert.equal(await store.prune(), 1)
      assert.equal((await pool.query(`SELECT count(*)::int AS n FROM "${schema}"."prune"`)).rows[0].n, 1, 'the live row stays')

      const timed = new PostgresStore({ pool, schemaName: schema, tableName: 'prune', pruneInterval: 50 })
      await timed.set('dead-timed', record({}, past))
      const deadline = Date.now() + 3000
      while ((await rowOf('prune', 'dead-timed')) !== null) {
        assert.ok(Date.now() < deadline, 'the interval prunes on its own')
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      await timed.close()
      await timed.set('dead-after-close', record({}, past))
      await new Promise((resolve) => setTimeout(resolve, 200))
      assert.notEqual(await rowOf('prune', 'dead-after-close'), null, 'after close() nothing prunes')
    })
  })

  let raceStore
  crossProcessRaces('sessionkit/postgres', {
    skip,
    kinds: ['postgres', 'postgres'],
    config: { connection, schema, table: 'race' },
    store: () => (raceStore ??= open({ tableName: 'race' })),
  })
})
