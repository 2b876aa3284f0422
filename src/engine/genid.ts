import type { IncomingMessage } from 'node:http'
import { SessionError } from '../errors.js'

/**
 * Calling the `genid` option and checking what it gives: a non-empty string, made synchronously inside
 * the `req.session` getter, or awaited before the app runs for an `async function`. @internal
 */
type Genid = (req: IncomingMessage) => string | Promise<string>

/** A new id from a synchronous `genid`; a clear error for anything but a non-empty string. */
export function makeId(genid: Genid, req: IncomingMessage): string {
  const id = genid(req)
  if (typeof id !== 'string' || id.length === 0) {
    const thenable = id !== null && typeof id === 'object' && typeof (id as { then?: unknown }).then === 'function'
    const hint = thenable ? '; a genid that returns a Promise must be declared as an `async function`' : ''
    throw new SessionError('SESSION_CONFIG', `sessionkit: genid must return a non-empty string (got ${typeof id})${hint}`)
  }
  return id
}

/** A new id from an `async` `genid`. */
export async function makeIdAsync(genid: Genid, req: IncomingMessage): Promise<string> {
  const id: unknown = await genid(req)
  if (typeof id !== 'string' || id.length === 0) throw new SessionError('SESSION_CONFIG', `sessionkit: genid must resolve to a non-empty string (got ${typeof id})`)
  return id
}
