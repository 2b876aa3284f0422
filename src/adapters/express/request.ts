import { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { pathMatches, type CookieOptions } from '../../cookie/cookie.js'
import { outsidePath } from '../../cookie/diagnostics.js'
import { controllerKey } from '../../engine/session.js'

/**
 * What both session middlewares (`session()` and `cookieSession()`) read off a request and compare
 * between its start and its end. @internal
 */

/** A request as Express or connect leave it: `originalUrl` before a mount point was stripped, `secure`. */
export interface RoutedRequest extends IncomingMessage {
  originalUrl?: string
  secure?: boolean
}

/**
 * The checks both middlewares make before anything else. Gives the cookie options for this request, or
 * undefined when the request goes on without a session, `next()` having been called: it already has a
 * session (an outer mount of either middleware), the `cookie` option's function threw (`next(err)`),
 * or its path is outside `cookie.path` (see {@link outsidePath} for when that is said).
 */
export function enterRequest(
  req: RoutedRequest & { [controllerKey]?: unknown; session?: unknown },
  next: (err?: unknown) => void,
  cookieFor: (req: IncomingMessage) => CookieOptions,
  name: string,
): CookieOptions | undefined {
  if (req[controllerKey] !== undefined || req.session) {
    next()
    return undefined
  }
  let cookieOptions: CookieOptions
  try {
    cookieOptions = cookieFor(req)
  } catch (err) {
    next(err)
    return undefined
  }
  const path = cookieOptions.path ?? '/'
  if (!pathMatches(requestPath(req), path)) {
    outsidePath(name, path, req.headers.cookie?.includes(`${name}=`) === true)
    next()
    return undefined
  }
  return cookieOptions
}

/** Whether the request came over HTTPS, trusting proxies as the `proxy` option (or Express) says. */
export function isSecure(req: RoutedRequest, proxy: boolean | undefined): boolean {
  if ((req.socket as TLSSocket | undefined)?.encrypted === true) return true
  if (proxy === false) return false
  if (proxy !== true) return req.secure === true
  return forwardedProto(req) === 'https'
}

/** The first protocol a proxy's `X-Forwarded-Proto` names, lowercased. */
export function forwardedProto(req: IncomingMessage): string | undefined {
  const header = req.headers['x-forwarded-proto']
  return (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim().toLowerCase()
}

/** The request's path before any router stripped a mount point from `req.url`. */
export function requestPath(req: RoutedRequest): string {
  const url = req.originalUrl ?? req.url ?? '/'
  if (url.startsWith('/')) {
    const query = url.indexOf('?')
    return query === -1 ? url : url.slice(0, query)
  }
  try {
    return new URL(url).pathname
  } catch {
    return '/'
  }
}

/**
 * Headers that describe the app's own answer (its body, a redirect, its cookies). When saving fails
 * and the error handler answers instead, they must not leak into that answer.
 */
export const RESPONSE_HEADERS: readonly string[] = ['content-type', 'content-length', 'content-encoding', 'etag', 'last-modified', 'location', 'set-cookie']



const scratchA = Symbol('sessionkit.scratchA')
const scratchB = Symbol('sessionkit.scratchB')

/**
 * Express gives every req and res a new prototype (Object.setPrototypeOf), and V8 then builds a new
 * hidden class for each property added to that object afterwards, one that no other request shares:
 * every property this middleware, Express and Node add copies the object's whole list of property
 * descriptors (measured: about 5 µs per property on a res with 50), and every access after it misses
 * V8's inline caches. Measured over HTTP, that was most of a session middleware's cost. Deleting a
 * property turns the object into a dictionary, to which adding a property is cheap and whose hidden
 * class all requests share. The property deleted is the last enumerable one, put back at once with the
 * same attributes, so the object's keys and their order stay as they were. (The first version added
 * two symbols and deleted them: the two additions alone cost twice the delete.) An object still on
 * Node's own prototype (plain http, connect) keeps its shared hidden class and is left alone: there the
 * change would only cost time.
 */
export function toDictionaryMode(req: IncomingMessage, res: ServerResponse): void {
  dictionary(req, IncomingMessage.prototype)
  dictionary(res, ServerResponse.prototype)
}

function dictionary(target: object, nodePrototype: object): void {
  if (Object.getPrototypeOf(target) === nodePrototype) return
  const keys = Object.keys(target)
  const last = keys[keys.length - 1]
  if (last !== undefined) {
    const descriptor = Reflect.getOwnPropertyDescriptor(target, last)
    if (descriptor !== undefined && descriptor.configurable === true && 'value' in descriptor) {
      Reflect.deleteProperty(target, last)
      Reflect.defineProperty(target, last, descriptor)
      return
    }
  }
  // No plain data property to put back: two symbols added and the first deleted (deleting the last one
  // added may just undo its addition) have the same effect, slower.
  const object = target as Record<symbol, unknown>
  object[scratchA] = undefined
  object[scratchB] = undefined
  Reflect.deleteProperty(object, scratchA)
  Reflect.deleteProperty(object, scratchB)
}



/**
 * Adds one Set-Cookie header next to those the app (or another middleware) already set. The header is
 * always left an array, as express-session leaves it: code that runs the middleware on a mock response
 * (Sails' virtual requests, unit tests) reads `res.getHeader('set-cookie')[0]`.
 */
export function appendSetCookie(res: ServerResponse, header: string): void {
  const previous = res.getHeader('Set-Cookie')
  if (previous === undefined) res.setHeader('Set-Cookie', [header])
  else if (Array.isArray(previous)) res.setHeader('Set-Cookie', [...previous, header])
  else res.setHeader('Set-Cookie', [String(previous), header])
}
