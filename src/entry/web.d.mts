// Types of the ESM entry of `sessionkit/web`: the same declarations as the CommonJS build.
export * from '../cjs/adapters/web/web-sessions.js'
