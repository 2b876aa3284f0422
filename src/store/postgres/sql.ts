// The SQL of sessionkit/postgres. Every statement is parameterized; the table's name is the one thing
// spliced in, quoted as an identifier. Each operation the contract needs to be atomic is one
// statement, so PostgreSQL's row locks make it so without a transaction held open across round trips.

/** `name` as a quoted SQL identifier: `"name"`, inner quotes doubled. */
export function quoteIdentifier(name: string): string {
  if (typeof name !== 'string' || name === '' || name.includes('\u0000')) throw new TypeError(`sessionkit/postgres: not a valid SQL name: ${String(name)}`)
  return `"${name.replace(/"/g, '""')}"`
}

/** The statements for one table. */
export interface Statements {
  create: string
  get: string
  set: string
  insertIfAbsent: string
  updateIfVersion: string
  loadAndTouch: string
  touch: string
  destroy: string
  idsOf: string
  capOwner: string
  lockOwner: string
  ids: string
  all: string
  length: string
  clear: string
  prune: string
}

/** The statements for `table` (in `schema` when given). */
export function statementsFor(table: string, schema: string | undefined): Statements {
  const name = schema === undefined ? quoteIdentifier(table) : `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`
  const values = `(sid, data, expires, version, owner) VALUES ($1, $2::jsonb, $3, $4, $5)`
  const replace = `data = EXCLUDED.data, expires = EXCLUDED.expires, version = EXCLUDED.version, owner = EXCLUDED.owner`
  const milliseconds = `* interval '1 millisecond'`
  // The expiry read back as ms since the epoch: the driver reads a float8 with parseFloat, a
  // timestamptz with a date parser that cost more than the rest of reading the row.
  const expiresMs = `(extract(epoch FROM expires) * 1000)::float8 AS expires`
  return {
    // One simple-protocol query: its statements run as one implicit transaction, so the advisory lock
    // (taken on a number derived from the table's name) holds until the indexes exist, and two
    // processes starting at once do not both try to create the table's type. An error rolls it all back.
    create: [
      `SELECT pg_advisory_xact_lock(${lockKeyOf(name)})`,
      `CREATE TABLE IF NOT EXISTS ${name} (sid text PRIMARY KEY, data jsonb NOT NULL, expires timestamptz NOT NULL, version bigint NOT NULL, owner text)`,
      `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${table}_expires_idx`)} ON ${name} (expires)`,
      `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${table}_owner_idx`)} ON ${name} (owner) WHERE owner IS NOT NULL`,
    ].join(';\n'),
    get: `SELECT data, version, ${expiresMs} FROM ${name} WHERE sid = $1 AND expires > $2`,
    set: `INSERT INTO ${name} ${values} ON CONFLICT (sid) DO UPDATE SET ${replace}`,
    // A new session: only where no live row is; an expired row left for the pruner counts as none.
    insertIfAbsent: `INSERT INTO ${name} AS s ${values} ON CONFLICT (sid) DO UPDATE SET ${replace} WHERE s.expires <= $6 RETURNING version`,
    updateIfVersion: `UPDATE ${name} SET data = $2::jsonb, expires = $3, version = $4, owner = $5 WHERE sid = $1 AND version = $6 AND expires > $7 RETURNING version`,
    // The rule of touchedExpiry() in touch-expiry.ts, in SQL: now + originalMaxAge capped at
    // absoluteExpires; a cookie without a lifetime keeps its expiry, or restarts the default ttl.
    loadAndTouch:
      `UPDATE ${name} SET expires = CASE` +
      ` WHEN jsonb_typeof(data->'cookie'->'originalMaxAge') = 'number' THEN LEAST($2::timestamptz + (data->'cookie'->>'originalMaxAge')::float8 ${milliseconds},` +
      ` COALESCE((data->'cookie'->>'absoluteExpires')::timestamptz, 'infinity'::timestamptz))` +
      ` WHEN data->'cookie'->>'expires' IS NOT NULL THEN expires` +
      ` ELSE $2::timestamptz + $3::float8 ${milliseconds} END` +
      ` WHERE sid = $1 AND expires > $2 RETURNING data, version, ${expiresMs}`,
    touch: `UPDATE ${name} SET expires = $2, data = jsonb_set(data, '{cookie}', $3::jsonb) WHERE sid = $1 AND expires > $4`,
    destroy: `DELETE FROM ${name} WHERE sid = $1`,
    idsOf: `SELECT sid FROM ${name} WHERE owner = $1 AND expires > $2`,
    // The owner's live sessions but $3, the most recently active first (when the expiry last moved:
    // expires less the lifetime, or less the default ttl $5 for a browser-session cookie); all but the
    // first ($4 less one for $3 when it is live) go. One statement: its DELETE waits on a row another
    // cap is deleting and then skips it, so two caps at once end no session twice.
    capOwner:
      `DELETE FROM ${name} WHERE sid IN (SELECT sid FROM ${name} WHERE owner = $1 AND expires > $2 AND sid <> $3` +
      ` ORDER BY expires - (CASE WHEN jsonb_typeof(data->'cookie'->'originalMaxAge') = 'number' THEN (data->'cookie'->>'originalMaxAge')::float8 ELSE $5::float8 END) ${milliseconds} DESC, sid` +
      ` OFFSET GREATEST(0, $4::int - (SELECT count(*) FROM ${name} WHERE sid = $3 AND owner = $1 AND expires > $2)::int)) RETURNING sid`,
    // Caps of one owner one at a time (the two-key form: another space than the table's creation lock),
    // so that each one's DELETE sees what the one before it ended.
    lockOwner: `SELECT pg_advisory_xact_lock(${lockKeyOf(name)}, hashtext($1))`,
    ids: `SELECT sid FROM ${name} WHERE expires > $1`,
    all: `SELECT sid, data, version, ${expiresMs} FROM ${name} WHERE expires > $1`,
    length: `SELECT count(*)::int AS count FROM ${name} WHERE expires > $1`,
    clear: `DELETE FROM ${name}`,
    // A small batch, skipping rows a request has locked: pruning never makes a request wait on it.
    prune: `DELETE FROM ${name} WHERE sid IN (SELECT sid FROM ${name} WHERE expires <= now() LIMIT $1 FOR UPDATE SKIP LOCKED)`,
  }
}

/** A 32-bit number for the advisory lock of one table (FNV-1a of its quoted name). */
function lockKeyOf(name: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193)
  return hash | 0
}
