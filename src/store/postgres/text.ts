// The strings PostgreSQL cannot keep, made storable and given back unchanged. A session's JSON may hold
// any JavaScript string, but jsonb refuses U+0000 ("\u0000 cannot be converted to text") and a lone
// surrogate ("\ud800"), and a text column refuses U+0000. Such a character is written as U+0001 'u'
// and its four hex digits, and U+0001 itself the same way, so the escape reads back one way only.
//
// Rows written before this existed hold strings that were never escaped (some may contain U+0001), so
// the data of a row is decoded only when the row says it was escaped: its version is negative. The
// version is written by the same statement as the data, on every data write, so the two never
// disagree; versions the store gave before were all positive. Only a session that holds such a
// character pays for the escape; every other row is written and read as before.

const ESC = '\u0001'

// In JSON.stringify's output, outside strings there is no backslash and inside them every backslash
// starts an escape, so matching `\` and the character after it, left to right, stays aligned with the
// escapes (`\\u0000` is an escaped backslash, then text). Of the escapes, U+0000, U+0001 and the lone
// surrogates (well-formed JSON.stringify writes those, and only those, as \ud800-\udfff) are escaped.
const JSON_ESCAPES = /\\(?:(u0000|u0001|ud[89a-f][0-9a-f]{2})|[^])/g
const NEEDS_ESCAPE = /\\u(?:0000|d[89a-f])/
const JSON_ESCAPED = /\\(?:u0001(u[0-9a-f]{4})|[^])/g
const TEXT_NEEDS_ESCAPE = /[\u0000\u0001]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
// Any of those characters, or a surrogate of a pair: the cheap test before the replace, for the common owner.
const TEXT_MAY_NEED_ESCAPE = /[\u0000\u0001\ud800-\udfff]/

/**
 * The JSON text to store for `json` (JSON.stringify's output): itself when jsonb takes it, otherwise
 * with every U+0000, U+0001 and lone surrogate escaped, and `escaped` true (the row must say so).
 */
export function storableJson(json: string): { json: string; escaped: boolean } {
  // Most sessions' JSON has no \u escape at all; includes() answers that faster than the regex.
  if (!json.includes('\\u') || !NEEDS_ESCAPE.test(json)) return { json, escaped: false }
  return { json: json.replace(JSON_ESCAPES, (match: string, escape: string | undefined) => (escape === undefined ? match : `\\u0001${escape}`)), escaped: true }
}

/** The value a row marked escaped held before {@link storableJson}: its strings (keys too) unescaped. */
export function unescapedValue<T>(value: T): T {
  const json = JSON.stringify(value).replace(JSON_ESCAPED, (match: string, escape: string | undefined) => (escape === undefined ? match : `\\${escape}`))
  return JSON.parse(json) as T
}

/**
 * A string a text column takes, one to one: U+0000, U+0001 and lone surrogates escaped as in the JSON
 * (the driver would otherwise send a lone surrogate as U+FFFD, so two owners would meet). Used for the
 * owner column, written and looked up alike.
 */
export function storableText(text: string): string {
  if (!TEXT_MAY_NEED_ESCAPE.test(text)) return text
  return text.replace(TEXT_NEEDS_ESCAPE, (char) => `${ESC}u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** The version of a row whose data is escaped: negative (a fresh version is 0 or more), as random. */
export function escapedVersion(version: string): string {
  return String(-1n - BigInt(version))
}

/** Whether a row at `version` holds escaped data (see {@link escapedVersion}). */
export function isEscapedVersion(version: unknown): boolean {
  return String(version).startsWith('-')
}
