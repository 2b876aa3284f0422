// The cases of the optional capabilities (see capabilities.ts), each a no-op for a store without the
// capability: versions and conditional writes, load-and-touch, the store's own owner index, calls
// answered inside the call, and bounded races of conditional writes against destroys and against each other.
import { immediateCallsFor, isConditionalStore, isOwnerIndexedStore, type ConditionalWriteOutcome, type VersionedRecord } from '../store/capabilities.js'
import type { Cookie, CookieOptions, CookieRecord } from '../cookie/cookie.js'
import type { Session } from '../engine/session.js'
import type { SessionRecord, SessionStore } from '../store/store.js'
import { describeValue, HOUR, type Kit, makeSession, newId, sleep, type Data } from './support.js'

// How many writers start from one version, and how many times.
const WRITERS = 20
const WRITER_ROUNDS = 10

/** Registers the capability cases. */
export function addCapabilityCases<S extends SessionStore>(kit: Kit<S>): void {
  const { assert, add, call, get, set, present, skipped, ttl, grace } = kit
  if (skipped.has('capabilities')) return

  const versioned = (store: S, sid: string, touch = false): Promise<VersionedRecord | null> => call(store, 'getVersioned', [sid, { touch }])
  const versionOf = async (store: S, sid: string): Promise<string> => {
    const found = await versioned(store, sid)
    assert.ok(found !== null, 'getVersioned must find a session that set stored')
    if (found === null) throw new Error('no session')
    assert.strictEqual(typeof found.version, 'string', `getVersioned must give the version as a string, got ${describeValue(found.version)}`)
    return found.version
  }
  const writeIf = (store: S, session: Session, expected: string | null): Promise<ConditionalWriteOutcome> =>
    call(store, 'setIfVersion', [session.id, session, expected])
  const stored = async (store: S, data: Data, cookie: CookieOptions | CookieRecord = { maxAge: HOUR }): Promise<Session> => {
    const session = makeSession(newId(), data, cookie)
    await set(store, session)
    return session
  }
  const conditional = (title: string, fn: (store: S) => Promise<void>): void =>
    add(`conditional store: ${title}`, async (store) => {
      if (isConditionalStore(store)) await fn(store)
    })

  conditional('getVersioned answers null for an unknown id, and a stored session with its version', async (store) => {
    assert.strictEqual(await versioned(store, newId()), null, 'getVersioned(unknown id) must answer null')
    assert.strictEqual(await versioned(store, newId(), true), null, 'getVersioned(unknown id, touch) must answer null and create nothing')
    const session = await stored(store, { n: 1 })
    const found = present((await versioned(store, session.id))?.record ?? null, 'getVersioned must find the session')
    assert.strictEqual(found.n, 1, 'getVersioned must give the data')
    await call(store, 'destroy', [session.id])
  })

  conditional('every write changes the version (set and setIfVersion); a touch does not (touch and getVersioned with touch)', async (store) => {
    const session = await stored(store, { n: 1 })
    const first = await versionOf(store, session.id)
    assert.strictEqual(await versionOf(store, session.id), first, 'reading must not change the version')
    await call(store, 'touch', [session.id, session])
    assert.strictEqual(await versionOf(store, session.id), first, 'touch must not change the version')
    assert.strictEqual((await versioned(store, session.id, true))?.version, first, 'getVersioned with touch must not change the version')
    assert.strictEqual(await versionOf(store, session.id), first, 'after getVersioned with touch the version must be the same')
    await set(store, session)
    const second = await versionOf(store, session.id)
    assert.ok(second !== first, 'a plain set must change the version, even with the same data')
    const outcome = await writeIf(store, session, second)
    assert.ok(outcome.written, `setIfVersion with the current version must write, got ${JSON.stringify(outcome)}`)
    const third = await versionOf(store, session.id)
    assert.ok(third !== second, 'setIfVersion must change the version')
    assert.strictEqual(outcome.written && outcome.version, third, 'setIfVersion must answer the version it wrote')
    await call(store, 'destroy', [session.id])
  })

  conditional('setIfVersion with a stale version answers changed and leaves the session as it was', async (store) => {
    const session = await stored(store, { n: 1 })
    const stale = await versionOf(store, session.id)
    ;(session as unknown as Data).n = 2
    await set(store, session) // as a third-party caller that knows only set() would
    ;(session as unknown as Data).n = 3
    const outcome = await writeIf(store, session, stale)
    assert.deepStrictEqual([outcome.written, !outcome.written && outcome.reason], [false, 'changed'], `a stale version must answer changed, got ${JSON.stringify(outcome)}`)
    if (!outcome.written && outcome.current !== undefined) {
      assert.strictEqual(outcome.current.version, await versionOf(store, session.id), 'current must carry the stored version')
      assert.strictEqual(outcome.current.record.n, 2, 'current must carry the stored data')
    }
    assert.strictEqual(present(await get(store, session.id), 'the session must still be there').n, 2, 'a refused write must change nothing')
    await call(store, 'destroy', [session.id])
  })

  conditional('after destroy, setIfVersion answers gone and does not bring the session back', async (store) => {
    const session = await stored(store, { n: 1 })
    const before = await versionOf(store, session.id)
    await call(store, 'destroy', [session.id])
    const outcome = await writeIf(store, session, before)
    assert.deepStrictEqual([outcome.written, !outcome.written && outcome.reason], [false, 'gone'], `a write after destroy must answer gone, got ${JSON.stringify(outcome)}`)
    assert.strictEqual(await get(store, session.id), null, 'a write after destroy must not bring the session back')
    assert.strictEqual(await versioned(store, session.id), null, 'getVersioned after destroy must answer null')
  })

  conditional('setIfVersion with expected null writes a new session, and answers changed for an existing one', async (store) => {
    const session = makeSession(newId(), { n: 1 }, { maxAge: HOUR })
    const created = await writeIf(store, session, null)
    assert.ok(created.written, `expected null on a new id must write, got ${JSON.stringify(created)}`)
    assert.strictEqual(created.written && created.version, await versionOf(store, session.id), 'the version answered must be the one stored')
    ;(session as unknown as Data).n = 2
    const again = await writeIf(store, session, null)
    assert.deepStrictEqual([again.written, !again.written && again.reason], [false, 'changed'], `expected null on an existing id must answer changed, got ${JSON.stringify(again)}`)
    assert.strictEqual(present(await get(store, session.id), 'the session must be there').n, 1, 'the refused write must change nothing')
    await call(store, 'destroy', [session.id])
  })

  conditional('getVersioned with touch moves cookie.expires by the cookie rule, and the store keeps the new expiry', async (store) => {
    // A lifetime of an hour with half of it left: the touch must move the expiry by about half an hour.
    const session = await stored(store, { n: 1 }, { originalMaxAge: HOUR, expires: new Date(Date.now() + HOUR / 2) })
    const startedAt = Date.now()
    const touched = present((await versioned(store, session.id, true))?.record ?? null, 'getVersioned with touch must find the session')
    const moved = new Date(touched.cookie.expires ?? NaN).getTime()
    assert.ok(moved >= startedAt + HOUR - 1000 && moved <= Date.now() + HOUR + 1000, `cookie.expires must move to now + originalMaxAge (${HOUR} ms), it is now + ${moved - Date.now()} ms`)
    assert.strictEqual(touched.n, 1, 'getVersioned with touch must keep the data')
    const read = present(await get(store, session.id), 'the session must still be there')
    assert.strictEqual(new Date(read.cookie.expires ?? NaN).getTime(), moved, 'get must answer the expiry the touch moved to')

    const browser = await stored(store, { n: 2 }, {})
    const kept = present((await versioned(store, browser.id, true))?.record ?? null, 'getVersioned with touch must find a browser-session session')
    assert.ok(kept.cookie.expires === null || kept.cookie.expires === undefined, 'a browser-session cookie must keep no expiry')

    const capped = makeSession(newId(), { n: 3 }, { maxAge: HOUR })
    const cap = new Date(Date.now() + HOUR / 2)
    ;(capped.cookie as Cookie).absoluteExpires = cap
    await set(store, capped)
    const limited = present((await versioned(store, capped.id, true))?.record ?? null, 'getVersioned with touch must find a capped session')
    assert.strictEqual(new Date(limited.cookie.expires ?? NaN).getTime(), cap.getTime(), 'the touch must not move the expiry past cookie.absoluteExpires')
    for (const sid of [session.id, browser.id, capped.id]) await call(store, 'destroy', [sid])
  })

  add('owner index: idsOf finds saved sessions, follows a change of owner and drops a destroyed session', async (store) => {
    if (!isOwnerIndexedStore(store)) return
    const key = store.indexBy
    const [ann, bob] = [newId(), newId()]
    const ids = async (owner: string): Promise<string[]> => ((await call<string[]>(store, 'idsOf', [owner])) ?? []).slice().sort()
    const first = await stored(store, { [key]: ann })
    const second = await stored(store, { [key]: ann })
    const third = await stored(store, { [key]: bob })
    assert.deepStrictEqual(await ids(ann), [first.id, second.id].sort(), 'idsOf must give exactly the sessions saved with that owner')
    ;(second as unknown as Data)[key] = bob
    await set(store, second)
    assert.deepStrictEqual(await ids(ann), [first.id], 'a session saved with another owner must leave the old owner')
    assert.deepStrictEqual(await ids(bob), [second.id, third.id].sort(), 'and join the new one')
    await call(store, 'destroy', [first.id])
    assert.deepStrictEqual(await ids(ann), [], 'a destroyed session must leave the index')
    if (isConditionalStore(store)) {
      ;(third as unknown as Data)[key] = ann
      const outcome = await writeIf(store, third, await versionOf(store, third.id))
      assert.ok(outcome.written, 'setIfVersion with the current version must write')
      assert.deepStrictEqual([await ids(ann), await ids(bob)], [[third.id], [second.id]], 'setIfVersion must move the index entry in the same step')
    }
    for (const session of [second, third]) await call(store, 'destroy', [session.id])
  })

  add('immediate calls: each answers through its callback before it returns, once, and agrees with the store', async (store) => {
    // What sessionkit would call in place of each method; nothing when the store has no immediate calls.
    const calls = (['set', 'get', 'touch', 'getVersioned', 'setIfVersion', 'destroy'] as const).filter((method) => immediateCallsFor(store, method) !== undefined)
    if (calls.length === 0) return
    // `dataJson` goes after the callback, where sessionkit hands it to `set` and `setIfVersion`.
    const now = async <T>(method: (typeof calls)[number], args: unknown[], dataJson?: string): Promise<T | undefined> => {
      const target = immediateCallsFor(store, method) as unknown as Record<string, (...a: unknown[]) => unknown>
      const answers: { err: unknown; result: T | undefined }[] = []
      const callback = (err: unknown, result?: T): void => void answers.push({ err, result })
      if (dataJson === undefined) target[method]?.call(target, ...args, callback)
      else target[method]?.call(target, ...args, callback, dataJson)
      assert.strictEqual(answers.length, 1, `immediate.${method} must call its callback before it returns (called it ${answers.length} times by then)`)
      await sleep(30) // room for a second, late answer to show itself
      assert.strictEqual(answers.length, 1, `immediate.${method} must call its callback once, it called it ${answers.length} times`)
      const [answer] = answers
      assert.ok(answer?.err === undefined || answer.err === null, `immediate.${method} failed: ${describeValue(answer?.err)}`)
      return answer?.result
    }
    const has = (method: (typeof calls)[number]): boolean => calls.includes(method)
    // The store's own get, not its immediate one: both must see the same sessions.
    const ownGet = (sid: string): Promise<SessionRecord | null> =>
      new Promise((resolve, reject) => {
        const answered = (err: unknown, record?: SessionRecord | null): void => (err ? reject(err) : resolve(record ?? null))
        const returned = store.get(sid, answered) as PromiseLike<SessionRecord | null | undefined> | undefined
        if (typeof returned?.then === 'function') returned.then((record) => record !== undefined && resolve(record), reject)
      })
    const session = makeSession(newId(), { n: 1 }, { maxAge: HOUR })
    if (has('set')) await now('set', [session.id, session])
    else await set(store, session)
    assert.strictEqual(present(await ownGet(session.id), 'a session written by immediate.set must be there for get').n, 1, 'get must give the data immediate.set wrote')
    ;(session as unknown as Data).n = 2
    if (has('set')) {
      // With the data's JSON handed over, as sessionkit hands it: the store may keep that text.
      const { cookie: _cookie, ...data } = session as unknown as Data
      await now('set', [session.id, session], JSON.stringify(data))
      assert.strictEqual(present(await ownGet(session.id), 'the session must still be there').n, 2, 'get must give the data immediate.set wrote with its JSON')
    } else await set(store, session)
    if (has('get')) assert.strictEqual(present((await now<SessionRecord | null>('get', [session.id])) ?? null, 'immediate.get must find the session').n, 2, 'immediate.get must give the stored data')
    if (has('touch')) await now('touch', [session.id, session])
    if (has('getVersioned')) {
      const found = await now<VersionedRecord | null>('getVersioned', [session.id, { touch: true }])
      assert.ok(found !== null && found !== undefined && typeof found.version === 'string', 'immediate.getVersioned must find the session and its version')
      if (has('setIfVersion') && found) {
        const outcome = await now<ConditionalWriteOutcome>('setIfVersion', [session.id, session, found.version])
        assert.ok(outcome?.written, `immediate.setIfVersion with the current version must write, got ${JSON.stringify(outcome)}`)
      }
    }
    if (has('destroy')) await now('destroy', [session.id])
    else await call(store, 'destroy', [session.id])
    assert.strictEqual(await ownGet(session.id), null, 'a session destroyed must be gone for get')
  })

  if (!skipped.has('expiry')) {
    add(`kept alive by touches, a session and its owner index entry outlive the first lifetime, then both go (about ${2 * (ttl + grace)} ms)`, async (store) => {
      const canLoad = isConditionalStore(store)
      const indexed = isOwnerIndexedStore(store)
      if (!canLoad && !indexed) return
      const owner = newId()
      const data = indexed ? { [store.indexBy]: owner } : {}
      const byLoad = makeSession(newId(), data, { maxAge: ttl })
      const byTouch = makeSession(newId(), data, { maxAge: ttl })
      const untouched = makeSession(newId(), data, { maxAge: ttl })
      const kept = canLoad ? [byLoad, byTouch] : [byTouch]
      for (const session of [...kept, untouched]) await set(store, session)
      const ids = async (): Promise<string[]> => (indexed ? await call<string[]>(store, 'idsOf', [owner]) : [])
      const keepUntil = Date.now() + ttl + grace + 100
      while (Date.now() < keepUntil) {
        await sleep(ttl / 4)
        if (canLoad) await versioned(store, byLoad.id, true)
        byTouch.cookie.maxAge = ttl
        await call(store, 'touch', [byTouch.id, byTouch])
      }
      for (const session of kept) present(await get(store, session.id), `a session touched every ${ttl / 4} ms must outlive its first lifetime of ${ttl} ms`)
      assert.strictEqual(await get(store, untouched.id), null, `an untouched session must be gone ${ttl + grace} ms after its expiry`)
      if (indexed) {
        assert.deepStrictEqual((await ids()).slice().sort(), kept.map((s) => s.id).sort(), 'the index must list the touched sessions past their first lifetime, and not the expired one')
      }
      const deadline = Date.now() + ttl + grace
      let pending = kept.map((s) => s.id)
      while (pending.length > 0) {
        assert.ok(Date.now() < deadline, `sessions no longer touched must expire within ${ttl + grace} ms`)
        await sleep(100)
        const still: string[] = []
        for (const sid of pending) if ((await get(store, sid)) !== null) still.push(sid)
        pending = still
      }
      if (indexed) assert.deepStrictEqual(await ids(), [], 'the index must drop the entries of sessions that expired')
    })
  }

  if (skipped.has('races')) return

  conditional(`race: ${kit.raceRounds} rounds of setIfVersion against destroy never bring a session back`, async (store) => {
    const tally = { written: 0, gone: 0 }
    const round = async (index: number): Promise<void> => {
      const session = await stored(store, { round: index })
      const version = await versionOf(store, session.id)
      // Both calls start in the same tick; which goes first alternates, so both orders are tried
      // whatever order the store serializes its calls in.
      let written: Promise<ConditionalWriteOutcome>
      let destroyed: Promise<void>
      if (index % 2 === 0) {
        written = writeIf(store, session, version)
        destroyed = call(store, 'destroy', [session.id])
      } else {
        destroyed = call(store, 'destroy', [session.id])
        written = writeIf(store, session, version)
      }
      const [result] = await Promise.all([written, destroyed])
      assert.ok(result.written || result.reason === 'gone', `a write racing a destroy must be written before it or answer gone, got ${JSON.stringify(result)}`)
      tally[result.written ? 'written' : 'gone']++
      assert.strictEqual(await get(store, session.id), null, `round ${index}: a destroyed session came back`)
    }
    // One round at a time: a bounded store (MemoryStore's max) may evict sessions of rounds in flight.
    for (let index = 0; index < kit.raceRounds; index++) await round(index)
    assert.strictEqual(tally.written + tally.gone, kit.raceRounds, 'every round must have an outcome')
  })

  conditional(`race: of ${WRITERS} concurrent setIfVersion from one version exactly one wins, ${WRITER_ROUNDS} rounds`, async (store) => {
    for (let round = 0; round < WRITER_ROUNDS; round++) {
      const session = await stored(store, { writer: null })
      const version = await versionOf(store, session.id)
      const outcomes = await Promise.all(
        Array.from({ length: WRITERS }, (_, writer) => writeIf(store, makeSession(session.id, { writer }, { maxAge: HOUR }), version)),
      )
      const winners = outcomes.flatMap((outcome, writer) => (outcome.written ? [{ writer, version: outcome.version }] : []))
      assert.strictEqual(winners.length, 1, `exactly one writer must win, ${winners.length} did`)
      for (const outcome of outcomes) {
        if (!outcome.written) assert.strictEqual(outcome.reason, 'changed', `a losing writer must be told changed, got ${JSON.stringify(outcome)}`)
      }
      const found = await versioned(store, session.id)
      assert.deepStrictEqual([found?.record.writer, found?.version], [winners[0]?.writer, winners[0]?.version], 'the store must hold the winner and its version')
      await call(store, 'destroy', [session.id])
    }
  })
}
