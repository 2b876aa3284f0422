/**
 * `request.session` for Fastify: @fastify/session's object (`sessionId`, `get`/`set`, `regenerate` with
 * the keys to keep, `isModified`, …) over the engine's Session. It is a Proxy so that the app's data
 * stays plain properties (`request.session.user = …`, `delete`, `Object.keys`) of the engine's session,
 * which is the one saved, while the Fastify methods answer first. @internal
 */
import type { Session } from '../../engine/session.js'
import { cookieFor } from './options.js'
import type { FastifyCookieOptions, FastifySessionCallback, FastifySessionObject } from './types.js'

/** What the session object needs from the plugin for one request. @internal */
export interface SessionBinding {
  /** The engine's session now: it changes on regenerate and reload. */
  current(): Session
  /** The id signed as the cookie carries it, without `cookiePrefix`. */
  sign(id: string): string
  /** Called after `destroy()`: the request has no session any more. */
  destroyed(): void
  /** Whether the request came over HTTPS, which `options({ secure: 'auto' })` resolves with. */
  readonly https: boolean
}

/** The data as JSON without the cookie, in a stable key order: what "modified" compares. */
function dataJson(session: Session): string {
  const data: Record<string, unknown> = {}
  for (const key of Object.keys(session).sort()) {
    if (key !== 'cookie') data[key] = (session as unknown as Record<string, unknown>)[key]
  }
  return JSON.stringify(data)
}

/**
 * Runs `promise` for a method called with a callback (which then gets the error or nothing, once, and
 * the method returns nothing) or without one (the Promise is returned). The callback runs on a tick of
 * its own, so that a throw in it is the app's exception, not a rejection nobody handles; the Promise is
 * marked handled, so that an app that does not await it does not crash on a failure the response
 * reports anyway.
 */
function settle(promise: Promise<void>, callback: FastifySessionCallback | undefined): Promise<void> | undefined {
  if (callback === undefined) {
    promise.catch(() => {})
    return promise
  }
  promise.then(
    () => process.nextTick(callback),
    (err: unknown) => process.nextTick(callback, err instanceof Error ? err : new Error(String(err))),
  )
  return undefined
}

/** The Fastify-side state of one request's session, and the methods @fastify/session has. @internal */
export class FastifySession {
  readonly #binding: SessionBinding
  #baseline: string
  #saved = false

  constructor(binding: SessionBinding) {
    this.#binding = binding
    this.#baseline = dataJson(binding.current())
  }

  #restart(): void {
    this.#baseline = dataJson(this.#binding.current())
    this.#saved = false
  }

  get sessionId(): string {
    return this.#binding.current().id
  }

  get encryptedSessionId(): string {
    return this.#binding.sign(this.#binding.current().id)
  }

  get(key: string): unknown {
    return (this.#binding.current() as unknown as Record<string, unknown>)[key]
  }

  set(key: string, value: unknown): void {
    ;(this.#binding.current() as unknown as Record<string, unknown>)[key] = value
  }

  touch(): void {
    this.#binding.current().touch()
  }

  options(opts: Partial<FastifyCookieOptions>): void {
    const cookie = this.#binding.current().cookie as unknown as Record<string, unknown>
    // `maxAge` last: it sets `expires` from now, which an `expires` in the same call must not undo;
    // `secure: 'auto'` resolved here, as the plugin's option is, since the Cookie holds a boolean.
    const { maxAge, ...rest } = cookieFor(opts, this.#binding.https)
    if (opts.secure === undefined) delete rest.secure
    for (const [key, value] of Object.entries(rest)) cookie[key] = value
    if (maxAge !== undefined) cookie['maxAge'] = maxAge
  }

  isModified(): boolean {
    return dataJson(this.#binding.current()) !== this.#baseline
  }

  isSaved(): boolean {
    return this.#saved
  }

  regenerate(fieldsOrCallback?: readonly string[] | FastifySessionCallback, callback?: FastifySessionCallback): Promise<void> | undefined {
    const keep = typeof fieldsOrCallback === 'function' ? undefined : fieldsOrCallback
    const done = typeof fieldsOrCallback === 'function' ? fieldsOrCallback : callback
    const work = this.#binding
      .current()
      .regenerate(keep ? { keep } : {})
      .then(() => this.#restart())
    return settle(work, done)
  }

  destroy(callback?: FastifySessionCallback): Promise<void> | undefined {
    const work = this.#binding
      .current()
      .destroy()
      .then(() => this.#binding.destroyed())
    return settle(work, callback)
  }

  reload(callback?: FastifySessionCallback): Promise<void> | undefined {
    return settle(
      this.#binding
        .current()
        .reload()
        .then(() => this.#restart()),
      callback,
    )
  }

  save(callback?: FastifySessionCallback): Promise<void> | undefined {
    const work = this.#binding
      .current()
      .save()
      .then(() => {
        this.#baseline = dataJson(this.#binding.current())
        this.#saved = true
      })
    return settle(work, callback)
  }
}

/** The names `request.session` answers itself; every other name is the session's data. */
const OWN = new Set(['sessionId', 'encryptedSessionId', 'get', 'set', 'touch', 'options', 'isModified', 'isSaved', 'regenerate', 'destroy', 'reload', 'save'])

/**
 * `request.session` for one request. Reads of the method names give the Fastify methods; every other
 * property is read, written, listed and deleted on the engine's current session.
 */
export function fastifySessionObject(binding: SessionBinding): { session: FastifySessionObject; state: FastifySession } {
  const own = new FastifySession(binding)
  const data = (): Record<string | symbol, unknown> => binding.current() as unknown as Record<string | symbol, unknown>
  const methods = new Map<string | symbol, unknown>()
  for (const name of OWN) {
    const member = (own as unknown as Record<string, unknown>)[name]
    if (typeof member === 'function') methods.set(name, member.bind(own))
  }
  const session = new Proxy({} as FastifySessionObject, {
    get: (_target, key) => (methods.has(key) ? methods.get(key) : key === 'sessionId' ? own.sessionId : key === 'encryptedSessionId' ? own.encryptedSessionId : data()[key]),
    set: (_target, key, value) => {
      data()[key] = value
      return true
    },
    has: (_target, key) => OWN.has(key as string) || key in data(),
    deleteProperty: (_target, key) => delete data()[key],
    ownKeys: () => Object.keys(data()),
    // Every own property is reported configurable: the empty target has none, which a Proxy must respect.
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Object.getOwnPropertyDescriptor(data(), key)
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true }
    },
    defineProperty: (_target, key, descriptor) => {
      Object.defineProperty(data(), key, descriptor)
      return true
    },
  })
  return { session, state: own }
}
