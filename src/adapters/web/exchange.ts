import type { CommitSteps, ParsedCookies, RequestExchange } from '../../engine/adapter.js'

/** A request as the Web-standard API takes it: a `Request`, or anything with its `url` and `headers`. */
export interface WebRequest {
  readonly url: string
  readonly headers: Headers
}

/**
 * One Web-standard request as the engine sees it. There is no response to intercept: the commit runs
 * when the handler asks for it, so `hold` only notes that the end has work, and the Set-Cookie values
 * and the Cache-Control rule are collected here for the handler to put on its `Response`. @internal
 */
export class WebExchange implements RequestExchange {
  /** The lifecycle's commit steps, once the session is set up on the handle. */
  steps: CommitSteps | undefined
  /** Whether the end has work: the request carried a cookie, or the session was used. */
  held = false
  /** The `Set-Cookie` values the commit decided on. */
  readonly setCookie: string[] = []
  /** Other response headers the commit set (the `header` option's), by name. */
  readonly headers = new Map<string, string>()
  /** Whether the response must be kept from shared caches. */
  private = false
  /** Set once the commit is over: no cookie can be added after it. */
  headersSent = false

  /** The request's `SessionHandle`: it and this exchange name each other, so the Web API sets it right after both are made. */
  carrier!: object

  constructor(
    readonly origin: WebRequest,
    /** Whether the request reached this server over HTTPS (the URL's scheme, or what the caller knows). */
    readonly secure: boolean,
    /** The client's address, when the caller passed it: a `Request` does not carry one. */
    readonly address: string | undefined = undefined,
  ) {}

  get cookieHeader(): string | undefined {
    return this.origin.headers.get('cookie') ?? undefined
  }

  get parsed(): ParsedCookies | undefined {
    return undefined
  }

  overHttps(proxy: boolean | undefined): boolean {
    if (this.secure) return true
    // Without a server that says whether a proxy is trusted (Express's `trust proxy`), only `proxy: true` trusts one.
    return proxy === true && this.forwardedProto() === 'https'
  }

  forwardedProto(): string | undefined {
    return this.origin.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase()
  }

  headerValue(name: string): string | undefined {
    return this.origin.headers.get(name) ?? undefined
  }

  clientAddress(): string | undefined {
    return this.address
  }

  attach(holdNow: boolean, steps: CommitSteps): void {
    this.steps = steps
    this.held = holdNow
  }

  hold(): void {
    this.held = true
  }

  appendSetCookie(header: string): void {
    this.setCookie.push(header)
  }

  setHeader(name: string, value: string): void {
    this.headers.set(name, value)
  }

  keepFromSharedCaches(): void {
    this.private = true
  }
}
