// maxSessionsPerOwner: at most N live sessions per owner. A login past the cap ends the owner's least
// recently active sessions; other owners are untouched. With sessionkit/redis and sessionkit/postgres
// the cap holds across processes: two app processes logging one user in at the same moment leave
// exactly N sessions alive. The same stores, and connect-redis with a RedisIndex, also list and end
// sessions with their metadata, with and without hashIds.
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { webSessions } from 'sessionkit/web'
import { cleanUp, login, openStore, SECRET, whoIs } from './support/owner-stores.mjs'
import { requireService } from './support/services.mjs'

const run = `${process.pid}${Date.now().toString(36)}`
const where = { prefix: `sk-meta-${run}:`, schema: `sk_meta_${run}` }
const noRedis = (await requireService('redis')).skip
const noPostgres = (await requireService('postgres')).skip
after(() => cleanUp(where))

const skipFor = (kind) => (kind === 'memory' ? false : kind === 'postgres' ? noPostgres : noRedis)
const sessionOptions = { secret: SECRET, resave: false, saveUninitialized: false, indexBy: 'userId', metadata: true, cookie: { maxAge: 3_600_000 } }

/** session()'s options over a fresh store of `kind`, each run under prefixes of its own. */
async function sessionsOver(kind, name, options) {
  const opened = await openStore(kind, { prefix: `${where.prefix}${name}:`, schema: where.schema })
  return { sessions: webSessions({ ...sessionOptions, ...opened.options, ...options }), close: opened.close }
}

describe('a cap per owner in one process', () => {
  test('the login past the cap ends the least recently active session, not the oldest one used since', async () => {
    const { sessions, close } = await sessionsOver('memory', 'lra', { maxSessionsPerOwner: 2 })
    try {
      const first = await login(sessions, 'ada', 'first')
      await sleep(5)
      const second = await login(sessions, 'ada', 'second')
      const bob = await login(sessions, 'bob')
      await sleep(5)
      assert.equal(await whoIs(sessions, first), 'ada') // used again: its expiry moves, it is the most recently active
      await sleep(5)
      const third = await login(sessions, 'ada', 'third')
      assert.equal(await whoIs(sessions, first), 'ada')
      assert.equal(await whoIs(sessions, second), undefined, 'the least recently active one was ended')
      assert.equal(await whoIs(sessions, third), 'ada')
      assert.equal(await whoIs(sessions, bob), 'bob', "another owner's session is not counted nor ended")
      assert.deepEqual((await sessions.sessionsOf('ada', { details: true })).map((s) => s.userAgent).sort(), ['first', 'third'])
    } finally {
      await close()
    }
  })

  test('20 logins of one user at once leave exactly the cap (MemoryStore)', async () => {
    const { sessions, close } = await sessionsOver('memory', 'burst', { maxSessionsPerOwner: 3 })
    try {
      const cookies = await Promise.all(Array.from({ length: 20 }, (_, i) => login(sessions, 'ada', `browser ${i}`)))
      const alive = (await Promise.all(cookies.map((cookie) => whoIs(sessions, cookie)))).filter((who) => who === 'ada')
      assert.equal(alive.length, 3)
      assert.equal((await sessions.sessionsOf('ada')).length, 3)
    } finally {
      await close()
    }
  })

  test('a cap the store fails fails the login with a 503, as a failed save does', async () => {
    const sessions = new Map()
    // A store with an owner index of its own whose cap step is down.
    const store = {
      indexBy: 'userId',
      get: (sid, cb) => cb(null, sessions.get(sid) ?? null),
      set: (sid, record, cb) => (sessions.set(sid, JSON.parse(JSON.stringify(record))), cb()),
      destroy: (sid, cb) => (sessions.delete(sid), cb()),
      idsOf: (owner, cb) => cb(null, [...sessions].filter(([, record]) => record.userId === owner).map(([sid]) => sid)),
      capOwner: (owner, max, keep, cb) => cb(new Error('the cap step is down')),
    }
    const web = webSessions({ ...sessionOptions, store, maxSessionsPerOwner: 2 })
    await assert.rejects(login(web, 'ada'), (err) => err.status === 503)
  })

  test('without the option an owner keeps every session', async () => {
    const { sessions, close } = await sessionsOver('memory', 'nocap', {})
    try {
      const cookies = []
      for (let i = 0; i < 5; i++) cookies.push(await login(sessions, 'ada'))
      for (const cookie of cookies) assert.equal(await whoIs(sessions, cookie), 'ada')
    } finally {
      await close()
    }
  })
})

for (const kind of ['memory', 'redis', 'postgres', 'connect-redis']) {
  for (const hashIds of [false, true]) {
    test(`${kind}${hashIds ? ' with hashIds' : ''}: the cap, the list with metadata, and ending one by its handle`, { skip: skipFor(kind) }, async () => {
      const { sessions, close } = await sessionsOver(kind, `${kind}-${hashIds}`, { hashIds, maxSessionsPerOwner: 3 })
      try {
        const cookies = []
        for (let i = 0; i < 5; i++) {
          cookies.push(await login(sessions, 'ada', `browser ${i}`))
          await sleep(3)
        }
        assert.deepEqual(await Promise.all(cookies.map((cookie) => whoIs(sessions, cookie))), [undefined, undefined, 'ada', 'ada', 'ada'])

        const here = await sessions.load(new Request('http://app.test/account', { headers: { cookie: cookies[4] } }))
        const listed = await sessions.sessionsOf('ada', { details: true, current: here })
        assert.deepEqual(listed.map((s) => [s.userAgent, s.current, s.client]).sort(), [
          ['browser 2', false, '198.51.100.0/24'],
          ['browser 3', false, '198.51.100.0/24'],
          ['browser 4', true, '198.51.100.0/24'],
        ])
        listed.sort((a, b) => a.userAgent.localeCompare(b.userAgent))
        for (const entry of listed) assert.ok(entry.createdAt instanceof Date && entry.lastActiveAt instanceof Date && entry.expiresAt instanceof Date)

        assert.equal(await sessions.endSession('ada', listed[0].handle), true)
        assert.equal(await whoIs(sessions, cookies[2]), undefined)
        assert.equal(await sessions.endSession('bob', listed[1].handle), false, "a handle of ada's is not bob's")
        assert.equal(await whoIs(sessions, cookies[3]), 'ada')
      } finally {
        await close()
      }
    })
  }
}

/** Starts the second app server as a process of its own; `ask(op, args)` sends it a message and resolves with its answer. */
async function appProcess(kind, config) {
  const child = fork(new URL('./support/owner-stores.mjs', import.meta.url), [kind, JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const waiting = new Map()
  let next = 0
  const ready = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the app process exited (${code})`)))
    child.on('message', (message) => {
      if (message.ready) return resolve()
      const answer = waiting.get(message.id)
      waiting.delete(message.id)
      if (message.error) answer?.reject(new Error(message.error))
      else answer?.resolve(message.result)
    })
  })
  await ready
  return {
    ask: (op, args) =>
      new Promise((resolve, reject) => {
        const id = next++
        waiting.set(id, { resolve, reject })
        child.send({ id, op, ...args })
      }),
  }
}

for (const kind of ['redis', 'postgres']) {
  for (const hashIds of [false, true]) {
    test(`${kind}${hashIds ? ' with hashIds' : ''}: two processes logging one user in 40 times at once leave exactly 3 sessions`, { skip: skipFor(kind) }, async () => {
      const name = `race-${kind}-${hashIds}`
      const session = { hashIds, maxSessionsPerOwner: 3 }
      const config = { prefix: `${where.prefix}${name}:`, schema: where.schema, session }
      const apps = await Promise.all([appProcess(kind, config), appProcess(kind, config)])
      const { sessions, close } = await sessionsOver(kind, name, session)
      try {
        const cookies = (await Promise.all(apps.map((app) => app.ask('login', { owner: 'ada', count: 20 })))).flat()
        assert.equal(cookies.length, 40)
        const alive = (await Promise.all(cookies.map((cookie) => whoIs(sessions, cookie)))).filter((who) => who === 'ada')
        assert.equal(alive.length, 3, 'exactly the cap survives')
        assert.equal((await sessions.sessionsOf('ada')).length, 3, 'and the owner index lists exactly those')
      } finally {
        await Promise.all(apps.map((app) => app.ask('close')))
        await close()
      }
    })
  }
}
