// The ESM entry of `sessionkit/redis` wraps the CommonJS build, so the store and the app share one
// Store class whichever way each is loaded.
import redis from '../cjs/store/redis/redis-store.js'

export const { RedisStore } = redis
