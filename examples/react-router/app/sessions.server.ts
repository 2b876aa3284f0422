// The app's one session storage. Loaders and actions use getSession / commitSession / destroySession,
// exactly as with React Router's own storages; the sessions live in Redis when REDIS_URL is set (they
// survive a restart and are shared by every process), in sessionkit's MemoryStore otherwise.
import { createClient } from 'redis'
import { storeSessionStorage } from 'sessionkit/react-router'
import { RedisStore } from 'sessionkit/redis'

/** What a session holds, and what it holds for one read only. */
export interface SessionData {
  count: number
  user: string
}
export interface FlashData {
  message: string
}

async function redisStore() {
  const url = process.env.REDIS_URL
  if (url === undefined || url === '') return undefined
  const client = createClient({ url })
  // Without a listener a lost connection would crash the server; requests fail with a 503 meanwhile.
  client.on('error', (err: Error) => console.error(`Redis: ${err.message}`))
  await client.connect()
  return new RedisStore({ client, prefix: process.env.SESSION_PREFIX ?? 'rr-example:' })
}

const store = await redisStore()

export const { getSession, commitSession, destroySession } = storeSessionStorage<SessionData, FlashData>({
  secret: process.env.SESSION_SECRET ?? 'only-for-this-example-set-SESSION_SECRET',
  ...(store === undefined ? {} : { store }),
  name: 'rr.sid',
  resave: false,
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: 24 * 60 * 60 * 1000 },
})
