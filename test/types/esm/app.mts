// An ESM TypeScript app ("type": "module" / .mts, module nodenext) using sessionkit as a user would:
// `sessionkit` resolves through the package's own `exports` map (self-reference), i.e. to
// dist/esm/sessionkit.d.mts, the same file an installed copy would give. Compiled by `npm run typecheck`;
// each `@ts-expect-error` line must fail to compile, or tsc reports the directive as unused.
import { createServer } from 'node:http'
import express from 'express'
import session, { MemoryStore, Store } from 'sessionkit'
import type { SessionRecord, SessionStore, StoreCallback } from 'sessionkit'

declare module 'sessionkit' {
  interface SessionData {
    userId: number
    cart: string[]
  }
}

// Exact type equality: `true` only when A and B are the same type, not merely assignable.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<A, B>(equal: Equal<A, B>): void {
  void equal
}

const app = express()
app.use(session({ secret: 'keyboard cat', resave: false, saveUninitialized: false }))

app.get('/', async (req, res) => {
  expectType<typeof req.session.userId, number | undefined>(true)
  expectType<typeof req.session.cart, string[] | undefined>(true)
  expectType<typeof req.sessionID, string>(true)
  expectType<typeof req.sessionStore, SessionStore>(true)
  expectType<typeof req.session.id, string>(true)
  expectType<typeof req.session.cookie.maxAge, number | null>(true)

  // @ts-expect-error a typo in a session key is a compile error
  req.session.userID = 42
  // @ts-expect-error reading an undeclared key is an error too
  void req.session.usrId
  // @ts-expect-error userId is a number
  req.session.userId = '42'
  // @ts-expect-error the session id is not the app's to change
  req.session.id = 'mine'

  req.session.userId = 42
  req.session.cart = []
  req.session.cart.push('apple')

  const saved: Promise<void> = req.session.save()
  await saved
  await req.session.regenerate()
  await req.session.regenerate({ keep: ['cart'] })
  await req.session.reload()
  const sameSession: typeof req.session = req.session.save((err) => {
    expectType<typeof err, unknown>(true)
  })
  void sameSession
  req.session.touch().resetMaxAge()
  req.session.cookie.maxAge = 60_000
  req.session.destroy((err) => {
    if (err) res.status(500)
    res.send('bye')
  })
})

app.post('/logout', async (req, res) => {
  await req.session.destroy()
  res.end()
})

// A store written as a class, as connect-redis and friends are.
class MapStore extends Store {
  readonly sessions = new Map<string, string>()
  get(sid: string, callback: StoreCallback<SessionRecord | null>): void {
    const json = this.sessions.get(sid)
    callback(null, json === undefined ? null : (JSON.parse(json) as SessionRecord))
  }
  set(sid: string, sess: SessionRecord, callback: StoreCallback): void {
    expectType<typeof sess.userId, number | undefined>(true)
    this.sessions.set(sid, JSON.stringify(sess))
    callback()
  }
  destroy(sid: string, callback: StoreCallback): void {
    this.sessions.delete(sid)
    callback()
  }
}
const mapStore = new MapStore()
mapStore.on('disconnect', () => {})
mapStore.emit('connect')
app.use(session({ secret: ['new', 'old'], store: mapStore, resave: false, saveUninitialized: false }))

// A store in the old style, `Store.call(this)` + prototype methods, as memorystore is written.
function LegacyStore(this: Store): void {
  Store.call(this)
}
void LegacyStore

// A store that is a plain object with async methods only.
const asyncStore = {
  async get(sid: string): Promise<SessionRecord | null> {
    void sid
    return null
  },
  async set(sid: string, sess: SessionRecord): Promise<void> {
    void sid
    void sess
  },
  async destroy(sid: string): Promise<void> {
    void sid
  },
}
app.use(session({ secret: Buffer.from('bytes'), store: asyncStore, cookie: { maxAge: 1000, sameSite: 'lax', secure: 'auto' } }))
app.use(session({ secret: 's', store: new MemoryStore({ max: 1000, checkPeriod: 0, ttl: 60_000 }), cookie: (req) => ({ path: req.url ?? '/' }) }))

// @ts-expect-error a secret is required
session({})
// @ts-expect-error a store needs get, set and destroy
session({ secret: 's', store: { get() {}, set() {} } })
// @ts-expect-error unset is 'keep' or 'destroy'
session({ secret: 's', unset: 'forget' })
// @ts-expect-error sameSite takes the cookie attribute's values only
session({ secret: 's', cookie: { sameSite: 'sideways' } })

// The factory's properties, for stores written as require('some-store')(session).
expectType<typeof session.Store, typeof Store>(true)
expectType<typeof session.MemoryStore, typeof MemoryStore>(true)

// Not only Express: a plain node:http server.
const middleware = session({ secret: 's' })
createServer((req, res) => middleware(req, res, () => res.end()))

// The namespace of the default export, as with @types/express-session: `session.SessionOptions`.
const namespacedOptions: session.SessionOptions = { secret: 's', store: new session.MemoryStore() }
const namespacedStore: session.Store = new MemoryStore()
const namespacedData: Partial<session.SessionData> = { userId: 1 }
void namespacedOptions
void namespacedStore
void namespacedData

// Store factories typed against @types/express-session take the module's function, whose options are
// optional in the type as there (connect-pg-simple's `connectPgSimple(session)`).
type ExpressSessionLike = (options?: session.SessionOptions) => express.RequestHandler
const asFactory: ExpressSessionLike = session
void asFactory

// A store typed as @types/express-session documents it, with `any` errors and SessionData.
class DocumentedStore extends Store {
  get(sid: string, callback: (err: any, session?: session.SessionData | null) => void): void {
    void sid
    callback(null, null)
  }
  set(sid: string, sess: session.SessionData, callback?: (err?: any) => void): void {
    expectType<typeof sess.userId, number>(true)
    expectType<typeof sess.cookie, session.Cookie>(true)
    void sid
    callback?.()
  }
  destroy(sid: string, callback?: (err?: any) => void): void {
    void sid
    callback?.()
  }
  touch(sid: string, sess: session.SessionData, callback?: () => void): void {
    void sid
    void sess
    callback?.()
  }
}
const documented: Store = new DocumentedStore()
// Code holding a Store can call its methods, as with @types/express-session's abstract ones.
documented.get('sid', (err, stored) => void [err, stored])
app.use(session({ secret: 's', store: documented }))
// @ts-expect-error a store's set takes the session, not a string
documented.set('sid', 'data')
