import type { ParsedHeaderOption } from '../options/header-option.js'
import type { RequestFacts } from './adapter.js'

/**
 * Whether a request uses the session header (the `header` option) rather than the cookie, and the
 * token it carries. A request that carries the header is a client without cookies: its cookie, if
 * any, is ignored, so that one credential, never a mix, decides the session. A header no browser
 * sends on its own also means that a cross-site request can only ever be a cookie request. @internal
 */

/**
 * The token the request's session header carries: '' when the header is there but empty (a client
 * starting its first session), undefined when the request does not use the header. `Authorization`
 * counts only with the Bearer scheme (RFC 6750 §2.1): another scheme is the app's own business.
 */
export function sessionToken(request: RequestFacts, header: ParsedHeaderOption | undefined): string | undefined {
  if (header === undefined) return undefined
  const value = request.headerValue(header.request)?.trim()
  if (value === undefined || !header.bearer) return value
  const scheme = value.slice(0, 6).toLowerCase()
  if (scheme !== 'bearer' || (value.length > 6 && value[6] !== ' ' && value[6] !== '\t')) return undefined
  return value.slice(6).trim()
}
