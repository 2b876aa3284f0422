import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto'
import { isIPv4, isIPv6 } from 'node:net'
import type { Secret } from '../cookie/signature.js'
import type { RequestFacts } from './adapter.js'
import type { Session } from './session.js'

/**
 * Session metadata (the `metadata` option): when a session was made, from which browser and network,
 * and when it was last used, for an account page's "where am I logged in?". It is stamped once, when
 * the session is made, inside the session's own record, so it costs no store write of its own; the
 * last use is read off the stored expiry, which the touch rules already move. @internal
 */

/** The key the metadata is kept under inside a session's record: no app names a key like this. */
export const META_KEY = 'sessionkit:meta'

/** The most characters of a User-Agent header kept: the header is the client's to make as long as it likes. */
const USER_AGENT_LIMIT = 256

/** The `metadata` option as an object. */
export interface SessionMetadataOptions {
  /**
   * What is kept of the client's address: `'truncate'` (the default: an IPv4 address's /24, an IPv6
   * address's /48, such as `203.0.113.0/24`), `'hash'` (a keyed hash under a key derived from the
   * secret: two sessions from one address can be told apart from others, the address cannot be read),
   * `'none'`, or a function that returns what to keep (undefined keeps nothing). Never the address
   * itself unless such a function returns it.
   */
  clientAddress?: 'truncate' | 'hash' | 'none' | ((address: string) => string | undefined)
  /** Keep the request's `User-Agent` header (its first 256 characters). Default true. */
  userAgent?: boolean
}

/** The metadata option after checking. @internal */
export interface ParsedMetadata {
  /** What to keep of an address, or undefined to keep nothing. */
  readonly client: (address: string) => string | undefined
  readonly userAgent: boolean
}

/** What one session's record holds under {@link META_KEY}: short names, as it is stored with every session. */
interface StoredMeta {
  /** Created, ms since the epoch. */
  c: number
  ua?: string
  ip?: string
}

/** What the stored metadata and the cookie say about a session. */
export interface SessionFacts {
  readonly createdAt: Date | null
  readonly lastActiveAt: Date | null
  readonly expiresAt: Date | null
  readonly userAgent: string | null
  readonly client: string | null
}

/**
 * Checks the `metadata` option; a problem is pushed onto `problems` (the option checker's list).
 * `keys` are the secrets a hashed address is keyed by.
 */
export function parseMetadata(value: unknown, keys: readonly Secret[] | undefined, problems: string[]): ParsedMetadata | undefined {
  if (value === undefined || value === false) return undefined
  if (value !== true && (value === null || typeof value !== 'object')) {
    problems.push('option "metadata" must be true, false or { clientAddress, userAgent }')
    return undefined
  }
  const given = value === true ? {} : (value as SessionMetadataOptions)
  const mode = given.clientAddress ?? 'truncate'
  if (given.userAgent !== undefined && typeof given.userAgent !== 'boolean') problems.push('option "metadata.userAgent" must be true or false')
  let client: ParsedMetadata['client']
  if (typeof mode === 'function') client = mode
  else if (mode === 'truncate') client = truncatedAddress
  else if (mode === 'none') client = () => undefined
  else if (mode === 'hash') {
    const first = keys?.[0]
    if (first === undefined) {
      problems.push('option "metadata.clientAddress": \'hash\' needs the secret option (its key is derived from the secret)')
      return undefined
    }
    const key = derivedKey(first, 'client address v1')
    client = (address) => createHmac('sha256', key).update(address).digest('base64url').slice(0, 22)
  } else {
    problems.push(`option "metadata.clientAddress" must be 'truncate', 'hash', 'none' or a function (got ${JSON.stringify(mode)})`)
    return undefined
  }
  return { client, userAgent: given.userAgent ?? true }
}

// A salt of its own keeps these keys apart from every other use of the same secret (signing, ids at rest).
const SALT = Buffer.from('sessionkit session metadata', 'utf8')

/** A key for one purpose (`info`), derived from a secret: the same in every process that has the secret. */
export function derivedKey(secret: Secret, info: string): KeyObject {
  const ikm = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret
  return createSecretKey(Buffer.from(hkdfSync('sha256', ikm, SALT, info, 32)))
}

/** An IPv4 address's /24 or an IPv6 address's /48; an address in neither form is kept as nothing. */
export function truncatedAddress(address: string): string | undefined {
  // An IPv4 client of a dual-stack server arrives as ::ffff:a.b.c.d.
  const v4 = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`
  if (!isIPv6(address)) return undefined
  const [head = '', tail = ''] = address.split('::')
  const front = head === '' ? [] : head.split(':')
  const back = tail === '' ? [] : tail.split(':')
  // The groups a '::' stands for are zeros; only the first three groups are kept.
  const groups = address.includes('::') ? [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back] : front
  return `${groups
    .slice(0, 3)
    .map((group) => group.replace(/^0+(?=.)/, '').toLowerCase())
    .join(':')}::/48`
}

/**
 * Stamps a session made in this request with its metadata. Called once per new session, before its
 * snapshot is taken, so that the metadata is part of what is compared and a session no one changed is
 * still not modified.
 */
export function stampSession(session: Session, facts: RequestFacts, metadata: ParsedMetadata): void {
  const meta: StoredMeta = { c: Date.now() }
  if (metadata.userAgent) {
    const agent = facts.headerValue('user-agent')
    if (agent !== undefined && agent !== '') meta.ua = agent.slice(0, USER_AGENT_LIMIT)
  }
  const address = facts.clientAddress()
  const client = address === undefined ? undefined : metadata.client(address)
  if (typeof client === 'string' && client !== '') meta.ip = client
  ;(session as unknown as Record<string, unknown>)[META_KEY] = meta
}

/**
 * What a stored record says about its session. A value under {@link META_KEY} that is not what
 * sessionkit stamps (a session from before the option, data an app put there) counts as none.
 * `lastActiveAt` is when the expiry last moved (`expires - maxAge`): a touch or a save moves it, so it is
 * as fresh as the touch rules (`touchAfter`) let it be; a cookie without `maxAge` has none.
 */
export function factsOf(record: Record<string, unknown>): SessionFacts {
  const raw = record[META_KEY] as Partial<StoredMeta> | null | undefined
  const meta = raw !== null && typeof raw === 'object' && typeof raw.c === 'number' ? (raw as StoredMeta) : undefined
  const cookie = (record['cookie'] ?? {}) as { expires?: unknown; originalMaxAge?: unknown }
  const expires = cookie.expires instanceof Date || typeof cookie.expires === 'string' ? new Date(cookie.expires) : null
  const expiresAt = expires !== null && !Number.isNaN(expires.getTime()) ? expires : null
  const lifetime = cookie.originalMaxAge
  const lastActiveAt = expiresAt !== null && typeof lifetime === 'number' && Number.isFinite(lifetime) ? new Date(expiresAt.getTime() - lifetime) : null
  return {
    createdAt: meta === undefined ? null : new Date(meta.c),
    lastActiveAt,
    expiresAt,
    userAgent: typeof meta?.ua === 'string' ? meta.ua : null,
    client: typeof meta?.ip === 'string' ? meta.ip : null,
  }
}
