// The session hook: event.locals.session in every load, action and endpoint, committed once the
// response is made. The sessions live in Redis when REDIS_URL is set, in sessionkit's MemoryStore otherwise.
import { sessionHandle } from 'sessionkit/sveltekit'
import { store } from '$lib/server/store'

export const handle = sessionHandle({
  secret: process.env.SESSION_SECRET ?? 'only-for-this-example-set-SESSION_SECRET',
  ...(store === undefined ? {} : { store }),
  name: 'kit.sid',
  resave: false,
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: 24 * 60 * 60 * 1000 },
})
