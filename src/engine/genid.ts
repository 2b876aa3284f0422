import { randomFillSync } from 'node:crypto'
import { SessionError } from '../errors.js'

/**
 * Calling the `genid` option and checking what it gives: a non-empty string, made synchronously inside
 * the `req.session` getter, or awaited before the app runs for an `async function`. @internal
 */
type Genid = (req: never) => string | Promise<string>

/** `genid` called with the request as the app knows it (Express's `req`, the Web API's `Request`). */
function call(genid: Genid, req: object): unknown {
  return (genid as (req: object) => unknown)(req)
}

/** A new id from a synchronous `genid`; a clear error for anything but a non-empty string. */
export function makeId(genid: Genid, req: object): string {
  const id = call(genid, req)
  if (typeof id !== 'string' || id.length === 0) {
    const thenable = id !== null && typeof id === 'object' && typeof (id as { then?: unknown }).then === 'function'
    const hint = thenable ? '; a genid that returns a Promise must be declared as an `async function`' : ''
    throw new SessionError('SESSION_CONFIG', `sessionkit: genid must return a non-empty string (got ${typeof id})${hint}`)
  }
  return id
}

/** A new id from an `async` `genid`. */
export async function makeIdAsync(genid: Genid, req: object): Promise<string> {
  const id: unknown = await call(genid, req)
  if (typeof id !== 'string' || id.length === 0) throw new SessionError('SESSION_CONFIG', `sessionkit: genid must resolve to a non-empty string (got ${typeof id})`)
  return id
}

/**
 * The default `genid`: 24 random bytes (192 bits) in base64url, as express-session makes them with
 * uid-safe. The bytes come from the same CSPRNG (crypto.randomFillSync), filled for 128 ids at a time,
 * as Node does for crypto.randomUUID(): one call into it per id cost about 2.5 µs, most of a new
 * session's id and signature. Each id's bytes are zeroed once taken, so that the pool never holds an
 * id that was handed out.
 */
export function generateSessionId(): string {
  if (idPoolOffset === idPool.length) {
    randomFillSync(idPool)
    idPoolOffset = 0
  }
  const start = idPoolOffset
  idPoolOffset += ID_BYTES
  const id = idPool.toString('base64url', start, idPoolOffset)
  idPool.fill(0, start, idPoolOffset)
  return id
}

const ID_BYTES = 24
const idPool = Buffer.alloc(ID_BYTES * 128)
let idPoolOffset = idPool.length
