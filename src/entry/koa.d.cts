// Types of the CommonJS entry of `sessionkit/koa`, where `module.exports` is the factory: a function
// merged with a namespace, as the package's main entry does it.
import koa = require('./adapters/koa/middleware.js')
import options = require('./adapters/koa/options.js')
import model = require('./adapters/koa/session.js')
import types = require('./adapters/koa/koa-types.js')

declare function createSession(opts: options.KoaSessionOptions | undefined, app: types.KoaApplication): types.KoaMiddleware
declare function createSession(app: types.KoaApplication, opts?: options.KoaSessionOptions): types.KoaMiddleware
declare namespace createSession {
  export import createSession = koa.createSession
  export import KoaSessionObject = model.KoaSessionObject
  export import KoaSessionCallback = model.KoaSessionCallback
  export import KoaSessionOptions = options.KoaSessionOptions
  export import KoaStore = options.KoaStore
  export import KoaExternalKey = options.KoaExternalKey
  export import KoaApplication = types.KoaApplication
  export import KoaContext = types.KoaContext
  export import KoaMiddleware = types.KoaMiddleware
}

export = createSession
