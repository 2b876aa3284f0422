// Types of the ESM entry of `sessionkit/postgres`: the same declarations as the CommonJS build.
export * from '../cjs/store/postgres/postgres-store.js'
