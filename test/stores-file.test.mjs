// session-file-store in a temporary directory, constructed as its README shows with sessionkit where
// the README passes express-session.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import express from 'express'
import session from 'sessionkit'
import { testStore } from 'sessionkit/testing'
import { listen, request } from './support/http.mjs'
import { runSnippet } from './support/snippets.mjs'
import { sidOf, storeFlow } from './support/store-flow.mjs'

const require = createRequire(import.meta.url)
const FileStore = require('session-file-store')(session)
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-file-store-'))
after(() => rmSync(dir, { recursive: true, force: true }))

// The store logs every retry of a missing file; keep the test output to what the tests say.
const quiet = () => {}

const flowDir = join(dir, 'flow')
let flowStore
// The flows, the kit and the snippet use separate keys/tables/directories, so they run side by side;
// each runs its own steps in order.
describe('session-file-store', { concurrency: true }, () => {
  storeFlow('session-file-store', {
    store: () => (flowStore ??= new FileStore({ path: flowDir, logFn: quiet })),
    backend: {
      // The store expires a session at its last access plus the cookie's original maxAge.
      async read(sid) {
        const file = join(flowDir, `${sid}.json`)
        if (!existsSync(file)) return null
        const data = JSON.parse(readFileSync(file, 'utf8'))
        return { data, expiresAt: data.__lastAccess + data.cookie.originalMaxAge }
      },
    },
  })

  describe('session-file-store', () => {
    testStore({ name: 'session-file-store (conformance kit)', store: () => new FileStore({ path: join(dir, 'kit'), logFn: quiet }) })
  })

  describe('the file store snippet on the Stores page', () => {
    test('runs as written: a login is a file in SESSION_DIR and is read back', async () => {
      const sessionDir = join(dir, 'snippet')
      const app = express()
      app.use(runSnippet('file', { SESSION_DIR: sessionDir, SESSION_SECRET: 'snippet secret' }))
      app.get('/login', (req, res) => {
        req.session.user = 'ann'
        res.send('ok')
      })
      app.get('/me', (req, res) => res.send(req.session.user ?? 'nobody'))
      const server = await listen(app)
      try {
        const login = await request(server.base, '/login')
        const file = join(sessionDir, `${sidOf(login.cookie)}.json`)
        assert.equal(JSON.parse(readFileSync(file, 'utf8')).user, 'ann')
        assert.equal((await request(server.base, '/me', { cookie: login.cookie })).text, 'ann')
      } finally {
        await server.close()
      }
    })
  })
})
