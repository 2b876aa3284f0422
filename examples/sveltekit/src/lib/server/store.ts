import { createClient } from 'redis'
import { RedisStore } from 'sessionkit/redis'

async function redisStore(): Promise<RedisStore | undefined> {
  const url = process.env.REDIS_URL
  if (url === undefined || url === '') return undefined
  const client = createClient({ url })
  // Without a listener a lost connection would crash the server; requests fail with a 503 meanwhile.
  client.on('error', (err: Error) => console.error(`Redis: ${err.message}`))
  await client.connect()
  return new RedisStore({ client, prefix: process.env.SESSION_PREFIX ?? 'kit-example:' })
}

/** The sessions' store: Redis with REDIS_URL, else undefined (sessionkit's MemoryStore). */
export const store = await redisStore()
