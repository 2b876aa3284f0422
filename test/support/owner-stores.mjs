// The stores the metadata and cap tests run against, each under a prefix or schema of its own, and the
// process that stands for a second app server in the cap tests (run with `node owner-stores.mjs kind
// config`): it logs users in through sessionkit/web and answers over IPC.
import { createClient } from 'redis'
import pg from 'pg'
import { MemoryStore, RedisIndex } from 'sessionkit'
import { RedisStore } from 'sessionkit/redis'
import { PostgresStore } from 'sessionkit/postgres'
import { webSessions } from 'sessionkit/web'

export const SECRET = 'where am I logged in'
export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' }
export const REDIS_URL = 'redis://127.0.0.1:6379'

/**
 * Opens one store kind: 'memory', 'redis' (sessionkit/redis with its own owner index), 'postgres'
 * (sessionkit/postgres, likewise) or 'connect-redis' (a third-party store with a RedisIndex). Gives the
 * session() options it needs and a close().
 */
export async function openStore(kind, { prefix, schema }) {
  if (kind === 'memory') return { options: { store: new MemoryStore() }, close: async () => {} }
  if (kind === 'redis' || kind === 'connect-redis') {
    const client = createClient({ url: REDIS_URL })
    client.on('error', () => {})
    await client.connect()
    if (kind === 'redis') return { options: { store: new RedisStore({ client, prefix, indexBy: 'userId' }) }, close: () => client.close() }
    const { RedisStore: ConnectRedis } = await import('connect-redis')
    return { options: { store: new ConnectRedis({ client, prefix }), index: new RedisIndex(client, { prefix: `${prefix}owner:` }) }, close: () => client.close() }
  }
  if (kind === 'postgres') {
    const pool = new pg.Pool({ ...PG, max: 4 })
    pool.on('error', () => {})
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    const store = new PostgresStore({ pool, schemaName: schema, createTable: true, indexBy: 'userId', pruneInterval: 0 })
    return { options: { store }, close: () => pool.end() }
  }
  throw new Error(`unknown store kind ${kind}`)
}

/** Removes what a run left in Redis (keys under `prefix`) and PostgreSQL (`schema`). */
export async function cleanUp({ prefix, schema }) {
  const client = createClient({ url: REDIS_URL })
  client.on('error', () => {})
  await client.connect().catch(() => undefined)
  if (client.isReady) {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys)
    await client.close()
  }
  const pool = new pg.Pool({ ...PG, max: 1 })
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined)
  await pool.end()
}

/** Logs `owner` in on `sessions` (a Web API request from `userAgent`) and gives the cookie to come back with. */
export async function login(sessions, owner, userAgent = 'test browser') {
  const handle = await sessions.load(new Request('http://app.test/login', { headers: { 'user-agent': userAgent } }), { clientAddress: '198.51.100.23' })
  await handle.session.regenerate()
  handle.session.userId = owner
  return (await handle.commit()).setCookie[0].split(';')[0]
}

/** Who the browser with `cookie` is logged in as, or undefined: a whole request, whose end moves the session's expiry. */
export async function whoIs(sessions, cookie) {
  const handle = await sessions.load(new Request('http://app.test/me', { headers: { cookie } }))
  const who = handle.session.userId
  await handle.commit()
  return who
}

// Run as a process of its own: the second app server.
if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [kind, configJson] = process.argv.slice(2)
  const config = JSON.parse(configJson)
  const opened = await openStore(kind, config)
  const sessions = webSessions({ secret: SECRET, resave: false, saveUninitialized: false, indexBy: 'userId', metadata: true, cookie: { maxAge: 3_600_000 }, ...opened.options, ...config.session })
  process.on('message', async ({ id, op, owner, count }) => {
    try {
      if (op === 'login') process.send({ id, result: await Promise.all(Array.from({ length: count }, (_, i) => login(sessions, owner, `worker ${process.pid} #${i}`))) })
      else if (op === 'close') {
        await opened.close()
        process.send({ id, result: true })
        process.exit(0)
      }
    } catch (err) {
      process.send({ id, error: String(err?.stack ?? err) })
    }
  })
  process.send({ ready: true })
}
