/**
 * The engine decides a response's cookies as `Set-Cookie` values (RFC 6265 §4.1); Next.js takes
 * them only as objects through `cookies().set()`, which serializes them again. This turns the one
 * into the other, so that what reaches the browser is the cookie the engine decided. @internal
 */

/** One cookie as Next.js's `cookies().set()` takes it (the fields of its `ResponseCookie`). */
export interface NextCookie {
  name: string
  /** The value decoded: Next.js encodes it again with `encodeURIComponent`. */
  value: string
  path?: string
  domain?: string
  expires?: Date
  maxAge?: number
  httpOnly?: boolean
  secure?: boolean
  sameSite?: 'lax' | 'strict' | 'none'
  priority?: 'low' | 'medium' | 'high'
  partitioned?: boolean
}

const SAME_SITE = new Set(['lax', 'strict', 'none'])
const PRIORITY = new Set(['low', 'medium', 'high'])

/** Parses one `Set-Cookie` value as the engine writes it (its serializer's attribute names). */
export function parseSetCookie(header: string): NextCookie {
  const [pair = '', ...attributes] = header.split(';')
  const eq = pair.indexOf('=')
  const cookie: NextCookie = { name: pair.slice(0, eq).trim(), value: decode(pair.slice(eq + 1).trim()) }
  for (const attribute of attributes) {
    const at = attribute.indexOf('=')
    const key = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase()
    const value = at === -1 ? '' : attribute.slice(at + 1).trim()
    switch (key) {
      case 'path':
        cookie.path = value
        break
      case 'domain':
        cookie.domain = value
        break
      case 'expires':
        cookie.expires = new Date(value)
        break
      case 'max-age':
        cookie.maxAge = Number(value)
        break
      case 'httponly':
        cookie.httpOnly = true
        break
      case 'secure':
        cookie.secure = true
        break
      case 'partitioned':
        cookie.partitioned = true
        break
      case 'samesite':
        if (SAME_SITE.has(value.toLowerCase())) cookie.sameSite = value.toLowerCase() as NextCookie['sameSite']
        break
      case 'priority':
        if (PRIORITY.has(value.toLowerCase())) cookie.priority = value.toLowerCase() as NextCookie['priority']
        break
    }
  }
  return cookie
}

/**
 * The engine's values are `encodeURIComponent` output (a signed id's `s:` becomes `s%3A`), which
 * Next.js would encode a second time; decoding first makes its encoding give back the same bytes.
 */
function decode(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
