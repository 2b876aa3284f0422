// The ESM entry of `sessionkit/koa` wraps the CommonJS build: `import session from 'sessionkit/koa'`
// is the factory, as `import session from 'koa-session'` is.
import koa from '../cjs/koa.cjs'

export const { createSession, KoaSessionObject } = koa
export default koa
