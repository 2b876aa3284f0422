// What the kit's tests share: the context each group of cases is registered with, and helpers.
import { randomBytes } from 'node:crypto'
import { Cookie, type CookieOptions, type CookieRecord } from '../cookie/cookie.js'
import { Session, type SessionRequest } from '../engine/session.js'
import type { SessionRecord, SessionStore, StoreCallback } from '../store/store.js'
import type { StoreMethod } from '../store/call.js'
import type { AfterFunction, DescribeFunction, StoreTestAssert, StoreTestOptions, StoreTestSkip, TestFunction } from './types.js'

/** The store methods the kit calls: the contract's, and the capabilities'. */
export type Method = StoreMethod
/** A session's data as the cases build it. */
export type Data = Record<string, unknown>

/** A lifetime long enough that no case sees it run out. */
export const HOUR = 3_600_000

/** What a group of cases is given: the options as resolved, and the kit's way to call the store. */
export interface Kit<S extends SessionStore> {
  assert: StoreTestAssert
  ttl: number
  grace: number
  timeout: number
  raceRounds: number
  skipped: ReadonlySet<StoreTestSkip>
  /** Registers one case; cases run one after another, in the order they were added. */
  add(title: string, fn: (store: S) => Promise<void>): void
  /** Calls a store method as the middleware does, through the same caller. */
  call<T>(store: S, method: Method, args: unknown[]): Promise<T>
  /** get(), with ENOENT read as no session, as express-session and sessionkit do. */
  get(store: S, sid: string): Promise<SessionRecord | null>
  set(store: S, session: Session): Promise<void>
  /** Asserts that a record is there, and narrows its type. */
  present(record: SessionRecord | null, message: string): SessionRecord
  has(method: Method, store: S): boolean
}

/** The runner's functions the kit registers its tests with. */
export interface Runner {
  test: TestFunction
  describe: DescribeFunction | undefined
  after: AfterFunction | undefined
}

/** The runner given in the options, or node:test's. */
export function resolveRunner<S extends SessionStore>(options: StoreTestOptions<S>): Runner {
  if (options.test !== undefined) return { test: options.test, describe: options.describe, after: options.after }
  // Loaded only when no runner is given, so the kit never drags node:test into another runner.
  const nodeTest = require('node:test') as {
    test: TestFunction
    describe: (name: string, options: { concurrency: number }, fn: () => void) => unknown
    after: AfterFunction
  }
  // The kit's tests depend on running in order (clear comes last), even inside a concurrent suite.
  const serial: DescribeFunction = (name, fn) => nodeTest.describe(name, { concurrency: 1 }, fn)
  return { test: nodeTest.test, describe: options.describe ?? serial, after: options.after ?? nodeTest.after }
}

/** A session as the middleware hands it to a store: a live Session with a live Cookie. */
export function makeSession(sid: string, data: Data, cookie: CookieOptions | CookieRecord): Session {
  const req = { sessionID: sid } as SessionRequest
  return new Session(req, { ...data, cookie: new Cookie(cookie) })
}

/** Data with the JSON types a store must keep as they are: nested objects, arrays, unicode, null. */
export function sampleData(): Data {
  return {
    user: { id: 42, name: 'Zoë "Z" 🙂', roles: ['admin', 'user'] },
    count: 3,
    ratio: 0.5,
    flag: false,
    nothing: null,
    text: 'line\nbreak',
  }
}

/** Asserts that every key of `data` came back as it was set. */
export function assertData(assert: StoreTestAssert, record: SessionRecord, data: Data): void {
  for (const [key, value] of Object.entries(data)) assert.deepStrictEqual(record[key], value, `session data "${key}" must come back as it was set`)
}

/** How one direct store call answered. */
export interface Outcome {
  declaresCallback: boolean
  callbacks: number
  settled: boolean
  error: unknown
}

/** Calls a method directly, as the middleware does, and records every way it answers. */
export async function observe(store: SessionStore, method: Method, args: unknown[], timeout: number): Promise<Outcome> {
  const fn = (store as unknown as Record<string, (...a: unknown[]) => unknown>)[method] as (...a: unknown[]) => unknown
  const outcome: Outcome = { declaresCallback: fn.length > args.length, callbacks: 0, settled: false, error: undefined }
  let answered: () => void = () => {}
  const first = new Promise<void>((resolve) => {
    answered = resolve
  })
  const callback: StoreCallback<unknown> = (err) => {
    outcome.callbacks++
    if (err !== undefined && err !== null) outcome.error ??= err
    answered()
  }
  let returned: unknown
  try {
    returned = fn.call(store, ...args, callback)
  } catch (err) {
    outcome.error = err
    return outcome
  }
  if (returned !== null && typeof returned === 'object' && typeof (returned as { then?: unknown }).then === 'function') {
    ;(returned as PromiseLike<unknown>).then(
      () => {
        outcome.settled = true
        answered()
      },
      (err: unknown) => {
        outcome.settled = true
        outcome.error ??= err ?? new Error('rejected without a reason')
        answered()
      },
    )
  }
  const timer = new Promise<void>((resolve) => setTimeout(resolve, timeout))
  await Promise.race([first, timer])
  // Room for a second, late callback to show itself.
  await sleep(30)
  return outcome
}

/** Whether an error is a file store's "no such session" (ENOENT), itself or as its cause. */
export function isEnoent(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause
  return cause?.code === 'ENOENT' || (err as { code?: unknown } | null)?.code === 'ENOENT'
}

/** A fresh random session id, so that cases never meet each other's sessions. */
export function newId(): string {
  return `kit-${randomBytes(12).toString('base64url')}`
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A value as an assertion message shows it. */
export function describeValue(value: unknown): string {
  if (value instanceof Error) return value.message
  if (typeof value === 'string') return JSON.stringify(value)
  return value instanceof Date ? `Date(${value.toISOString()})` : `${typeof value} ${String(value)}`
}
