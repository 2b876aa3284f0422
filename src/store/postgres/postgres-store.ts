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
import { createHash } from 'node:crypto'
import createDebug from 'debug'
import type { ConditionalStore, ConditionalWriteOutcome, VersionedRecord } from '../capabilities.js'
import { Store, type SessionRecord, type StoreCallback } from '../store.js'
import { statementsFor, type Statements } from './sql.js'
import { escapedVersion, isEscapedVersion, storableJson, storableText, unescapedValue } from './text.js'
import { answer, newVersion, ownerOf, warnWithoutErrorListener, writePartsOf } from '../first-party.js'

const debug = createDebug('sessionkit:postgres')

/**
 * What the store needs of a `pg` Pool: parameterized queries. The Pool is the app's, and so are its
 * listeners: it needs an 'error' listener, or the first idle connection PostgreSQL closes ends the
 * process (the store warns once, at its first query, when it has none).
 */
export interface PgPool {
  /**
   * Runs one statement. With `preparedStatements` (the default) the store passes `pg`'s query config,
   * `{ name, text, values }`, as the first argument and no second one; otherwise `(text, values)`.
   */
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>
}

/** A connection checked out of a `pg` Pool, for the one transaction the store runs (the cap per owner). */
interface PgClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
  release(): void
}

/** A named statement as `pg` takes it: prepared once per connection, then run by name. */
interface NamedQuery {
  name: string
  text: string
  values: unknown[]
}

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** A `pg` Pool with an 'error' listener; the app creates and ends it. */
  pool: PgPool
  /** The table. Default `'sessionkit_sessions'`. */
  tableName?: string
  /** The table's schema. Default: the connection's search_path. */
  schemaName?: string
  /**
   * Create the table and its indexes when missing (safe when several processes start at once).
   * Started when the store is made; should that fail (PostgreSQL not up yet), the next call tries
   * again. The table: `sid text PRIMARY KEY, data jsonb NOT NULL, expires timestamptz NOT NULL,
   * version bigint NOT NULL, owner text`, indexed on `expires` and `owner`. Default false.
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
  /**
   * Send the store's statements as named prepared statements (`pg`'s `{ name, text, values }`):
   * PostgreSQL parses and plans each once per connection, and the text is not sent again. Set false
   * behind a pooler that does not keep prepared statements between transactions (PgBouncer in
   * transaction mode before 1.21 or without `max_prepared_statements`), or with a pool whose
   * `query()` takes only `(text, values)`. Default true.
   */
  preparedStatements?: boolean
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
  readonly #createTable: boolean
  // The table's creation while it is under way or once it succeeded; undefined before, and again after
  // a failure, so that a store made while PostgreSQL was down creates its table once it is back.
  #created: Promise<void> | undefined
  readonly #pruneBatch: number
  #timer: NodeJS.Timeout | undefined
  #pruning: Promise<number> | undefined
  #checkedPool = false
  // Each statement's name, by its text; undefined when statements are sent unnamed.
  readonly #names: Map<string, string> | undefined

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
    this.#createTable = options.createTable === true
    const prepared = options.preparedStatements ?? true
    if (typeof prepared !== 'boolean') throw new TypeError('sessionkit/postgres: preparedStatements must be true or false')
    this.#names = prepared ? namesOf(this.#sql) : undefined
    // Started now, so that the table is there by the first request; a failure is retried by that request.
    if (this.#createTable) this.#ready().catch(() => undefined)
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
      const now = new Date().toISOString()
      // A version this store never gave (not a bigint) matches no row; the column could not even compare it.
      const comparable = expected === null || /^-?[0-9]{1,19}$/.test(expected)
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
      ? this.#query(this.#sql.loadAndTouch, [sid, new Date().toISOString(), this.#ttl]).then((result) => versionedOf(result.rows[0]))
      : this.#read(sid)
    return answer(work, callback)
  }

  override touch(sid: string, session: SessionRecord, callback?: StoreCallback): Promise<void> | undefined {
    const parts = writePartsOf(session)
    const work = this.#query(this.#sql.touch, [sid, this.#expiryAt(parts.expires), parts.cookieJson, new Date().toISOString()]).then(() => undefined)
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
        : this.#query(this.#sql.idsOf, [storableText(String(owner)), new Date().toISOString()]).then((result) => result.rows.map((row) => String(row['sid'])))
    return answer(work, callback)
  }

  /**
   * Ends the least recently active live sessions of `owner` beyond `max`, never `keep`; only with
   * `indexBy`. With a Pool (that has `connect()`), in a transaction that holds a lock of the owner, so
   * that caps running at once in several processes each see what the others ended: four round trips;
   * without one, the DELETE alone, which never leaves more than `max` but may end one too many.
   */
  capOwner(owner: string, max: number, keep: string, callback?: StoreCallback<string[]>): Promise<string[]> | undefined {
    if (this.indexBy === undefined) return answer(Promise.reject(new TypeError('sessionkit/postgres: capOwner() needs the indexBy option')), callback)
    const owned = storableText(String(owner))
    const values = [owned, new Date().toISOString(), keep, max, this.#ttl]
    const sids = (result: { rows: Record<string, unknown>[] }): string[] => result.rows.map((row) => String(row['sid']))
    const connect = (this.#pool as { connect?: unknown }).connect
    if (typeof connect !== 'function') return answer(this.#query(this.#sql.capOwner, values).then(sids), callback)
    const work = (async (): Promise<string[]> => {
      if (this.#createTable) await this.#ready()
      const client = (await (connect as () => Promise<PgClient>).call(this.#pool)) as PgClient
      try {
        await client.query('BEGIN')
        await client.query(this.#sql.lockOwner, [owned])
        const ended = sids(await client.query(this.#sql.capOwner, values))
        await client.query('COMMIT')
        return ended
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw err
      } finally {
        client.release()
      }
    })()
    return answer(work, callback)
  }

  override ids(callback?: StoreCallback<string[]>): Promise<string[]> | undefined {
    const work = this.#query(this.#sql.ids, [new Date().toISOString()]).then((result) => result.rows.map((row) => String(row['sid'])))
    return answer(work, callback)
  }

  /** Every live session, keyed by id. */
  override all(callback?: StoreCallback<Record<string, SessionRecord>>): Promise<Record<string, SessionRecord>> | undefined {
    const work = this.#query(this.#sql.all, [new Date().toISOString()]).then((result) => {
      const sessions = Object.create(null) as Record<string, SessionRecord>
      for (const row of result.rows) sessions[String(row['sid'])] = recordOf(row)
      return sessions
    })
    return answer(work, callback)
  }

  override length(callback?: StoreCallback<number>): Promise<number> | undefined {
    const work = this.#query(this.#sql.length, [new Date().toISOString()]).then((result) => Number(result.rows[0]?.['count'] ?? 0))
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
    if (!this.#checkedPool) {
      this.#checkedPool = true
      warnWithoutErrorListener(this.#pool, "sessionkit/postgres: the pg Pool has no 'error' listener, so the first idle connection PostgreSQL closes (a restart, a failover) will end the process. Add one: pool.on('error', (err) => console.error('postgres:', err.message))")
    }
    if (this.#createTable) await this.#ready()
    const name = this.#names?.get(text)
    if (name === undefined) return this.#pool.query(text, values)
    const named: NamedQuery = { name, text, values }
    return (this.#pool.query as unknown as (query: NamedQuery) => ReturnType<PgPool['query']>).call(this.#pool, named)
  }

  /**
   * The table's creation: the one in flight or done, or a new attempt after a failure. Calls made
   * while one attempt runs share it (and its error); a failed attempt is forgotten as it fails.
   */
  #ready(): Promise<void> {
    if (this.#created !== undefined) return this.#created
    const attempt = this.#pool.query(this.#sql.create).then(
      () => undefined,
      (err: unknown) => {
        if (this.#created === attempt) this.#created = undefined
        debug('creating the table failed (tried again on the next call): %O', err)
        throw err
      },
    )
    this.#created = attempt
    return attempt
  }

  async #read(sid: string): Promise<VersionedRecord | null> {
    return versionedOf((await this.#query(this.#sql.get, [sid, new Date().toISOString()])).rows[0])
  }

  /**
   * The values $1..$5 of a write: sid, data (with the cookie), expires, a new version, owner. Data
   * jsonb would refuse is escaped, and its version says so (postgres-text.ts).
   */
  #row(sid: string, session: SessionRecord): unknown[] {
    const parts = writePartsOf(session)
    // The data's JSON with the cookie's spliced in as its last key, the text JSON.stringify({ ...data, cookie }) gives.
    const dataJson = JSON.stringify(parts.data)
    const { json, escaped } = storableJson(
      dataJson === '{}'
        ? `{"cookie":${parts.cookieJson}}`
        : dataJson.startsWith('{') && dataJson.endsWith('}')
          ? `${dataJson.slice(0, -1)},"cookie":${parts.cookieJson}}`
          : // Data with a toJSON of its own that is no object: stored as JSON.stringify gives it, as before.
            JSON.stringify({ ...parts.data, cookie: JSON.parse(parts.cookieJson) as unknown }),
    )
    const owner = ownerOf(session, this.indexBy)
    return [sid, json, this.#expiryAt(parts.expires), escaped ? escapedVersion(newVersion()) : newVersion(), owner === null ? null : storableText(owner)]
  }

  /** When the row expires, as ISO text: `pg` sends a string as it is, where a Date costs it a local-time formatting. */
  #expiryAt(cookieExpires: number | null): string {
    return new Date(cookieExpires ?? Date.now() + this.#ttl).toISOString()
  }
}

/** A row as a session. The expires column is the cookie's expiry (a load-and-touch moves only it). */
function recordOf(row: Record<string, unknown>): SessionRecord {
  const stored = (typeof row['data'] === 'string' ? JSON.parse(row['data']) : row['data']) as SessionRecord
  const record = isEscapedVersion(row['version']) ? unescapedValue(stored) : stored
  if (record.cookie === null || typeof record.cookie !== 'object') record.cookie = { originalMaxAge: null }
  // The column comes as ms since the epoch (float8), which costs the driver less to read than a timestamptz.
  if (record.cookie.expires !== null && record.cookie.expires !== undefined) record.cookie.expires = new Date(row['expires'] as number)
  return record
}

/**
 * A name for each statement of the store, from a hash of its text: stores of different tables sharing
 * a pool never give one name two texts (which `pg` refuses), and stores of one table share theirs.
 */
function namesOf(sql: Statements): Map<string, string> {
  const names = new Map<string, string>()
  for (const [key, text] of Object.entries(sql)) {
    if (key !== 'create') names.set(text, `sessionkit_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`)
  }
  return names
}

function versionedOf(row: Record<string, unknown> | undefined): VersionedRecord | null {
  return row === undefined ? null : { record: recordOf(row), version: String(row['version']) }
}
