// Types of the ESM entry of `sessionkit/koa`: the same declarations as the CommonJS build.
import createSession from '../cjs/koa.cjs'

export * from '../cjs/adapters/koa/middleware.js'
export default createSession
