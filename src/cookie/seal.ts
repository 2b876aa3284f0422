import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import type { Secret } from './signature.js'

/**
 * Sealing for cookie sessions: AES-256-GCM with keys derived from the app's secrets.
 *
 * A sealed value is base64url of
 *
 *     version (1 byte) | key id (4 bytes) | IV (12 random bytes) | ciphertext | tag (16 bytes)
 *
 * The version, the key id and the cookie's name are authenticated as additional data, so a value
 * cannot be relabelled with another key id or moved into a cookie of another name.
 */

/** A key derived from one secret: `id` lets `open` pick the right key without trial decryption. */
export interface SealKey {
  readonly id: Buffer
  readonly key: Buffer
}

const VERSION = 1
const KEY_ID_BYTES = 4
const IV_BYTES = 12
const TAG_BYTES = 16
const HEADER_BYTES = 1 + KEY_ID_BYTES + IV_BYTES
/** Anything longer cannot have come from us (the middleware refuses to send more than 4096 bytes). */
const MAX_SEALED_CHARS = 8192
const BASE64URL = /^[A-Za-z0-9_-]+$/
// A fixed salt keeps derivation deterministic across processes; it separates these keys from any
// other use of the same secret (session() signs ids with it directly under HMAC).
const SALT = Buffer.from('sessionkit cookie-session', 'utf8')

/**
 * One key per secret, in order: the first seals, all open. HKDF-SHA256 with distinct `info` gives
 * the encryption key and an unrelated key id, so the id reveals nothing about the key.
 */
export function deriveKeys(secrets: readonly Secret[]): SealKey[] {
  return secrets.map((secret) => {
    const ikm = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret
    return {
      key: Buffer.from(hkdfSync('sha256', ikm, SALT, 'aes-256-gcm key v1', 32)),
      id: Buffer.from(hkdfSync('sha256', ikm, SALT, 'key id v1', KEY_ID_BYTES)),
    }
  })
}

/** Encrypts and authenticates `plaintext` with `key`, bound to `context` (the cookie name). */
export function seal(plaintext: string, key: SealKey, context: string): string {
  const header = Buffer.alloc(HEADER_BYTES)
  header[0] = VERSION
  key.id.copy(header, 1)
  randomBytes(IV_BYTES).copy(header, 1 + KEY_ID_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key.key, header.subarray(1 + KEY_ID_BYTES), { authTagLength: TAG_BYTES })
  cipher.setAAD(additionalData(header, context))
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return Buffer.concat([header, body, cipher.getAuthTag()]).toString('base64url')
}

/** What opening a sealed value gave: the plaintext and which key opened it (0: the one that seals now), or why it did not open. */
export type Opened = { readonly text: string; readonly keyIndex: number } | { readonly failure: 'malformed' | 'unknown-key' | 'bad-seal' }

/**
 * The plaintext of a value `seal` made with one of `keys` for the same `context`, or `undefined`
 * for anything else (garbage, truncated, tampered, another key, another cookie name). Never throws.
 */
export function open(sealed: unknown, keys: readonly SealKey[], context: string): string | undefined {
  const opened = openSealed(sealed, keys, context)
  return 'text' in opened ? opened.text : undefined
}

/**
 * Like {@link open}, saying which key opened the value (a cookie opened by an older secret is sealed
 * again with the first), or why nothing did: `malformed` (not a sealed value of this version),
 * `unknown-key` (no secret derives its key id), `bad-seal` (a known key id, but it does not authenticate).
 * `maxChars` is raised only for a value that was split over several cookies.
 */
export function openSealed(sealed: unknown, keys: readonly SealKey[], context: string, maxChars = MAX_SEALED_CHARS): Opened {
  if (typeof sealed !== 'string' || sealed.length > maxChars || !BASE64URL.test(sealed)) return { failure: 'malformed' }
  const bytes = Buffer.from(sealed, 'base64url')
  // Node's decoder tolerates stray padding bits; re-encoding must give the same text, or two
  // different cookie values would open to the same session.
  if (bytes.length < HEADER_BYTES + TAG_BYTES || bytes[0] !== VERSION || bytes.toString('base64url') !== sealed) return { failure: 'malformed' }
  const header = bytes.subarray(0, HEADER_BYTES)
  const keyId = bytes.subarray(1, 1 + KEY_ID_BYTES)
  const iv = bytes.subarray(1 + KEY_ID_BYTES, HEADER_BYTES)
  const body = bytes.subarray(HEADER_BYTES, bytes.length - TAG_BYTES)
  const tag = bytes.subarray(bytes.length - TAG_BYTES)
  const aad = additionalData(header, context)
  let knownKey = false
  for (const [keyIndex, key] of keys.entries()) {
    // Two secrets could share a 4-byte id; every matching key is tried, never a non-matching one.
    if (!key.id.equals(keyId)) continue
    knownKey = true
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_BYTES })
      decipher.setAAD(aad)
      decipher.setAuthTag(tag)
      return { text: Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8'), keyIndex }
    } catch {
      // Authentication failed under this key; try the next matching one.
    }
  }
  return { failure: knownKey ? 'bad-seal' : 'unknown-key' }
}

function additionalData(header: Buffer, context: string): Buffer {
  return Buffer.concat([header.subarray(0, 1 + KEY_ID_BYTES), Buffer.from(context, 'utf8')])
}
