import type { ServerResponse } from 'node:http'
import type { CommitSteps, ParsedCookies, RequestExchange } from '../../engine/adapter.js'
import { privateCacheControl } from '../../engine/cache-control.js'
import { guardEnd, holdResponse } from './response-hold.js'
import { appendSetCookie, forwardedProto, isSecure, toDictionaryMode, type RoutedRequest } from './request.js'

/**
 * One Express / connect / `node:http` request as the engine sees it: the request's facts read off
 * `req`, the engine's decisions written to `res`, and `res.end` held for the commit. One object per
 * request, for both session middlewares. @internal
 */
export class ExpressExchange implements RequestExchange {
  /** The lifecycle's commit steps, known once the session is set up on `req`. */
  #steps: CommitSteps | undefined
  // Fields, not getters: the engine reads them on every request, and `req` is all of them.
  readonly carrier: object
  readonly origin: object
  readonly parsed: ParsedCookies
  readonly cookieHeader: string | undefined

  constructor(
    readonly req: RoutedRequest & ParsedCookies,
    readonly res: ServerResponse,
  ) {
    toDictionaryMode(req, res)
    this.carrier = req
    this.origin = req
    this.parsed = req
    this.cookieHeader = req.headers.cookie
  }

  overHttps(proxy: boolean | undefined): boolean {
    return isSecure(this.req, proxy)
  }

  forwardedProto(): string | undefined {
    return forwardedProto(this.req)
  }

  headerValue(name: string): string | undefined {
    const value = this.req.headers[name]
    return Array.isArray(value) ? value[0] : value
  }

  clientAddress(): string | undefined {
    // Express's req.ip follows its `trust proxy` setting (X-Forwarded-For only when trusted); plain Node has the socket.
    const ip = (this.req as { ip?: unknown }).ip
    return typeof ip === 'string' && ip !== '' ? ip : this.req.socket?.remoteAddress
  }

  attach(holdNow: boolean, steps: CommitSteps): void {
    this.#steps = steps
    if (holdNow) this.hold()
    // Not held yet, maybe never: a second end is still ignored, as on every response express-session sees.
    else guardEnd(this.res)
  }

  hold(): void {
    if (this.#steps === undefined || this.res.writableEnded) return
    holdResponse(this.req, this.res, this.#steps)
  }

  appendSetCookie(header: string): void {
    appendSetCookie(this.res, header)
  }

  setHeader(name: string, value: string): void {
    if (!this.res.headersSent) this.res.setHeader(name, value)
  }

  keepFromSharedCaches(): void {
    keepFromSharedCaches(this.res)
  }

  get headersSent(): boolean {
    return this.res.headersSent
  }
}

/** Makes `res` private to the browser before its headers go out (see {@link privateCacheControl}). */
export function keepFromSharedCaches(res: ServerResponse): void {
  if (res.headersSent) return
  const cacheControl = privateCacheControl(res.getHeader('Cache-Control'))
  if (cacheControl !== undefined) res.setHeader('Cache-Control', cacheControl)
}
