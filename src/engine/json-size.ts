import { SessionError } from '../errors.js'
import { serializeData } from './snapshot.js'
import type { Session } from './session.js'

/**
 * `maxSessionBytes` without building the JSON of a session far over it. Building it first (and copying
 * the data without its cookie, and comparing it with what was loaded) let one request that put a million
 * keys into its session block the event loop for half a second before being refused. @internal
 */

/**
 * {@link serializeData} of a session (checked intact by its caller: `currentSession` or `save`); one
 * whose data is certainly more than `limit` bytes as JSON is refused first (SESSION_SERIALIZE), from a walk that stops as soon as it has counted more. `limit` 0
 * means no limit. `loaded` is the JSON the session had when the request first looked at it: a session
 * that was over the limit already is left to the exact check of its save, so that one that did not
 * change is still touched, as before.
 */
export function serializeWithin(session: Session, limit: number, loaded?: string): string {
  if (limit > 0 && (loaded === undefined || loaded.length * 3 <= limit || Buffer.byteLength(loaded) <= limit)) {
    const counted = jsonBytesAtLeast(session, limit)
    if (counted > limit) {
      throw new SessionError('SESSION_SERIALIZE', `sessionkit: the session's data is more than ${limit} bytes as JSON (${counted} bytes counted before stopping), over the maxSessionBytes limit of ${limit}`)
    }
  }
  return serializeData(session)
}

/** {@link serializeWithin}, or undefined when the session cannot be saved (no cookie is sent for it then). */
export function jsonWithinIfAny(session: Session, limit: number, loaded?: string): string | undefined {
  try {
    return serializeWithin(session, limit, loaded)
  } catch {
    return undefined
  }
}

/** A walk's state: what it counted, its budget, whether it stopped, the objects open below SHALLOW. */
interface Walk {
  counted: number
  readonly budget: number
  stopped: boolean
  open: Set<object> | undefined
}

/**
 * Objects nested deeper than this are checked for a cycle: a cycle, followed, comes back to its objects
 * below any depth, so the shallow levels (all of a usual session) need no set.
 */
const SHALLOW = 32
/** Past this depth the walk stops rather than risk the stack; the exact check of the save measures it. */
const DEEPEST = 1000

/**
 * A lower bound of the UTF-8 bytes of the session's data as JSON (without its cookie), counted until it
 * passes `budget`. Each character of JSON text is at least one byte, and the count leaves out what it
 * cannot know cheaply (escapes, the digits of a number, a `toJSON`), so it never counts more than
 * JSON.stringify writes. It lists the keys of every object it opens, so its work is bounded by `budget`
 * plus the key counts of the objects it opened. A cycle, a BigInt or a nesting deeper than 1,000 levels
 * stops it (returning what it counted): JSON.stringify reports the first two itself.
 */
export function jsonBytesAtLeast(session: object, budget: number): number {
  const walk: Walk = { counted: 0, budget, stopped: false, open: undefined }
  walkObject(walk, session, 0)
  return walk.counted
}

function walkObject(walk: Walk, value: object, depth: number): void {
  if (depth > SHALLOW) {
    if (depth > DEEPEST || walk.open?.has(value) === true) {
      walk.stopped = true
      return
    }
    ;(walk.open ??= new Set()).add(value)
  }
  // Its opening bracket; its closing one is the separator counted after its last member (or this 1
  // for an empty one, which is 2 in JSON).
  walk.counted += 1
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && !walk.stopped && walk.counted <= walk.budget; i++) walkMember(walk, value[i], undefined, depth)
  } else {
    const members = value as Record<string, unknown>
    // for-in rather than Object.keys: no array per object; its inherited keys are not JSON's.
    for (const key in members) {
      if (walk.stopped || walk.counted > walk.budget) break
      if (!Object.hasOwn(members, key) || (depth === 0 && key === 'cookie')) continue
      walkMember(walk, members[key], key, depth)
    }
  }
  if (depth > SHALLOW) walk.open?.delete(value)
}

/** One member of an object (`key`) or of an array (no key). */
function walkMember(walk: Walk, value: unknown, key: string | undefined, depth: number): void {
  const kind = typeof value
  // A member JSON leaves out of an object; in an array it is written as null.
  if (value === undefined || kind === 'function' || kind === 'symbol') {
    if (key === undefined) walk.counted += 5
    return
  }
  if (kind === 'bigint') {
    walk.stopped = true
    return
  }
  // What it becomes is not known without calling it (a toJSON may even leave the member out); a boxed
  // primitive is written as its value: in an array, only the separator after it counts.
  if (kind === 'object' && value !== null && (typeof (value as { toJSON?: unknown }).toJSON === 'function' || value instanceof String || value instanceof Number || value instanceof Boolean)) {
    if (key === undefined) walk.counted += 1
    return
  }
  // The separator after it (a comma, or the closing bracket), and in an object its quoted key and colon.
  walk.counted += key === undefined ? 1 : key.length + 4
  if (kind === 'string') walk.counted += (value as string).length + 2
  else if (kind === 'number') walk.counted += Number.isFinite(value) ? 1 : 4
  else if (kind === 'boolean') walk.counted += value === true ? 4 : 5
  else if (value === null) walk.counted += 4
  else walkObject(walk, value as object, depth + 1)
}
