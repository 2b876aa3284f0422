// The Lua scripts of sessionkit/redis. Each runs atomically in Redis, so a conditional write, a
// load-and-touch or a destroy and the owner index entry it affects happen as one step that no other
// client's command can fall between.
//
// A session is one hash under `<prefix>{<sid>}` (the braces are a Cluster hash tag, so keys that later
// sit beside the session land in its slot): v version, d the app's data as JSON, c the cookie as JSON,
// e the cookie's expiry in ms ('' for a browser-session cookie), m its originalMaxAge ('' for none),
// a its absoluteExpires ('' for none), o its owner ('' for none). The key expires with the session.
// An owner's index is a sorted set under `<indexPrefix>{<owner>}`: session ids scored by when each
// session expires, pruned of past scores on every write, the key expiring with its last session.
// Times are ms since the epoch as integer strings; "now" for the index is the server's TIME, the
// clock Redis expires keys by.
//
// On a Cluster the owner's key sits in another slot, so the scripts get '' as the index prefix and
// leave the index alone; the store keeps it in steps of its own (INDEX_PUT before the session's
// write, a ZREM after a destroy), for which WRITE, LOAD, TOUCH and DESTROY_OWNED answer the owner.

const HELPERS = `
local function now_ms()
  local t = redis.call('TIME')
  return string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
local function index_put(ikey, sid, score)
  redis.call('ZREMRANGEBYSCORE', ikey, '-inf', now_ms())
  redis.call('ZADD', ikey, score, sid)
  local top = redis.call('ZRANGE', ikey, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', ikey, top[2])
end
`

/**
 * The Cluster's index step, run before the session's own write. KEYS[1] the owner's index key. ARGV:
 * score (when the session will expire), sid. It only ever raises an entry's score: the step runs
 * outside the session's script, so an entry that outlives its session is the safe side (idsOf checks
 * each session), one that expires before it would hide a live session from destroySessionsOf().
 */
export const INDEX_PUT = `${HELPERS}
local current = redis.call('ZSCORE', KEYS[1], ARGV[2])
local score = ARGV[1]
if current and tonumber(current) > tonumber(score) then score = current end
index_put(KEYS[1], ARGV[2], score)
return 1
`

/**
 * set() and setIfVersion(). KEYS[1] session key. ARGV: conditional ('1'/'0'), expected version ('' for
 * none stored), new version, d, c, e, m, a, key expiry, owner, index prefix ('' without an index), sid.
 * Answers {'written', version, previous owner or ''}, {'gone'}, or {'changed', v, d, c, e}.
 */
export const WRITE = `${HELPERS}
local key = KEYS[1]
if ARGV[1] == '1' then
  local cur = redis.call('HMGET', key, 'v', 'd', 'c', 'e')
  if ARGV[2] == '' then
    if cur[1] then return {'changed', cur[1], cur[2], cur[3], cur[4]} end
  elseif not cur[1] then
    return {'gone'}
  elseif cur[1] ~= ARGV[2] then
    return {'changed', cur[1], cur[2], cur[3], cur[4]}
  end
end
local old_owner = redis.call('HGET', key, 'o')
redis.call('HSET', key, 'v', ARGV[3], 'd', ARGV[4], 'c', ARGV[5], 'e', ARGV[6], 'm', ARGV[7], 'a', ARGV[8], 'o', ARGV[10])
redis.call('PEXPIREAT', key, ARGV[9])
if ARGV[11] ~= '' then
  if old_owner and old_owner ~= '' and old_owner ~= ARGV[10] then
    redis.call('ZREM', ARGV[11] .. '{' .. old_owner .. '}', ARGV[12])
  end
  if ARGV[10] ~= '' then index_put(ARGV[11] .. '{' .. ARGV[10] .. '}', ARGV[12], ARGV[9]) end
end
return {'written', ARGV[3], old_owner or ''}
`

/**
 * getVersioned(). KEYS[1] session key. ARGV: touch ('1'/'0'), now (the app's clock, which cookie
 * expiries are counted by), default ttl, index prefix, sid. Answers nil or {v, d, c, e, owner, the
 * key's new expiry ('' without a touch)}. The touch
 * follows touchedExpiry() in touch-expiry.ts; the key lives at least one second more.
 */
export const LOAD = `${HELPERS}
local key = KEYS[1]
local f = redis.call('HMGET', key, 'v', 'd', 'c', 'e', 'm', 'a', 'o')
if not f[1] then return false end
if ARGV[1] == '1' then
  local now = tonumber(ARGV[2])
  local e = f[4]
  local until_ms
  if f[5] and f[5] ~= '' then
    local expires = now + tonumber(f[5])
    if f[6] and f[6] ~= '' and tonumber(f[6]) < expires then expires = tonumber(f[6]) end
    e = string.format('%.0f', expires)
    until_ms = expires
  elseif e and e ~= '' then
    until_ms = tonumber(e)
  else
    until_ms = now + tonumber(ARGV[3])
  end
  if until_ms < now + 1000 then until_ms = now + 1000 end
  local score = string.format('%.0f', until_ms)
  redis.call('HSET', key, 'e', e or '')
  redis.call('PEXPIREAT', key, score)
  if ARGV[4] ~= '' and f[7] and f[7] ~= '' then index_put(ARGV[4] .. '{' .. f[7] .. '}', ARGV[5], score) end
  return {f[1], f[2], f[3], e or '', f[7] or '', score}
end
return {f[1], f[2], f[3], f[4], f[7] or '', ''}
`

/** touch(). KEYS[1] session key. ARGV: c, e, m, a, key expiry, index prefix, sid. Answers {1, owner or ''}, or {0} when absent. */
export const TOUCH = `${HELPERS}
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return {0} end
redis.call('HSET', key, 'c', ARGV[1], 'e', ARGV[2], 'm', ARGV[3], 'a', ARGV[4])
redis.call('PEXPIREAT', key, ARGV[5])
local owner = redis.call('HGET', key, 'o')
if ARGV[6] ~= '' and owner and owner ~= '' then index_put(ARGV[6] .. '{' .. owner .. '}', ARGV[7], ARGV[5]) end
return {1, owner or ''}
`

/** destroy() with an index. KEYS[1] session key. ARGV: index prefix, sid. */
export const DESTROY = `
local owner = redis.call('HGET', KEYS[1], 'o')
redis.call('DEL', KEYS[1])
if owner and owner ~= '' then redis.call('ZREM', ARGV[1] .. '{' .. owner .. '}', ARGV[2]) end
return 1
`

/** destroy() on a Cluster with an index: the session's key only. KEYS[1] session key. Answers its owner, or ''. */
export const DESTROY_OWNED = `
local owner = redis.call('HGET', KEYS[1], 'o')
redis.call('DEL', KEYS[1])
return owner or ''
`

/** idsOf(). KEYS[1] the owner's index key. Answers the ids of the sessions that have not expired. */
export const IDS_OF = `${HELPERS}
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
`
