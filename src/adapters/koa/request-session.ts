import type { Secret } from '../../cookie/signature.js'
import { signSessionId } from '../../cookie/signature.js'
import { privateCacheControl } from '../../engine/cache-control.js'
import type { Session } from '../../engine/session.js'
import type { SessionCommit, SessionHandle, WebSessions } from '../web/web-sessions.js'
import { adoptKoaCookies, withCookie, type Adoption } from './adopt.js'
import { emitKoaEvent } from './koa-store.js'
import type { KoaContext } from './koa-types.js'
import type { KoaConfig } from './options.js'
import { appKey, engineKey, keptKey } from './record.js'
import { KoaSessionObject, type KoaSessionController } from './session.js'

/**
 * One request's session under sessionkit/koa: koa-session's `ctx.session` (a {@link KoaSessionObject})
 * over the Web API's handle. The app works on the KoaSessionObject; at the commit its data is copied
 * onto the engine's Session, which then saves, touches or destroys by its rules (koa-session's: a new
 * session is stored only once it holds something, a found one only when it changed, or on every
 * response with `rolling`), and the Set-Cookie values go onto Koa's response.
 */

/** What every request of one middleware shares. @internal */
export interface KoaShared {
  readonly config: KoaConfig
  readonly sessions: WebSessions
  /** Whether sessions live in a store (the cookie carries their key) rather than sealed in the cookie. */
  readonly storeMode: boolean
  /** Whether `valid` is asked here, of the loaded data, rather than as a koa-session-shaped store's record is read. */
  readonly validHere: boolean
}

/** One request's session. @internal */
export class KoaRequestSession implements KoaSessionController {
  #handle: SessionHandle | undefined
  #adoption: Adoption | undefined
  /** undefined: not read yet; null: `ctx.session = null`. */
  #session: KoaSessionObject | null | undefined
  /** The data as the request found it (JSON), to tell a changed session for `beforeSave`. */
  #foundJson: string | undefined
  /** A lifetime the app set on this request (`ctx.session.maxAge = ...`). */
  #maxAge: { value: number | 'session' | undefined } | undefined
  /** save() or regenerate() asked for a save whatever the session holds. */
  #forced = false
  /** `valid` refused the session the cookie held: a new one replaces it (cookie mode). */
  #replace = false
  #commit: Promise<void> | undefined

  constructor(
    readonly shared: KoaShared,
    readonly ctx: KoaContext,
  ) {}

  /** Reads the request's cookies (adopting koa-session's) and loads its session; rejects when the store fails. */
  async load(): Promise<void> {
    const { config, storeMode, sessions } = this.shared
    const signWith = config.secrets[0] as Secret
    let header = this.ctx.req.headers.cookie
    if (storeMode && config.externalKey !== undefined) {
      // The key travels elsewhere: the engine sees it as the cookie it would have signed itself.
      const key = config.externalKey.get(this.ctx)
      header = withCookie(header, config.key, typeof key === 'string' && key !== '' ? encodeURIComponent(signSessionId(key, signWith)) : undefined)
    }
    const adoption = adoptKoaCookies(header, { key: config.key, verifyLegacy: config.verifyLegacy, signWith }, storeMode)
    this.#adoption = adoption
    const headers = new Headers()
    if (adoption.cookieHeader !== undefined) headers.set('cookie', adoption.cookieHeader)
    this.#handle = await sessions.load({ url: requestUrl(this.ctx), headers }, { secure: this.ctx.secure })
  }

  // --- ctx.session ------------------------------------------------------------------------------------

  /** `ctx.session`: made on first read from the engine's session (or the adopted koa-session data). */
  get(): KoaSessionObject | null {
    if (this.#session !== undefined) return this.#session
    const engine = this.#engineSession()
    let data: Record<string, unknown> = {}
    let isNew = true
    if (engine !== undefined) {
      data = appData(engine)
      isNew = this.#handle?.isNew !== false
    }
    const adopted = this.#adoption?.data
    if (isNew && adopted !== undefined) {
      data = adopted
      isNew = false
    }
    const { valid } = this.shared.config
    if (!isNew && this.shared.validHere && valid !== undefined && !valid(this.ctx, data)) {
      emitKoaEvent(this.ctx, 'invalid', undefined, data)
      data = {}
      isNew = true
      this.#replace = true
    }
    this.#foundJson = isNew ? undefined : JSON.stringify(data)
    this.#session = new KoaSessionObject(this, data, isNew)
    return this.#session
  }

  /** `ctx.session = value`: null ends the session; an object replaces its data, under the same key. */
  set(value: unknown): void {
    if (value === null) {
      this.#session = null
      return
    }
    if (typeof value !== 'object') throw new TypeError('ctx.session can only be set as null or an object')
    // The session as found is read first: whether the replacement changed it is measured against it.
    if (this.#session === undefined) this.get()
    this.#session = new KoaSessionObject(this, value as Record<string, unknown>, false)
  }

  // --- KoaSessionController -----------------------------------------------------------------------------

  get externalKey(): string | undefined {
    if (!this.shared.storeMode) return undefined
    const engine = this.#engineSession()
    return engine?.id
  }

  get maxAge(): number | 'session' | undefined {
    if (this.#maxAge !== undefined) return this.#maxAge.value
    const lifetime = this.#engineSession()?.cookie.originalMaxAge
    if (typeof lifetime === 'number') return lifetime
    return this.shared.config.browserSession ? 'session' : this.shared.config.maxAge
  }

  set maxAge(value: number | 'session' | undefined) {
    this.#maxAge = { value }
  }

  async save(): Promise<void> {
    this.#forced = true
    if (!this.shared.config.autoCommit) return this.commit()
    const engine = this.#synced()
    if (engine !== undefined) await engine.save()
  }

  async regenerate(): Promise<void> {
    this.#forced = true
    const engine = this.#engineSession()
    if (engine !== undefined && this.#session !== null) await engine.regenerate()
    if (!this.shared.config.autoCommit) return this.commit()
  }

  commit(): Promise<void> {
    return (this.#commit ??= this.#run())
  }

  // --- the commit -------------------------------------------------------------------------------------

  async #run(): Promise<void> {
    const handle = this.#handle
    if (handle === undefined) return
    const session = this.#session
    if (session === null) {
      const engine = this.#engineSession()
      if (engine !== undefined) await engine.destroy()
    } else if (session !== undefined) {
      if (this.#replace) handle.session = {} as Session
      const engine = this.#engineSession()
      if (engine !== undefined) {
        // Before the copy onto the engine's Session, so that what the hook changes is saved.
        if (this.#dueForSave(engine)) this.shared.config.beforeSave?.(this.ctx, session)
        this.#synced()
        // Saved whatever the rules say: save(), or (cookie mode) a renewal, which sends the cookie. With
        // a store, a renewal is the engine's own touch (`touchAfter`), which writes and sends once.
        if (this.#forced || (!this.shared.storeMode && this.#renewDue(engine))) await engine.save()
      }
    }
    this.#apply(await handle.commit())
  }

  /** The engine's Session with the app's data and lifetime copied onto it, or undefined when there is none. */
  #synced(): Session | undefined {
    const engine = this.#engineSession()
    const session = this.#session
    if (engine === undefined || session === null || session === undefined) return engine
    const target = engine as unknown as Record<string, unknown>
    const data = session.toJSON()
    for (const key of Object.keys(target)) if (key !== 'cookie' && !(appKey(key) in data)) delete target[key]
    for (const key of Object.keys(data)) target[engineKey(key)] = data[key]
    if (this.#maxAge !== undefined) {
      const { value } = this.#maxAge
      engine.cookie.maxAge = value === 'session' || value === undefined ? null : value
    }
    return engine
  }

  /** Whether koa-session would save now: forced, changed, rolling, or renewing (`beforeSave` is called then). */
  #dueForSave(engine: Session): boolean {
    const { config } = this.shared
    if (this.#forced || this.#maxAge !== undefined || config.rolling || this.#renewDue(engine)) return true
    const json = JSON.stringify((this.#session as KoaSessionObject).toJSON())
    return this.#foundJson === undefined ? json !== '{}' : json !== this.#foundJson
  }

  /** `renew`: less than half of the session's lifetime is left. */
  #renewDue(engine: Session): boolean {
    const { originalMaxAge, expires } = engine.cookie
    return this.shared.config.renew && this.#foundJson !== undefined && originalMaxAge !== null && expires !== null && expires.getTime() - Date.now() < originalMaxAge / 2
  }

  #engineSession(): Session | undefined {
    const engine = this.#handle?.session
    return engine === null ? undefined : engine
  }

  /** Puts the commit's Set-Cookie values and Cache-Control on Koa's response. */
  #apply(commit: SessionCommit): void {
    const { config } = this.shared
    let values = [...commit.setCookie]
    const ours = values.some((value) => value.startsWith(`${config.key}=`))
    if (config.externalKey !== undefined) {
      // The key goes where externalKey says, not into a cookie.
      values = values.filter((value) => !value.startsWith(`${config.key}=`))
      const saved = commit.setCookie.some((value) => value.startsWith(`${config.key}=`) && !value.startsWith(`${config.key}=;`))
      if (saved && this.externalKey !== undefined) config.externalKey.set(this.ctx, this.externalKey)
    }
    // koa-session's signature cookie goes once sessionkit's own cookie replaces (or clears) the pair.
    if (ours && this.#adoption?.sig === true) values.push(clearedSig(values.find((value) => value.startsWith(`${config.key}=`)) as string, config.key))
    if (values.length === 0) return
    const response = this.ctx.response
    let existing = listOf(response.get('Set-Cookie'))
    if (config.overwrite) {
      const names = new Set(values.map((value) => value.slice(0, value.indexOf('=') + 1)))
      existing = existing.filter((value) => !names.has(value.slice(0, value.indexOf('=') + 1)))
    }
    response.set('Set-Cookie', [...existing, ...values])
    if (commit.cacheControl !== undefined) {
      const current = listOf(response.get('Cache-Control'))
      const merged = privateCacheControl(current.length === 0 ? undefined : current)
      if (merged !== undefined) response.set('Cache-Control', merged)
    }
  }
}

/**
 * The request's URL for the Web API, which reads its path (for the cookie's `path`). Without a Host
 * header Koa's `href` would read the path as a host name: the path then stands on a placeholder origin.
 */
function requestUrl(ctx: KoaContext): string {
  if (ctx.host !== '' && URL.canParse(ctx.href)) return ctx.href
  return `http://localhost${ctx.path.startsWith('/') ? ctx.path : `/${ctx.path}`}`
}

/** The values of a response header as Koa returns it (`''` when absent). */
function listOf(value: string | string[] | number | undefined): string[] {
  if (value === undefined || value === '') return []
  return Array.isArray(value) ? value : [String(value)]
}

/** An expired `<key>.sig` with the path and domain of the session cookie `header`, so that the browser drops it. */
function clearedSig(header: string, key: string): string {
  const attributes = header
    .split(';')
    .slice(1)
    .map((part) => part.trim())
    .filter((part) => /^(path|domain)=/i.test(part))
  return [`${key}.sig=`, ...attributes, 'expires=Thu, 01 Jan 1970 00:00:00 GMT'].join('; ')
}

/** The app's data of an engine Session: its own keys but `cookie`, under the app's names. */
function appData(engine: Session): Record<string, unknown> {
  const data: Record<string, unknown> = {}
  const source = engine as unknown as Record<string, unknown>
  for (const key of Object.keys(source)) if (key !== 'cookie' && keptKey(appKey(key), source[key])) data[appKey(key)] = source[key]
  return data
}
