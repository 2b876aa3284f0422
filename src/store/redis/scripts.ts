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

// A session's id, read back from its key `<prefix>{<sid>}` (the prefix has no braces), for the index
// entries: sent only when a script needs it, it would be one more argument on every call.
const SID_OF_KEY = `
local function sid_of(key)
  return string.sub(key, string.find(key, '{', 1, true) + 1, -2)
end
`

/**
 * set() and setIfVersion(). KEYS[1] session key. ARGV: the header "<conditional 1/0> <new version> <e>
 * <m> <a> <key expiry>" (numbers we made, one space between, '' for none), d, c, expected version
 * ('' for none stored), owner ('' for none), index prefix ('' without an index). The fields travel in
 * one argument because each argument costs the client an encoding and Redis a Lua string; the texts
 * that may hold anything (d, c, the version asked for, the owner) stay arguments of their own.
 * Answers {'written', previous owner or ''}, {'gone'}, or {'changed', v, d, c, e}. The hash is laid
 * out as the earlier script left it, so processes running either script read each other's sessions.
 */
export const WRITE = `${HELPERS}${SID_OF_KEY}
local key = KEYS[1]
local conditional, version, e, m, a, expiry = string.match(ARGV[1], '^(%d) (%S+) (%S*) (%S*) (%S*) (%S+)$')
if not conditional then return redis.error_reply('sessionkit: malformed write header') end
local old_owner
if conditional == '1' then
  -- The version and owner only: each field read costs Redis a Lua string, and the data and cookie are
  -- needed only when the write is refused.
  local cur = redis.call('HMGET', key, 'v', 'o')
  if (ARGV[4] == '' and cur[1]) or (ARGV[4] ~= '' and cur[1] and cur[1] ~= ARGV[4]) then
    local found = redis.call('HMGET', key, 'd', 'c', 'e')
    return {'changed', cur[1], found[1], found[2], found[3]}
  end
  if ARGV[4] ~= '' and not cur[1] then return {'gone'} end
  old_owner = cur[2]
else
  old_owner = redis.call('HGET', key, 'o')
end
redis.call('HSET', key, 'v', version, 'd', ARGV[2], 'c', ARGV[3], 'e', e, 'm', m, 'a', a, 'o', ARGV[5])
redis.call('PEXPIREAT', key, expiry)
if ARGV[6] ~= '' then
  local sid = sid_of(key)
  if old_owner and old_owner ~= '' and old_owner ~= ARGV[5] then
    redis.call('ZREM', ARGV[6] .. '{' .. old_owner .. '}', sid)
  end
  if ARGV[5] ~= '' then index_put(ARGV[6] .. '{' .. ARGV[5] .. '}', sid, expiry) end
end
return {'written', old_owner or ''}
`

/**
 * getVersioned(). KEYS[1] session key. ARGV: mode ('0' read, '1' touch, '2' touch and answer the
 * owner and the key's new expiry too), now (the app's clock, which cookie expiries are counted by),
 * default ttl, index prefix ('' without an index). Answers nil or {v, d, c, e}, in mode '2' {v, d, c,
 * e, owner, the key's new expiry}: the owner and the expiry only the Cluster's index steps need, so
 * no other reply carries them. The touch follows touchedExpiry() in touch-expiry.ts; the key lives at
 * least one second more.
 */
export const LOAD = `${HELPERS}${SID_OF_KEY}
local key = KEYS[1]
local f = redis.call('HMGET', key, 'v', 'd', 'c', 'e', 'm', 'a', 'o')
if not f[1] then return false end
if ARGV[1] == '0' then return {f[1], f[2], f[3], f[4]} end
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
-- e changes only with a lifetime; a cookie without one keeps its field as it is.
if e ~= f[4] then redis.call('HSET', key, 'e', e or '') end
redis.call('PEXPIREAT', key, score)
if ARGV[4] ~= '' and f[7] and f[7] ~= '' then index_put(ARGV[4] .. '{' .. f[7] .. '}', sid_of(key), score) end
if ARGV[1] == '2' then return {f[1], f[2], f[3], e or '', f[7] or '', score} end
return {f[1], f[2], f[3], e or ''}
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

/**
 * capOwner(). KEYS[1] the owner's index key. ARGV: the most sessions to leave, the session to keep,
 * the session key prefix, default ttl. Ends the least recently active of the owner's live sessions,
 * never the kept one, until at most the cap is left, and answers their ids. A session was last active
 * when its expiry last moved: its index score (its key's expiry) less its lifetime (m, or the default
 * ttl for a browser-session cookie). One script, so no other write of the owner can fall in between.
 */
export const CAP_OWNER = `${HELPERS}
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
local room = tonumber(ARGV[1])
local others = {}
for i = 1, #entries, 2 do
  local sid = entries[i]
  if sid == ARGV[2] then
    room = room - 1
  else
    local m = redis.call('HGET', ARGV[3] .. '{' .. sid .. '}', 'm')
    local lifetime = tonumber(ARGV[4])
    if m and m ~= '' then lifetime = tonumber(m) end
    others[#others + 1] = {sid, tonumber(entries[i + 1]) - lifetime}
  end
end
if room < 0 then room = 0 end
if #others <= room then return {} end
table.sort(others, function(a, b) return a[2] > b[2] end)
local ended = {}
for i = room + 1, #others do
  local sid = others[i][1]
  redis.call('DEL', ARGV[3] .. '{' .. sid .. '}')
  redis.call('ZREM', KEYS[1], sid)
  ended[#ended + 1] = sid
end
return ended
`
