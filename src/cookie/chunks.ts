/**
 * A sealed session split over several cookies when it is larger than one cookie may be (opt-in,
 * `maxCookies`). The value is sealed once and then cut: the first cookie, under the session's own name,
 * holds `<count>.<first piece>`, and `<name>.1`, `<name>.2`... the rest, in order. Only the whole value
 * authenticates, so a missing, reordered, stale or foreign piece opens nothing: the request gets a fresh
 * session, never a partial one. A value that fits one cookie is written as it always was (no count).
 */

import { configError } from '../errors.js'
import { sessionCookieValues } from './signature.js'

/** The most cookies one session may use: every request carries them all, and Node refuses request heads over 16 KB by default. */
export const MAX_COOKIES = 3

/** The `maxCookies` option, checked at startup: 1 (no splitting) when not given. */
export function parseMaxCookies(value: unknown): number {
  const maxCookies = value ?? 1
  if (typeof maxCookies !== 'number' || !Number.isInteger(maxCookies) || maxCookies < 1 || maxCookies > MAX_COOKIES) {
    throw configError(`option "maxCookies" must be a whole number from 1 to ${MAX_COOKIES} (got ${JSON.stringify(maxCookies)}); keep larger sessions on the server with session({ store })`)
  }
  return maxCookies
}

/** The first value of each cookie of a split session, read from the Cookie `header`. */
export function partOf(header: string | undefined, name: string, index: number): string | undefined {
  return sessionCookieValues(header, chunkName(name, index), 1)[0]
}

/** The names of the parts past the first `kept` (at least the first) that the Cookie `header` carries: to be cleared. */
export function carriedParts(header: string | undefined, name: string, maxCookies: number, kept: number): string[] {
  const names: string[] = []
  for (let index = Math.max(kept, 1); index < maxCookies; index++) if (partOf(header, name, index) !== undefined) names.push(chunkName(name, index))
  return names
}

/** The name of the `index`-th cookie of a session named `name` (the first keeps the name itself). */
export function chunkName(name: string, index: number): string {
  return index === 0 ? name : `${name}.${index}`
}

/**
 * `sealed` cut into at most `maxCookies` cookie values whose Set-Cookie headers stay within the limit;
 * `room(index)` is how many characters the `index`-th cookie's value may have. Undefined when it does not fit.
 */
export function splitSealed(sealed: string, maxCookies: number, room: (index: number) => number): string[] | undefined {
  if (sealed.length <= room(0)) return [sealed]
  const pieces: string[] = []
  let at = 0
  // The count prefix ("2.") takes two characters of the first cookie; counts stay single digits.
  for (let index = 0; index < maxCookies && at < sealed.length; index++) {
    const size = room(index) - (index === 0 ? 2 : 0)
    if (size <= 0) return undefined
    pieces.push(sealed.slice(at, at + size))
    at += size
  }
  if (at < sealed.length) return undefined
  pieces[0] = `${pieces.length}.${pieces[0]}`
  return pieces
}

const COUNTED = /^([2-9])\.(.*)$/s

/**
 * The whole sealed value from the first cookie's `value` and `piece(index)`, the first value of the
 * `index`-th cookie; undefined when the count is over `maxCookies` or a piece is missing.
 */
export function joinSealed(value: string, maxCookies: number, piece: (index: number) => string | undefined): string | undefined {
  const counted = COUNTED.exec(value)
  if (counted === null) return value
  const count = Number(counted[1])
  if (count > maxCookies) return undefined
  let joined = counted[2] as string
  for (let index = 1; index < count; index++) {
    const next = piece(index)
    if (next === undefined || next === '') return undefined
    joined += next
  }
  return joined
}
