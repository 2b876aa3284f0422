// What the first-party stores share: versions, owners, expiries and the callback-or-Promise style.
import { randomBytes } from 'node:crypto'
import type { SessionRecord, StoreCallback } from '../store.js'

/**
 * A fresh version: a random 63-bit number in decimal (it fits PostgreSQL's bigint). Random rather
 * than counted so that a version never repeats for an id, not even when a destroyed id is written
 * again, and no shared counter (another key, another slot) is needed.
 */
export function newVersion(): string {
  return (randomBytes(8).readBigUInt64BE() >> 1n).toString()
}

/**
 * The owner a session belongs to under `indexBy`, as a string, as the middleware's own index names it
 * (`String(value)`); null when it has none (also for '', which the Redis hash keeps as "no owner").
 */
export function ownerOf(record: SessionRecord, indexBy: string | undefined): string | null {
  if (indexBy === undefined) return null
  const value = record[indexBy]
  if (value === undefined || value === null) return null
  const owner = String(value)
  return owner === '' ? null : owner
}

/** A session's parts as the stores keep them apart: the app's data, and the cookie as a plain record. */
export function partsOf(record: SessionRecord): { data: Record<string, unknown>; cookie: SessionRecord['cookie'] } {
  const { cookie, ...data } = record as SessionRecord & Record<string, unknown>
  // JSON and back: a live Cookie gives its stored shape, a Date turns into its ISO string.
  const plain = cookie === undefined || cookie === null ? { originalMaxAge: null } : (JSON.parse(JSON.stringify(cookie)) as SessionRecord['cookie'])
  return { data, cookie: plain }
}

/**
 * Answers through `callback` when one is given (and then returns nothing, so a rejection cannot go
 * unhandled in a caller that ignores the return value, as express-session does); otherwise returns
 * the Promise.
 */
export function answer<T>(work: Promise<T>, callback: StoreCallback<T> | undefined): Promise<T> | undefined {
  if (typeof callback !== 'function') return work
  // On the next tick, outside the Promise chain: a callback that throws fails as it would anywhere.
  work.then(
    (result) => process.nextTick(callback, null, result),
    (err: unknown) => process.nextTick(callback, err ?? new Error('store call failed')),
  )
  return undefined
}
