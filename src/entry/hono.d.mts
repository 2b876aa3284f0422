// Types of the ESM entry of `sessionkit/hono`: the same declarations as the CommonJS build.
export * from '../cjs/adapters/hono/hono.js'
