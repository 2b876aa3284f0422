// Types of the hardening options and the event API, as an app writes them.
import session, { cookieSession } from 'sessionkit'
import type { SealedSessionInfo, SessionEvent } from 'sessionkit'

const middleware = session({ secret: 's', resave: false, saveUninitialized: false, hashIds: { key: 'k', migrateRawIds: false }, cacheControl: false })
const counted = new Map<string, number>()
middleware.on('event', (event, req) => {
  if (event.type === 'tampered') {
    const reason: 'unsigned' | 'bad-signature' | 'malformed' | 'unknown-key' | 'bad-seal' = event.reason
    counted.set(req.socket.remoteAddress ?? '', (counted.get(req.socket.remoteAddress ?? '') ?? 0) + 1)
    void reason
  }
  if (event.type === 'storeError') void event.error.code
  // @ts-expect-error an event carries no id
  void event.id
})
middleware.on('storeError', (error, operation) => void [error.code, operation])

const notBefore = new Map<string, number>()
const sealed = cookieSession({
  secret: ['new', 'old'],
  indexBy: 'userId',
  revoked: ({ owner, issuedAt }: SealedSessionInfo) => owner !== undefined && issuedAt.getTime() < (notBefore.get(owner) ?? 0),
})
sealed.on('event', (event: SessionEvent) => void event.mode).off('event', () => {})
cookieSession({ secret: 's', revoked: async () => false })
// @ts-expect-error revoked answers a boolean
cookieSession({ secret: 's', revoked: () => 'yes' })
// @ts-expect-error hashIds takes true, false or { key, migrateRawIds }
session({ secret: 's', hashIds: 'yes' })

// Session metadata, handles and the cap per owner.
import type { SessionInfo } from 'sessionkit'
const account = session({ secret: 's', resave: false, saveUninitialized: false, indexBy: 'userId', metadata: { clientAddress: 'hash', userAgent: false }, maxSessionsPerOwner: 3 })
session({ secret: 's', indexBy: 'userId', metadata: { clientAddress: (address: string) => address.slice(0, 3) } })
void (async () => {
  const keys: string[] = await account.sessionsOf(7)
  const listed: SessionInfo[] = await account.sessionsOf(7, { details: true, current: 'sid' })
  const first = listed[0]
  if (first !== undefined) {
    const seen: [string, boolean, Date | null, Date | null, Date | null, string | null, string | null] = [first.handle, first.current, first.createdAt, first.lastActiveAt, first.expiresAt, first.userAgent, first.client]
    const ended: boolean = await account.endSession(7, first.handle)
    void [seen, ended, keys]
  }
})()
// @ts-expect-error the client address is kept truncated, hashed, not at all, or as a function says
session({ secret: 's', metadata: { clientAddress: 'raw' } })
