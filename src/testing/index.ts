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
 *
 * @module sessionkit/testing
 */
import { addCapabilityCases } from './capability-cases.js'
import { addClearCase, addContractCases } from './contract-cases.js'
import { isEnoent, type Kit, type Method, resolveRunner } from './support.js'
import type { StoreTestAssert, StoreTestOptions, StoreTestSkip } from './types.js'
import type { Session } from '../engine/session.js'
import type { SessionRecord, SessionStore } from '../store/store.js'
import { storeCall } from '../store/call.js'

export type { AfterFunction, DescribeFunction, StoreTestAssert, StoreTestOptions, StoreTestSkip, TestFunction } from './types.js'

/**
 * Registers the store contract as tests in the caller's runner: get/set/destroy/touch, ids that were
 * never stored, expiry from `cookie.maxAge` and from `cookie.expires`, `cookie.expires` coming back as
 * a date (or an ISO string that revives to the same instant), completion through the callback or a
 * returned Promise (exactly once), the optional `all`/`ids`/`length`/`clear`, and isolation (what
 * `get` returns is a copy). A store with the capabilities of `ConditionalStore` or `OwnerIndexedStore`
 * also gets their tests, races included. The tests run one after another and use fresh random ids,
 * except the last, which calls `clear` when the store has it.
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

  // The middleware's own caller, so "passes the kit" means "works with sessionkit"; it handles the
  // optional methods by the same rules as the required ones.
  const call = <T>(store: S, method: Method, args: unknown[]): Promise<T> => storeCall<T>(store, method, args, { timeoutMs: timeout })
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
  const kit: Kit<S> = { assert, ttl, grace, timeout, raceRounds: options.raceRounds ?? 200, skipped, add, call, get, set, present, has }
  addContractCases(kit)
  addCapabilityCases(kit)
  addClearCase(kit)

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
