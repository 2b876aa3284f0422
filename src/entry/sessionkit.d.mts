// Types of the ESM entry: the same declarations as the CommonJS build. The default export is the
// CommonJS entry's `export =`, a function merged with a namespace, so that `session.SessionOptions`
// and `session.Store` work as types after `import session from 'sessionkit'`, as they do with
// `@types/express-session`.
import sessionkit from '../cjs/sessionkit.cjs'

export * from '../cjs/index.js'
export default sessionkit
