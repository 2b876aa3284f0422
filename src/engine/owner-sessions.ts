import { createHmac, type KeyObject } from 'node:crypto'
import { configError } from '../errors.js'
import type { ParsedOptions } from '../options/session-options.js'
import { isOwnerCappedStore } from '../store/capabilities.js'
import { storeCall } from '../store/call.js'
import { ownerOf } from '../store/first-party.js'
import type { IdsAtRest } from '../store/hashed-ids.js'
import { indexSession } from '../store/owner-index.js'
import type { SessionRecord } from '../store/store.js'
import type { RequestFacts } from './adapter.js'
import { derivedKey, factsOf, stampSession, type SessionFacts } from './metadata.js'
import type { Session } from './session.js'
import type { Snapshot } from './snapshot.js'
import { destroySession, type StoreAccess } from './store-io.js'
import type { WriteDone } from './write-queue.js'

/**
 * One owner's sessions as an account page sees them: listed with their metadata and a handle each,
 * ended one by one by handle, and capped at `maxSessionsPerOwner`. Everything here works in store keys
 * (with `hashIds`, hashes of the ids), which is all the owner index and the store hold. @internal
 */

// The store mode's index step is done here too: its import stays one line in store-mode.ts.
export { unindexSession } from '../store/owner-index.js'

/** One session of an owner, as `sessionsOf(owner, { details: true })` lists it. */
export interface SessionInfo extends SessionFacts {
  /**
   * Names the session for `endSession(owner, handle)`: a keyed hash of its store key, never its id, so a
   * page that lists it gives nothing a cookie could carry. Stable while the secret stays the same.
   */
  readonly handle: string
  /** Whether this is the session of the request passed as `current`. */
  readonly current: boolean
}

/** The options of `sessionsOf(owner, options)` that ask for details. */
export interface SessionDetailsOptions {
  /** List each session with its metadata and handle, not only its store key. */
  readonly details: true
  /** The request (Express's `req`, the Web API's handle) or session id whose session is marked `current`. */
  readonly current?: string | { readonly sessionID?: unknown }
}

/** What the owner's sessions need of `session()`: its options, the store below `hashIds`, and the listing of store keys. */
export class OwnerSessions {
  readonly #config: ParsedOptions
  readonly #atRest: IdsAtRest
  readonly #keysOf: (owner: string) => Promise<string[]>
  readonly #access: StoreAccess
  #handleKey: KeyObject | undefined
  /** The cap in steps running for each owner: the next one waits, so that it sees what the last one ended. */
  readonly #capping = new Map<string, Promise<void>>()

  constructor(config: ParsedOptions, atRest: IdsAtRest, keysOf: (owner: string) => Promise<string[]>) {
    this.#config = config
    this.#atRest = atRest
    this.#keysOf = keysOf
    this.#access = { store: atRest.innerStore, timeoutMs: config.storeTimeout }
  }

  /** The handle of the session stored under `key`. */
  handleOf(key: string): string {
    if (this.#handleKey === undefined) {
      const secret = this.#config.secrets?.[0] ?? this.#config.hashIdKeys?.[0]
      if (secret === undefined) throw configError('session handles need the secret option (their key is derived from it)')
      this.#handleKey = derivedKey(secret, 'session handle v1')
    }
    return createHmac('sha256', this.#handleKey).update(key).digest('base64url').slice(0, 22)
  }

  /** The live sessions of `owner` with their metadata, the most recently active first. */
  async details(owner: string, current: SessionDetailsOptions['current']): Promise<SessionInfo[]> {
    const keys = await this.#keysOf(owner)
    const currentId = typeof current === 'string' ? current : current?.sessionID
    const currentKey = typeof currentId === 'string' && currentId !== '' ? this.#atRest.keysOf(currentId)[0] : undefined
    const records = await Promise.all(keys.map((key) => this.#read(key)))
    const listed: SessionInfo[] = []
    keys.forEach((key, at) => {
      const record = records[at]
      // An index entry may outlive its session (expired on its own): it is no session to list.
      if (record !== null && record !== undefined) listed.push({ handle: this.handleOf(key), current: key === currentKey, ...factsOf(record) })
    })
    return listed.sort((a, b) => activityOf(b) - activityOf(a))
  }

  /** Ends the session of `owner` that `handle` names; false when none of the owner's sessions has it. */
  async end(owner: string, handle: string): Promise<boolean> {
    if (typeof handle !== 'string' || handle === '') return false
    const key = (await this.#keysOf(owner)).find((candidate) => this.handleOf(candidate) === handle)
    if (key === undefined) return false
    await this.#destroy(owner, key)
    return true
  }

  /**
   * Ends the least recently active sessions of `owner` beyond the cap, never `sid` (the one just saved).
   * A store that keeps the owner index itself does it in one atomic step, so that across processes no
   * interleaving of two saves leaves more than the cap alive; otherwise in steps, one owner's caps one
   * after another in this process. Every save of a session new to its owner caps after indexing it, so
   * the last cap sees every session the others indexed: across processes, too, none leaves more than
   * the cap, though two at once may end one session too many.
   */
  async cap(owner: string, sid: string): Promise<void> {
    const max = this.#config.maxSessionsPerOwner
    const keep = this.#atRest.keysOf(sid)[0] as string
    const store = this.#atRest.innerStore
    if (this.#atRest.innerIndex === undefined && isOwnerCappedStore(store) && store.indexBy === this.#config.indexBy) {
      await storeCall(store, 'capOwner', [owner, max, keep], this.#access)
      return
    }
    const before = this.#capping.get(owner)
    const capped = (before ?? Promise.resolve()).catch(() => undefined).then(() => this.#capInSteps(owner, max, keep))
    this.#capping.set(owner, capped)
    try {
      await capped
    } finally {
      if (this.#capping.get(owner) === capped) this.#capping.delete(owner)
    }
  }

  async #capInSteps(owner: string, max: number, keep: string): Promise<void> {
    const keys = await this.#keysOf(owner)
    if (keys.length <= max) return
    const others = await Promise.all(keys.filter((key) => key !== keep).map(async (key) => ({ key, record: await this.#read(key) })))
    const live = others.filter((other) => other.record !== null).map((other) => ({ key: other.key, at: activityOf(factsOf(other.record as SessionRecord)) }))
    live.sort((a, b) => b.at - a.at)
    for (const { key } of live.slice(Math.max(0, max - 1))) await this.#destroy(owner, key)
  }

  async #read(key: string): Promise<SessionRecord | null> {
    const record = await storeCall<SessionRecord | null | undefined>(this.#access.store, 'get', [key], this.#access)
    return record !== null && typeof record === 'object' ? record : null
  }

  /** Through this process's write order, as `destroySessionsOf`: a request here that loaded it cannot write it back. */
  async #destroy(owner: string, key: string): Promise<void> {
    await destroySession(this.#access, key)
    await this.#atRest.innerIndex?.remove(owner, key)
  }
}

/** When a session was last known active, for ordering: its last expiry move, else its creation, else never. */
function activityOf(facts: SessionFacts): number {
  return (facts.lastActiveAt ?? facts.createdAt)?.getTime() ?? 0
}

/** What the store mode's write step needs of its request. */
export interface OwnedWrite {
  readonly options: ParsedOptions
  readonly context: { readonly owners?: OwnerSessions | undefined }
  /** The id the client's cookie named. */
  readonly cookieId: string | undefined
  readonly snapshot: Snapshot | undefined
}

/**
 * After a session was written: its owner index entry (with `index`), then the cap per owner when the
 * session is new to its owner (made or regenerated in this request, or given its owner now). Calls
 * `done` before it returns when there is neither, so that a store that answers at once still does.
 */
export function afterWrite(request: OwnedWrite, target: Session, done: WriteDone<void>): void {
  const { options } = request
  const indexed = options.index !== undefined && options.indexBy !== undefined
  const owners = options.maxSessionsPerOwner > 0 ? request.context.owners : undefined
  const owner = owners === undefined ? null : ownerOf(target as unknown as SessionRecord, options.indexBy)
  const capping = owner !== null && newToOwner(request, target, owner)
  if (!indexed && !capping) return done(null)
  const work = async (): Promise<void> => {
    if (indexed) await indexSession(options, target)
    if (capping) await owners?.cap(owner, target.id)
  }
  work().then(() => done(null), done)
}

/** Whether `owner` is new to the session: not the one the client brought, or it had another owner when loaded. */
function newToOwner(request: OwnedWrite, target: Session, owner: string): boolean {
  if (target.id !== request.cookieId) return true
  const found = request.snapshot
  if (found === undefined || found.id !== target.id) return true
  // Only saves of a session the client brought get here: a change of owner without regenerate().
  return ownerOf(JSON.parse(found.json) as SessionRecord, request.options.indexBy) !== owner
}

/**
 * A session made in this request, stamped with its metadata when the option is on, and its snapshot
 * taken again with it: the stamp is not a change, so an untouched new session is still not saved.
 */
export function stamped(request: { readonly options: ParsedOptions; readonly exchange: RequestFacts; takeSnapshot(session: Session): unknown }, created: Session): Session {
  const { metadata } = request.options
  if (metadata === undefined) return created
  stampSession(created, request.exchange, metadata)
  request.takeSnapshot(created)
  return created
}
