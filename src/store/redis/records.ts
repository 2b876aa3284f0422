// How sessionkit/redis lays a session out in its hash and reads it back, and the small helpers its
// multi-key walks share.
import type { VersionedRecord } from '../capabilities.js'
import type { SessionRecord } from '../store.js'

/** A time or a lifetime in ms as the hash keeps it: an integer string, '' for none. */
export function integerText(ms: number | null): string {
  return ms === null ? '' : String(Math.round(ms))
}

/** A session from the hash fields v, d, c, e (an HMGET or a script's reply); null when there is none. */
export function recordOf(reply: unknown): VersionedRecord | null {
  if (!Array.isArray(reply)) return null
  const [version, data, cookieJson, expires] = reply as (string | null | undefined)[]
  if (version === null || version === undefined || data === null || data === undefined) return null
  const cookie = (cookieJson ? JSON.parse(cookieJson) : { originalMaxAge: null }) as SessionRecord['cookie']
  // The e field, which a load-and-touch moves without rewriting c, is the cookie's expiry.
  cookie.expires = expires ? new Date(Number(expires)) : null
  const record = JSON.parse(data) as SessionRecord
  record.cookie = cookie
  return { record, version: String(version) }
}

// How many per-key commands run at once while walking many keys.
const BATCH = 100

/** Runs `fn` over `items`, BATCH at a time: each client pipelines a batch's commands. */
export async function inBatches<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let at = 0; at < items.length; at += BATCH) await Promise.all(items.slice(at, at + BATCH).map(fn))
}

/** `text` as a literal inside a SCAN MATCH pattern. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
