import { createHash, type KeyObject } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import createDebug from 'debug'
import onHeaders from 'on-headers'
import uid from 'uid-safe'
import { Cookie, type CookieOptions, type CookieRecord } from './cookie.js'
import {
  appendSetCookie,
  cookieKey,
  enterRequest,
  expiredCookie,
  isSecure,
  RESPONSE_HEADERS,
  serializeCookie,
  serializeData,
  toDictionaryMode,
} from './request.js'
import { SessionError } from './errors.js'
import { COOKIE_DOMAIN, COOKIE_PATH, parseOptions, type ParsedOptions, type SessionOptions } from './options.js'
import { controllerKey, RESERVED_KEYS, Session, type RegenerateOptions, type SessionController, type SessionRequest } from './session.js'
import { readRequestSessionId, signSessionId, SigningKeys, VerifiedValues } from './signature.js'
import type { SessionRecord } from './store.js'
import { callStore } from './store-call.js'
import { goneError, mergeSave } from './merge.js'
import { scanSessionsOf } from './session-index.js'

const debug = createDebug('sessionkit')

/** The `next` of Express and connect: called with an error to hand it to the error handlers. */
export type NextFunction = (err?: unknown) => void

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
}

/**
 * The default `genid`: 24 random bytes in base64url, from uid-safe, as express-session makes them.
 * (A hand-rolled pool of random bytes was measured at 0.1 us an id against uid-safe's 2.5 us; it was
 * left out on purpose: the id is the session's only secret, and its generator stays the audited one.)
 */
export function generateSessionId(): string {
  return uid.sync(24)
}

/**
 * Creates the session middleware. Per request, in this order:
 *
 * 1. A request that already has `req.session` (an outer mount) or whose path is outside
 *    `cookie.path` passes through; while the store is disconnected, requests go on without a session.
 * 2. The session cookie is read and its signature checked against every secret. A missing or badly
 *    signed cookie costs no store call and yields a new session under a new id, created only when the
 *    app first touches `req.session` or `req.sessionID`.
 * 3. A verified id is loaded from the store; an absent or corrupt record yields a new session.
 * 4. When the app ends the response, the session is destroyed (`unset: 'destroy'`), saved (modified,
 *    new with `saveUninitialized`, or `resave`) or touched, and the response waits for the store, so a
 *    client that follows a redirect sees the saved session and a failed save is never answered as a
 *    success.
 * 5. When the headers go out, Set-Cookie is added for a new saved session, with `rolling`, or when the
 *    session or its cookie changed; a destroyed session's cookie is cleared.
 */
export function session(options: SessionOptions): SessionMiddleware {
  const config = parseOptions(options, generateSessionId)
  const { store } = config
  const signingKeys = new SigningKeys(config.secrets)
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
    const request = req as FlowRequest
    const cookieOptions = enterRequest(request, next, config.cookie, debug)
    if (cookieOptions === undefined) return
    const signing = signingKeys.forRequest(request)
    if (signing instanceof SessionError) {
      next(signing)
      return
    }
    new RequestFlow(config, request, res, next, cookieOptions, signing.verified, signing.keys).start()
  }

  const sessionsOf = async (owner: string | number): Promise<string[]> => {
    if (config.indexBy === undefined) throw new SessionError('SESSION_CONFIG', 'sessionkit: sessionsOf() needs the `indexBy` option (the session key that names its owner)')
    if (config.index !== undefined) return config.index.ids(String(owner))
    return scanSessionsOf(store, config.indexBy, String(owner), config.storeTimeout)
  }
  const destroySessionsOf = async (owner: string | number, options: { except?: string } = {}): Promise<number> => {
    const ids = (await sessionsOf(owner)).filter((sid) => sid !== options.except)
    for (const sid of ids) {
      await new Promise<void>((resolve, reject) => callStore(store, 'destroy', [sid], config.storeTimeout, (err) => (err ? reject(err) : resolve())))
      await config.index?.remove(String(owner), sid)
    }
    return ids.length
  }
  return Object.assign(middleware, { sessionsOf, destroySessionsOf })
}

/** A request as the middleware sees it. */
interface FlowRequest extends SessionRequest {
  [controllerKey]?: RequestFlow
  originalUrl?: string
  secure?: boolean
}

const LAZY: unique symbol = Symbol('sessionkit.lazy')
type Slot = Session | typeof LAZY | null | undefined

const enum Action {
  None,
  Save,
  Touch,
  Destroy,
}

/**
 * The state of one request's session, from the cookie to the response. It is the controller behind
 * the session's `save`, `destroy`, `regenerate` and `reload`, so their bookkeeping lives here too.
 */
class RequestFlow implements SessionController {
  /** The id the client's cookie carried, verified; undefined when there was none. */
  cookieId: string | undefined
  /** That cookie's value when the current secret signed it: sending the same id back reuses it. */
  cookieValue: string | undefined
  /** The current session id; created on first use. */
  id: string | undefined
  /** The current session; LAZY until a new session is first used. */
  slot: Slot = LAZY
  /** True while the middleware reads `req.session` itself, so that reading it creates nothing. */
  peeking = false
  /**
   * True while the store loads the cookie's session. A response ended meanwhile (by a timeout
   * middleware, say) knows nothing of the session: it may neither save a new one nor replace the
   * client's cookie, which names a session that may well exist.
   */
  loading = false

  // For deciding what "modified" and "saved" mean, as express-session does, but with the JSON text
  // kept instead of a hash: comparing strings is cheaper than hashing them.
  originalId: string | undefined
  originalJson: string | undefined
  originalCookieKey: string | undefined
  savedJson: string | undefined
  savedCookieKey: string | undefined
  /** False for a loaded session the app has not looked at yet: nothing to compare then. */
  snapshotTaken = false
  /** With `merge`: the data as last written by this request, what the next save diffs against. */
  mergeBaseJson: string | undefined
  /** The JSON computed when the response ended, reused when the headers follow. */
  endJson: string | undefined

  touched = false
  ending = false
  /** The end of the response waits for the store, to end with these arguments. */
  settling = false
  endArgs: unknown[] = []
  /** A regenerate(), destroy() or reload() still running, which the end of the response waits for. */
  pending: Promise<void> | undefined

  /** Remembers an operation that replaces or removes the session until it settles. */
  track(operation: Promise<void>): Promise<void> {
    this.pending = operation
    const settle = (): void => {
      if (this.pending === operation) this.pending = undefined
    }
    operation.then(settle, settle)
    return operation
  }
  /** A save failed before the headers went out: no cookie for a session that is not stored. */
  failed = false
  /** Ids destroyed during this request; a late save may not bring them back. */
  destroyedIds: Set<string> | undefined
  /** Send an expired cookie: the session the client's cookie named is gone. */
  clearCookie = false
  /** The attributes of the cookie to clear, taken from the session that was destroyed. */
  clearWith: Cookie | undefined

  constructor(
    readonly config: ParsedOptions,
    readonly req: FlowRequest,
    readonly res: ServerResponse,
    readonly next: NextFunction,
    readonly cookieOptions: CookieOptions,
    readonly verified: VerifiedValues,
    /** The secrets as KeyObjects: the first signs, every one verifies. */
    readonly keys: readonly KeyObject[],
  ) {}

  start(): void {
    const { req, config } = this
    toDictionaryMode(req, this.res)
    req[controllerKey] = this
    req.sessionStore = config.store
    Object.defineProperty(req, 'session', sessionProperty)
    Object.defineProperty(req, 'sessionID', sessionIdProperty)
    this.hookResponse()

    const found = readRequestSessionId(req, config.name, this.keys, this.verified)
    this.cookieId = found?.id
    this.cookieValue = found?.value
    if (this.cookieId === undefined) {
      this.proceed()
      return
    }
    const sid = this.cookieId
    this.loading = true
    callStore<SessionRecord | null | undefined>(config.store, 'get', [sid], config.storeTimeout, (err, record) => {
      this.loading = false
      if (err !== null) {
        if ((err.cause as { code?: unknown } | undefined)?.code === 'ENOENT') {
          debug('session %s not found (ENOENT)', label(sid))
          this.proceed()
          return
        }
        debug('store.get failed for %s: %s', label(sid), err.message)
        this.next(err)
        return
      }
      if (record === null || record === undefined) {
        debug('session %s not found', label(sid))
      } else if (this.slot === LAZY && this.id === undefined) {
        // Only adopt the record if nothing has been created meanwhile (nothing should have).
        this.inflate(sid, record)
      }
      this.proceed()
    })
  }

  /**
   * Hands the request on. An asynchronous `genid` cannot run inside the `req.session` getter, so when
   * the request has no session yet its id is made here, before the app runs.
   */
  proceed(): void {
    if (!this.config.genidIsAsync || this.slot !== LAZY || this.id !== undefined) {
      this.next()
      return
    }
    this.makeIdAsync().then(
      (id) => {
        this.id = id
        this.next()
      },
      (err: unknown) => this.next(err),
    )
  }

  // --- lazy access ---------------------------------------------------------------------------

  getSession(): Session | null | undefined {
    if (this.peeking) return this.slot === LAZY ? undefined : this.slot
    if (this.slot === LAZY) this.generate()
    else if (!this.snapshotTaken && this.slot instanceof Session) this.takeSnapshot(this.slot)
    return this.slot as Session | null | undefined
  }

  getId(): string {
    if (this.id === undefined) this.id = this.makeId()
    return this.id
  }

  /** What `req.session` holds now, without creating anything; LAZY for a new session never used. */
  peek(): Slot {
    if (!('session' in this.req)) return undefined
    this.peeking = true
    try {
      const current = this.req.session as Slot
      return current === undefined && this.slot === LAZY ? LAZY : current
    } finally {
      this.peeking = false
    }
  }

  // --- creating sessions ---------------------------------------------------------------------

  makeId(): string {
    const id = this.config.genid(this.req)
    if (typeof id !== 'string' || id.length === 0) {
      const hint = isThenable(id) ? '; a genid that returns a Promise must be declared as an `async function`' : ''
      throw new SessionError('SESSION_CONFIG', `sessionkit: genid must return a non-empty string (got ${typeof id})${hint}`)
    }
    return id
  }

  async makeIdAsync(): Promise<string> {
    const id: unknown = await this.config.genid(this.req)
    if (typeof id !== 'string' || id.length === 0) {
      throw new SessionError('SESSION_CONFIG', `sessionkit: genid must resolve to a non-empty string (got ${typeof id})`)
    }
    return id
  }

  /** A new session: a fresh id (unless one was already handed out) and the configured cookie. */
  generate(): Session {
    if (this.id === undefined || this.id === this.cookieId || this.destroyedIds?.has(this.id)) this.id = this.makeId()
    const cookie = new Cookie(this.cookieOptions)
    const { secure, sameSite } = this.cookieOptions
    if (secure === 'auto' || sameSite === 'auto') {
      const overHttps = isSecure(this.req, this.config.proxy)
      if (secure === 'auto') cookie.secure = overHttps
      if (sameSite === 'auto') cookie.sameSite = overHttps ? 'none' : 'lax'
    }
    if (this.config.absoluteTimeout > 0) cookie.absoluteExpires = new Date(Date.now() + this.config.absoluteTimeout)
    const created = new Session(this.req, { cookie })
    this.slot = created
    this.originalId = created.id
    this.originalJson = '{}'
    this.originalCookieKey = cookieKey(cookie)
    this.savedJson = undefined
    this.savedCookieKey = undefined
    this.snapshotTaken = true
    return created
  }

  /** Adopts a record from the store, or treats it as absent (and removes it) when it is corrupt. */
  inflate(sid: string, record: unknown): boolean {
    const problem = recordProblem(record)
    if (problem !== undefined) {
      debug('session %s is unusable (%s); starting a new one', label(sid), problem)
      callStore(this.config.store, 'destroy', [sid], this.config.storeTimeout, () => {})
      return false
    }
    this.id = sid
    const loaded = new Session(this.req, record as SessionRecord)
    this.slot = loaded
    this.originalId = sid
    this.snapshotTaken = false
    return true
  }

  takeSnapshot(current: Session): void {
    this.snapshotTaken = true
    this.originalJson = serializeData(current)
    this.originalCookieKey = cookieKey(current.cookie)
    if (!this.config.resave) {
      this.savedJson = this.originalJson
      this.savedCookieKey = this.originalCookieKey
    }
  }

  // --- the rules of express-session ------------------------------------------------------------

  isModified(current: Session, json: string): boolean {
    return this.originalId !== current.id || this.originalJson !== json || this.originalCookieKey !== cookieKey(current.cookie)
  }

  isSaved(current: Session, json: string): boolean {
    return this.originalId === current.id && this.savedJson === json && this.savedCookieKey === cookieKey(current.cookie)
  }

  shouldSave(current: Session, json: string): boolean {
    if (!this.config.saveUninitialized && this.savedJson === undefined && this.cookieId !== current.id) {
      return this.isModified(current, json)
    }
    return !this.isSaved(current, json)
  }

  shouldSetCookie(current: Session): boolean {
    if (!this.snapshotTaken) return this.config.rolling
    let json: string
    try {
      json = this.ending && this.endJson !== undefined ? this.endJson : serializeData(current)
    } catch {
      return false // the save will fail and report why; send no cookie for it
    }
    if (this.cookieId !== current.id) return this.config.saveUninitialized || this.isModified(current, json)
    if (this.config.rolling) return true
    if (!this.isModified(current, json)) return false
    return current.cookie.expires !== null || this.originalCookieKey !== cookieKey(current.cookie)
  }

  /** What to do with the store when the response ends. Throws when the session cannot be serialized. */
  decide(): Action {
    this.endJson = undefined
    if (this.loading) return Action.None
    let current = this.peek()
    if (current === LAZY) {
      if (!this.config.saveUninitialized) return Action.None
      current = this.generate()
    }
    if (!(current instanceof Session)) {
      if (this.config.unsetDestroy && this.id !== undefined && !this.destroyedIds?.has(this.id)) {
        this.noteDestroyed(this.id)
        return Action.Destroy
      }
      return Action.None
    }
    if (!this.touched) {
      current.touch()
      this.touched = true
    }
    if (!this.snapshotTaken) {
      if (this.config.resave) return Action.Save
      return this.canTouch() ? Action.Touch : Action.None
    }
    const json = serializeData(current)
    this.endJson = json
    if (this.shouldSave(current, json)) return Action.Save
    if (this.canTouch() && this.cookieId === current.id) return Action.Touch
    return Action.None
  }

  canTouch(): boolean {
    return this.config.rewriteOnTouch || typeof this.config.store.touch === 'function'
  }

  noteDestroyed(sid: string): void {
    ;(this.destroyedIds ??= new Set()).add(sid)
    if (sid === this.cookieId) {
      this.clearCookie = true
      if (this.slot instanceof Session) this.clearWith = this.slot.cookie
    }
  }

  // --- the response --------------------------------------------------------------------------

  hookResponse(): void {
    const { res } = this
    onHeaders(res, () => this.writeCookie())
    // on-headers applies a nested-array header list with setHeader, so in
    // writeHead(200, [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]) the second cookie would replace
    // the first. The flat form carries the same headers and on-headers appends its duplicates.
    const hookedWriteHead = res.writeHead as (...args: unknown[]) => ServerResponse
    res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]): ServerResponse {
      const at = typeof args[1] === 'string' ? 2 : 1
      const headers = args[at]
      if (Array.isArray(headers) && headers.length > 0 && Array.isArray(headers[0])) {
        args[at] = (headers as unknown[][]).flatMap((pair) => [pair[0], pair[1]])
      }
      return hookedWriteHead.apply(this, args)
    } as ServerResponse['writeHead']
    const originalEnd = res.end as (...args: unknown[]) => ServerResponse
    const flow = this
    const end = function end(this: ServerResponse, ...args: unknown[]): ServerResponse {
      if (flow.ending) {
        // A second end() (res.send called twice) while the store works would send the answer, with its
        // cookie, before the save is known to have succeeded. It waits too, and replaces the first
        // one's arguments, because it has already replaced that one's headers (Content-Length).
        if (flow.settling) {
          flow.endArgs = args
          return res
        }
        return originalEnd.apply(this, args)
      }
      flow.ending = true
      if (flow.pending !== undefined) {
        // The app ended the response without waiting for regenerate(), destroy() or reload(): decide
        // once it has finished, on the session it leaves, rather than save the one it is replacing.
        flow.settling = true
        flow.endArgs = args
        const resume = (): void => {
          flow.settling = false
          flow.ending = false
          // Our own wrapper, not res.end: a middleware mounted later may have wrapped it again.
          end.apply(res, flow.endArgs)
        }
        // setImmediate: after the operation's own callback (run on the next tick) has had its say.
        const later = (): void => void setImmediate(resume)
        flow.pending.then(later, later)
        return res
      }
      let action: Action
      try {
        action = flow.decide()
      } catch (err) {
        flow.fail(err)
        return res
      }
      // Ending writes the headers, and with them our Set-Cookie, which throws when the cookie cannot be
      // serialized; that must reach the error handler, not escape from a store callback or a timer.
      if (action === Action.None) {
        try {
          return originalEnd.apply(this, args)
        } catch (err) {
          flow.fail(err)
          return res
        }
      }
      flow.settling = true
      flow.endArgs = args
      flow.runEndAction(action, (err) => {
        flow.settling = false
        if (err !== null) {
          flow.fail(err)
          return
        }
        try {
          originalEnd.apply(res, flow.endArgs)
        } catch (endError) {
          flow.fail(endError)
        }
      })
      return res
    }
    res.end = end as ServerResponse['end']
  }

  runEndAction(action: Action, done: (err: unknown) => void): void {
    const { store, storeTimeout } = this.config
    const current = this.peek()
    if (action === Action.Save && current instanceof Session) {
      // decide() has just serialized this very session (nothing ran since); no need to do it again.
      this.save(current, this.endJson).then(() => done(null), done)
    } else if (action === Action.Touch && current instanceof Session && this.config.rewriteOnTouch) {
      // Write the data back with the moved expiry, for stores whose touch moves only their own TTL.
      if (!this.snapshotTaken) this.takeSnapshot(current)
      // A session another request destroyed has nothing left to touch; that is not this request's error.
      this.save(current).then(
        () => done(null),
        (err: unknown) => done(err instanceof SessionError && err.code === 'SESSION_GONE' ? null : err),
      )
    } else if (action === Action.Touch && current instanceof Session) {
      callStore(store, 'touch', [current.id, current], storeTimeout, (err) => done(err))
    } else if (action === Action.Destroy && this.id !== undefined) {
      callStore(store, 'destroy', [this.id], storeTimeout, (err) => done(err))
    } else {
      done(null)
    }
  }

  /**
   * Reports a failure of the end-of-response work. Before the headers went out, the app's response is
   * dropped and the error goes to `next()`, whose handler answers instead; after, the response cannot
   * be changed, so it is cut off rather than completed as if the session were stored.
   */
  fail(err: unknown): void {
    debug('saving the session failed: %s', err instanceof Error ? err.message : String(err))
    const { res } = this
    if (!res.headersSent) {
      this.failed = true
      // The error handler answers instead of the app; headers that described the app's answer (its
      // body, a redirect, a cookie for a login that did not persist) must not leak into that one.
      for (const header of RESPONSE_HEADERS) res.removeHeader(header)
      setImmediate(() => this.next(err))
      return
    }
    setImmediate(() => {
      this.next(err)
      if (!res.writableEnded && !res.destroyed) res.destroy()
    })
  }

  writeCookie(): void {
    if (this.failed || this.loading) return
    let current = this.peek()
    if (current === LAZY) {
      if (!this.config.saveUninitialized) return
      current = this.generate()
    }
    if (!(current instanceof Session)) {
      if (this.clearCookie) this.appendSetCookie(this.expiredCookie())
      return
    }
    if (!this.shouldSetCookie(current)) {
      if (this.clearCookie) this.appendSetCookie(this.expiredCookie())
      return
    }
    if (current.cookie.secure === true && !isSecure(this.req, this.config.proxy)) {
      debug('not sending a Secure cookie over plain HTTP')
      return
    }
    if (!this.touched) {
      current.touch()
      this.touched = true
    }
    const value = current.id === this.cookieId && this.cookieValue !== undefined ? this.cookieValue : signSessionId(current.id, this.keys[0] as KeyObject)
    this.appendSetCookie(serializeCookie(current.cookie, this.config.name, value))
  }

  expiredCookie(): string {
    return expiredCookie(this.config.name, this.clearWith ?? new Cookie(this.cookieOptions))
  }

  appendSetCookie(header: string): void {
    appendSetCookie(this.res, header)
  }

  // --- the session's methods -----------------------------------------------------------------

  /** Writes `target` to the store; `json` is its data's JSON when the caller has just computed it. */
  save(target: Session, json?: string): Promise<void> {
    if (this.destroyedIds?.has(target.id)) {
      return Promise.reject(new SessionError('SESSION_GONE', 'sessionkit: cannot save a session that was destroyed or regenerated'))
    }
    try {
      json ??= serializeData(target)
    } catch (err) {
      return Promise.reject(err)
    }
    const limit = this.config.maxSessionBytes
    if (limit > 0 && json.length > limit / 3 && Buffer.byteLength(json) > limit) {
      const size = Buffer.byteLength(json)
      return Promise.reject(new SessionError('SESSION_SERIALIZE', `sessionkit: the session's data is ${size} bytes as JSON, over the maxSessionBytes limit of ${limit}`))
    }
    const key = cookieKey(target.cookie)
    if (target === this.slot) {
      this.savedJson = json
      this.savedCookieKey = key
    }
    const base = this.mergeBaseJson ?? (target.id === this.cookieId ? this.originalJson : undefined)
    if (this.config.merge && base !== undefined && target.id === this.originalId) {
      return mergeSave(this.config.store, target, base, json, this.config.storeTimeout).then(
        (outcome) => {
          if (outcome === 'gone') {
            this.noteDestroyed(target.id)
            throw goneError()
          }
          this.mergeBaseJson = json
          return this.indexSaved(target)
        },
        (err: unknown) => {
          if (this.savedJson === json) this.savedJson = undefined
          throw err
        },
      )
    }
    return new Promise((resolve, reject) => {
      callStore(this.config.store, 'set', [target.id, target], this.config.storeTimeout, (err) => {
        if (err === null) {
          if (this.config.merge) this.mergeBaseJson = json
          this.indexSaved(target).then(resolve, reject)
          return
        }
        // Forget the save so the end of the response tries again rather than think it stored.
        if (this.savedJson === json) this.savedJson = undefined
        reject(err)
      })
    })
  }

  destroy(target: Session): Promise<void> {
    return this.track(this.destroyNow(target))
  }

  destroyNow(target: Session): Promise<void> {
    if (this.slot === target) this.slot = undefined
    this.noteDestroyed(target.id)
    return new Promise<void>((resolve, reject) => {
      callStore(this.config.store, 'destroy', [target.id], this.config.storeTimeout, (err) => (err === null ? resolve() : reject(err)))
    }).then(() => this.indexDestroyed(target))
  }

  /** Records a saved session under its owner, so that `destroySessionsOf` finds it. */
  async indexSaved(target: Session): Promise<void> {
    const { index, indexBy } = this.config
    if (index === undefined || indexBy === undefined) return
    const owner = (target as unknown as Record<string, unknown>)[indexBy]
    if (owner !== undefined && owner !== null) await index.add(String(owner), target.id, target.cookie.expires)
  }

  /** Forgets a destroyed session's owner entry; an entry left behind would only cost a wasted destroy. */
  async indexDestroyed(target: Session): Promise<void> {
    const { index, indexBy } = this.config
    if (index === undefined || indexBy === undefined) return
    const owner = (target as unknown as Record<string, unknown>)[indexBy]
    if (owner === undefined || owner === null) return
    try {
      await index.remove(String(owner), target.id)
    } catch {
      // Also an index that throws instead of rejecting: regenerate() does not wait for this, so an
      // error here would be an unhandled rejection, a crash on Node 20.
    }
  }

  regenerate(target: Session, options: RegenerateOptions): Promise<void> {
    return this.track(this.regenerateNow(target, options))
  }

  regenerateNow(target: Session, options: RegenerateOptions): Promise<void> {
    this.noteDestroyed(target.id)
    const kept: [string, unknown][] = []
    for (const key of options.keep ?? []) {
      if (Object.hasOwn(target, key) && !RESERVED_KEYS.has(key)) kept.push([key, (target as unknown as Record<string, unknown>)[key]])
    }
    const nextId = this.config.genidIsAsync ? this.makeIdAsync() : undefined
    // A genid that fails before the destroy answers would be an unhandled rejection (a crash on Node
    // 20) until it is awaited below, where its error reaches the caller.
    nextId?.catch(() => undefined)
    return new Promise((resolve, reject) => {
      callStore(this.config.store, 'destroy', [target.id], this.config.storeTimeout, async (err) => {
        if (nextId !== undefined) {
          try {
            this.id = await nextId
          } catch (genidError) {
            reject(genidError)
            return
          }
        }
        let created: Record<string, unknown>
        try {
          created = this.generate() as unknown as Record<string, unknown>
        } catch (genidError) {
          // A throwing genid: inside this async callback it would be an unhandled rejection and the
          // caller would wait for ever.
          reject(genidError)
          return
        }
        for (const [key, value] of kept) created[key] = value
        void this.indexDestroyed(target)
        if (err === null) resolve()
        else reject(err)
      })
    })
  }

  reload(target: Session): Promise<void> {
    return this.track(this.reloadNow(target))
  }

  reloadNow(target: Session): Promise<void> {
    return new Promise((resolve, reject) => {
      callStore<SessionRecord | null | undefined>(this.config.store, 'get', [target.id], this.config.storeTimeout, (err, record) => {
        if (err !== null) {
          reject(err)
          return
        }
        if (record === null || record === undefined || recordProblem(record) !== undefined) {
          reject(new SessionError('SESSION_NOT_FOUND', 'sessionkit: failed to load session: the store no longer has it', { status: 404 }))
          return
        }
        this.slot = new Session(this.req, record as SessionRecord)
        resolve()
      })
    })
  }
}



// Accessors shared by every request; `this` is the request, which carries its flow.
const sessionProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: FlowRequest) {
    return (this[controllerKey] as RequestFlow).getSession()
  },
  set(this: FlowRequest, value: unknown) {
    ;(this[controllerKey] as RequestFlow).slot = value as Slot
  },
}

const sessionIdProperty: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: FlowRequest) {
    return (this[controllerKey] as RequestFlow).getId()
  },
  set(this: FlowRequest, value: unknown) {
    ;(this[controllerKey] as RequestFlow).id = value as string
  },
}



/** Why a store's answer cannot be used as a session, or undefined when it can. */
function recordProblem(record: unknown): string | undefined {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return `not an object but ${typeof record}`
  const cookie = (record as { cookie?: unknown }).cookie
  if (cookie === null || typeof cookie !== 'object') return 'no cookie'
  const { expires, originalMaxAge } = cookie as CookieRecord
  if (originalMaxAge !== undefined && originalMaxAge !== null && typeof originalMaxAge !== 'number') return 'cookie.originalMaxAge is not a number'
  if (expires !== undefined && expires !== null) {
    const time = expires instanceof Date ? expires.getTime() : typeof expires === 'string' ? Date.parse(expires) : NaN
    // No expiry check here: stores such as connect-redis and connect-pg-simple move only their own TTL
    // on touch and leave the stored cookie.expires behind, so the store decides what is still alive.
    if (Number.isNaN(time)) return 'cookie.expires is not a date'
  }
  // Attributes the cookie serializer would refuse when the headers go out.
  const { path, domain, sameSite, priority } = cookie as Record<string, unknown>
  if (path !== undefined && path !== null && (typeof path !== 'string' || !COOKIE_PATH.test(path))) return 'cookie.path cannot be sent'
  if (domain !== undefined && domain !== null && (typeof domain !== 'string' || (domain !== '' && !COOKIE_DOMAIN.test(domain)))) return 'cookie.domain cannot be sent'
  if (sameSite !== undefined && sameSite !== null && typeof sameSite !== 'boolean' && !(typeof sameSite === 'string' && /^(lax|strict|none)$/i.test(sameSite))) {
    return 'cookie.sameSite is not valid'
  }
  if (priority !== undefined && priority !== null && !(typeof priority === 'string' && /^(low|medium|high)$/i.test(priority))) return 'cookie.priority is not valid'
  const absolute = (cookie as CookieRecord).absoluteExpires
  if (absolute !== undefined && absolute !== null) {
    const time = absolute instanceof Date ? absolute.getTime() : typeof absolute === 'string' ? Date.parse(absolute) : NaN
    if (Number.isNaN(time)) return 'cookie.absoluteExpires is not a date'
    if (time <= Date.now()) return 'past its absolute lifetime'
  }
  return undefined
}



function isThenable(value: unknown): boolean {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function'
}

/** How debug output names a session: a short hash, never the id, which is a bearer credential. */
function label(sid: string): string {
  return debug.enabled ? createHash('sha256').update(sid).digest('hex').slice(0, 8) : ''
}
