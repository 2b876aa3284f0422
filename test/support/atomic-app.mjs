// One app process of the cross-process atomic-session tests: Express with session() on a shared
// first-party store (sessionkit/redis or sessionkit/postgres), on a free port of 127.0.0.1 that it
// prints as its first line. argv: kind ('redis' | 'postgres'), config JSON ({ url, prefix } or
// { connection, table, schema }).
import express from 'express'
import session from 'sessionkit'

const [kind, configJson] = process.argv.slice(2)
const config = JSON.parse(configJson)

async function openStore() {
  if (kind === 'redis') {
    const { createClient } = await import('redis')
    const { RedisStore } = await import('sessionkit/redis')
    const client = createClient({ url: config.url })
    await client.connect()
    return new RedisStore({ client, prefix: config.prefix })
  }
  const { default: pg } = await import('pg')
  const { PostgresStore } = await import('sessionkit/postgres')
  const pool = new pg.Pool({ ...config.connection, max: 20 })
  return new PostgresStore({ pool, tableName: config.table, schemaName: config.schema, pruneInterval: 0 })
}

const store = await openStore()
const app = express()
app.use(session({ secret: 'atomic', store, resave: false, saveUninitialized: false, merge: config.merge === true, cookie: { maxAge: 600_000 } }))
app.get('/login', (req, res) => {
  req.session.user = 'ada'
  res.send(req.sessionID)
})
// The request in flight: it has loaded the session, works a while, then changes one key.
app.get('/work', (req, res) => {
  req.session.touched = true // looked at: loaded before the wait
  setTimeout(() => {
    req.session[String(req.query.key ?? 'n')] = Number(req.query.value ?? 1)
    res.send('worked')
  }, Number(req.query.delay ?? 0))
})
app.get('/logout', (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.send('bye'))))
// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => res.status(err.status ?? 500).send(err.code ?? 'error'))
const server = app.listen(0, '127.0.0.1', () => console.log(server.address().port))
process.on('message', (message) => {
  if (message === 'stop') server.close(() => process.exit(0))
})
