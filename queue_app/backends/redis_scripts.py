"""Lua for the Redis backend: every step that reads and writes is one atomic script, one round trip.

Keys (one Redis, not cluster-safe: scripts derive concert keys from the token's hash):
  q:t:<token>          hash  u=user id, c=concert id, s=W|A|E, i=issued ms, x=expires ms (A/E only)
  q:c:<c>:wait         zset  waiting tokens scored by a per-concert sequence number (FIFO)
  q:c:<c>:seen         zset  the same tokens scored by last poll (ms): abandonment is a range query
  q:c:<c>:active       zset  admitted tokens scored by expiry (ms): the live count is a range count
  q:c:<c>:seq          int   the FIFO sequence
  q:c:<c>:u:<user>     str   the user's latest token for the concert (one live token per user)
  q:concerts           set   concerts that may have waiting tokens (what the beat task visits)
  q:rl:<scope>:<u>:<w> int   fixed-window request counter per user
Times are milliseconds from the caller's clock (ARGV), never Redis TIME, so tests can move them.
A token is abandoned when its last poll is at or before now - abandon; active until now >= x.
"""

PRELUDE = """
local function ckey(c, name) return 'q:c:' .. c .. ':' .. name end
local function tkey(t) return 'q:t:' .. t end

local function forget_user(c, u, t)
  local uk = ckey(c, 'u:' .. u)
  if redis.call('GET', uk) == t then redis.call('DEL', uk) end
end

-- Leave the waiting queue as EXPIRED at `x` (abandoned or ended by an operator).
local function drop_waiting(c, t, u, x)
  redis.call('ZREM', ckey(c, 'wait'), t)
  redis.call('ZREM', ckey(c, 'seen'), t)
  if redis.call('EXISTS', tkey(t)) == 1 then redis.call('HSET', tkey(t), 's', 'E', 'x', x) end
  if u then forget_user(c, u, t) end
end

-- At most `limit` abandoned waiters of concert c leave the queue: O(log n + m).
local function sweep_abandoned(c, cutoff, abandon, limit)
  local gone = redis.call('ZRANGEBYSCORE', ckey(c, 'seen'), '-inf', cutoff, 'WITHSCORES', 'LIMIT', 0, limit)
  for i = 1, #gone, 2 do
    local t = gone[i]
    drop_waiting(c, t, redis.call('HGET', tkey(t), 'u'), tonumber(gone[i + 1]) + abandon)
  end
end

-- Fixed-window counter; returns milliseconds until the window ends when over the limit, else 0.
local function rate_hit(scope, u, now, limit, window)
  if limit <= 0 then return 0 end
  local w = math.floor(now / window)
  local k = 'q:rl:' .. scope .. ':' .. u .. ':' .. w
  local n = redis.call('INCR', k)
  if n == 1 then redis.call('PEXPIRE', k, window) end
  if n > limit then return (w + 1) * window - now end
  return 0
end

-- The live status at `now` of a token stored with status s and expiry x: W, A or E.
local function live_status(c, t, s, x, now, cutoff)
  if s == 'A' then
    if tonumber(x) > now then return 'A' end
    return 'E'
  end
  if s == 'W' then
    local seen = redis.call('ZSCORE', ckey(c, 'seen'), t)
    if seen and tonumber(seen) > cutoff then return 'W' end
  end
  return 'E'
end

local function rank(c, t)
  local r = redis.call('ZRANK', ckey(c, 'wait'), t)
  if r then return r + 1 end
  return 0
end
"""

# KEYS[1]=q:t:<token>. ARGV: token, now, abandon, expect user ('' = any), touch (1/0),
# rate limit, rate window, retention, sweep limit.
# -> {0} unknown | {-1, retry ms} throttled | {1, u, c, status, position, issued, expires or ''}
STATUS = (
    PRELUDE
    + """
local t, now, abandon = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local h = redis.call('HMGET', KEYS[1], 'u', 'c', 's', 'i', 'x')
local u, c, s = h[1], h[2], h[3]
if not u then return {0} end
if ARGV[4] ~= '' and ARGV[4] ~= u then return {0} end
local retry = rate_hit('queue_status', u, now, tonumber(ARGV[6]), tonumber(ARGV[7]))
if retry > 0 then return {-1, retry} end
local cutoff = now - abandon
local st = live_status(c, t, s, h[5], now, cutoff)
local x, pos = h[5] or '', 0
if st == 'W' then
  if ARGV[5] == '1' then
    redis.call('ZADD', ckey(c, 'seen'), 'XX', now, t)
    redis.call('PEXPIRE', KEYS[1], ARGV[8])
    redis.call('PEXPIRE', ckey(c, 'u:' .. u), ARGV[8])
    sweep_abandoned(c, cutoff, abandon, tonumber(ARGV[9]))
  end
  pos = rank(c, t)
elseif s == 'W' then
  local seen = redis.call('ZSCORE', ckey(c, 'seen'), t)
  x = seen and (tonumber(seen) + abandon) or now
  if ARGV[5] == '1' then drop_waiting(c, t, u, x) end
end
return {1, u, c, st, pos, h[4], x}
"""
)

# KEYS[1]=q:c:<c>:u:<user>, KEYS[2]=q:t:<new token>. ARGV: user, concert, new token, now, abandon,
# rate limit, rate window, retention, sweep limit.
# -> {-1, retry ms} throttled | {created 1/0, token, status, position, issued, expires or ''}
ISSUE = (
    PRELUDE
    + """
local u, c, nt, now, abandon = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local retry = rate_hit('queue_issue', u, now, tonumber(ARGV[6]), tonumber(ARGV[7]))
if retry > 0 then return {-1, retry} end
local cutoff = now - abandon
local old = redis.call('GET', KEYS[1])
if old then
  local h = redis.call('HMGET', tkey(old), 's', 'i', 'x')
  if h[1] then
    local st = live_status(c, old, h[1], h[3], now, cutoff)
    if st == 'W' then
      redis.call('ZADD', ckey(c, 'seen'), 'XX', now, old)
      redis.call('PEXPIRE', tkey(old), ARGV[8])
      redis.call('PEXPIRE', KEYS[1], ARGV[8])
      sweep_abandoned(c, cutoff, abandon, tonumber(ARGV[9]))
      return {0, old, 'W', rank(c, old), h[2], ''}
    elseif st == 'A' then
      return {0, old, 'A', 0, h[2], h[3]}
    elseif h[1] == 'W' then
      local seen = redis.call('ZSCORE', ckey(c, 'seen'), old)
      drop_waiting(c, old, u, seen and (tonumber(seen) + abandon) or now)
    end
  end
end
sweep_abandoned(c, cutoff, abandon, tonumber(ARGV[9]))
local seq = redis.call('INCR', ckey(c, 'seq'))
redis.call('HSET', KEYS[2], 'u', u, 'c', c, 's', 'W', 'i', now)
redis.call('PEXPIRE', KEYS[2], ARGV[8])
redis.call('ZADD', ckey(c, 'wait'), seq, nt)
redis.call('ZADD', ckey(c, 'seen'), now, nt)
redis.call('SET', KEYS[1], nt, 'PX', ARGV[8])
redis.call('SADD', 'q:concerts', c)
return {1, nt, 'W', rank(c, nt), now, ''}
"""
)

# ARGV: concert, now, abandon, batch, cap (-1 = none), active ttl, paused (1/0), retention, sweep limit.
# -> number admitted
PROMOTE = (
    PRELUDE
    + """
local c, now, abandon = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local batch, cap, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local cutoff, limit = now - abandon, tonumber(ARGV[9])
sweep_abandoned(c, cutoff, abandon, limit)
local active = ckey(c, 'active')
for _, t in ipairs(redis.call('ZRANGEBYSCORE', active, '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('ZREM', active, t)
  local u = redis.call('HGET', tkey(t), 'u')
  if u then
    redis.call('HSET', tkey(t), 's', 'E')
    forget_user(c, u, t)
  end
end
local admitted = 0
if ARGV[7] ~= '1' then
  local room = batch
  if cap >= 0 then room = math.min(room, cap - redis.call('ZCOUNT', active, '(' .. now, '+inf')) end
  while admitted < room do
    local head = redis.call('ZPOPMIN', ckey(c, 'wait'))
    if #head == 0 then break end
    local t = head[1]
    local seen = redis.call('ZSCORE', ckey(c, 'seen'), t)
    redis.call('ZREM', ckey(c, 'seen'), t)
    local h = redis.call('HMGET', tkey(t), 'u', 's')
    if h[2] == 'W' and seen and tonumber(seen) > cutoff then
      local x = now + ttl
      redis.call('HSET', tkey(t), 's', 'A', 'x', x)
      redis.call('PEXPIRE', tkey(t), ttl + tonumber(ARGV[8]))
      redis.call('PEXPIRE', ckey(c, 'u:' .. h[1]), ttl + tonumber(ARGV[8]))
      redis.call('ZADD', active, x, t)
      admitted = admitted + 1
    elseif h[1] then
      drop_waiting(c, t, h[1], seen and (tonumber(seen) + abandon) or now)
    end
  end
end
if redis.call('ZCARD', ckey(c, 'wait')) == 0 then redis.call('SREM', 'q:concerts', c) end
return admitted
"""
)

# KEYS[1]=q:t:<token>. ARGV: token, now. -> 1 when it was not yet EXPIRED, else 0
EXPIRE = (
    PRELUDE
    + """
local t, now = ARGV[1], tonumber(ARGV[2])
local h = redis.call('HMGET', KEYS[1], 'u', 'c', 's', 'x')
if not h[1] or h[3] == 'E' then return 0 end
local c = h[2]
local x = now
if h[4] and tonumber(h[4]) < now then x = tonumber(h[4]) end
redis.call('ZREM', ckey(c, 'active'), t)
drop_waiting(c, t, h[1], x)
return 1
"""
)
