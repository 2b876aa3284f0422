// The first-party stores take the clients apps make, typed structurally: a node-redis client and an
// ioredis client both fit RedisStore's `client` without a cast, and a client of neither shape does not.
import { createClient, createCluster, createSentinel } from 'redis'
import { Cluster, Redis } from 'ioredis'
import { RedisStore, type RedisStoreOptions } from 'sessionkit/redis'
import { PostgresStore, type PgPool } from 'sessionkit/postgres'
import { isConditionalStore, isOwnerIndexedStore, MemoryStore, type ConditionalWriteOutcome, type VersionedRecord } from 'sessionkit'

const withNodeRedis: RedisStore = new RedisStore({ client: createClient(), indexBy: 'userId', prefix: 'app:', ttl: 60_000 })
const withIoRedis: RedisStore = new RedisStore({ client: new Redis({ lazyConnect: true }) })
// Clusters and Sentinel clients of both libraries fit as they are.
const onNodeCluster: RedisStore = new RedisStore({ client: createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7000' }] }), indexBy: 'userId', waitForReplicas: { replicas: 1, timeoutMs: 200 } })
const onNodeSentinel: RedisStore = new RedisStore({ client: createSentinel({ name: 'mymaster', sentinelRootNodes: [{ host: '127.0.0.1', port: 26379 }] }) })
const onIoCluster: RedisStore = new RedisStore({ client: new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true }), waitForReplicas: { replicas: 1 } })
const onIoSentinel: RedisStore = new RedisStore({ client: new Redis({ sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'mymaster', lazyConnect: true }) })
// @ts-expect-error: waitForReplicas needs the number of replicas
const noReplicas: RedisStoreOptions = { client: createClient(), waitForReplicas: { timeoutMs: 200 } }
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

void [withIoRedis, notAClient, postgres, onNodeCluster, onNodeSentinel, onIoCluster, onIoSentinel, noReplicas]
