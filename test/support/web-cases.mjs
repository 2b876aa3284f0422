// The cases every Web-API server of the tests answers alike (fixtures/runtimes/web-session-app.mjs and
// hono-session-app.mjs serve the same routes): what a client and the store see, statuses, bodies,
// Set-Cookie and Cache-Control, and the store's records. Registered inside a describeServers block.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CookieJar } from './runtimes.mjs'
import { call, setCookieOf, sidOf } from './web-servers.mjs'

/** Registers the cases against `ctx` (see describeServers). */
export function sessionCases(ctx) {
  const url = (path) => `${ctx.server.url}${path}`
  const record = async (sid) => (await call(new CookieJar(), url(`/store/${encodeURIComponent(sid)}`))).body
  /** Whether Redis itself has the session's key (Redis runs), or true (memory runs: nothing more to ask). */
  const inRedis = async (sid) => ctx.redis === undefined || (await ctx.redis.exists(ctx.redisKey(sid))) === 1
  /** A client whose session was counted once: its jar and its session's id. */
  const counted = async () => {
    const jar = new CookieJar()
    await call(jar, url('/s/count'))
    return { jar, sid: sidOf(jar.get('sid')) }
  }

  test('a counter keeps counting with its cookie; the store holds the count', async () => {
    const jar = new CookieJar()
    const first = await call(jar, url('/s/count'))
    assert.equal(first.status, 200)
    assert.equal(first.body.count, 1)
    const cookie = setCookieOf(first.setCookies, 'sid')
    assert.match(cookie ?? '', /^sid=s%3A[^;]+; Path=\/; HttpOnly$/)
    const sid = sidOf(jar.get('sid'))
    assert.equal(first.body.id, sid, 'the cookie names the session the handler had')

    const second = await call(jar, url('/s/count'))
    const third = await call(jar, url('/s/count'))
    assert.deepEqual([second.body, third.body], [{ count: 2, id: sid }, { count: 3, id: sid }])
    // A browser-session cookie of a known session is not sent again (express-session's rule).
    assert.deepEqual(third.setCookies, [])
    assert.equal((await record(sid)).count, 3)
    assert.ok(await inRedis(sid))
  })

  test('an untouched new session sends no cookie and stores nothing (saveUninitialized false)', async () => {
    const response = await call(new CookieJar(), url('/s/peek'))
    assert.equal(response.status, 200)
    assert.equal(response.body, 'peek')
    assert.deepEqual(response.setCookies, [])
    assert.equal(response.cacheControl, null)
  })

  test('Cache-Control: private on a response that sets the cookie, and only then', async () => {
    const jar = new CookieJar()
    const first = await call(jar, url('/s/count'))
    assert.equal(first.setCookies.length, 1)
    assert.equal(first.cacheControl, 'private')
    const second = await call(jar, url('/s/count'))
    assert.deepEqual(second.setCookies, [])
    assert.equal(second.cacheControl, null)
  })

  test('a redirect answer (immutable headers) still carries the cookie', async () => {
    const jar = new CookieJar()
    const response = await call(jar, url('/s/login'))
    assert.equal(response.status, 303)
    assert.equal(response.location, url('/home'))
    assert.equal(response.cacheControl, 'private')
    assert.ok(setCookieOf(response.setCookies, 'sid'))
    assert.equal((await record(sidOf(jar.get('sid')))).user, 'ada')
  })

  test('regenerate gives a new id in the cookie; the old record is gone from the store', async () => {
    const { jar, sid: old } = await counted()
    const response = await call(jar, url('/s/regenerate'))
    assert.equal(response.status, 200)
    assert.equal(response.body.before, old)
    assert.notEqual(response.body.after, old)
    assert.equal(sidOf(jar.get('sid')), response.body.after, 'the new cookie names the new id')
    assert.equal(response.cacheControl, 'private')
    assert.equal(await record(old), null)
    assert.equal(await inRedis(old), ctx.redis === undefined)
    assert.equal((await record(response.body.after)).count, 100)
    assert.equal((await call(jar, url('/s/count'))).body.count, 101)
  })

  test('destroy clears the cookie and removes the record', async () => {
    const { jar, sid } = await counted()
    const response = await call(jar, url('/s/destroy'))
    assert.equal(response.status, 200)
    const cleared = setCookieOf(response.setCookies, 'sid')
    assert.match(cleared ?? '', /^sid=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT/)
    assert.equal(jar.get('sid'), undefined)
    assert.equal(await record(sid), null)
    assert.equal(await inRedis(sid), ctx.redis === undefined)
    assert.equal((await call(jar, url('/s/count'))).body.count, 1, 'the next request starts over')
  })

  test('a tampered cookie gives a fresh session, and the listener gets the Request it came on', async () => {
    await call(new CookieJar(), url('/events'))
    const { jar, sid } = await counted()
    await call(jar, url('/s/count'))
    const value = decodeURIComponent(jar.get('sid'))
    const forged = value.slice(0, -2) + (value.endsWith('AA') ? 'BB' : 'AA')
    const response = await call(new CookieJar(), url('/s/count'), { headers: { cookie: `sid=${encodeURIComponent(forged)}` } })
    assert.equal(response.status, 200)
    assert.equal(response.body.count, 1)
    assert.notEqual(response.body.id, sid)
    assert.notEqual(sidOf(setCookieOf(response.setCookies, 'sid').split(';')[0].slice(4)), sid)
    assert.equal((await record(sid)).count, 2, 'the session the cookie was forged from is untouched')

    const events = (await call(new CookieJar(), url('/events'))).body
    const countUrl = url('/s/count')
    assert.deepEqual(
      events.map(({ type, reason, isRequest, url, method }) => ({ type, reason, isRequest, url, method })),
      [
        { type: 'created', reason: undefined, isRequest: true, url: countUrl, method: 'GET' },
        { type: 'tampered', reason: 'bad-signature', isRequest: true, url: countUrl, method: 'GET' },
        { type: 'created', reason: undefined, isRequest: true, url: countUrl, method: 'GET' },
      ],
    )
  })

  test('a store that fails its write gives a failure status, no cookie and no hang; a 4xx answer stands', async () => {
    const jar = new CookieJar()
    const failed = await call(jar, url('/f/count'))
    assert.ok(failed.status >= 500 && failed.status < 600, `status ${failed.status}`)
    assert.equal(setCookieOf(failed.setCookies, 'fsid'), undefined)

    const refused = await call(jar, url('/f/refuse'))
    assert.equal(refused.status, 403)
    assert.equal(refused.body, 'forbidden')
    assert.deepEqual(refused.setCookies, [])
    assert.equal(jar.get('fsid'), undefined)
  })

  test('merge: true keeps both keys of two overlapping requests; without it one is lost', async () => {
    for (const [prefix, merged] of [['m', true], ['s', false]]) {
      const jar = new CookieJar()
      const seed = await call(jar, url(`/${prefix}/put?key=seed&value=0`))
      const sid = seed.body.id
      // Both requests load the session before either writes it: each handler waits 300 ms first.
      const [a, b] = await Promise.all([call(jar, url(`/${prefix}/put?key=a&value=1&wait=300`)), call(jar, url(`/${prefix}/put?key=b&value=2&wait=300`))])
      assert.deepEqual([a.status, b.status], [200, 200])
      const held = await record(sid)
      assert.equal(held.seed, '0')
      if (merged) assert.deepEqual([held.a, held.b], ['1', '2'], `/${prefix}/: both changes kept`)
      else assert.equal([held.a, held.b].filter((v) => v !== undefined).length, 1, `/${prefix}/: the last write replaced the other`)
    }
  })

  test('cookie mode: the counter lives in the sealed cookie', async () => {
    const jar = new CookieJar()
    const seen = []
    for (let i = 1; i <= 3; i++) {
      const response = await call(jar, url('/c/count'))
      assert.equal(response.body.count, i)
      assert.equal(response.cacheControl, 'private')
      seen.push(jar.get('csid'))
    }
    assert.equal(new Set(seen).size, 3, 'each change is sealed into a new cookie')
    assert.ok(!seen.some((value) => value.includes('count')), 'the cookie does not show the data')
    assert.equal((await call(new CookieJar(), url('/c/count'))).body.count, 1, 'another client starts at 1')
  })
}
