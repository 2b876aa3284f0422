// The cases of the store contract every store must keep: get/set/destroy/touch, the cookie's round
// trip, isolation, completion exactly once, the optional methods, expiry and clear.
import { Cookie, type CookieOptions } from '../cookie/cookie.js'
import type { SessionRecord, SessionStore } from '../store/store.js'
import { assertData, type Data, describeValue, HOUR, isEnoent, type Kit, makeSession, type Method, newId, observe, sampleData, sleep } from './support.js'
import type { StoreTestSkip } from './types.js'

/** Registers the contract's cases, all but clear, which must come last. */
export function addContractCases<S extends SessionStore>(kit: Kit<S>): void {
  const { assert, add, call, get, set, present, has, skipped, ttl, grace, timeout } = kit

  add('get of an id that was never stored answers with no session', async (store) => {
    assert.strictEqual(await get(store, newId()), null, 'get(unknown id) must answer null or undefined')
  })

  add('set stores the data and get returns it', async (store) => {
    const data = sampleData()
    const session = makeSession(newId(), data, { maxAge: HOUR })
    await set(store, session)
    const record = present(await get(store, session.id), 'get must return the session that set stored')
    assertData(assert, record, data)
  })

  add('set replaces what was stored under the same id', async (store) => {
    const sid = newId()
    await set(store, makeSession(sid, { first: 1, removed: 'yes' }, { maxAge: HOUR }))
    await set(store, makeSession(sid, { first: 2 }, { maxAge: HOUR }))
    const record = present(await get(store, sid), 'get must return the session after a second set')
    assert.strictEqual(record.first, 2, 'the second set must replace the data')
    assert.strictEqual(record.removed, undefined, 'a key the second set no longer has must be gone')
  })

  add('cookie survives the round trip: expires as a date (or ISO string) at the same instant, and its attributes', async (store) => {
    const cookie: CookieOptions = { maxAge: HOUR, path: '/app', httpOnly: true, secure: true, sameSite: 'strict', domain: 'example.test' }
    const session = makeSession(newId(), { n: 1 }, cookie)
    const expires = (session.cookie.expires as Date).getTime()
    await set(store, session)
    const record = present(await get(store, session.id), 'get must return the session')
    assert.ok(typeof record.cookie === 'object' && record.cookie !== null, 'get must return the session with its cookie')
    const stored = record.cookie.expires
    const ok = stored instanceof Date || (typeof stored === 'string' && !Number.isNaN(Date.parse(stored)))
    assert.ok(ok, `cookie.expires must come back as a Date or an ISO date string, got ${describeValue(stored)}`)
    assert.strictEqual(new Date(stored ?? NaN).getTime(), expires, 'cookie.expires must come back at the same millisecond')
    assert.strictEqual(new Cookie(record.cookie).expires?.getTime(), expires, 'sessionkit must be able to revive cookie.expires')
    assert.strictEqual(record.cookie.originalMaxAge, HOUR, 'cookie.originalMaxAge must survive')
    assert.deepStrictEqual(
      { path: record.cookie.path, httpOnly: record.cookie.httpOnly, secure: record.cookie.secure, sameSite: record.cookie.sameSite, domain: record.cookie.domain },
      { path: '/app', httpOnly: true, secure: true, sameSite: 'strict', domain: 'example.test' },
      'the cookie attributes must survive',
    )
  })

  add('a browser-session cookie (no maxAge) survives with no expiry', async (store) => {
    const session = makeSession(newId(), { n: 1 }, {})
    await set(store, session)
    const record = present(await get(store, session.id), 'a session whose cookie has no expiry must be stored (under the store default lifetime)')
    assert.ok(record.cookie.expires === null || record.cookie.expires === undefined, `cookie.expires must stay empty, got ${describeValue(record.cookie.expires)}`)
    assert.strictEqual(record.cookie.originalMaxAge ?? null, null, 'cookie.originalMaxAge must stay null')
  })

  add('what get returns is a copy: changing it, or the session after set, changes nothing stored', async (store) => {
    const session = makeSession(newId(), { list: [1], nested: { a: 1 } }, { maxAge: HOUR })
    await set(store, session)
    ;(session as unknown as Data).list = ['changed after set']
    const first = present(await get(store, session.id), 'get must return the session')
    ;(first.list as unknown[]).push(2)
    ;(first.nested as Data).a = 2
    first.added = true
    first.cookie.originalMaxAge = 5
    const second = present(await get(store, session.id), 'get must return the session again')
    assert.deepStrictEqual(second.list, [1], 'a change to the session after set, or to what get returned, must not reach the store')
    assert.deepStrictEqual(second.nested, { a: 1 }, 'a change to a nested object get returned must not reach the store')
    assert.strictEqual(second.added, undefined, 'a key added to what get returned must not reach the store')
    assert.strictEqual(second.cookie.originalMaxAge, HOUR, 'a change to the cookie get returned must not reach the store')
  })

  add('destroy removes the session, and destroying an absent id succeeds', async (store) => {
    const session = makeSession(newId(), { n: 1 }, { maxAge: HOUR })
    await set(store, session)
    await call(store, 'destroy', [session.id])
    assert.strictEqual(await get(store, session.id), null, 'get after destroy must answer no session')
    await call(store, 'destroy', [newId()])
    await call(store, 'destroy', [session.id])
  })

  const testTouch = !skipped.has('touch')
  if (testTouch) {
    add('touch keeps the data, and does not bring back an id it does not have', async (store) => {
      if (!has('touch', store)) return
      const data = { user: 'ann', n: 1 }
      const session = makeSession(newId(), data, { maxAge: HOUR })
      await set(store, session)
      session.cookie.maxAge = 2 * HOUR
      await call(store, 'touch', [session.id, session])
      const record = present(await get(store, session.id), 'touch must keep the session')
      assertData(assert, record, data)
      const absent = makeSession(newId(), { n: 1 }, { maxAge: HOUR })
      try {
        await call(store, 'touch', [absent.id, absent])
      } catch (err) {
        if (!isEnoent(err)) throw err
      }
      assert.strictEqual(await get(store, absent.id), null, 'touch of an id the store does not have must not create it')
    })
  }

  add('every method completes exactly once, through its callback or a returned Promise', async (store) => {
    const session = makeSession(newId(), { n: 1 }, { maxAge: HOUR })
    const calls: [Method, unknown[]][] = [
      ['set', [session.id, session]],
      ['get', [session.id]],
      ['touch', [session.id, session]],
      ['all', []],
      ['ids', []],
      ['length', []],
      ['destroy', [session.id]],
    ]
    for (const [method, args] of calls) {
      if (!has(method, store) || skipped.has(method as StoreTestSkip)) continue
      const outcome = await observe(store, method, args, timeout)
      const where = `store.${method}`
      assert.ok(outcome.callbacks <= 1, `${where} called its callback ${outcome.callbacks} times; it must call it once`)
      if (outcome.declaresCallback) {
        assert.strictEqual(outcome.callbacks, 1, `${where} names a callback parameter but did not call it within ${timeout} ms`)
      } else {
        assert.ok(outcome.callbacks === 1 || outcome.settled, `${where} neither called its callback nor returned a Promise that settled within ${timeout} ms`)
      }
      assert.ok(outcome.error === undefined, `${where} failed: ${describeValue(outcome.error)}`)
    }
  })

  for (const method of ['all', 'ids', 'length'] as const) {
    if (skipped.has(method)) continue
    add(`${method} counts two new sessions`, async (store) => {
      if (!has(method, store)) return
      const marker = newId()
      const sessions = [makeSession(newId(), { marker, n: 1 }, { maxAge: HOUR }), makeSession(newId(), { marker, n: 2 }, { maxAge: HOUR })]
      const before = method === 'length' ? await call<number>(store, 'length', []) : 0
      for (const session of sessions) await set(store, session)
      if (method === 'length') {
        const after = await call<number>(store, 'length', [])
        assert.strictEqual(typeof after, 'number', 'length must answer a number')
        assert.strictEqual(after - before, 2, `length must grow by 2 after two new sessions (was ${before}, is ${after})`)
      } else if (method === 'ids') {
        const ids = await call<string[]>(store, 'ids', [])
        assert.ok(Array.isArray(ids), 'ids must answer an array')
        for (const session of sessions) assert.ok(ids.includes(session.id), 'ids must include every stored session id')
      } else {
        const all = await call<SessionRecord[] | Record<string, SessionRecord>>(store, 'all', [])
        assert.ok(all !== null && typeof all === 'object', 'all must answer an array or an object keyed by id')
        const found = Array.isArray(all) ? all.filter((record) => record?.marker === marker) : sessions.map((session) => all[session.id]).filter(Boolean)
        assert.strictEqual(found.length, 2, 'all must include both new sessions')
        assert.deepStrictEqual(found.map((record) => record?.n).sort(), [1, 2], 'all must give each session its data')
        for (const record of found) assert.ok(record?.cookie !== null && typeof record?.cookie === 'object', 'each session in all must have its cookie')
      }
      for (const session of sessions) await call(store, 'destroy', [session.id])
    })
  }

  if (!skipped.has('expiry')) {
    add(`sessions expire at cookie.expires, set from cookie.maxAge or cookie.expires, and touch moves it (waits up to ${ttl + grace} ms)`, async (store) => {
      const fromMaxAge = makeSession(newId(), { n: 'maxAge' }, { maxAge: ttl })
      const fromExpires = makeSession(newId(), { n: 'expires' }, { expires: new Date(Date.now() + ttl) })
      const long = makeSession(newId(), { n: 'long' }, { maxAge: HOUR })
      const touched = makeSession(newId(), { n: 'touched' }, { maxAge: ttl })
      const canTouch = testTouch && has('touch', store)
      for (const session of [fromMaxAge, fromExpires, long, touched]) await set(store, session)
      if (canTouch) {
        touched.cookie.maxAge = HOUR
        await call(store, 'touch', [touched.id, touched])
      }
      assert.ok((await get(store, fromMaxAge.id)) !== null, `a session with cookie.maxAge = ${ttl} ms must still be there right after set`)
      const deadline = Date.now() + ttl + grace
      const pending = new Map([
        [fromMaxAge.id, 'cookie.maxAge'],
        [fromExpires.id, 'cookie.expires'],
      ])
      while (pending.size > 0) {
        for (const sid of [...pending.keys()]) if ((await get(store, sid)) === null) pending.delete(sid)
        if (pending.size === 0) break
        assert.ok(Date.now() < deadline, `a session whose ${[...pending.values()].join(' and ')} ran out ${ttl} ms after set was still returned ${ttl + grace} ms after`)
        await sleep(100)
      }
      assert.ok((await get(store, long.id)) !== null, 'a session with a long cookie.maxAge must outlive the short ones')
      if (canTouch) {
        const record = present(await get(store, touched.id), 'touch with a longer cookie.maxAge must keep the session past its first expiry')
        assert.strictEqual(record.n, 'touched', 'touch must keep the data')
      }
      await call(store, 'destroy', [long.id])
      await call(store, 'destroy', [touched.id])
    })
  }
}

/** Registers the case that calls clear; it runs last, after every other case is done with its ids. */
export function addClearCase<S extends SessionStore>(kit: Kit<S>): void {
  const { assert, add, call, get, set, has, skipped } = kit
  if (!skipped.has('clear')) {
    add('clear removes every session', async (store) => {
      if (!has('clear', store)) return
      const sessions = [makeSession(newId(), { n: 1 }, { maxAge: HOUR }), makeSession(newId(), { n: 2 }, { maxAge: HOUR })]
      for (const session of sessions) await set(store, session)
      await call(store, 'clear', [])
      for (const session of sessions) assert.strictEqual(await get(store, session.id), null, 'get after clear must answer no session')
      if (has('length', store) && !skipped.has('length')) assert.strictEqual(await call<number>(store, 'length', []), 0, 'length after clear must be 0')
    })
  }
}
