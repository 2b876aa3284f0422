// Runs the conformance kit's tests on a store outside node:test's tree, to see which of them fail.
import assert from 'node:assert/strict'
import { testStore } from 'sessionkit/testing'

/** Registers the kit with a collecting `test` and runs every case; returns the names and the failures by name. */
export async function runKit(store, options = {}) {
  const registered = []
  testStore({ name: 'k', store, test: (name, fn) => registered.push({ name, fn }), ttl: 300, expiryGrace: 300, timeout: 300, ...options })
  const failures = new Map()
  for (const { name, fn } of registered) {
    try {
      await fn()
    } catch (err) {
      failures.set(name.replace(/^k: /, ''), err)
    }
  }
  return { names: registered.map((r) => r.name.replace(/^k: /, '')), failures }
}

/** Asserts that the cases that failed are exactly those whose names hold one of `fragments`. */
export function failedExactly(result, ...fragments) {
  const failed = [...result.failures.keys()]
  for (const fragment of fragments) {
    assert.ok(failed.some((name) => name.includes(fragment)), `expected a failure in "${fragment}"; failed: ${failed.join(' | ') || 'none'}`)
  }
  for (const name of failed) {
    assert.ok(fragments.some((fragment) => name.includes(fragment)), `unexpected failure in "${name}": ${result.failures.get(name)?.message}`)
  }
}
