// Types of the ESM entry of `sessionkit/testing`: the same declarations as the CommonJS build.
export * from '../cjs/testing/index.js'
