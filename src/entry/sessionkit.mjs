// The ESM entry wraps the CommonJS build rather than duplicating it, so an app that both imports and
// requires sessionkit gets one Store class and one MemoryStore, not two.
import sessionkit from '../cjs/sessionkit.cjs'

export default sessionkit
export const { session, Store, MemoryStore, Cookie, Session, SessionError, generateSessionId, MemoryIndex, RedisIndex, scanSessionsOf, cookieSession, COOKIE_SIZE_LIMIT } =
  sessionkit
export const { isConditionalStore, isOwnerIndexedStore } = sessionkit
