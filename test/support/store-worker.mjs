// A second (or third) app process for the cross-process store races: it opens its own client and its
// own store (sessionkit/redis with node-redis or ioredis, or sessionkit/postgres), then answers the
// parent's messages over IPC. Each message is { id, op, ...arguments }; each answer { id, result } or
// { id, error }. Started by stores-race.mjs.
import { Cookie } from 'sessionkit'

const [kind, configJson] = process.argv.slice(2)
const config = JSON.parse(configJson)

async function openStore() {
  if (kind === 'node-redis') {
    const { createClient } = await import('redis')
    const { RedisStore } = await import('sessionkit/redis')
    const client = createClient({ url: config.url })
    await client.connect()
    return { store: new RedisStore({ client, prefix: config.prefix }), close: () => client.close() }
  }
  if (kind === 'ioredis') {
    const { default: Redis } = await import('ioredis')
    const { RedisStore } = await import('sessionkit/redis')
    const client = new Redis(config.url)
    return { store: new RedisStore({ client, prefix: config.prefix }), close: () => client.quit() }
  }
  if (kind === 'postgres') {
    const { default: pg } = await import('pg')
    const { PostgresStore } = await import('sessionkit/postgres')
    const pool = new pg.Pool({ ...config.connection, max: 10 })
    const store = new PostgresStore({ pool, tableName: config.table, schemaName: config.schema, pruneInterval: 0 })
    return { store, close: () => pool.end() }
  }
  throw new Error(`unknown store kind ${kind}`)
}

const { store, close } = await openStore()
// The versions this process read, by session id: the "request in flight" holds them.
const versions = new Map()

/** Runs fn over items with at most `limit` in flight, in order of items. */
async function pool(items, limit, fn) {
  let next = 0
  const results = new Array(items.length)
  const lane = async () => {
    while (next < items.length) {
      const at = next++
      results[at] = await fn(items[at], at)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  return results
}

const record = (data) => ({ ...data, cookie: new Cookie({ maxAge: 600_000 }) })

const ops = {
  async read({ sids }) {
    await pool(sids, 20, async (sid) => versions.set(sid, (await store.getVersioned(sid, { touch: false }))?.version ?? null))
    return versions.size
  },
  // The in-flight request's save: a conditional write from the version read before.
  async write({ sids, concurrency }) {
    const outcomes = await pool(sids, concurrency, (sid) => store.setIfVersion(sid, record({ restored: true }), versions.get(sid) ?? null))
    return { written: outcomes.filter((o) => o.written).length, gone: outcomes.filter((o) => !o.written && o.reason === 'gone').length, changed: outcomes.filter((o) => !o.written && o.reason === 'changed').length }
  },
  // The same save as a store without the capability allows: check that it exists, then set.
  async naiveWrite({ sids, concurrency }) {
    let written = 0
    await pool(sids, concurrency, async (sid) => {
      if ((await store.get(sid)) === null) return
      await store.set(sid, record({ restored: true }))
      written++
    })
    return { written }
  },
  async destroy({ sids, concurrency }) {
    await pool(sids, concurrency, (sid) => store.destroy(sid))
    return sids.length
  },
  // Writers that each add their own key to one session, re-reading and retrying on 'changed'.
  async merge({ sid, writers, maxAttempts }) {
    const attempts = await Promise.all(
      writers.map(async (writer) => {
        for (let attempt = 1; attempt <= maxAttempts; attempt++) {
          const found = await store.getVersioned(sid, { touch: false })
          if (found === null) throw new Error(`writer ${writer}: the session is gone`)
          const { cookie, ...data } = found.record
          const outcome = await store.setIfVersion(sid, { ...data, [`k${writer}`]: writer, cookie: new Cookie(cookie) }, found.version)
          if (outcome.written) return attempt
          if (outcome.reason === 'gone') throw new Error(`writer ${writer}: the session is gone`)
          // A short random pause, so the losers of one round do not all meet again in the next.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 3))
        }
        throw new Error(`writer ${writer}: no write after ${maxAttempts} attempts`)
      }),
    )
    return attempts
  },
}

process.on('message', async (message) => {
  if (message.op === 'exit') {
    await close()
    process.disconnect()
    return
  }
  try {
    process.send({ id: message.id, result: await ops[message.op](message) })
  } catch (err) {
    process.send({ id: message.id, error: String(err?.stack ?? err) })
  }
})
process.send({ ready: true })
