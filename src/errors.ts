/**
 * Errors that sessionkit raises. Each carries a stable `code` so an error handler can tell them apart
 * without matching message text, and an HTTP `status` that Express's default handler uses.
 */

/** Codes of the errors sessionkit passes to `next()` or throws at startup. */
export type SessionErrorCode =
  | 'SESSION_CONFIG' // a misconfiguration found when `session()` was called
  | 'SESSION_COOKIE_OPTIONS' // the `cookie(req)` function returned options that cannot be sent
  | 'SESSION_STORE_FAILED' // the store answered with an error
  | 'SESSION_STORE_TIMEOUT' // the store did not answer within `storeTimeout`
  | 'SESSION_NOT_FOUND' // `reload()` found no session in the store
  | 'SESSION_SERIALIZE' // the session's data cannot be turned into JSON, or is too large
  | 'SESSION_GONE' // an operation on a session that was destroyed or replaced
  | 'SESSION_CONFLICT' // a save that kept finding the session changed by other requests
  | 'SESSION_COMMITTED' // the Web API's session was changed after its commit, when the change could no longer be stored
  | 'SESSION_READ_ONLY' // sessionkit/next: a change where Next.js lets no cookie be set (a server component, the proxy)

/** An error raised by sessionkit, with a machine-readable `code` and an HTTP `status`. */
export class SessionError extends Error {
  readonly code: SessionErrorCode
  readonly status: number
  readonly statusCode: number

  constructor(code: SessionErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SessionError'
    this.code = code
    this.status = options.status ?? 500
    // Express reads `status` or `statusCode`; some error handlers only read one of them.
    this.statusCode = this.status
  }
}

/** Thrown by `session()` when an option is missing or makes no sense; the message says what to change. */
export function configError(message: string): SessionError {
  return new SessionError('SESSION_CONFIG', `sessionkit: ${message}`)
}
