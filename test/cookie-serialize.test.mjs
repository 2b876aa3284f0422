// The session cookie's Set-Cookie is built without the `cookie` package once that package has accepted
// the same name, path and domain: it must be exactly the header the package gives, for every attribute,
// and anything the package refuses must still be refused with the package's own error.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { serialize } from 'cookie'
import { Cookie } from 'sessionkit'

/** What the `cookie` package makes of the same cookie. */
function reference(cookie, name, value) {
  return serialize(name, value, {
    domain: cookie.domain,
    path: cookie.path,
    expires: cookie.expires ?? undefined,
    httpOnly: cookie.httpOnly,
    secure: cookie.secure,
    partitioned: cookie.partitioned,
    priority: cookie.priority,
    sameSite: cookie.sameSite,
  })
}

describe('Cookie.serialize gives the cookie package\'s header', () => {
  const value = 's:K1rB0xg7u0u_yzR3Tz2nJd7Xm3qzpA2N.9Vd+2lA/fN0Yc1k8Zq9+abcDEFghi3Ijkl4MNOpqrsT'
  const base = new Date('2026-12-02T10:11:12.345Z')
  const variants = []
  for (const path of ['/', '/app', '']) {
    for (const domain of [undefined, 'example.com', '.sub.example.org']) {
      for (const expires of [null, base, new Date(base.getTime() + 999), new Date(base.getTime() + 1000)]) {
        for (const flags of [{}, { httpOnly: false }, { secure: true, partitioned: true }]) {
          for (const sameSite of [undefined, true, 'lax', 'Strict', 'NONE', false]) {
            for (const priority of [undefined, 'low', 'HIGH']) variants.push({ path, domain, expires, ...flags, sameSite, priority })
          }
        }
      }
    }
  }

  test(`${variants.length} attribute combinations, each serialized twice (the second time without the package)`, () => {
    for (const attributes of variants) {
      const cookie = new Cookie({ path: attributes.path || undefined, domain: attributes.domain, httpOnly: attributes.httpOnly, secure: attributes.secure, partitioned: attributes.partitioned, sameSite: attributes.sameSite, priority: attributes.priority })
      if (attributes.path === '') cookie.path = ''
      cookie.expires = attributes.expires
      const expected = reference(cookie, 'connect.sid', value)
      assert.equal(cookie.serialize('connect.sid', value), expected, JSON.stringify(attributes))
      assert.equal(cookie.serialize('connect.sid', value), expected, `again: ${JSON.stringify(attributes)}`)
      assert.equal(cookie.serialize('connect.sid', ''), reference(cookie, 'connect.sid', ''))
    }
  })

  test('what the package refuses stays refused with its own error, also after the same name and path were accepted', () => {
    const cookie = new Cookie({ path: '/' })
    cookie.serialize('sid', 'a')
    for (const [change, message] of [
      [(c) => (c.priority = 'urgent'), /priority is invalid/],
      [(c) => (c.sameSite = 'sideways'), /sameSite is invalid/],
      [(c) => (c.path = '/a;b'), /path is invalid/],
      [(c) => (c.domain = 'bad domain'), /domain is invalid/],
      [(c) => (c.priority = 'constructor'), /priority is invalid/],
    ]) {
      const changed = new Cookie({ path: '/' })
      change(changed)
      assert.throws(() => changed.serialize('sid', 'a'), message)
    }
    // An invalid expiry no longer gets as far as the serializer: the assignment itself is refused.
    assert.throws(() => (new Cookie({ path: '/' }).expires = new Date(NaN)), /cookie\.expires must be a valid Date/)
    assert.throws(() => cookie.serialize('bad name', 'a'), /argument name is invalid/)
    assert.throws(() => cookie.serialize('sid', '\ud800'), URIError)
  })
})
