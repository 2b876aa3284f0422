import type { ParsedCookies } from '../cookie/signature.js'

/**
 * What an adapter (the Express middleware, the Web-standard API) gives the engine for one request, and
 * nothing more: the engine reads no server's request and writes no server's response itself. The
 * facts of the request are read once it asks; the response side receives what the engine decides.
 * @internal
 */

export type { ParsedCookies }

/** The few facts of a request a session depends on. */
export interface RequestFacts {
  /** The request's `Cookie` header as it arrived (RFC 6265 §5.4), or undefined without one. */
  readonly cookieHeader: string | undefined
  /**
   * Cookies a parser already read off the request, where one ran before the session (cookie-parser
   * on Express leaves `cookies`, `signedCookies` and `secret` on `req`). Undefined where none does.
   */
  readonly parsed: ParsedCookies | undefined
  /** Whether the request came over HTTPS, trusting an `X-Forwarded-Proto` header as `proxy` says. */
  overHttps(proxy: boolean | undefined): boolean
  /** The request's `X-Forwarded-Proto`, first value, lowercased: said when a Secure cookie is withheld. */
  forwardedProto(): string | undefined
  /** The value of the request header `name` (lowercase), or undefined when the request has none. */
  headerValue(name: string): string | undefined
  /**
   * The client's address as the server knows it (Express's `req.ip`, which follows `trust proxy`; the
   * socket's peer otherwise; what the caller passed the Web API), or undefined. Read only for the
   * `metadata` option, which keeps a truncated or hashed form of it.
   */
  clientAddress(): string | undefined
}

/** Where the engine's decisions about the response go. */
export interface ResponseSide {
  /**
   * The end of the response may now have work (the session was used, or a cookie came): an adapter
   * that must intercept the response's end (Node's `res.end`) does it now. Called at most once.
   */
  hold(): void
  /** Adds one `Set-Cookie` value (RFC 6265 §4.1) beside any the app set. */
  appendSetCookie(header: string): void
  /** Sets the response header `name` (the `header` option's), replacing any value it had. */
  setHeader(name: string, value: string): void
  /** Marks the response private to the browser (`Cache-Control: private`, RFC 9111 §5.2.2.7): it carries the session's cookie. */
  keepFromSharedCaches(): void
  /** Whether the headers are out: no cookie can be added any more. */
  readonly headersSent: boolean
}

/**
 * One request as an adapter binds it to the engine: its facts, its response, and the two objects the
 * app sees. Express's adapter is all of it in one object per request.
 */
export interface RequestExchange extends RequestFacts, ResponseSide {
  /**
   * What carries `session` and `sessionID` for the app (Express's `req`, the Web API's handle), and
   * what each `Session` names as its `req`.
   */
  readonly carrier: object
  /** The request as the app knows it, given to `genid`, the `cookie` option's function and event listeners. */
  readonly origin: object
  /**
   * The session is set up on the carrier: hold the response now (`holdNow`: the end may have work
   * whatever the app does), or get ready for {@link ResponseSide.hold} later.
   */
  attach(holdNow: boolean, steps: CommitSteps): void
}

/**
 * The steps of a request's commit, which the adapter drives: Express's at `res.end` and the headers,
 * the Web API's when the handler asks for its `Set-Cookie` values.
 */
export interface CommitSteps {
  /**
   * Right before the headers are written: add the session's Set-Cookie. A throw fails the request: before
   * anything was written when it happens inside the app's `end`, by cutting the response off otherwise.
   */
  writeHeaders(): void
  /**
   * At the app's first `end`: the store work the end must wait for, or undefined when there is none. A
   * throw is a failure like a rejection.
   */
  commit(): Promise<void> | undefined
  /** After the app's end has been passed on: work that may not delay the response (a touch). */
  afterEnd(): void
  /**
   * The commit failed: no cookie may be written for this request any more. `replaced` says whether the
   * error handlers answer instead (false: the app's answer stands, because its headers are out or it is
   * itself a failure).
   */
  failed(err: unknown, replaced: boolean): void
  /** Hands an error to the app's error handlers. */
  next(err: unknown): void
  /** The id of the session the client's cookie (or session header) named, when it verified: what a new session is told apart from. */
  clientId(): string | undefined
  /** What the request's session is now, without making one: a `Session` once made or loaded, else nothing of that class. */
  current(): unknown
}

