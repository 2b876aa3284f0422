// Types of the ESM entry of `sessionkit/next`: the same declarations as the CommonJS build.
export * from '../cjs/adapters/next/next-sessions.js'
