// Types of the CommonJS entry of `sessionkit/koa`, where `module.exports` is the factory: a function
// merged with a namespace, as the package's main entry does it.
import koa = require('./adapters/koa/middleware.js')

declare function createSession(opts: koa.KoaSessionOptions | undefined, app: koa.KoaApplication): koa.KoaMiddleware
declare function createSession(app: koa.KoaApplication, opts?: koa.KoaSessionOptions): koa.KoaMiddleware
declare namespace createSession {
  export import createSession = koa.createSession
  export import KoaSessionObject = koa.KoaSessionObject
  export import KoaSessionCallback = koa.KoaSessionCallback
  export import KoaSessionOptions = koa.KoaSessionOptions
  export import KoaStore = koa.KoaStore
  export import KoaExternalKey = koa.KoaExternalKey
  export import KoaApplication = koa.KoaApplication
  export import KoaContext = koa.KoaContext
  export import KoaMiddleware = koa.KoaMiddleware
}

export = createSession
