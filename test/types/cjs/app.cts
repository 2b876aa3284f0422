// A CommonJS TypeScript app (.cts, module nodenext): `sessionkit` resolves through the `require`
// condition of the package's `exports` map to dist/cjs/sessionkit.d.cts, where the module itself is
// the factory, as `require('sessionkit')` is at run time. Compiled by `npm run typecheck`.
import { inherits } from 'node:util'
import express = require('express')
import session = require('sessionkit')

declare module 'sessionkit' {
  interface SessionData {
    userId: number
  }
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<A, B>(equal: Equal<A, B>): void {
  void equal
}

const options: session.SessionOptions = { secret: 's', resave: false, saveUninitialized: false }
const app = express()
app.use(session(options))
app.use(session.session({ secret: 's', store: new session.MemoryStore({ max: 10 }) }))

app.get('/', async (req, res) => {
  expectType<typeof req.session.userId, number | undefined>(true)
  expectType<typeof req.sessionID, string>(true)
  // @ts-expect-error a typo in a session key is a compile error
  req.session.userID = 1
  // @ts-expect-error userId is a number
  req.session.userId = 'one'
  req.session.userId = 1
  await req.session.save()
  res.send(session.generateSessionId())
})

// Stores take the module and read session.Store, in both styles.
class ClassStore extends session.Store {
  get(sid: string, callback: session.StoreCallback<session.SessionRecord | null>): void {
    void sid
    callback(null, null)
  }
  set(sid: string, sess: session.SessionRecord, callback: session.StoreCallback): void {
    expectType<typeof sess.userId, number | undefined>(true)
    void sid
    callback()
  }
  destroy(sid: string, callback: session.StoreCallback): void {
    void sid
    callback()
  }
}
app.use(session({ secret: 's', store: new ClassStore() }))

function LegacyStore(this: session.Store): void {
  session.Store.call(this)
}
inherits(LegacyStore, session.Store)

const data: session.SessionData | undefined = undefined
void data

// @ts-expect-error a secret is required
session({})

export = ClassStore
