// A CommonJS app compiled with module commonjs / moduleResolution node10 and esModuleInterop, the
// setting of many existing Express projects. Both import styles must type the factory as callable.
import express from 'express'
import session, { MemoryStore, Store } from 'sessionkit'
import sessionModule = require('sessionkit')

declare module 'sessionkit' {
  interface SessionData {
    userId: number
  }
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<A, B>(equal: Equal<A, B>): void {
  void equal
}

const app = express()
app.use(session({ secret: 's', store: new MemoryStore() }))
app.use(sessionModule({ secret: 's', store: new sessionModule.MemoryStore() }))
app.get('/', (req, res) => {
  expectType<typeof req.session.userId, number | undefined>(true)
  // @ts-expect-error a typo in a session key is a compile error
  req.session.userID = 1
  res.end()
})

class S extends Store {}
app.use(session({ secret: 's', store: Object.assign(new S(), { get() {}, set() {}, destroy() {} }) }))

// @ts-expect-error a secret is required
session({})

// The default import carries the namespace too, as @types/express-session's does.
const namespaced: session.SessionOptions = { secret: 's', store: new session.MemoryStore() }
const namespacedStore: session.Store = new sessionModule.MemoryStore()
void namespaced
void namespacedStore
