// sessionkit/postgres keeps every string a session's JSON can hold: U+0000 (which jsonb refuses),
// lone surrogates (which jsonb refuses too), U+0001 (the store's escape character) and text that
// looks like an escape, in values and in keys, through every way in and out of the store, and
// through session() over HTTP. Rows written the old way (never escaped) read back as they were.
// Everything lives in a schema of this run, dropped after it.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import pg from 'pg'
import session, { Cookie } from 'sessionkit'
import { PostgresStore } from 'sessionkit/postgres'
import { listen, request } from './support/http.mjs'
import { requireService } from './support/services.mjs'

const { skip } = await requireService('postgres')
const schema = `sessionkit_strings_${process.pid}_${Date.now().toString(36)}`

// Each is a string JSON.stringify writes as is or as an escape; jsonb takes some, refuses others.
const EDGE_STRINGS = [
  '\u0000',
  'a\u0000b\u0000',
  '\u0001',
  '\u0001u0000', // what the store's escape of U+0000 looks like
  '\u0001\u0000\u0001',
  '\\u0000', // a backslash, then text
  '\\\u0000',
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  '\udc00\ud800', // a pair the wrong way round
  'x\ud83dy',
  '\ud83d\ude00', // a real pair: 😀
  '\u2028\u2029\u007f\u0080\uffff\ufffd',
  '"quoted" \\ back \n\t\r\b\f',
  '',
]

let pool
let store
before(async () => {
  if (skip) return
  pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 4 })
  pool.on('error', () => {})
  await pool.query(`CREATE SCHEMA "${schema}"`)
  store = new PostgresStore({ pool, schemaName: schema, tableName: 'strings', createTable: true, indexBy: 'userId', pruneInterval: 0 })
})
after(async () => {
  if (!pool) return
  await store?.close()
  await pool.query(`DROP SCHEMA "${schema}" CASCADE`)
  await pool.end()
})

/** A session holding every edge string as a value, as a key, nested, and as its owner. */
function edgeSession(owner) {
  const data = { userId: owner, values: EDGE_STRINGS, nested: { list: [{ deep: EDGE_STRINGS.join('|') }] } }
  for (const [i, text] of EDGE_STRINGS.entries()) data[`key ${i} ${text}`] = text
  return data
}
/** What the session holds once it went through JSON, which is all a store is asked to keep. */
const asJson = (value) => JSON.parse(JSON.stringify(value))
const withoutCookie = ({ cookie, ...rest }) => rest
const record = (data) => ({ ...data, cookie: new Cookie({ maxAge: 60_000 }) })

describe('sessionkit/postgres keeps every string', { skip }, () => {
  test('set / get, getVersioned with and without touch, all, setIfVersion from the versions it gave', async () => {
    const data = edgeSession('owner \u0000 one')
    await store.set('strings-a', record(data))
    assert.deepEqual(withoutCookie(await store.get('strings-a')), asJson(data))
    const plain = await store.getVersioned('strings-a', { touch: false })
    assert.deepEqual(withoutCookie(plain.record), asJson(data))
    const touched = await store.getVersioned('strings-a', { touch: true })
    assert.deepEqual(withoutCookie(touched.record), asJson(data))
    assert.equal(touched.version, plain.version)
    assert.deepEqual(withoutCookie((await store.all())['strings-a']), asJson(data))

    // A conditional write on the version read, which says the row is escaped, writes; a stale one does not.
    const next = { ...data, step: 'two \u0000' }
    const written = await store.setIfVersion('strings-a', record(next), touched.version)
    assert.equal(written.written, true)
    assert.deepEqual(withoutCookie(await store.get('strings-a')), asJson(next))
    const stale = await store.setIfVersion('strings-a', record(data), touched.version)
    assert.equal(stale.written, false)
    assert.equal(stale.reason, 'changed')
    assert.deepEqual(withoutCookie(stale.current.record), asJson(next))

    // Back to plain data: the row is plain again and reads back the same.
    const calm = { userId: 'owner \u0000 one', note: 'plain \u0001 text' }
    assert.equal((await store.setIfVersion('strings-a', record(calm), written.version)).written, true)
    assert.deepEqual(withoutCookie(await store.get('strings-a')), calm)
    await store.touch('strings-a', record(calm))
    assert.deepEqual(withoutCookie(await store.get('strings-a')), calm)
  })

  test('a new session with such strings (setIfVersion from null), and the owner index by an owner with U+0000', async () => {
    const owner = 'owner \u0000 two \ud800'
    const created = await store.setIfVersion('strings-b', record(edgeSession(owner)), null)
    assert.equal(created.written, true)
    await store.set('strings-c', record({ userId: 'owner \u0001u0000 two \ud800' })) // its escape, as raw text: another owner
    await store.set('strings-d', record({ userId: 'owner \u0000 two \ufffd' })) // what a lone surrogate would become as UTF-8
    assert.deepEqual(await store.idsOf(owner), ['strings-b'])
    assert.deepEqual(await store.idsOf('owner \u0001u0000 two \ud800'), ['strings-c'])
    assert.deepEqual(await store.idsOf('owner \u0000 two \ufffd'), ['strings-d'])
    assert.deepEqual(withoutCookie(await store.get('strings-b')), asJson(edgeSession(owner)))
  })

  test('rows written before the escape existed (U+0001 and escape-like text kept raw) read back unchanged', async () => {
    const data = { text: '\u0001u0000 and \u0001u0001 and \u0001', cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000).toISOString() } }
    await pool.query(`INSERT INTO "${schema}".strings (sid, data, expires, version) VALUES ($1, $2::jsonb, now() + interval '1 minute', 12345)`, ['strings-old', JSON.stringify(data)])
    assert.equal((await store.get('strings-old')).text, data.text)
    assert.equal((await store.getVersioned('strings-old', { touch: true })).record.text, data.text)
    assert.equal((await store.all())['strings-old'].text, data.text)
  })

  // The value travels as JSON text (its escapes are ASCII): a lone surrogate has no URL encoding.
  test('a form field with U+0000 or a lone surrogate is saved over HTTP (200) and read back', async (t) => {
    const app = session({ store, secret: 'strings secret', resave: false, saveUninitialized: false })
    const server = await listen((req, res) =>
      app(req, res, (err) => {
        if (err) {
          res.statusCode = err.status ?? 500
          return res.end(String(err.code ?? err.message))
        }
        if (req.url.startsWith('/set')) req.session.field = JSON.parse(new URL(req.url, 'http://x').searchParams.get('v'))
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ field: req.session.field ?? null }))
      }),
    )
    t.after(server.close)
    for (const value of ['a\u0000b', 'lone \ud800 one', '\u0001u0000']) {
      const saved = await request(server.base, `/set?v=${encodeURIComponent(JSON.stringify(value))}`)
      assert.equal(saved.status, 200, saved.text)
      const read = await request(server.base, '/read', { cookie: saved.cookie })
      assert.equal(read.status, 200, read.text)
      assert.equal(JSON.parse(read.text).field, value)
    }
  })
})
