// The public types of `sessionkit/testing`.
import type { SessionStore } from '../store/store.js'

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
export type StoreTestSkip = 'touch' | 'all' | 'ids' | 'length' | 'clear' | 'expiry' | 'capabilities' | 'races'

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
  /**
   * How many rounds the capability race tests run (a conditional write against a destroy, each
   * round). Default 200.
   */
  raceRounds?: number
  /** Parts of the contract not to test. Optional methods the store lacks are skipped anyway. */
  skip?: readonly StoreTestSkip[]
}
