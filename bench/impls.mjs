// The implementations the benchmark runs and what each row is called, shared by the runner, the
// targets, the chart and the report. In the Redis and PostgreSQL groups sessionkit runs twice, once
// with the third-party store express-session gets too and once with its own store, and a reader must
// never have to guess which of the two a number belongs to.

/** Every implementation, in the order they take turns within a round. */
export const IMPLS = ['none', 'step', 'express-session', 'sessionkit', 'sessionkit-own']
/**
 * sessionkit built in another checkout (`--baseline`, the code before a change), in the same app with
 * the same store as `sessionkit`; only ever run when asked for, so not one of {@link IMPLS}.
 */
export const BEFORE = 'sessionkit-before'
/** The implementations that have a session, and so a store whose calls are counted. */
export const SESSION_IMPLS = ['express-session', 'sessionkit', 'sessionkit-own', BEFORE]

// Both middlewares share the third-party store, so that comparing them compares the middlewares.
const SHARED_STORE = { memory: 'MemoryStore', redis: 'connect-redis', postgres: 'connect-pg-simple' }
// sessionkit's own store of the same kind; none for memory, where the shared one already is its own.
const OWN_STORE = { redis: 'sessionkit/redis', postgres: 'sessionkit/postgres' }

/** The implementations of `requested` that make sense for a store kind. */
export function implsFor(storeKind, requested) {
  return requested.filter((impl) => impl !== 'sessionkit-own' || OWN_STORE[storeKind] !== undefined)
}

/** The store module a row used ("connect-redis", "sessionkit/redis", "MemoryStore"), or undefined without a session. */
export function storeNameOf(impl, storeKind) {
  if (impl === 'sessionkit-own') return OWN_STORE[storeKind]
  if (SESSION_IMPLS.includes(impl)) return SHARED_STORE[storeKind] ?? storeKind
  return undefined
}

/** "sessionkit + sessionkit/redis", "express-session + connect-redis"; in memory groups just the middleware's name. */
export function labelOf(impl, storeKind) {
  if (!SESSION_IMPLS.includes(impl)) return impl
  const middleware = { 'express-session': 'express-session', [BEFORE]: 'sessionkit (before)' }[impl] ?? 'sessionkit'
  // Each middleware brings its own MemoryStore: there is nothing to tell apart.
  if (storeKind === 'memory') return middleware
  return `${middleware} + ${storeNameOf(impl, storeKind)}`
}
