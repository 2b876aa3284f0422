import type { KeyObject } from 'node:crypto'
import type { CookieOptions } from '../cookie/cookie.js'
import { SessionError } from '../errors.js'
import { debug, keptValues, LAZY, RequestLifecycle } from './lifecycle.js'
import { goneError } from './merge.js'
import type { ParsedOptions } from '../options/session-options.js'
import { oversizeError, recordProblem, sessionLabel } from '../store/record.js'
import { cookieAttributes, sameAttributes, type CookieAttributes } from './snapshot.js'
import { sessionToken } from './session-header.js'
import type { RequestExchange } from './adapter.js'
import { jsonWithinIfAny, serializeWithin } from './json-size.js'
import { assertIntact, Session, type RegenerateOptions } from './session.js'
import { afterWrite, stamped, unindexSession } from './owner-sessions.js'
import { touchAfterResponse, type TouchSteps } from './touch.js'
import { writesOf, type WriteDone } from './write-queue.js'
import { makeId, makeIdAsync } from './genid.js'
import { expiryDue, shouldSave, type EndAction, type StoreModeContext } from './save-rules.js'
import { readRequestSessionId, readSessionToken, signSessionId, type RequestSigning } from '../cookie/signature.js'
import type { SessionRecord } from '../store/store.js'
import { callStore } from '../store/call.js'
import { immediateCallsFor } from '../store/capabilities.js'
import { atOnceOrLater, destroySession, destroySessionNow, loadForRequest, readSession, storeAccess, usesVersions, writeSession, type StoreAccess } from './store-io.js'

/**
 * A request whose session lives in a store (`session()`): the cookie carries a signed id, the store the
 * data, and express-session's `resave` / `saveUninitialized` / `rolling` / `unset` rules decide. @internal
 */
export class StoreLifecycle extends RequestLifecycle implements TouchSteps {
  /** The verified id the client's cookie carried. */
  cookieId: string | undefined
  /** That cookie's value when the current secret signed it: sending the same id back reuses it. */
  cookieValue: string | undefined
  /** What the store holds for the current session as far as this request knows; undefined for nothing. */
  saved: { json: string; attributes: CookieAttributes } | undefined
  /** With `merge`: the data as this request last wrote it, what the next save diffs against. */
  mergeBase: string | undefined
  /** The session whose expiry this response restarted (once: the store and the cookie then agree). */
  restarted: Session | undefined
  /** An unchanged session whose expiry moves once the response is out. */
  touchAfterEnd: Session | undefined
  /** The app called save() and was told the data cannot be stored: the end does not fail on it again. */
  refusedJson: string | null | undefined
  /** The JSON the commit computed; the headers that follow at once reuse it rather than serialize again. */
  committedJson: string | undefined
  /** The store and its timeout, as every store call needs them. */
  readonly access: StoreAccess
  /** The store writes conditionally on versions and loads with a touch (see store-writes.ts). */
  readonly versioned: boolean
  /** With a versioned store: the version of session `id` as this request last read or wrote it (null: not stored yet), and whether its load moved its expiry. */
  version: { id: string; value: string | null; touched: boolean } | undefined
  /** When the request asked for its session (performance.now()): a destroy in this process after that wins. */
  readonly loadedAt = performance.now()

  constructor(
    readonly context: StoreModeContext,
    exchange: RequestExchange,
    next: (err?: unknown) => void,
    cookieOptions: CookieOptions,
    /** The secrets for this request (the option's, or cookie-parser's `req.secret`), and what they verified before. */
    readonly signing: RequestSigning,
  ) {
    const token = sessionToken(exchange, context.options.header)
    const found = token === undefined ? readRequestSessionId(exchange.cookieHeader, exchange.parsed, context.options.name, signing.keys, signing.verified) : readSessionToken(token, signing.keys, signing.verified)
    super(context.options, exchange, next, cookieOptions, found === undefined ? 'open' : 'loading')
    if (token !== undefined) this.viaHeader = context.options.header
    this.options = context.options
    this.cookieId = found?.id
    this.cookieValue = found?.value
    this.access = storeAccess(context.options.store, context.options.storeTimeout)
    this.versioned = usesVersions(context.options.store)
  }

  /** The parsed options; a field, not a getter: every step of a request reads it. */
  readonly options: ParsedOptions

  clientId(): string | undefined {
    return this.cookieId
  }

  holdsFromStart(): boolean {
    return this.cookieId !== undefined || this.options.saveUninitialized
  }

  /** Installs the accessors and the hold, then loads the cookie's session (if any) and hands on. */
  start(): void {
    this.install()
    this.req.sessionStore = this.options.store
    const sid = this.cookieId
    if (sid === undefined) return this.proceed()
    // A versioned store moves the expiry in the same call: an unchanged session needs no touch later.
    // Callbacks, not Promises: a store that answers at once lets the request go on in the same turn.
    const { store, storeTimeout } = this.options
    if (this.versioned) {
      // A store that answers inside the call (in memory) touches at the end instead, if the session was not
      // saved anyway: there it costs no round trip, and a touch at load that a save overwrites is wasted.
      const touch = this.options.touchAfter === 0 && immediateCallsFor(store, 'touch') === undefined
      return loadForRequest(this.access, sid, touch, (err, found) => this.loaded(sid, found, err, touch))
    }
    callStore<SessionRecord | null | undefined>(store, 'get', [sid], storeTimeout, (err, record) => {
      this.loaded(sid, record === null || record === undefined ? record : { record }, err)
    })
  }

  loaded(sid: string, found: { record: unknown; version?: string } | null | undefined, err: SessionError | null, touched = false): void {
    // A response ended meanwhile (a timeout middleware) knew nothing of the session: it stays untouched.
    if (!this.advance('loading', 'open')) return this.proceed()
    if (err !== null && (err.cause as { code?: unknown } | undefined)?.code !== 'ENOENT') { // session-file-store's "no such session"
      debug('store.get failed for %s: %s', sessionLabel(sid), err.code) // a store's message may name the id
      return this.next(err)
    }
    if (found === null || found === undefined) debug('session %s not found', sessionLabel(sid))
    else if (this.inflate(sid, found.record) && this.versioned) this.version = { id: sid, value: found.version ?? null, touched }
    if (this.slot === LAZY) this.reportLoadMiss(found?.record)
    this.proceed()
  }

  /** Hands the request on; an asynchronous `genid` cannot run inside a getter, so its id is made first. */
  proceed(): void {
    if (!this.options.genidIsAsync || this.slot !== LAZY || this.id !== undefined) return this.next()
    makeIdAsync(this.options.genid, this.exchange.origin).then((id) => {
      this.id = id
      this.next()
    }, this.next)
  }

  /** Adopts a record from the store, or treats it as absent (and removes it) when it is corrupt. */
  inflate(sid: string, record: unknown): boolean {
    const problem = recordProblem(record)
    if (problem !== undefined) {
      debug('session %s is unusable (%s); starting a new one', sessionLabel(sid), problem)
      callStore(this.options.store, 'destroy', [sid], this.options.storeTimeout, () => {})
      return false
    }
    this.id = sid
    this.slot = new Session(this.req, record as SessionRecord)
    return true
  }

  // --- lazy access ---------------------------------------------------------------------------------

  getSession(): Session | null | undefined {
    if (this.phase === 'loading') return undefined
    if (this.slot === LAZY) return this.generate()
    if (this.snapshot === undefined && this.slot instanceof Session) this.snapshotLoaded(this.slot)
    return this.slot
  }

  getId(): string {
    return (this.id ??= makeId(this.options.genid, this.exchange.origin))
  }

  /** `req.session = null` (or `delete req.session`): with `unset: 'destroy'` the end destroys the session. */
  unset(value: unknown): void {
    this.slot = value as Session | null | undefined
  }

  /** The loaded session, or the new one the app already used; LAZY is none. */
  replaceable(): Session | undefined {
    return this.slot instanceof Session ? this.slot : undefined
  }

  /** Destroys the record of the session an assignment replaces, as regenerate() does; the response fails if that fails. */
  endReplaced(previous: Session | undefined): void {
    if (this.options.genidIsAsync && (previous !== undefined || this.id === undefined)) {
      throw new SessionError('SESSION_CONFIG', 'sessionkit: req.session = { ... } needs a new id at once, which an async genid cannot give; use `await req.session.regenerate()` and then set the values')
    }
    if (previous === undefined) return
    // A new session nothing stored yet has no record to remove.
    if (previous.id !== this.cookieId && this.saved === undefined) return this.noteGone(previous)
    this.destroy(previous).catch((err: unknown) => {
      this.unawaitedFailure ??= err
    })
  }

  /** The first look at a loaded session: what it was, and (without `resave`) what the store holds. */
  snapshotLoaded(loaded: Session): void {
    const found = this.takeSnapshot(loaded)
    if (!this.options.resave) this.saved = { json: found.json, attributes: found.attributes }
  }

  /** A new session: a fresh id (unless one was already handed out for it) and the configured cookie. */
  generate(): Session {
    let id = this.id
    if (id === undefined || id === this.cookieId || this.goneIds?.has(id)) id = makeId(this.options.genid, this.exchange.origin)
    this.saved = undefined
    return stamped(this, this.adoptNew(id, this.newCookie()))
  }

  // --- express-session's rules ------------------------------------------------------------------------

  shouldSetCookie(current: Session, json: string | undefined): boolean {
    if (this.snapshot === undefined) return this.options.rolling && this.expiryDue(current)
    // A save that will fail (and say why), or one the app was told failed: no cookie for it.
    if (json === undefined || json === this.refusedJson) return false
    if (this.cookieId !== current.id) return this.options.saveUninitialized || this.isModified(current, json)
    // With touchAfter, rolling re-sends the cookie when its expiry moved, so it says what the store has.
    if (this.options.rolling) return this.expiryDue(current) || this.isModified(current, json)
    if (!this.isModified(current, json)) return false
    return current.cookie.expires !== null || !sameAttributes(this.snapshot.attributes, current.cookie)
  }

  /** Restarts the session's expiry once per response, so the store and the cookie agree on it. */
  restart(current: Session): void {
    if (this.restarted === current) return
    current.touch()
    this.restarted = current
    if (this.options.touchAfter > 0) writesOf(this.options.store).moved(current.id)
  }

  /** Whether this response moves the session's expiry (see `expiryDue` in store-rules.ts). */
  expiryDue(current: Session): boolean {
    const { touchAfter, store } = this.options
    return this.restarted === current || expiryDue(current, touchAfter, touchAfter === 0 ? 0 : writesOf(store).movedAt(current.id))
  }

  /** What the store must do now that the app has ended its response. Throws when the data cannot be serialized. */
  decide(): EndAction {
    let current = this.current()
    if (current === LAZY) {
      if (!this.options.saveUninitialized) return { kind: 'none' }
      current = this.generate()
    }
    const session = this.currentSession(current) // read once: a descriptor read allocates
    if (session === undefined) {
      // `req.session = null`, `delete req.session`, destroyed, or an id that is not a string.
      if (current instanceof Session || !this.options.unsetDestroy || this.id === undefined || this.goneIds?.has(this.id)) return { kind: 'none' }
      const id = this.id
      ;(this.goneIds ??= new Set()).add(id)
      return { kind: 'destroy', id }
    }
    if (this.snapshot === undefined) {
      if (this.options.resave) {
        this.restart(session)
        return { kind: 'save', session, json: undefined }
      }
      return this.touchIfDue(session)
    }
    let json: string
    try {
      json = serializeWithin(session, this.options.maxSessionBytes, this.snapshot.json)
    } catch (err) {
      if (this.refusedJson === null) return { kind: 'none' } // the app was told, and answered itself
      throw err
    }
    this.committedJson = json
    if (json === this.refusedJson) return { kind: 'none' }
    const facts = { found: this.snapshot, saved: this.saved, cookieId: this.cookieId, saveUninitialized: this.options.saveUninitialized }
    if (shouldSave(facts, session, json, this.isModified(session, json))) {
      this.restart(session)
      return { kind: 'save', session, json }
    }
    return this.cookieId === session.id ? this.touchIfDue(session) : { kind: 'none' }
  }

  /**
   * An unchanged session: its expiry moves (a touch after the response) unless `touchAfter` says not
   * yet. A store without `touch` has the session written back instead: otherwise an active user would be
   * logged out `maxAge` after the last change, whatever `rolling` told the browser.
   */
  touchIfDue(session: Session): EndAction {
    if (!this.expiryDue(session)) return { kind: 'none' }
    this.restart(session)
    return { kind: 'touch', session }
  }

  /** Whether the versioned load already moved this session's expiry in the store. */
  loadTouched(session: Session): boolean {
    return this.version?.touched === true && this.version.id === session.id
  }

  commitNow(): Promise<void> | undefined {
    if (this.advance('loading', 'committed')) return undefined // ended while loading: the session stays as it is
    if (!this.advance('open', 'committing')) return undefined
    const action = this.decide()
    switch (action.kind) {
      case 'save':
        return atOnceOrLater((done) => this.write(action.session, action.json, done))
      case 'destroy':
        this.report({ type: 'destroyed' })
        return atOnceOrLater((done) => destroySessionNow(this.access, action.id, done))
      case 'touch':
        this.touchAfterEnd = action.session
        return undefined
      case 'none':
        return undefined
    }
  }

  /** Moves an unchanged session's expiry once the response is out (see store-touch.ts). */
  override afterEnd(): void {
    super.afterEnd()
    const current = this.touchAfterEnd
    if (current === undefined) return
    this.touchAfterEnd = undefined
    touchAfterResponse(this, current)
  }

  writeHeaders(): void {
    if (this.phase !== 'open' && this.phase !== 'committing') return
    let current = this.current()
    if (current === LAZY) {
      if (!this.options.saveUninitialized) return
      current = this.generate()
    }
    const session = this.currentSession(current) // read once: a descriptor read allocates
    if (session === undefined || this.goneIds?.has(session.id) || !this.shouldSetCookie(session, this.committedJson ?? jsonWithinIfAny(session, this.options.maxSessionBytes, this.snapshot?.json))) {
      if (this.clientSessionGone()) this.sendGone()
      return
    }
    if (this.viaHeader === undefined && !this.canSend(session.cookie)) return
    if (this.expiryDue(session)) this.restart(session)
    const reuse = session.id === this.cookieId && this.cookieValue !== undefined
    const value = reuse ? (this.cookieValue as string) : signSessionId(session.id, this.signing.keys[0] as KeyObject)
    this.sendId(session.cookie, value)
  }

  // --- the session's methods ------------------------------------------------------------------------

  /** Writes `target` to the store; `json` is its data's JSON when the caller has just computed it. */
  save(target: Session, json?: string): Promise<void> {
    assertIntact(target) // the app's own save() does not pass through currentSession, where the commit checks it
    return new Promise((resolve, reject) => this.write(target, json, (err) => (err === null || err === undefined ? resolve() : reject(err))))
  }

  /** {@link save} through a callback, called before this returns when the store answers at once; `merge` as if the option were set. */
  write(target: Session, json: string | undefined, done: WriteDone<void>, merge = this.options.merge): void {
    if (this.goneIds?.has(target.id)) return done(new SessionError('SESSION_GONE', 'sessionkit: cannot save a session that was destroyed or regenerated'))
    try {
      json ??= serializeWithin(target, this.options.maxSessionBytes)
    } catch (err) {
      if (this.phase === 'open') this.refusedJson = null
      return done(err)
    }
    const limit = this.options.maxSessionBytes
    if (limit > 0 && json.length > limit / 3 && Buffer.byteLength(json) > limit) {
      if (this.phase === 'open') this.refusedJson = json
      return done(oversizeError(json, limit))
    }
    const written = json
    if (target === this.slot) this.saved = { json: written, attributes: cookieAttributes(target.cookie) }
    const base = this.mergeBase ?? (target.id === this.cookieId ? this.snapshot?.json : undefined)
    const merging = merge && base !== undefined && target.id === this.snapshot?.id
    const version = !this.versioned ? undefined : this.version?.id === target.id ? this.version.value : target.id === this.cookieId ? undefined : null
    const write = { target, json: written, mergeBase: merging ? base : undefined, version, loadedAt: this.loadedAt }
    writeSession(this.access, write, (err, outcome) => {
      // A failed save is forgotten, so that the end of the response tries again rather than think it stored.
      if (err !== null && err !== undefined) {
        if (this.saved?.json === written) this.saved = undefined
        return done(err)
      }
      if (outcome?.stored !== true) {
        this.noteGone(target)
        return done(goneError())
      }
      this.reportCreated(target.id)
      if (outcome.version !== undefined) this.version = { id: target.id, value: outcome.version, touched: this.version?.touched === true && this.version.id === target.id }
      if (this.options.merge) this.mergeBase = written
      afterWrite(this, target, done) // the owner index entry, and the cap per owner
    })
  }

  destroy(target: Session): Promise<void> {
    if (this.slot === target) this.slot = undefined
    this.noteGone(target)
    this.report({ type: 'destroyed' })
    return this.track(destroySession(this.access, target.id).then(() => unindexSession(this.options, target)))
  }

  regenerate(target: Session, options: RegenerateOptions): Promise<void> {
    this.noteGone(target)
    this.report({ type: 'regenerated' })
    const kept = keptValues(target, options.keep)
    const nextId = this.options.genidIsAsync ? makeIdAsync(this.options.genid, this.exchange.origin) : undefined
    // A genid that fails before the destroy answers would be an unhandled rejection (a crash on Node
    // 20) until it is awaited below, where its error reaches the caller.
    nextId?.catch(() => undefined)
    const destroyed = destroySession(this.access, target.id).then(
      () => null,
      (err: unknown) => ({ err }),
    )
    return this.track(
      destroyed.then(async (failure) => {
        if (nextId !== undefined) this.id = await nextId
        const created = this.generate() as unknown as Record<string, unknown>
        for (const [key, value] of kept) created[key] = value
        void unindexSession(this.options, target)
        if (failure !== null) throw failure.err
      }),
    )
  }

  reload(target: Session): Promise<void> {
    const load = readSession(this.access, target.id, this.versioned).then((found) => {
      this.slot = new Session(this.req, found.record)
      if (found.version !== undefined) this.version = { id: target.id, value: found.version, touched: false }
    })
    return this.track(load)
  }
}
