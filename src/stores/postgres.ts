/**
 * `sessionkit/postgres`: a session store in a PostgreSQL table with the capabilities of
 * `ConditionalStore` (writes conditional on a version column, load-and-touch as one `UPDATE …
 * RETURNING`) and, with `indexBy`, an owner column written by the same statement as the session. It
 * takes a `pg` Pool the app made, and never loads `pg` itself.
 *
 * ```js
 * const { PostgresStore } = require('sessionkit/postgres')
 * app.use(session({ store: new PostgresStore({ pool, createTable: true, indexBy: 'userId' }), secret }))
 * ```
 *
 * @module sessionkit/postgres
 */
import createDebug from 'debug'
import type { ConditionalStore, ConditionalWriteOutcome, VersionedRecord } from '../capabilities.js'
import { Store, type SessionRecord, type StoreCallback } from '../store.js'
import { timeOf } from '../touch-expiry.js'
import { statementsFor, type Statements } from './postgres-sql.js'
import { answer, newVersion, ownerOf, partsOf } from './shared.js'

const debug = createDebug('sessionkit:postgres')

/** What the store needs of a `pg` Pool (or Client): parameterized queries. */
export interface PgPool {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>
}

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** A `pg` Pool; the app creates and ends it. */
  pool: PgPool
  /** The table. Default `'sessionkit_sessions'`. */
  tableName?: string
  /** The table's schema. Default: the connection's search_path. */
  schemaName?: string
  /**
   * Create the table and its indexes when missing (safe when several processes start at once). The
   * table: `sid text PRIMARY KEY, data jsonb NOT NULL, expires timestamptz NOT NULL, version bigint
   * NOT NULL, owner text`, indexed on `expires` and `owner`. Default false.
   */
  createTable?: boolean
  /** Lifetime in ms of sessions whose cookie has no expiry (browser-session cookies). Default one day. */
  ttl?: number
  /** Keep an owner index: the session key whose value goes in the `owner` column (e.g. `'userId'`). */
  indexBy?: string
  /** How often, in ms, expired rows are deleted. Default 60000; 0 turns it off. */
  pruneInterval?: number
  /** Rows deleted per statement while pruning. Default 500. */
  pruneBatch?: number
}

// A pruning pass stops after this many batches and leaves the rest to the next pass, so one pass never
// holds a pool connection for long.
const PRUNE_BATCHES_PER_PASS = 20

/**
 * Sessions in a PostgreSQL table, one row each. Every method takes a callback or, without one, returns
 * a Promise. Round trips: get, set, touch, destroy, getVersioned and a successful setIfVersion one
 * each; a setIfVersion that does not write takes a second, to tell 'gone' from 'changed'.
 */
export class PostgresStore extends Store implements ConditionalStore {
  /** The session key the owner column is filled from, or undefined without an index. */
  readonly indexBy: string | undefined
  readonly #pool: PgPool
  readonly #sql: Statements
  readonly #ttl: number
  readonly #ready: Promise<void>
  readonly #pruneBatch: number
  #timer: NodeJS.Timeout | undefined
  #pruning: Promise<number> | undefined

  constructor(options: PostgresStoreOptions) {
    super()
    if (options === null || typeof options !== 'object' || typeof options.pool?.query !== 'function') {
      throw new TypeError('sessionkit/postgres: new PostgresStore({ pool }) needs a pg Pool')
    }
    this.#pool = options.pool
    this.#sql = statementsFor(options.tableName ?? 'sessionkit_sessions', options.schemaName)
    this.#ttl = options.ttl ?? 86_400_000
    this.#pruneBatch = options.pruneBatch ?? 500
    if (!(this.#ttl > 0)) throw new TypeError('sessionkit/postgres: ttl must be a number of milliseconds, more than 0')
    if (!(Number.isInteger(this.#pruneBatch) && this.#pruneBatch >= 1)) throw new TypeError('sessionkit/postgres: pruneBatch must be a whole number, 1 or more')
    if (options.indexBy !== undefined && (typeof options.indexBy !== 'string' || options.indexBy === '')) {
      throw new TypeError('sessionkit/postgres: indexBy must be the name of a session key')
    }
    this.indexBy = options.indexBy
    this.#ready = options.createTable === true ? this.#pool.query(this.#sql.create).then(() => undefined) : Promise.resolve()
    // Every call awaits it and fails with its error; this keeps it from counting as unhandled meanwhile.
    this.#ready.catch((err: unknown) => debug('creating the table failed: %O', err))
    const interval = options.pruneInterval ?? 60_000
    if (!(interval >= 0)) throw new TypeError('sessionkit/postgres: pruneInterval must be a number of milliseconds, 0 or more')
    if (interval > 0) {
      this.#timer = setInterval(() => {
        this.prune().catch((err: unknown) => debug('pruning failed: %O', err))
      }, interval)
      this.#timer.unref()
    }
  }

  override get(sid: string, callback?: StoreCallback<SessionRecord | null>): Promise<SessionRecord | null> | undefined {
    return answer(
      this.#read(sid).then((found) => found?.record ?? null),
      callback,
    )
  }

  override set(sid: string, session: SessionRecord, callback?: StoreCallback): Promise<void> | undefined {
    const work = this.#query(this.#sql.set, this.#row(sid, session)).then(() => undefined)
    return answer(work, callback)
  }

  /** See {@link ConditionalStore.setIfVersion}: one statement that writes only at `expected`. */
  setIfVersion(sid: string, session: SessionRecord, expected: string | null, callback?: StoreCallback<ConditionalWriteOutcome>): Promise<ConditionalWriteOutcome> | undefined {
    const work = (async (): Promise<ConditionalWriteOutcome> => {
      const row = this.#row(sid, session)
      const now = new Date()
      // A version this store never gave (not a bigint) matches no row; the column could not even compare it.
      const comparable = expected === null || /^[0-9]{1,19}$/.test(expected)
      const result = !comparable
        ? { rows: [] }
        : expected === null
          ? await this.#query(this.#sql.insertIfAbsent, [...row, now])
          : await this.#query(this.#sql.updateIfVersion, [...row, expected, now])
      const written = result.rows[0]
      if (written !== undefined) return { written: true, version: String(written['version']) }
      // Not written: read what is there, only to say why (the write itself was atomic).
      const current = await this.#read(sid)
      if (current === null) return expected === null ? { written: false, reason: 'changed' } : { written: false, reason: 'gone' }
      return { written: false, reason: 'changed', current }
    })()
    return answer(work, callback)
  }

  /** See {@link ConditionalStore.getVersioned}: with touch, one `UPDATE … RETURNING`. */
  getVersioned(sid: string, options: { touch: boolean }, callback?: StoreCallback<VersionedRecord | null>): Promise<VersionedRecord | null> | undefined {
    const work = options?.touch
      ? this.#query(this.#sql.loadAndTouch, [sid, new Date(), this.#ttl]).then((result) => versionedOf(result.rows[0]))
      : this.#read(sid)
    return answer(work, callback)
  }

  override touch(sid: string, session: SessionRecord, callback?: StoreCallback): Promise<void> | undefined {
    const { cookie } = partsOf(session)
    const work = this.#query(this.#sql.touch, [sid, this.#expiryOf(cookie), JSON.stringify(cookie), new Date()]).then(() => undefined)
    return answer(work, callback)
  }

  override destroy(sid: string, callback?: StoreCallback): Promise<void> | undefined {
    return answer(
      this.#query(this.#sql.destroy, [sid]).then(() => undefined),
      callback,
    )
  }

  /** The ids of the live sessions of `owner`; only with `indexBy`. One round trip. */
  idsOf(owner: string, callback?: StoreCallback<string[]>): Promise<string[]> | undefined {
    const work =
      this.indexBy === undefined
        ? Promise.reject(new TypeError('sessionkit/postgres: idsOf() needs the indexBy option'))
        : this.#query(this.#sql.idsOf, [String(owner), new Date()]).then((result) => result.rows.map((row) => String(row['sid'])))
    return answer(work, callback)
  }

  override ids(callback?: StoreCallback<string[]>): Promise<string[]> | undefined {
    const work = this.#query(this.#sql.ids, [new Date()]).then((result) => result.rows.map((row) => String(row['sid'])))
    return answer(work, callback)
  }

  /** Every live session, keyed by id. */
  override all(callback?: StoreCallback<Record<string, SessionRecord>>): Promise<Record<string, SessionRecord>> | undefined {
    const work = this.#query(this.#sql.all, [new Date()]).then((result) => {
      const sessions = Object.create(null) as Record<string, SessionRecord>
      for (const row of result.rows) sessions[String(row['sid'])] = recordOf(row)
      return sessions
    })
    return answer(work, callback)
  }

  override length(callback?: StoreCallback<number>): Promise<number> | undefined {
    const work = this.#query(this.#sql.length, [new Date()]).then((result) => Number(result.rows[0]?.['count'] ?? 0))
    return answer(work, callback)
  }

  override clear(callback?: StoreCallback): Promise<void> | undefined {
    return answer(
      this.#query(this.#sql.clear, []).then(() => undefined),
      callback,
    )
  }

  /**
   * Deletes expired rows in batches of `pruneBatch`, one statement at a time, at most a few batches a
   * pass; resolves with how many went. A pass already running is joined, not started twice.
   */
  prune(): Promise<number> {
    this.#pruning ??= (async () => {
      let removed = 0
      try {
        for (let batch = 0; batch < PRUNE_BATCHES_PER_PASS; batch++) {
          const result = await this.#query(this.#sql.prune, [this.#pruneBatch])
          removed += result.rowCount ?? 0
          if ((result.rowCount ?? 0) < this.#pruneBatch) break
        }
      } finally {
        this.#pruning = undefined
      }
      return removed
    })()
    return this.#pruning
  }

  /** Stops pruning and resolves once a pass in progress is done; the pool stays the app's to end. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#pruning?.catch(() => undefined)
  }

  async #query(text: string, values: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }> {
    await this.#ready
    return this.#pool.query(text, values)
  }

  async #read(sid: string): Promise<VersionedRecord | null> {
    return versionedOf((await this.#query(this.#sql.get, [sid, new Date()])).rows[0])
  }

  /** The values $1..$5 of a write: sid, data (with the cookie), expires, a new version, owner. */
  #row(sid: string, session: SessionRecord): unknown[] {
    const { data, cookie } = partsOf(session)
    return [sid, JSON.stringify({ ...data, cookie }), this.#expiryOf(cookie), newVersion(), ownerOf(session, this.indexBy)]
  }

  #expiryOf(cookie: SessionRecord['cookie']): Date {
    return new Date(timeOf(cookie.expires) ?? Date.now() + this.#ttl)
  }
}

/** A row as a session. The expires column is the cookie's expiry (a load-and-touch moves only it). */
function recordOf(row: Record<string, unknown>): SessionRecord {
  const record = (typeof row['data'] === 'string' ? JSON.parse(row['data']) : row['data']) as SessionRecord
  if (record.cookie === null || typeof record.cookie !== 'object') record.cookie = { originalMaxAge: null }
  if (record.cookie.expires !== null && record.cookie.expires !== undefined) record.cookie.expires = new Date(row['expires'] as Date)
  return record
}

function versionedOf(row: Record<string, unknown> | undefined): VersionedRecord | null {
  return row === undefined ? null : { record: recordOf(row), version: String(row['version']) }
}
