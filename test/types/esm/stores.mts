// The first-party stores take the clients apps make, typed structurally: a node-redis client and an
// ioredis client both fit RedisStore's `client` without a cast, and a client of neither shape does not.
import { createClient } from 'redis'
import { Redis } from 'ioredis'
import { RedisStore, type RedisStoreOptions } from 'sessionkit/redis'
import { PostgresStore, type PgPool } from 'sessionkit/postgres'
import { isConditionalStore, isOwnerIndexedStore, MemoryStore, type ConditionalWriteOutcome, type VersionedRecord } from 'sessionkit'

const withNodeRedis: RedisStore = new RedisStore({ client: createClient(), indexBy: 'userId', prefix: 'app:', ttl: 60_000 })
const withIoRedis: RedisStore = new RedisStore({ client: new Redis({ lazyConnect: true }) })
// @ts-expect-error: an object with neither sendCommand() nor call() is no client
const notAClient: RedisStoreOptions = { client: { get: () => Promise.resolve(null) } }

const pool: PgPool = { query: async () => ({ rows: [], rowCount: 0 }) }
const postgres = new PostgresStore({ pool, createTable: true, indexBy: 'userId', schemaName: 'app' })

const store: unknown = new MemoryStore()
if (isConditionalStore(store)) {
  store.getVersioned('sid', { touch: true }, (err, found?: VersionedRecord | null) => void [err, found?.version satisfies string | undefined])
  store.setIfVersion('sid', { cookie: { originalMaxAge: null } }, null, (err, outcome?: ConditionalWriteOutcome) => {
    if (outcome && !outcome.written) void (outcome.reason satisfies 'gone' | 'changed')
    void err
  })
}
if (isOwnerIndexedStore(withNodeRedis)) void (withNodeRedis.indexBy satisfies string)

void [withIoRedis, notAClient, postgres]
