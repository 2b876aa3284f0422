import { SessionError } from '../errors.js'
import { rejectedCookieReason, SigningKeys } from '../cookie/signature.js'
import type { CookieOptions } from '../cookie/cookie.js'
import { parseOptions, type ParsedOptions, type SessionOptions } from '../options/session-options.js'
import { isOwnerIndexedStore } from '../store/capabilities.js'
import { storeCall } from '../store/call.js'
import { idsAtRest } from '../store/hashed-ids.js'
import { scanSessionsOf } from '../store/owner-index.js'
import type { RequestExchange } from './adapter.js'
import { generateSessionId } from './genid.js'
import { sessionToken } from './session-header.js'
import type { StoreModeContext } from './save-rules.js'
import { destroySession } from './store-io.js'
import { StoreLifecycle } from './store-mode.js'
import { OwnerSessions, type SessionDetailsOptions, type SessionInfo } from './owner-sessions.js'

/**
 * What lasts across the requests of one `session()` (or the Web API's `webSessions()`): the parsed
 * options, the store's connection state, the signing keys, the events, and "log out everywhere". Each
 * request's session is a {@link StoreLifecycle} that {@link StoreSessions.begin} starts. @internal
 */
export class StoreSessions {
  readonly config: ParsedOptions
  readonly #context: StoreModeContext
  readonly #signingKeys: SigningKeys
  readonly #atRest: ReturnType<typeof idsAtRest>
  readonly #owners: OwnerSessions
  /** Whether the store said it is connected (a store that emits 'disconnect' / 'connect'). */
  ready = true

  constructor(options: SessionOptions) {
    const parsed = parseOptions(options, generateSessionId)
    // With `hashIds` the lifecycle's store and index hash every id; "log out everywhere" works below them, in store keys.
    this.#atRest = idsAtRest(parsed.store, parsed.index, parsed.indexBy, parsed.hashIdKeys, parsed.migrateRawIds)
    this.config = { ...parsed, store: this.#atRest.store, index: this.#atRest.index }
    this.#signingKeys = new SigningKeys(this.config.secrets)
    this.#owners = new OwnerSessions(this.config, this.#atRest, (owner) => this.#keysOf(owner))
    const { events } = this.config
    this.#context = {
      options: this.config,
      owners: this.#owners,
      reportStoreError: (err, operation) => {
        events.emitter.emit('storeError', err, operation)
      },
    }
    const store = parsed.store
    if (typeof store.on === 'function') {
      store.on('disconnect', () => {
        this.ready = false
      })
      store.on('connect', () => {
        this.ready = true
      })
    }
  }

  /** The store as the app configured it (with `hashIds`, beneath the hashing). */
  get store(): ParsedOptions['store'] {
    return this.#atRest.innerStore
  }

  /**
   * Starts one request's session: reads its cookie and loads the session, then calls `next` (with an
   * error when the signing keys or the store fail). The caller has already checked the path.
   */
  begin(exchange: RequestExchange, next: (err?: unknown) => void, cookieOptions: CookieOptions): void {
    const signing = this.#signingKeys.forRequest(exchange.parsed)
    if (signing instanceof SessionError) return next(signing)
    const lifecycle = new StoreLifecycle(this.#context, exchange, next, cookieOptions, signing)
    if (lifecycle.cookieId === undefined && this.config.events.listened) {
      const reason = lifecycle.viaHeader === undefined ? rejectedCookieReason(exchange.cookieHeader, this.config.name) : sessionToken(exchange, lifecycle.viaHeader) ? 'bad-signature' : undefined
      if (reason !== undefined) lifecycle.report({ type: 'tampered', reason })
    }
    lifecycle.start()
  }

  /**
   * The store keys of the sessions whose `indexBy` key equals `owner`: one lookup with an index, a scan
   * of the store (`ids()`/`all()`) without one; with `hashIds` their hashes, which is all the store holds.
   * With `{ details: true }`, each live one with its metadata and handle instead.
   */
  sessionsOf(owner: string | number): Promise<string[]>
  sessionsOf(owner: string | number, options: SessionDetailsOptions): Promise<SessionInfo[]>
  sessionsOf(owner: string | number, options?: SessionDetailsOptions): Promise<string[] | SessionInfo[]>
  async sessionsOf(owner: string | number, options?: SessionDetailsOptions): Promise<string[] | SessionInfo[]> {
    if (options?.details === true) return this.#owners.details(String(owner), options.current)
    return this.#keysOf(String(owner))
  }

  /** Ends the one session of `owner` that `handle` (from `sessionsOf(owner, { details: true })`) names; resolves to whether there was one. */
  async endSession(owner: string | number, handle: string): Promise<boolean> {
    return this.#owners.end(String(owner), handle)
  }

  async #keysOf(owner: string): Promise<string[]> {
    const { config } = this
    const atRest = this.#atRest
    const store = atRest.innerStore
    if (config.indexBy === undefined) throw new SessionError('SESSION_CONFIG', 'sessionkit: sessionsOf() needs the `indexBy` option (the session key that names its owner)')
    if (atRest.innerIndex !== undefined) return atRest.innerIndex.ids(owner)
    // A store that keeps its own owner index writes it in the same step as the session: it is asked.
    if (isOwnerIndexedStore(store) && store.indexBy === config.indexBy) return storeCall<string[]>(store, 'idsOf', [owner], { timeoutMs: config.storeTimeout })
    return scanSessionsOf(store, config.indexBy, owner, config.storeTimeout)
  }

  /** Destroys every session of `owner` but the one whose id is `except`; resolves to how many. */
  async destroySessionsOf(owner: string | number, options: { except?: string } = {}): Promise<number> {
    const atRest = this.#atRest
    const kept = new Set(options.except === undefined ? [] : atRest.keysOf(options.except))
    const keys = (await this.sessionsOf(owner)).filter((key) => !kept.has(key))
    const access = { store: atRest.innerStore, timeoutMs: this.config.storeTimeout }
    for (const key of keys) {
      // Through this process's write order: a request here that loaded one of them cannot write it back.
      await destroySession(access, key)
      await atRest.innerIndex?.remove(String(owner), key)
    }
    return keys.length
  }
}
