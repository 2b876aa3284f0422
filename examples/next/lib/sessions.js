// The app's one set of sessions. Server components read them with sessions.get(); server actions
// change them with sessions.change(); route handlers are wrapped in sessions.route(); proxy.js reads
// them with sessions.read(request). They live in Redis when REDIS_URL is set (they survive a restart
// and every process shares them), in sessionkit's MemoryStore otherwise.
import { createClient } from 'redis'
import { MemoryStore } from 'sessionkit'
import { nextSessions } from 'sessionkit/next'
import { RedisStore } from 'sessionkit/redis'

function storeOf() {
  const url = process.env.REDIS_URL
  if (url === undefined || url === '') return new MemoryStore()
  const client = createClient({ url })
  // Without a listener a lost connection would crash the server; requests fail with a 503 meanwhile.
  client.on('error', (err) => console.error(`Redis: ${err.message}`))
  // Not during `next build`, which loads this module but serves nothing. Commands sent while the
  // client connects wait for it.
  if (process.env.NEXT_PHASE !== 'phase-production-build') client.connect()
  return new RedisStore({ client, prefix: process.env.SESSION_PREFIX ?? 'next-example:' })
}

function create() {
  return nextSessions({
    secret: process.env.SESSION_SECRET ?? 'only-for-this-example-set-SESSION_SECRET',
    store: storeOf(),
    name: 'next.sid',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: 24 * 60 * 60 * 1000 },
  })
}

// Next.js bundles the pages, the route handlers and the proxy apart, each with its own copy of this
// module: keeping the sessions on globalThis gives them all one store (and one Redis client).
const key = Symbol.for('sessionkit-example-next')
export const sessions = (globalThis[key] ??= create())
