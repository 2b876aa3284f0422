import { AsyncLocalStorage } from 'node:async_hooks'
import { SessionError } from '../../errors.js'
import type { SessionStore, StoredSession } from '../../store/contract.js'
import type { KoaContext } from './koa-types.js'
import type { KoaConfig, KoaStore } from './options.js'
import { fromKoaRecord, toKoaRecord } from './record.js'

/**
 * A store with koa-session's shape (`get(key, maxAge, { rolling, ctx })`, `set(key, sess, maxAge,
 * { rolling, changed, ctx })`, `destroy(key, { ctx })`) seen through the engine's store contract. The
 * engine calls a store without a request, and koa-session's stores expect `ctx`: each request runs
 * inside an async scope that carries its `ctx` (and, with `ContextStore`, that request's store).
 */

/** What a request's store calls need: its `ctx`, and the store to call for it. @internal */
export interface KoaScope {
  readonly ctx: KoaContext
  readonly store: KoaStore | undefined
}

/** The scope of the request being served. @internal */
export const koaScope = new AsyncLocalStorage<KoaScope>()

/**
 * Whether `store` is an express-session store rather than one of koa-session's shape. Every store built
 * on express-session's `Store` class (connect-redis, connect-pg-simple, sessionkit's own) inherits its
 * `createSession`; koa-session's stores are plain objects with three methods. @internal
 */
export function isExpressStore(store: object): store is SessionStore {
  return typeof (store as { createSession?: unknown }).createSession === 'function'
}

/** koa-session's events, emitted on the app as it emits them. */
type KoaEvent = 'missed' | 'invalid' | 'expired'

/** Emits `session:<event>` on the app, after the current call, as koa-session does. @internal */
export function emitKoaEvent(ctx: KoaContext, event: KoaEvent, key: string | undefined, value: unknown): void {
  setImmediate(() => ctx.app.emit(`session:${event}`, { key, value, ctx }))
}

function scope(): KoaScope & { store: KoaStore } {
  const current = koaScope.getStore()
  if (current?.store === undefined) {
    throw new SessionError('SESSION_STORE_FAILED', 'sessionkit/koa: a koa-session store was called outside a request (only requests through the session middleware carry its ctx)')
  }
  return current as KoaScope & { store: KoaStore }
}

/**
 * The engine's view of a koa-session-shaped store (`ContextStore` when `store` is undefined): records
 * are translated both ways, so that the store holds what koa-session would have written and reads what
 * it wrote. A record that is missing, past its `_expire`, or refused by `valid` is no session, with
 * koa-session's event. `touch`, which koa-session's stores lack, is a `set` with `changed: false` when
 * `rolling` or `renew` asks for one, and otherwise does nothing: an unchanged session is not written,
 * as under koa-session. @internal
 */
export function koaStoreAdapter(config: KoaConfig): SessionStore {
  const { rolling } = config
  const configuredMaxAge = config.browserSession ? 'session' : config.maxAge
  const write = async (sid: string, session: StoredSession, changed: boolean): Promise<void> => {
    const { ctx, store } = scope()
    const { record, maxAge } = toKoaRecord(session)
    await store.set(sid, record, maxAge, { rolling, changed, ctx })
  }
  const adapter: SessionStore = {
    async get(sid: string): Promise<StoredSession | null> {
      const { ctx, store } = scope()
      const found: unknown = await store.get(sid, configuredMaxAge, { rolling, ctx })
      if (found === null || found === undefined || typeof found !== 'object') {
        emitKoaEvent(ctx, 'missed', sid, found)
        return null
      }
      const record = found as Record<string, unknown>
      if (typeof record['_expire'] === 'number' && record['_expire'] < Date.now()) {
        emitKoaEvent(ctx, 'expired', sid, record)
        return null
      }
      if (config.valid !== undefined && !config.valid(ctx, record)) {
        emitKoaEvent(ctx, 'invalid', sid, record)
        return null
      }
      return fromKoaRecord(record, config.cookie, ctx.secure) as StoredSession
    },
    set: (sid: string, session: StoredSession) => write(sid, session, true),
    async destroy(sid: string): Promise<void> {
      const { ctx, store } = scope()
      await store.destroy(sid, { ctx })
    },
  }
  // Without `rolling` or `renew`, koa-session never writes an unchanged session. A store without a
  // touch would have the engine write it back after each response instead (express-session's rule for
  // such stores), so a touch that does nothing stands in for one.
  adapter.touch = rolling || config.renew ? (sid: string, session: StoredSession) => write(sid, session, false) : async (): Promise<void> => {}
  return adapter
}
