import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto'
import { Cookie } from '../cookie/cookie.js'
import type { SessionIndex } from './owner-index.js'
import { Store, type SessionRecord, type SessionStore } from './store.js'
import { storeCall } from './call.js'
import { shareWrites } from '../engine/write-queue.js'
import type { Secret } from '../cookie/signature.js'

/**
 * Session ids at rest (`hashIds`). The id is the session's only secret, so a store that holds it as
 * its key lets anyone who reads a dump or a backup replay every session. With `hashIds` the store and
 * the owner index hold HMAC-SHA256(key, id) instead: the cookie carries the id, and only a server
 * holding the key can go from one to the other. It works by wrapping the store, so it works with
 * every store. @internal
 */

/** The store and index the middleware uses, and what "log out everywhere" needs to go below them. */
export interface IdsAtRest {
  /** Takes session ids, as every store does; hashes them on the way in. */
  readonly store: SessionStore
  /** Takes session ids; hashes them on the way in. */
  readonly index: SessionIndex | undefined
  /** The store as it is: its keys are what `sessionsOf` returns. */
  readonly innerStore: SessionStore
  readonly innerIndex: SessionIndex | undefined
  /** Every key the session `sid` may be stored under, the one it is written under first. */
  keysOf(sid: string): string[]
}

// A fixed salt separates these keys from every other use of the same secret (signing, sealing).
const SALT = Buffer.from('sessionkit ids at rest', 'utf8')

/** The keys of a store key, one per secret: the same secret always gives the same key, in every process. */
function hashKeys(secrets: readonly Secret[]): KeyObject[] {
  return secrets.map((secret) => {
    const ikm = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret
    return createSecretKey(Buffer.from(hkdfSync('sha256', ikm, SALT, 'store key v1', 32)))
  })
}

/** The store key of `sid` under `key`: 43 base64url characters, safe as a file name or a Redis key. */
function storeKey(key: KeyObject, sid: string): string {
  return createHmac('sha256', key).update(sid).digest('base64url')
}

/**
 * The store and index for the options: as they are without `hashKeys`, wrapped with them. With
 * `migrate`, a session not found under its hashed key is looked for under its raw id (and under the
 * keys of the other secrets, for a rotation) and moved.
 */
export function idsAtRest(
  store: SessionStore,
  index: SessionIndex | undefined,
  indexBy: string | undefined,
  secrets: readonly Secret[] | undefined,
  migrate: boolean,
): IdsAtRest {
  if (secrets === undefined) return { store, index, innerStore: store, innerIndex: index, keysOf: (sid) => [sid] }
  const [first, ...older] = hashKeys(secrets) as [KeyObject, ...KeyObject[]]
  // One HMAC per id and request, not one per step: the store call, the write queue and its record of
  // destroys each ask for the key of the same id in turn.
  let lastId: string | undefined
  let lastKey = ''
  const keyOf = (sid: string): string => {
    if (sid !== lastId) {
      lastKey = storeKey(first, sid)
      lastId = sid
    }
    return lastKey
  }
  // Computed only when the current key misses (or for a destroy): each is an HMAC.
  const olderKeysOf = (sid: string): string[] => {
    const keys = older.map((key) => storeKey(key, sid))
    if (migrate) keys.push(sid)
    return keys
  }
  const keysOf = (sid: string): string[] => [keyOf(sid), ...olderKeysOf(sid)]
  const mover = { store, index, indexBy, keyOf, olderKeysOf, keysOf }
  const wrapped = hashedStore(mover)
  // The wrapper's writes are the inner store's under the hashed keys: a destroySessionsOf, which works
  // in store keys below the wrapper, then holds against a request writing through it.
  shareWrites(wrapped, store, keyOf)
  return { store: wrapped, index: index === undefined ? undefined : hashedIndex(index, mover), innerStore: store, innerIndex: index, keysOf }
}

interface Mover {
  readonly store: SessionStore
  readonly index: SessionIndex | undefined
  readonly indexBy: string | undefined
  /** The key a session is written under. */
  keyOf(sid: string): string
  /** The keys it may have been written under before: older secrets', and the raw id. */
  olderKeysOf(sid: string): string[]
  keysOf(sid: string): string[]
}


// The inner store is called without a timeout (storeCall's default): the middleware's own call around
// the wrapper has it.

/** A store method's callback, whatever it answers with. */
type Callback = (err?: unknown, result?: unknown) => void

function answer(work: Promise<unknown>, callback: Callback | undefined): void {
  work.then(
    (result) => callback?.(null, result),
    (err: unknown) => callback?.(err),
  )
}

/** A miss: nothing stored, or session-file-store's ENOENT. */
function isMiss(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause
  return cause?.code === 'ENOENT'
}

async function getAt(store: SessionStore, key: string): Promise<SessionRecord | null> {
  try {
    return (await storeCall<SessionRecord | null | undefined>(store, 'get', [key])) ?? null
  } catch (err) {
    if (isMiss(err)) return null
    throw err
  }
}

async function destroyAt(store: SessionStore, key: string): Promise<void> {
  try {
    await storeCall(store, 'destroy', [key])
  } catch (err) {
    if (!isMiss(err)) throw err
  }
}

/** The session under its hashed key, or under an older key, which is then moved to the hashed one. */
async function lookup(mover: Mover, sid: string): Promise<SessionRecord | null> {
  const current = mover.keyOf(sid)
  const found = await getAt(mover.store, current)
  if (found !== null) return found
  for (const key of mover.olderKeysOf(sid)) {
    const record = await getAt(mover.store, key)
    if (record === null || typeof record !== 'object' || record.cookie === null || typeof record.cookie !== 'object') continue
    await moveRecord(mover, record, key, current)
    return record
  }
  return null
}

async function moveRecord(mover: Mover, record: SessionRecord, from: string, to: string): Promise<void> {
  const cookie = new Cookie(record.cookie)
  await storeCall(mover.store, 'set', [to, { ...record, cookie }])
  const owner = mover.indexBy === undefined ? undefined : record[mover.indexBy]
  if (mover.index !== undefined && owner !== undefined && owner !== null) await mover.index.add(String(owner), to, cookie.expires)
  await destroyAt(mover.store, from)
  if (mover.index !== undefined && owner !== undefined && owner !== null) await mover.index.remove(String(owner), from)
}

/** The wrapped store: a `Store` (so `req.sessionStore.load()` works), with exactly the methods the inner store has. */
function hashedStore(mover: Mover): SessionStore {
  const inner = mover.store as SessionStore & Record<string, unknown>
  const at = mover.keyOf
  const wrapped: Record<string, unknown> = Object.create(Store.prototype)
  Object.assign(wrapped, {
    get: (sid: string, callback?: Callback) => answer(lookup(mover, sid), callback),
    set: (sid: string, record: SessionRecord, callback?: Callback) => answer(storeCall(inner, 'set', [at(sid), record]), callback),
    // Every key goes, so that no copy under an older key can come back after a logout; a key with nothing under it is no error.
    destroy: (sid: string, callback?: Callback) => answer(Promise.all(mover.keysOf(sid).map((key) => destroyAt(inner, key))).then(() => undefined), callback),
    on: (event: string, listener: (...args: unknown[]) => void) => {
      inner.on?.(event, listener)
      return wrapped
    },
  })
  if (typeof inner.touch === 'function') wrapped['touch'] = (sid: string, record: SessionRecord, callback?: Callback) => answer(storeCall(inner, 'touch', [at(sid), record]), callback)
  // Listing gives store keys, which is all the store knows.
  for (const method of ['all', 'ids', 'length', 'clear'] as const) {
    if (typeof inner[method] === 'function') wrapped[method] = (callback?: Callback) => answer(storeCall(inner, method, []), callback)
  }
  if (typeof inner['getVersioned'] === 'function') {
    wrapped['getVersioned'] = (sid: string, options: { touch: boolean }, callback?: Callback) => {
      const read = (): Promise<unknown> => storeCall(inner, 'getVersioned', [at(sid), options])
      // Not under the hashed key: a plain lookup moves an older copy there, and the versioned read follows.
      answer(read().then((found) => (found !== null && found !== undefined ? found : lookup(mover, sid).then((moved) => (moved === null ? null : read())))), callback)
    }
  }
  if (typeof inner['setIfVersion'] === 'function') {
    wrapped['setIfVersion'] = (sid: string, record: SessionRecord, expected: string | null, callback?: Callback) =>
      answer(storeCall(inner, 'setIfVersion', [at(sid), record, expected]), callback)
  }
  if (typeof inner['indexBy'] === 'string' && typeof inner['idsOf'] === 'function') {
    wrapped['indexBy'] = inner['indexBy']
    wrapped['idsOf'] = (owner: string, callback?: Callback) => answer(storeCall(inner, 'idsOf', [owner]), callback)
  }
  return wrapped as unknown as SessionStore
}

/** The wrapped owner index: it holds store keys, as the store does. */
function hashedIndex(index: SessionIndex, mover: Mover): SessionIndex {
  return {
    add: (owner, sid, expiresAt) => index.add(owner, mover.keyOf(sid), expiresAt),
    remove: async (owner, sid) => {
      await Promise.all(mover.keysOf(sid).map((key) => index.remove(owner, key)))
    },
    ids: (owner) => index.ids(owner),
  }
}
