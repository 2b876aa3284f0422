/**
 * `sessionkit/testing`: the store conformance kit. One call registers, in the caller's own test runner,
 * the tests that prove a store keeps the contract sessionkit (and express-session) rely on. Every store
 * call goes through the same code the middleware uses, so a store that passes works with sessionkit.
 *
 * ```js
 * import { testStore } from 'sessionkit/testing'   // node:test is found by itself
 * testStore({ name: 'MyStore', store: () => new MyStore(), close: (store) => store.close() })
 *
 * import { describe, it, afterAll } from 'vitest' // any runner: pass its functions
 * testStore({ name: 'MyStore', store: () => new MyStore(), test: it, describe, after: afterAll })
 * ```
 */
import { randomBytes } from 'node:crypto'
import { Cookie, type CookieOptions } from './cookie.js'
import { Session, type SessionRequest } from './session.js'
import type { SessionRecord, SessionStore, StoreCallback } from './store.js'
import { callStore } from './store-call.js'

/** A runner's `test` or `it`: registers a named test whose function may return a Promise. */
export type TestFunction = (name: string, fn: () => unknown) => unknown

/** A runner's `describe`: groups the tests registered while `fn` runs. */
export type DescribeFunction = (name: string, fn: () => void) => unknown

/** A runner's `after`/`afterAll`: runs `fn` once the tests of the enclosing group are done. */
export type AfterFunction = (fn: () => unknown) => unknown

/** The assertions the kit makes; `node:assert/strict` and chai's `assert` both fit. */
export interface StoreTestAssert {
  ok(value: unknown, message?: string): unknown
  strictEqual(actual: unknown, expected: unknown, message?: string): unknown
  deepStrictEqual(actual: unknown, expected: unknown, message?: string): unknown
}

/** Parts of the contract a store may opt out of: its optional methods, and expiry for stores that never expire. */
export type StoreTestSkip = 'touch' | 'all' | 'ids' | 'length' | 'clear' | 'expiry'

/** Options of {@link testStore}. */
export interface StoreTestOptions<S extends SessionStore = SessionStore> {
  /** The store under test, or a function that makes it (called once, when the first test runs). */
  store: S | (() => S | Promise<S>)
  /** Releases the store (connections, timers) once the tests are done. */
  close?: (store: S) => unknown
  /** Names the group of tests. Default `'session store'`. */
  name?: string
  /** The runner's `test`/`it`. Default: `node:test`'s `test`, with its `describe` and `after`. */
  test?: TestFunction
  /** The runner's `describe`; without it the tests are registered flat, their names prefixed. */
  describe?: DescribeFunction
  /** The runner's `after`/`afterAll`; without it the store is closed at the end of the last test. */
  after?: AfterFunction
  /** Default `node:assert/strict`. */
  assert?: StoreTestAssert
  /** The short lifetime, in milliseconds, given to the sessions that must expire. Default 1000. */
  ttl?: number
  /**
   * How long past that lifetime the store may still return such a session, in milliseconds. Default
   * 2500, which allows stores that keep expiry in whole seconds and round it up.
   */
  expiryGrace?: number
  /** How long one store call may take before it counts as never answering, in milliseconds. Default 5000. */
  timeout?: number
  /** Parts of the contract not to test. Optional methods the store lacks are skipped anyway. */
  skip?: readonly StoreTestSkip[]
}

type Method = 'get' | 'set' | 'destroy' | 'touch' | 'all' | 'ids' | 'length' | 'clear'
type Data = Record<string, unknown>

const HOUR = 3_600_000

/**
 * Registers the store contract as tests in the caller's runner: get/set/destroy/touch, ids that were
 * never stored, expiry from `cookie.maxAge` and from `cookie.expires`, `cookie.expires` coming back as
 * a date (or an ISO string that revives to the same instant), completion through the callback or a
 * returned Promise (exactly once), the optional `all`/`ids`/`length`/`clear`, and isolation (what
 * `get` returns is a copy). The tests run one after another and use fresh random ids, except the last,
 * which calls `clear` when the store has it.
 */
export function testStore<S extends SessionStore>(options: StoreTestOptions<S>): void {
  const runner = resolveRunner(options)
  const assert = options.assert ?? (require('node:assert/strict') as StoreTestAssert)
  const ttl = options.ttl ?? 1000
  const grace = options.expiryGrace ?? 2500
  const timeout = options.timeout ?? 5000
  const skipped = new Set<StoreTestSkip>(options.skip ?? [])
  const name = options.name ?? 'session store'

  let opened: Promise<S> | undefined
  const open = (): Promise<S> => {
    opened ??= Promise.resolve().then(() => (typeof options.store === 'function' ? (options.store as () => S | Promise<S>)() : options.store))
    return opened
  }
  const close = async (): Promise<void> => {
    if (opened === undefined || options.close === undefined) return
    await options.close(await opened)
  }

  const call = <T>(store: S, method: Method, args: unknown[]): Promise<T> =>
    new Promise((resolve, reject) => {
      // The middleware's own caller, so "passes the kit" means "works with sessionkit"; it handles the
      // optional methods by the same rules as the required ones.
      const anyMethod = callStore as unknown as (s: SessionStore, m: Method, a: unknown[], t: number, done: (err: unknown, result?: T) => void) => void
      anyMethod(store, method, args, timeout, (err, result) => (err === null ? resolve(result as T) : reject(err)))
    })
  const get = async (store: S, sid: string): Promise<SessionRecord | null> => {
    try {
      const record = await call<SessionRecord | null | undefined>(store, 'get', [sid])
      return record ?? null
    } catch (err) {
      // A file store answers ENOENT for a session it never had; express-session and sessionkit read it as absent.
      if (isEnoent(err)) return null
      throw err
    }
  }
  const set = (store: S, session: Session): Promise<void> => call(store, 'set', [session.id, session])
  // Asserts through the runner's assert, and throws too, so that types narrow whatever assert is passed.
  const present = (record: SessionRecord | null, message: string): SessionRecord => {
    assert.ok(record !== null, message)
    if (record === null) throw new Error(message)
    return record
  }
  const has = (method: Method, store: S): boolean => typeof (store as unknown as Record<string, unknown>)[method] === 'function'

  const cases: [string, (store: S) => Promise<void>][] = []
  const add = (title: string, fn: (store: S) => Promise<void>): void => {
    cases.push([title, fn])
  }

  add('get of an id that was never stored answers with no session', async (store) => {
    assert.strictEqual(await get(store, newId()), null, 'get(unknown id) must answer null or undefined')
  })

  add('set stores the data and get returns it', async (store) => {
    const data = sampleData()
    const session = makeSession(newId(), data, { maxAge: HOUR })
    await set(store, session)
    const record = present(await get(store, session.id), 'get must return the session that set stored')
    assertData(assert, record, data)
  })

  add('set replaces what was stored under the same id', async (store) => {
    const sid = newId()
    await set(store, makeSession(sid, { first: 1, removed: 'yes' }, { maxAge: HOUR }))
    await set(store, makeSession(sid, { first: 2 }, { maxAge: HOUR }))
    const record = present(await get(store, sid), 'get must return the session after a second set')
    assert.strictEqual(record.first, 2, 'the second set must replace the data')
    assert.strictEqual(record.removed, undefined, 'a key the second set no longer has must be gone')
  })

  add('cookie survives the round trip: expires as a date (or ISO string) at the same instant, and its attributes', async (store) => {
    const cookie: CookieOptions = { maxAge: HOUR, path: '/app', httpOnly: true, secure: true, sameSite: 'strict', domain: 'example.test' }
    const session = makeSession(newId(), { n: 1 }, cookie)
    const expires = (session.cookie.expires as Date).getTime()
    await set(store, session)
    const record = present(await get(store, session.id), 'get must return the session')
    assert.ok(typeof record.cookie === 'object' && record.cookie !== null, 'get must return the session with its cookie')
    const stored = record.cookie.expires
    const ok = stored instanceof Date || (typeof stored === 'string' && !Number.isNaN(Date.parse(stored)))
    assert.ok(ok, `cookie.expires must come back as a Date or an ISO date string, got ${describeValue(stored)}`)
    assert.strictEqual(new Date(stored ?? NaN).getTime(), expires, 'cookie.expires must come back at the same millisecond')
    assert.strictEqual(new Cookie(record.cookie).expires?.getTime(), expires, 'sessionkit must be able to revive cookie.expires')
    assert.strictEqual(record.cookie.originalMaxAge, HOUR, 'cookie.originalMaxAge must survive')
    assert.deepStrictEqual(
      { path: record.cookie.path, httpOnly: record.cookie.httpOnly, secure: record.cookie.secure, sameSite: record.cookie.sameSite, domain: record.cookie.domain },
      { path: '/app', httpOnly: true, secure: true, sameSite: 'strict', domain: 'example.test' },
      'the cookie attributes must survive',
    )
  })

  add('a browser-session cookie (no maxAge) survives with no expiry', async (store) => {
    const session = makeSession(newId(), { n: 1 }, {})
    await set(store, session)
    const record = present(await get(store, session.id), 'a session whose cookie has no expiry must be stored (under the store default lifetime)')
    assert.ok(record.cookie.expires === null || record.cookie.expires === undefined, `cookie.expires must stay empty, got ${describeValue(record.cookie.expires)}`)
    assert.strictEqual(record.cookie.originalMaxAge ?? null, null, 'cookie.originalMaxAge must stay null')
  })

  add('what get returns is a copy: changing it, or the session after set, changes nothing stored', async (store) => {
    const session = makeSession(newId(), { list: [1], nested: { a: 1 } }, { maxAge: HOUR })
    await set(store, session)
    ;(session as unknown as Data).list = ['changed after set']
    const first = present(await get(store, session.id), 'get must return the session')
    ;(first.list as unknown[]).push(2)
    ;(first.nested as Data).a = 2
    first.added = true
    first.cookie.originalMaxAge = 5
    const second = present(await get(store, session.id), 'get must return the session again')
    assert.deepStrictEqual(second.list, [1], 'a change to the session after set, or to what get returned, must not reach the store')
    assert.deepStrictEqual(second.nested, { a: 1 }, 'a change to a nested object get returned must not reach the store')
    assert.strictEqual(second.added, undefined, 'a key added to what get returned must not reach the store')
    assert.strictEqual(second.cookie.originalMaxAge, HOUR, 'a change to the cookie get returned must not reach the store')
  })

  add('destroy removes the session, and destroying an absent id succeeds', async (store) => {
    const session = makeSession(newId(), { n: 1 }, { maxAge: HOUR })
    await set(store, session)
    await call(store, 'destroy', [session.id])
    assert.strictEqual(await get(store, session.id), null, 'get after destroy must answer no session')
    await call(store, 'destroy', [newId()])
    await call(store, 'destroy', [session.id])
  })

  const testTouch = !skipped.has('touch')
  if (testTouch) {
    add('touch keeps the data, and does not bring back an id it does not have', async (store) => {
      if (!has('touch', store)) return
      const data = { user: 'ann', n: 1 }
      const session = makeSession(newId(), data, { maxAge: HOUR })
      await set(store, session)
      session.cookie.maxAge = 2 * HOUR
      await call(store, 'touch', [session.id, session])
      const record = present(await get(store, session.id), 'touch must keep the session')
      assertData(assert, record, data)
      const absent = makeSession(newId(), { n: 1 }, { maxAge: HOUR })
      try {
        await call(store, 'touch', [absent.id, absent])
      } catch (err) {
        if (!isEnoent(err)) throw err
      }
      assert.strictEqual(await get(store, absent.id), null, 'touch of an id the store does not have must not create it')
    })
  }

  add('every method completes exactly once, through its callback or a returned Promise', async (store) => {
    const session = makeSession(newId(), { n: 1 }, { maxAge: HOUR })
    const calls: [Method, unknown[]][] = [
      ['set', [session.id, session]],
      ['get', [session.id]],
      ['touch', [session.id, session]],
      ['all', []],
      ['ids', []],
      ['length', []],
      ['destroy', [session.id]],
    ]
    for (const [method, args] of calls) {
      if (!has(method, store) || skipped.has(method as StoreTestSkip)) continue
      const outcome = await observe(store, method, args, timeout)
      const where = `store.${method}`
      assert.ok(outcome.callbacks <= 1, `${where} called its callback ${outcome.callbacks} times; it must call it once`)
      if (outcome.declaresCallback) {
        assert.strictEqual(outcome.callbacks, 1, `${where} names a callback parameter but did not call it within ${timeout} ms`)
      } else {
        assert.ok(outcome.callbacks === 1 || outcome.settled, `${where} neither called its callback nor returned a Promise that settled within ${timeout} ms`)
      }
      assert.ok(outcome.error === undefined, `${where} failed: ${describeValue(outcome.error)}`)
    }
  })

  for (const method of ['all', 'ids', 'length'] as const) {
    if (skipped.has(method)) continue
    add(`${method} counts two new sessions`, async (store) => {
      if (!has(method, store)) return
      const marker = newId()
      const sessions = [makeSession(newId(), { marker, n: 1 }, { maxAge: HOUR }), makeSession(newId(), { marker, n: 2 }, { maxAge: HOUR })]
      const before = method === 'length' ? await call<number>(store, 'length', []) : 0
      for (const session of sessions) await set(store, session)
      if (method === 'length') {
        const after = await call<number>(store, 'length', [])
        assert.strictEqual(typeof after, 'number', 'length must answer a number')
        assert.strictEqual(after - before, 2, `length must grow by 2 after two new sessions (was ${before}, is ${after})`)
      } else if (method === 'ids') {
        const ids = await call<string[]>(store, 'ids', [])
        assert.ok(Array.isArray(ids), 'ids must answer an array')
        for (const session of sessions) assert.ok(ids.includes(session.id), 'ids must include every stored session id')
      } else {
        const all = await call<SessionRecord[] | Record<string, SessionRecord>>(store, 'all', [])
        assert.ok(all !== null && typeof all === 'object', 'all must answer an array or an object keyed by id')
        const found = Array.isArray(all) ? all.filter((record) => record?.marker === marker) : sessions.map((session) => all[session.id]).filter(Boolean)
        assert.strictEqual(found.length, 2, 'all must include both new sessions')
        assert.deepStrictEqual(found.map((record) => record?.n).sort(), [1, 2], 'all must give each session its data')
        for (const record of found) assert.ok(record?.cookie !== null && typeof record?.cookie === 'object', 'each session in all must have its cookie')
      }
      for (const session of sessions) await call(store, 'destroy', [session.id])
    })
  }

  if (!skipped.has('expiry')) {
    add(`sessions expire at cookie.expires, set from cookie.maxAge or cookie.expires, and touch moves it (waits up to ${ttl + grace} ms)`, async (store) => {
      const fromMaxAge = makeSession(newId(), { n: 'maxAge' }, { maxAge: ttl })
      const fromExpires = makeSession(newId(), { n: 'expires' }, { expires: new Date(Date.now() + ttl) })
      const long = makeSession(newId(), { n: 'long' }, { maxAge: HOUR })
      const touched = makeSession(newId(), { n: 'touched' }, { maxAge: ttl })
      const canTouch = testTouch && has('touch', store)
      for (const session of [fromMaxAge, fromExpires, long, touched]) await set(store, session)
      if (canTouch) {
        touched.cookie.maxAge = HOUR
        await call(store, 'touch', [touched.id, touched])
      }
      assert.ok((await get(store, fromMaxAge.id)) !== null, `a session with cookie.maxAge = ${ttl} ms must still be there right after set`)
      const deadline = Date.now() + ttl + grace
      const pending = new Map([
        [fromMaxAge.id, 'cookie.maxAge'],
        [fromExpires.id, 'cookie.expires'],
      ])
      while (pending.size > 0) {
        for (const sid of [...pending.keys()]) if ((await get(store, sid)) === null) pending.delete(sid)
        if (pending.size === 0) break
        assert.ok(Date.now() < deadline, `a session whose ${[...pending.values()].join(' and ')} ran out ${ttl} ms after set was still returned ${ttl + grace} ms after`)
        await sleep(100)
      }
      assert.ok((await get(store, long.id)) !== null, 'a session with a long cookie.maxAge must outlive the short ones')
      if (canTouch) {
        const record = present(await get(store, touched.id), 'touch with a longer cookie.maxAge must keep the session past its first expiry')
        assert.strictEqual(record.n, 'touched', 'touch must keep the data')
      }
      await call(store, 'destroy', [long.id])
      await call(store, 'destroy', [touched.id])
    })
  }

  if (!skipped.has('clear')) {
    add('clear removes every session', async (store) => {
      if (!has('clear', store)) return
      const sessions = [makeSession(newId(), { n: 1 }, { maxAge: HOUR }), makeSession(newId(), { n: 2 }, { maxAge: HOUR })]
      for (const session of sessions) await set(store, session)
      await call(store, 'clear', [])
      for (const session of sessions) assert.strictEqual(await get(store, session.id), null, 'get after clear must answer no session')
      if (has('length', store) && !skipped.has('length')) assert.strictEqual(await call<number>(store, 'length', []), 0, 'length after clear must be 0')
    })
  }

  const register = (): void => {
    const prefix = runner.describe === undefined ? `${name}: ` : ''
    cases.forEach(([title, fn], index) => {
      const last = index === cases.length - 1
      runner.test(prefix + title, async () => {
        try {
          await fn(await open())
        } finally {
          if (last && runner.after === undefined) await close()
        }
      })
    })
    runner.after?.(close)
  }
  if (runner.describe !== undefined) runner.describe(name, register)
  else register()
}

interface Runner {
  test: TestFunction
  describe: DescribeFunction | undefined
  after: AfterFunction | undefined
}

function resolveRunner<S extends SessionStore>(options: StoreTestOptions<S>): Runner {
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
function makeSession(sid: string, data: Data, cookie: CookieOptions): Session {
  const req = { sessionID: sid } as SessionRequest
  return new Session(req, { ...data, cookie: new Cookie(cookie) })
}

function sampleData(): Data {
  return {
    user: { id: 42, name: 'Zoë "Z" 🙂', roles: ['admin', 'user'] },
    count: 3,
    ratio: 0.5,
    flag: false,
    nothing: null,
    text: 'line\nbreak',
  }
}

function assertData(assert: StoreTestAssert, record: SessionRecord, data: Data): void {
  for (const [key, value] of Object.entries(data)) assert.deepStrictEqual(record[key], value, `session data "${key}" must come back as it was set`)
}

interface Outcome {
  declaresCallback: boolean
  callbacks: number
  settled: boolean
  error: unknown
}

/** Calls a method directly, as the middleware does, and records every way it answers. */
async function observe(store: SessionStore, method: Method, args: unknown[], timeout: number): Promise<Outcome> {
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

function isEnoent(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause
  return cause?.code === 'ENOENT' || (err as { code?: unknown } | null)?.code === 'ENOENT'
}

function newId(): string {
  return `kit-${randomBytes(12).toString('base64url')}`
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function describeValue(value: unknown): string {
  if (value instanceof Error) return value.message
  if (typeof value === 'string') return JSON.stringify(value)
  return value instanceof Date ? `Date(${value.toISOString()})` : `${typeof value} ${String(value)}`
}
