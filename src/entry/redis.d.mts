// Types of the ESM entry of `sessionkit/redis`: the same declarations as the CommonJS build.
export * from '../cjs/store/redis/redis-store.js'
