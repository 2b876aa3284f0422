import { inspect } from 'node:util'
import { keptKey } from './record.js'

/**
 * `ctx.session` under sessionkit/koa: koa-session's Session model. The app's data are its own
 * enumerable properties; `isNew`, `maxAge`, `externalKey`, `length`, `populated` and the methods live
 * on the prototype, so `Object.keys(ctx.session)` lists the data alone.
 */

/** What a session asks of the request it belongs to. @internal */
export interface KoaSessionController {
  /** The store key (store mode), or undefined in cookie mode. */
  readonly externalKey: string | undefined
  /** The session's lifetime: ms, `'session'` for a browser-session cookie. */
  maxAge: number | 'session' | undefined
  /** Saves the session now and makes this response carry its cookie. */
  save(): Promise<void>
  /** Moves the session to a new key (the old one is destroyed), keeping its data, and saves it. */
  regenerate(): Promise<void>
  /** Commits now: store writes and Set-Cookie, as the middleware does with `autoCommit`. */
  commit(): Promise<void>
}

const internals = Symbol('sessionkit.koaSession')

interface Internals {
  readonly controller: KoaSessionController
  readonly isNew: boolean
}

/** Names a key of the data cannot take: they are the session's own members, as in koa-session. */
const MEMBERS: ReadonlySet<string> = new Set(['isNew', 'maxAge', 'externalKey', 'length', 'populated', 'save', 'regenerate', 'manuallyCommit', 'commit', 'toJSON', '__proto__', 'constructor'])

/** The callback koa-session's `save()` and `regenerate()` take instead of returning a Promise. */
export type KoaSessionCallback = (err?: unknown) => void

/** `ctx.session`: the app's data, and koa-session's members. */
export class KoaSessionObject {
  declare [internals]: Internals;
  [key: string]: unknown

  /** @internal */
  constructor(controller: KoaSessionController, data: Record<string, unknown> | undefined, isNew: boolean) {
    Object.defineProperty(this, internals, { value: { controller, isNew } })
    if (data === undefined) return
    for (const key of Object.keys(data)) if (!MEMBERS.has(key)) this[key] = data[key]
  }

  /** True when the request brought no session (or one that was missing, expired or invalid). */
  get isNew(): boolean {
    return this[internals].isNew
  }

  /** The session's lifetime in ms, `'session'` when its cookie ends with the browser. */
  get maxAge(): number | 'session' | undefined {
    return this[internals].controller.maxAge
  }

  /** Changes the lifetime of this session (kept with it on later requests); it is saved on this response. */
  set maxAge(value: number | 'session' | undefined) {
    this[internals].controller.maxAge = value
  }

  /** The key the session is stored under; undefined without a store. */
  get externalKey(): string | undefined {
    return this[internals].controller.externalKey
  }

  /** How many keys the data has. */
  get length(): number {
    return Object.keys(this.toJSON()).length
  }

  /** Whether the data has any key. */
  get populated(): boolean {
    return this.length > 0
  }

  /** Saves the session whatever it holds, and sends its cookie. */
  save(): Promise<void>
  save(callback: KoaSessionCallback): undefined
  save(callback?: KoaSessionCallback): Promise<void> | undefined {
    return settle(this[internals].controller.save(), callback)
  }

  /** Gives the session a new key (the old one is destroyed in the store), keeping its data. */
  regenerate(): Promise<void>
  regenerate(callback: KoaSessionCallback): undefined
  regenerate(callback?: KoaSessionCallback): Promise<void> | undefined {
    return settle(this[internals].controller.regenerate(), callback)
  }

  /** Commits now, for `autoCommit: false`: the store is written and the cookie set on the response. */
  manuallyCommit(): Promise<void> {
    return this[internals].controller.commit()
  }

  /** The data as it is saved: own keys, without functions or `_`-prefixed keys (koa-session's bookkeeping). */
  toJSON(): Record<string, unknown> {
    const data: Record<string, unknown> = {}
    for (const key of Object.keys(this)) if (keptKey(key, this[key])) data[key] = this[key]
    return data
  }

  /** The data, for `console.log(ctx.session)`. */
  [inspect.custom](): Record<string, unknown> {
    return this.toJSON()
  }
}

/** A Promise, or, with a callback, undefined and the callback told the outcome, as koa-session does. */
function settle(promise: Promise<void>, callback: KoaSessionCallback | undefined): Promise<void> | undefined {
  if (callback === undefined) return promise
  promise.then(
    () => callback(),
    (err: unknown) => callback(err),
  )
  return undefined
}
