// What the first-party stores share: versions, owners, expiries and the callback-or-Promise style.
import { randomFillSync } from 'node:crypto'
import { Cookie } from '../cookie/cookie.js'
import type { SessionRecord, StoreCallback } from './store.js'

/**
 * A fresh version: a random 63-bit number in decimal (it fits PostgreSQL's bigint). Random rather
 * than counted so that a version never repeats for an id, not even when a destroyed id is written
 * again, and no shared counter (another key, another slot) is needed. The random bytes are drawn for
 * 256 versions at a time: one call into the CSPRNG per write cost some 6 µs of a save.
 */
export function newVersion(): string {
  if (versionOffset === versionPool.length) {
    randomFillSync(versionPool)
    versionOffset = 0
  }
  const version = (versionPool.readBigUInt64BE(versionOffset) >> 1n).toString()
  versionOffset += 8
  return version
}

const versionPool = Buffer.alloc(8 * 256)
let versionOffset = versionPool.length

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

/** What a write stores of a session: the app's data, the cookie's JSON and its times (ms since the epoch, null for none). */
export interface WriteParts {
  data: Record<string, unknown>
  /** The cookie as JSON, as `JSON.stringify` of the plain record `partsOf` gives. */
  cookieJson: string
  expires: number | null
  lifetime: number | null
  absolute: number | null
}

/**
 * A session's parts for a write, without the plain copy of the cookie `partsOf` makes: JSON.stringify
 * turns a live Cookie's dates into the same ISO strings, and the times are read off the dates
 * directly rather than parsed back from that text (both cost more than the rest of a write).
 */
export function writePartsOf(record: SessionRecord): WriteParts {
  const { cookie, ...data } = record as SessionRecord & Record<string, unknown>
  if (cookie === undefined || cookie === null) return { data, cookieJson: NO_COOKIE, expires: null, lifetime: null, absolute: null }
  const cookieJson = JSON.stringify(cookie)
  // Another kind of cookie with a toJSON of its own: its stored fields are what that gives, as before.
  const ownJson = !(cookie instanceof Cookie) && typeof (cookie as { toJSON?: unknown }).toJSON === 'function'
  const fields = (ownJson ? JSON.parse(cookieJson) : cookie) as { expires?: unknown; originalMaxAge?: unknown; absoluteExpires?: unknown }
  const lifetime = fields.originalMaxAge
  return {
    data,
    cookieJson,
    expires: msOf(fields.expires),
    lifetime: typeof lifetime === 'number' && Number.isFinite(lifetime) ? lifetime : null,
    absolute: msOf(fields.absoluteExpires),
  }
}

const NO_COOKIE = JSON.stringify({ originalMaxAge: null })

/** A date-like value (Date, ISO string, ms) as ms since the epoch, as timeOf() reads it, a Date without a copy; null when absent or unreadable. */
export function msOf(value: unknown): number | null {
  if (value === null || value === undefined) return null
  const time = value instanceof Date ? value.getTime() : new Date(value as string | number).getTime()
  return Number.isNaN(time) ? null : time
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

// The clients and pools already warned about: once each, however many stores share one.
const warnedClients = new WeakSet<object>()

/**
 * Warns once (code SESSIONKIT_NO_ERROR_LISTENER) when `emitter`, a client or pool the app made, has no
 * 'error' listener: `pg` and node-redis report a lost connection as an 'error' event, and Node ends the
 * process when nothing listens. The store adds none of its own, the emitter being the app's; it is
 * checked at the first command rather than when the store is made, by which time the app has set up.
 */
export function warnWithoutErrorListener(emitter: unknown, message: string): void {
  if (emitter === null || typeof emitter !== 'object' || warnedClients.has(emitter)) return
  const counted = emitter as { listenerCount?: unknown }
  if (typeof counted.listenerCount !== 'function') return
  warnedClients.add(emitter)
  if ((counted.listenerCount as (event: string) => number).call(emitter, 'error') === 0) process.emitWarning(message, { code: 'SESSIONKIT_NO_ERROR_LISTENER' })
}
