import { Cookie } from '../../cookie/cookie.js'
import type { SessionRecord } from '../store.js'

// How MemoryStore keeps a session: the app's data as JSON text, and its cookie apart, as the cookie's
// attributes (JSON text that sessions with the same attributes share) and its expiry (a number). A
// touch then moves a number instead of rewriting text, and a load parses only the app's data. A cookie
// that does not fit that form (not an object, an expiry that is no date) stays inside the data's JSON,
// as a whole record. @internal

/** A session as the store keeps it; `cookie` undefined means `data` is the whole record. */
export interface Entry {
  readonly data: string
  readonly cookie: string | undefined
  /** The cookie's expiry in ms since the epoch; NaN for `expires: null`, -Infinity for no `expires` key. */
  readonly expires: number
}

/** No `expires` key in the cookie (as opposed to `expires: null`). */
export const NO_EXPIRES = -Infinity

/**
 * A session as an {@link Entry}. Throws what JSON.stringify throws for data that cannot be stored.
 * `dataJson`: the JSON of the session's data without its cookie, when the caller computed it a moment
 * before (sessionkit's writes through `MemoryStore.immediate`): it is not serialized again.
 */
export function entryOf(session: SessionRecord, dataJson?: string): Entry {
  if (dataJson !== undefined) {
    const split = splitCookie(session.cookie)
    if (split !== undefined) return { data: copied(dataJson), cookie: split.attributes, expires: split.expires }
  }
  const { cookie, ...data } = session as SessionRecord & Record<string, unknown>
  const split = splitCookie(cookie)
  if (split === undefined) {
    if (cookie !== undefined) data['cookie'] = cookie
    return { data: copied(JSON.stringify(data)), cookie: undefined, expires: NO_EXPIRES }
  }
  return { data: copied(JSON.stringify(data)), cookie: split.attributes, expires: split.expires }
}

/**
 * The cookie's attributes as shared JSON text (its `expires` a placeholder, so that the keys keep their
 * order) and its expiry; undefined when the cookie is absent or does not fit (see the module comment).
 */
export function splitCookie(cookie: unknown): { attributes: string; expires: number } | undefined {
  if (cookie === null || typeof cookie !== 'object' || Array.isArray(cookie)) return undefined
  // A Cookie's toJSON() builds a fresh object; anything else is copied before its expiry is replaced.
  const record = (cookie instanceof Cookie ? cookie.toJSON() : { ...cookie }) as Record<string, unknown>
  const value = record['expires']
  let expires: number
  if (value === undefined) expires = NO_EXPIRES
  else if (value === null) expires = NaN
  else {
    expires = value instanceof Date ? value.getTime() : typeof value === 'number' || typeof value === 'string' ? new Date(value).getTime() : NaN
    if (Number.isNaN(expires)) return undefined
    record['expires'] = null
  }
  return { attributes: interned(JSON.stringify(record)), expires }
}

/** The session an entry holds, a fresh object each time, its cookie's expiry a Date. */
export function recordOf(data: string, cookie: string | undefined, expires: number): SessionRecord {
  const record = JSON.parse(data) as SessionRecord
  if (cookie === undefined) return reviveDates(record)
  const attributes = { ...parsedAttributes(cookie) } as Record<string, unknown>
  if (expires !== NO_EXPIRES) attributes['expires'] = Number.isNaN(expires) ? null : new Date(expires)
  ;(record as unknown as Record<string, unknown>)['cookie'] = attributes
  return record
}

function reviveDates(record: SessionRecord): SessionRecord {
  const cookie = record.cookie
  if (cookie && (typeof cookie.expires === 'string' || typeof cookie.expires === 'number')) cookie.expires = new Date(cookie.expires)
  return record
}

// Cookie attributes differ between apps and settings, rarely between sessions: the same text is kept
// once, and parsed once. Bounded, because an attribute that differs per session (absoluteExpires) would
// otherwise add an entry per session: past the bound, a session keeps its own copy, as before.
const INTERNED_LIMIT = 1_000
const internedTexts = new Map<string, string>()
const parsedTexts = new Map<string, Readonly<Record<string, unknown>>>()

function interned(text: string): string {
  const known = internedTexts.get(text)
  if (known !== undefined) return known
  const own = copied(text)
  if (internedTexts.size < INTERNED_LIMIT) internedTexts.set(own, own)
  return own
}

function parsedAttributes(text: string): Readonly<Record<string, unknown>> {
  const known = parsedTexts.get(text)
  if (known !== undefined) return known
  const parsed = JSON.parse(text) as Record<string, unknown>
  // Shared only while every value is a primitive: a nested object would be shared by every load.
  const flat = Object.values(parsed).every((value) => value === null || typeof value !== 'object')
  if (flat && parsedTexts.size < INTERNED_LIMIT) parsedTexts.set(text, parsed)
  return parsed
}

/**
 * The same text in a string of its own. V8's JSON.stringify gives a string that keeps about 90 bytes
 * more heap than its characters need, for as long as it lives (bench/memory.mjs: 216 B against 125 B
 * for a 95-character session); a copy of it is only as big as its characters, and the original is
 * garbage at once. This was the largest part of a stored session's heap.
 */
function copied(text: string): string {
  if (text.length < 2) return text
  const copy = text.slice(0, 1) + text.slice(1)
  // V8 keeps a string joined from pieces as a tree of them until something reads its characters;
  // reading one flattens it into a string of its own, and the garbage collector drops the tree.
  copy.charCodeAt(0)
  return copy
}
