import type { IncomingMessage, ServerResponse } from 'node:http'
import { randomFillSync } from 'node:crypto'
import { SessionError } from '../../errors.js'
import type { SessionEventListener } from '../../engine/events.js'
import { idsAtRest } from '../../store/hashed-ids.js'
import { debug, type LifecycleRequest } from '../../engine/lifecycle.js'
import { parseOptions, type SessionOptions } from '../../options/session-options.js'
import { enterRequest } from './request.js'
import { scanSessionsOf } from '../../store/owner-index.js'
import { rejectedCookieReason, SigningKeys } from '../../cookie/signature.js'
import { destroySession } from '../../engine/store-io.js'
import { storeCall } from '../../store/call.js'
import { isOwnerIndexedStore } from '../../store/capabilities.js'
import { StoreLifecycle } from '../../engine/store-mode.js'
import type { StoreModeContext } from '../../engine/save-rules.js'

/** The `next` of Express and connect: called with an error to hand it to the error handlers. */
export type NextFunction = (err?: unknown) => void

/**
 * Reports a store error that did not fail the response: an unchanged session's expiry is moved after
 * the response was sent (a touch), so its failure cannot change the answer any more.
 */
export type StoreErrorListener = (error: SessionError, operation: 'touch') => void

/** The middleware `session()` returns; it works with Express 4 and 5, connect and plain `http`. */
export interface SessionMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: NextFunction): void
  /**
   * The ids of every session whose `indexBy` key equals `owner`: one lookup with an index, a scan of
   * the store (`ids()`/`all()`) without one.
   */
  sessionsOf(owner: string | number): Promise<string[]>
  /**
   * Destroys every session of `owner` ("log out everywhere", e.g. after a password change), except
   * the one whose id is `except` (the current one, to stay logged in here). Resolves to how many.
   */
  destroySessionsOf(owner: string | number, options?: { except?: string }): Promise<number>
  /** Listens for every {@link SessionEvent} (created, destroyed, regenerated, expired, tampered, storeError). */
  on(event: 'event', listener: SessionEventListener): this
  /** Listens for store errors that did not fail a response (`'storeError'`); `DEBUG=sessionkit` logs them too. */
  on(event: 'storeError', listener: StoreErrorListener): this
  off(event: 'event', listener: SessionEventListener): this
  off(event: 'storeError', listener: StoreErrorListener): this
}

/**
 * The default `genid`: 24 random bytes (192 bits) in base64url, as express-session makes them with
 * uid-safe. The bytes come from the same CSPRNG (crypto.randomFillSync), filled for 128 ids at a time,
 * as Node does for crypto.randomUUID(): one call into it per id cost about 2.5 µs, most of a new
 * session's id and signature. Each id's bytes are zeroed once taken, so that the pool never holds an
 * id that was handed out.
 */
export function generateSessionId(): string {
  if (idPoolOffset === idPool.length) {
    randomFillSync(idPool)
    idPoolOffset = 0
  }
  const start = idPoolOffset
  idPoolOffset += ID_BYTES
  const id = idPool.toString('base64url', start, idPoolOffset)
  idPool.fill(0, start, idPoolOffset)
  return id
}

const ID_BYTES = 24
const idPool = Buffer.alloc(ID_BYTES * 128)
let idPoolOffset = idPool.length

/**
 * Creates the session middleware: the session lives in `options.store` (default: a MemoryStore), the
 * cookie carries its signed id. What happens to one request is {@link StoreLifecycle}'s business; this
 * factory keeps what lasts across requests: the options, the store's connection state, the signing
 * keys, and "log out everywhere".
 */
export function session(options: SessionOptions): SessionMiddleware {
  const parsed = parseOptions(options, generateSessionId)
  const store = parsed.store
  // With `hashIds` the lifecycle's store and index hash every id; "log out everywhere" works below them, in store keys.
  const atRest = idsAtRest(store, parsed.index, parsed.indexBy, parsed.hashIdKeys, parsed.migrateRawIds)
  const config = { ...parsed, store: atRest.store, index: atRest.index }
  const signingKeys = new SigningKeys(config.secrets)
  const { events } = config
  const context: StoreModeContext = {
    options: config,
    reportStoreError: (err, operation) => {
      events.emitter.emit('storeError', err, operation)
    },
  }
  let storeReady = true
  if (typeof store.on === 'function') {
    store.on('disconnect', () => {
      storeReady = false
    })
    store.on('connect', () => {
      storeReady = true
    })
  }

  const middleware = function sessionMiddleware(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    if (!storeReady) {
      debug('store is disconnected; continuing without a session')
      next()
      return
    }
    const request = req as LifecycleRequest
    const cookieOptions = enterRequest(request, next, config.cookie, config.name)
    if (cookieOptions === undefined) return
    const signing = signingKeys.forRequest(request)
    if (signing instanceof SessionError) {
      next(signing)
      return
    }
    const lifecycle = new StoreLifecycle(context, request, res, next, cookieOptions, signing)
    if (lifecycle.cookieId === undefined && events.listened) {
      const reason = rejectedCookieReason(request.headers.cookie, config.name)
      if (reason !== undefined) lifecycle.report({ type: 'tampered', reason })
    }
    lifecycle.start()
  }

  // The store keys of the owner's sessions: their ids, or with `hashIds` their hashes, which is all the store holds.
  const access = { store, timeoutMs: config.storeTimeout }
  // A store that keeps its own owner index writes it in the same step as the session: it is asked.
  const storeIndexes = atRest.innerIndex === undefined && isOwnerIndexedStore(store) && store.indexBy === config.indexBy && config.indexBy !== undefined
  const sessionsOf = async (owner: string | number): Promise<string[]> => {
    if (config.indexBy === undefined) throw new SessionError('SESSION_CONFIG', 'sessionkit: sessionsOf() needs the `indexBy` option (the session key that names its owner)')
    if (atRest.innerIndex !== undefined) return atRest.innerIndex.ids(String(owner))
    if (storeIndexes) return storeCall<string[]>(store, 'idsOf', [String(owner)], access)
    return scanSessionsOf(store, config.indexBy, String(owner), config.storeTimeout)
  }
  const destroySessionsOf = async (owner: string | number, options: { except?: string } = {}): Promise<number> => {
    const kept = new Set(options.except === undefined ? [] : atRest.keysOf(options.except))
    const keys = (await sessionsOf(owner)).filter((key) => !kept.has(key))
    for (const key of keys) {
      // Through this process's write order: a request here that loaded one of them cannot write it back.
      await destroySession(access, key)
      await atRest.innerIndex?.remove(String(owner), key)
    }
    return keys.length
  }
  const handle: SessionMiddleware = Object.assign(middleware, {
    sessionsOf,
    destroySessionsOf,
    on(event: 'event' | 'storeError', listener: SessionEventListener | StoreErrorListener) {
      events.emitter.on(event, listener)
      return handle
    },
    off(event: 'event' | 'storeError', listener: SessionEventListener | StoreErrorListener) {
      events.emitter.off(event, listener)
      return handle
    },
  })
  return handle
}
