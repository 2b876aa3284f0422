/**
 * The `header` option: the session id carried in a request header rather than a cookie, for API and
 * mobile clients that keep no cookies. @internal
 */

/**
 * Where a session id travels for clients without cookies: a header name used both ways
 * (`'x-session'`), or a request header and a response header (`{ request: 'authorization', response:
 * 'x-session-token' }`). `authorization` is read as `Authorization: Bearer <token>` (RFC 6750 §2.1).
 */
export type SessionHeaderOption = string | { request: string; response: string }

/** The `header` option checked: lowercase names, and whether the request header is `Authorization: Bearer`. */
export interface ParsedHeaderOption {
  readonly request: string
  readonly response: string
  readonly bearer: boolean
}

// RFC 9110 §5.1: a field name is a token.
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// Headers a client or a browser already gives another meaning, which a session token would break.
const RESERVED = new Set(['cookie', 'set-cookie', 'host', 'content-length', 'content-type', 'transfer-encoding', 'connection'])

/** Checks `header`; an invalid value adds its problem to `problems` (the startup error lists them all). */
export function parseHeaderOption(value: unknown, problems: string[]): ParsedHeaderOption | undefined {
  if (value === undefined || value === null || value === false) return undefined
  const given = typeof value === 'string' ? { request: value, response: value } : (value as { request?: unknown; response?: unknown })
  const { request, response } = given
  const named = (name: unknown): name is string => typeof name === 'string' && FIELD_NAME.test(name) && !RESERVED.has(name.toLowerCase())
  if (typeof value !== 'string' && (typeof value !== 'object' || !named(request) || !named(response))) {
    problems.push(`option "header" must be a header name, or { request, response } with two header names (got ${JSON.stringify(value)})`)
    return undefined
  }
  if (!named(request)) {
    problems.push(`option "header" must be a header name other than ${[...RESERVED].join(', ')} (got ${JSON.stringify(value)})`)
    return undefined
  }
  const bearer = request.toLowerCase() === 'authorization'
  if (bearer && String(response).toLowerCase() === 'authorization') {
    problems.push('option "header": a response cannot hand a token back in Authorization; name a response header: header: { request: \'authorization\', response: \'x-session-token\' }')
    return undefined
  }
  return { request: request.toLowerCase(), response: String(response).toLowerCase(), bearer }
}
