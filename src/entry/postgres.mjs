// The ESM entry of `sessionkit/postgres` wraps the CommonJS build, so the store and the app share one
// Store class whichever way each is loaded.
import postgres from '../cjs/store/postgres/postgres-store.js'

export const { PostgresStore } = postgres
