import { Cookie } from './cookie.js'
import type { SessionRecord } from './store.js'

// How MemoryStore keeps a session: as JSON text, with the session's cookie written as its last key, so
// that a touch can replace the cookie without parsing and re-serializing the app's data. @internal

/** A session's JSON: its data, then its cookie, so that the cookie is the last key. */
export function dataOf(session: SessionRecord): string {
  const { cookie, ...data } = session as SessionRecord & Record<string, unknown>
  const cookieRecord = cookieRecordOf(cookie)
  if (cookieRecord !== undefined) data['cookie'] = cookieRecord
  return copied(JSON.stringify(data))
}

/**
 * A session's JSON with a new cookie and the same data. When the stored cookie can be found as the last
 * key, the data's JSON is kept as text; otherwise it is parsed and written anew.
 */
export function touched(stored: string, cookie: SessionRecord['cookie']): string {
  const cookieJson = JSON.stringify(cookieRecordOf(cookie)) as string | undefined
  const at = cookieAt(stored)
  if (at === -1 || cookieJson === undefined) return dataOf({ ...(JSON.parse(stored) as SessionRecord), cookie })
  return flat(`${stored.slice(0, at)}"cookie":${cookieJson}}`)
}

/**
 * The same text in a string of its own. V8's JSON.stringify gives a string that keeps about 90 bytes
 * more heap than its characters need, for as long as it lives (bench/memory.mjs: 216 B against 125 B
 * for a 95-character session); a copy of it is only as big as its characters, and the original is
 * garbage at once. This was the largest part of a stored session's heap.
 */
function copied(text: string): string {
  return text.length < 2 ? text : flat(text.slice(0, 1) + text.slice(1))
}

/**
 * The same text as one flat string. V8 keeps a string joined from pieces as a tree of them (a cons
 * string, here holding a slice of the old text) until something reads its characters; reading one
 * makes V8 flatten it into a new string, and the garbage collector then drops the tree.
 */
function flat(text: string): string {
  text.charCodeAt(0)
  return text
}

/**
 * The cookie as the store keeps it, with its expiry as milliseconds since the epoch: a Date in JSON is
 * an ISO string, which costs more to write and to read back than the rest of the cookie (get() gives a
 * Date again). Undefined for a record without a cookie.
 */
function cookieRecordOf(cookie: unknown): unknown {
  if (cookie === null || typeof cookie !== 'object') return cookie
  // A Cookie's toJSON() builds a fresh object; anything else is copied before its expiry is replaced.
  const record = (cookie instanceof Cookie ? cookie.toJSON() : { ...cookie }) as Record<string, unknown>
  if (record['expires'] instanceof Date) record['expires'] = record['expires'].getTime()
  return record
}

const COOKIE_KEY = '"cookie":'

/**
 * Where the stored cookie's `"cookie":` key starts, or -1 when it cannot be told for sure. The key can
 * sit inside the data too (a nested object, never a string: inside a JSON string every quote is
 * escaped), so the last one counts only if its value is a flat object, `{` then no brace until the
 * `}` that the session's own closing `}` follows: then that value belongs to the session object itself.
 * A cookie whose strings hold a brace takes the slower path; it is never misread.
 */
function cookieAt(stored: string): number {
  const end = stored.length - 2 // where a last value's closing brace sits: `...}}`
  if (stored.charCodeAt(end) !== 125 || stored.charCodeAt(end + 1) !== 125) return -1
  let at = stored.lastIndexOf(',' + COOKIE_KEY)
  if (at !== -1) at += 1
  else if (stored.charCodeAt(0) === 123 && stored.startsWith(COOKIE_KEY, 1)) at = 1 // `{"cookie":` when the data is empty
  else return -1
  const value = at + COOKIE_KEY.length
  if (stored.charCodeAt(value) !== 123) return -1
  if (stored.indexOf('{', value + 1) !== -1 || stored.indexOf('}', value + 1) !== end) return -1
  return at
}

/** The session a stored JSON text holds, its cookie's expiry a Date again. */
export function recordOf(stored: string): SessionRecord {
  return reviveDates(JSON.parse(stored) as SessionRecord)
}

function reviveDates(record: SessionRecord): SessionRecord {
  const cookie = record.cookie
  if (cookie && (typeof cookie.expires === 'string' || typeof cookie.expires === 'number')) cookie.expires = new Date(cookie.expires)
  return record
}
