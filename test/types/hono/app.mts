// A Hono app typed through sessionkit/hono: the SessionData an app declares types
// c.get('session'); each `@ts-expect-error` line must fail to compile, or tsc reports the directive.
import { Hono } from 'hono'
import { MemoryStore } from 'sessionkit'
import { cookieSession, session, type SessionEnv, type SessionVariables } from 'sessionkit/hono'
import { webSessions, type SessionHandle, type WebSession, type WebSessions, type WebStoreSessions } from 'sessionkit/web'

declare module 'sessionkit' {
  interface SessionData {
    userId: number
  }
}

const sessions = session({ secret: 'keyboard cat', store: new MemoryStore(), resave: false, saveUninitialized: false })
const store: WebStoreSessions = sessions.sessions
const owned: Promise<string[]> = sessions.sessions.sessionsOf(42)
void [store, owned]

const app = new Hono<SessionEnv>()
app.use(sessions)
app.post('/login', async (c) => {
  const current: WebSession = c.get('session')
  const userId: number | undefined = current.userId
  const id: string = current.id
  // @ts-expect-error userId is a number in this app's SessionData (an `any` would let this through)
  current.userId = 'ada'
  // @ts-expect-error a number or undefined is not a string
  const wrong: string = current.userId
  void [userId, id, wrong]
  await current.regenerate()
  c.get('session').userId = 42
  current.cookie.maxAge = 60_000
  const handle: SessionHandle = c.get('sessionHandle')
  // The Web API's handle gives the same typed session.
  const viaHandle: number | undefined = handle.session?.userId
  void viaHandle
  handle.session = null
  return c.text(String(c.var.session.userId))
})

// Beside the app's own variables.
const withOwn = new Hono<{ Variables: SessionVariables & { requestId: string } }>()
withOwn.use(cookieSession({ secret: 'x'.repeat(32) }))
withOwn.get('/', (c) => c.text(`${c.get('requestId')} ${c.get('session').userId ?? 'anonymous'}`))

// Chained, the middleware's Variables become the app's.
new Hono().use(session(webSessions({ secret: 's', store: new MemoryStore() }))).get('/', (c) => {
  const id: number | undefined = c.get('session').userId
  return c.json({ id })
})

// Sessions made elsewhere keep their type; cookie mode has no store to ask.
const shared: WebSessions = webSessions({ secret: 's', store: new MemoryStore() })
// @ts-expect-error cookie mode keeps no index of sessions
void cookieSession({ secret: 'x'.repeat(32) }).sessions.sessionsOf
void session(shared)

// @ts-expect-error an app that never said it has sessions cannot read one
new Hono().get('/', (c) => c.text(String(c.get('session'))))
