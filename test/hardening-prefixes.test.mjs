// Cookie prefixes: a __Host- or __Secure- name whose attributes contradict the prefix would be dropped
// by the browser without a word; sessionkit refuses it at startup, or at request time for cookie(req).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import express from 'express'
import session, { cookieSession } from 'sessionkit'
import { listen, request } from './support/http.mjs'

const SECRET = 'cookie prefix tests, a secret of 32 bytes or more'
const factories = {
  'session()': (options) => session({ secret: SECRET, resave: false, saveUninitialized: false, ...options }),
  'cookieSession()': (options) => cookieSession({ secret: SECRET, ...options }),
}

for (const [mode, make] of Object.entries(factories)) {
  test(`${mode}: a prefixed name whose cookie option contradicts it is a startup error that says why`, () => {
    const refused = [
      ['__Host-sid', {}, /__Host-.*secure: true/],
      ['__Host-sid', { secure: 'auto' }, /__Host-.*secure: true.*'auto'/],
      ['__Host-sid', { secure: true, domain: 'example.com' }, /__Host-.*without a domain/],
      ['__Host-sid', { secure: true, path: '/app' }, /__Host-.*path: '\/'/],
      ['__host-sid', { secure: true, path: '/app' }, /__Host-/],
      ['__Secure-sid', { secure: false }, /__Secure-.*secure: true/],
      ['__SECURE-sid', {}, /__Secure-/],
    ]
    for (const [name, cookie, message] of refused) {
      assert.throws(() => make({ name, cookie }), { code: 'SESSION_CONFIG', message }, `${name} ${JSON.stringify(cookie)}`)
    }
    const accepted = [
      ['__Host-sid', { secure: true }],
      ['__Host-sid', { secure: true, path: '/', domain: '' }],
      ['__Secure-sid', { secure: true, domain: 'example.com', path: '/app' }],
      ['Host-sid', {}],
    ]
    for (const [name, cookie] of accepted) assert.doesNotThrow(() => make({ name, cookie }), `${name} ${JSON.stringify(cookie)}`)
  })

  test(`${mode}: a cookie(req) function that contradicts the prefix fails that request with SESSION_COOKIE_OPTIONS`, async () => {
    const server = express()
    server.set('trust proxy', true)
    server.use(make({ name: '__Host-sid', cookie: (req) => (req.query.sub ? { secure: true, path: '/', domain: 'example.com' } : { secure: true }) }))
    server.get('/', (req, res) => {
      req.session.n = 1
      res.send('ok')
    })
    server.use((err, req, res, next) => res.status(err.status ?? 500).send(`${err.code}: ${err.message}`))
    const { base, close } = await listen(server)
    try {
      const https = { 'x-forwarded-proto': 'https' }
      const good = await request(base, '/', { headers: https })
      assert.equal(good.status, 200)
      assert.match(good.setCookies[0] ?? '', /^__Host-sid=.*; Path=\/; .*Secure/)
      const bad = await request(base, '/?sub=1', { headers: https })
      assert.equal(bad.status, 500)
      assert.match(bad.text, /^SESSION_COOKIE_OPTIONS: .*__Host-.*without a domain/)
      assert.deepEqual(bad.setCookies, [])
    } finally {
      await close()
    }
  })
}
