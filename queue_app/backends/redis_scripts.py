"""Lua for the Redis backend: every step that reads and writes is one atomic script, one round trip.

Keys: every key of one concert carries the hash tag {<c>}, so a concert's queue lives in one Redis
Cluster slot and no script touches a key outside it. A token value starts with its concert id
("<c>.<random>"), so a poll finds the slot from the token alone.
  q:{c}:t:<token>        hash  u=user id, n=queue number, s=W|A|E, i=issued ms, x=expires ms (A/E only),
                               r=expired reason (E only)
  q:{c}:wait             zset  waiting tokens in admission order: the queue number before the draw;
                               after it the draw rank 1..P for the drawn tokens, the queue number (> P)
                               for the later ones
  q:{c}:seen             zset  the same tokens scored by last recorded poll (ms), never before the
                               opening; a poll within SEEN_REFRESH_MS of the recorded one is not recorded
  q:{c}:active           zset  admitted tokens scored by expiry (ms): the live count is a range count
  q:{c}:sale             hash  o=opening ms ('' or absent: open now), seed, d=1 once drawn, dt=drawn ms,
                               n=queue number sequence, so=1 sold out, ns=1 no AVAILABLE seat, p=1 paused,
                               r=achieved pace (tokens/s, queue_app/pace.py), rt=last round ms,
                               at=admitted total, ab=abandoned total
  q:{c}:rounds           list  recent admission rounds "ms:admitted:room", newest first
  q:{c}:u:<user>         str   the user's latest token for the concert (one live token per user)
  q:{c}:draw:tmp         zset  the draw being written (renamed onto wait in one step)
  q:{c}:draw:lock        str   held by the one process computing the draw
  q:{c}:rl:<scope>:<u>:<w> int fixed-window request counter per user
Times are milliseconds from the caller's clock (ARGV), never Redis TIME, so tests can move them.
A token is abandoned when its last recorded poll (the opening at the earliest) is at or before now -
abandon (so a token not polled for `abandon` is abandoned; one polled again within SEEN_REFRESH_MS of its
recorded poll may be abandoned that much earlier than its last poll);
active until now >= x. While the opening is due but the pre-queue is not drawn yet, scripts that would
read or change the waiting order answer 2 (draw first) and change nothing.
"""

PRELUDE = """
local function ckey(c, name) return 'q:{' .. c .. '}:' .. name end
local function tkey(c, t) return ckey(c, 't:' .. t) end

local function forget_user(c, u, t)
  local uk = ckey(c, 'u:' .. u)
  if redis.call('GET', uk) == t then redis.call('DEL', uk) end
end

-- The sale: opening ms (0 = open now), drawn, and whether the opening is due but not drawn.
local function sale(c, now)
  local h = redis.call('HMGET', ckey(c, 'sale'), 'o', 'd', 'so', 'ns', 'p', 'r')
  local o = tonumber(h[1]) or 0
  local drawn = h[2] == '1'
  local s = {o = o, drawn = drawn, prequeue = o > 0 and not drawn and now < o,
             due = o > 0 and not drawn and now >= o, so = h[3] == '1', rate = h[6] or ''}
  s.blocked = (s.prequeue or s.so or h[4] == '1' or h[5] == '1') and 1 or 0
  return s
end

local function eff_seen(c, t, o)
  local seen = redis.call('ZSCORE', ckey(c, 'seen'), t)
  if not seen then return nil end
  return math.max(tonumber(seen), o)
end

-- Leave the waiting queue as EXPIRED at `x` for `reason`.
local function drop_waiting(c, t, u, x, reason)
  redis.call('ZREM', ckey(c, 'wait'), t)
  redis.call('ZREM', ckey(c, 'seen'), t)
  if redis.call('EXISTS', tkey(c, t)) == 1 then
    redis.call('HSET', tkey(c, t), 's', 'E', 'x', x, 'r', reason)
  end
  if u then forget_user(c, u, t) end
  if reason == 'ABANDONED' then redis.call('HINCRBY', ckey(c, 'sale'), 'ab', 1) end
end

-- At most `limit` abandoned waiters of concert c leave the queue: O(log n + m). Nobody is abandoned
-- before opening + abandon (every waiter counts as seen at the opening at the earliest).
local function sweep_abandoned(c, cutoff, abandon, limit, o)
  if cutoff < o then return end
  local gone = redis.call('ZRANGEBYSCORE', ckey(c, 'seen'), '-inf', cutoff, 'WITHSCORES', 'LIMIT', 0, limit)
  for i = 1, #gone, 2 do
    local t = gone[i]
    drop_waiting(c, t, redis.call('HGET', tkey(c, t), 'u'), tonumber(gone[i + 1]) + abandon, 'ABANDONED')
  end
end

-- Fixed-window counter; returns milliseconds until the window ends when over the limit, else 0.
local function rate_hit(c, scope, u, now, limit, window)
  if limit <= 0 then return 0 end
  local w = math.floor(now / window)
  local k = ckey(c, 'rl:' .. scope .. ':' .. u .. ':' .. w)
  local n = redis.call('INCR', k)
  if n == 1 then redis.call('PEXPIRE', k, window) end
  if n > limit then return (w + 1) * window - now end
  return 0
end

-- The live status at `now` of a token stored with status s and expiry x: W, A or E.
local function live_status(c, t, s, x, now, cutoff, o)
  if s == 'A' then
    if tonumber(x) > now then return 'A' end
    return 'E'
  end
  if s == 'W' then
    local seen = eff_seen(c, t, o)
    if seen and seen > cutoff then return 'W' end
  end
  return 'E'
end

local function position(c, t, sl)
  if sl.prequeue then return -1 end
  local r = redis.call('ZRANK', ckey(c, 'wait'), t)
  if r then return r + 1 end
  return 0
end
"""

# KEYS[1]=q:{c}:t:<token>, KEYS[2]=q:{c}:sale, KEYS[3] (optional) a hash of the concert's slot on which
# an ACTIVE token's check records a write intent (HINCRBY v 1, w = now; concerts/seat_map_cache.py).
# ARGV: token, now, abandon, expect user ('' = any), touch (1/0), rate limit, rate window, retention,
# sweep limit, concert, seen refresh ms.
# A poll of a waiting token writes (last seen, TTLs, the abandonment sweep) only when the recorded last
# poll is at least `seen refresh` old: polls closer together than that are reads (and no replication).
# -> {0} unknown | {-1, retry ms} throttled | {2} draw first |
#    {1, u, c, status, position (-1 pre-queue), issued, expires or '', number, reason or '', blocked, rate}
STATUS = (
    PRELUDE
    + """
local t, now, abandon, c = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[10]
local h = redis.call('HMGET', KEYS[1], 'u', 's', 'i', 'x', 'n', 'r')
local u, s = h[1], h[2]
if not u then return {0} end
if ARGV[4] ~= '' and ARGV[4] ~= u then return {0} end
local retry = rate_hit(c, 'queue_status', u, now, tonumber(ARGV[6]), tonumber(ARGV[7]))
if retry > 0 then return {-1, retry} end
local sl = sale(c, now)
if s == 'W' and sl.due then return {2} end
local cutoff = now - abandon
local st, raw, seen = 'E', nil, nil
if s == 'A' then
  if tonumber(h[4]) > now then st = 'A' end
elseif s == 'W' then
  raw = redis.call('ZSCORE', ckey(c, 'seen'), t)
  if raw then
    raw = tonumber(raw)
    seen = math.max(raw, sl.o)
    if seen > cutoff then st = 'W' end
  end
end
local x, pos, reason = h[4] or '', 0, h[6] or ''
if st == 'W' then
  if ARGV[5] == '1' and (raw > now or raw <= now - tonumber(ARGV[11])) then
    redis.call('ZADD', ckey(c, 'seen'), 'XX', math.max(now, sl.o), t)
    redis.call('PEXPIRE', KEYS[1], ARGV[8])
    redis.call('PEXPIRE', ckey(c, 'u:' .. u), ARGV[8])
    sweep_abandoned(c, cutoff, abandon, tonumber(ARGV[9]), sl.o)
  end
  pos = position(c, t, sl)
elseif s == 'W' then
  x, reason = seen and (seen + abandon) or now, 'ABANDONED'
  if ARGV[5] == '1' then drop_waiting(c, t, u, x, reason) end
elseif s == 'A' then
  reason = 'TIMED_OUT'
end
if st == 'A' and KEYS[3] then
  redis.call('HINCRBY', KEYS[3], 'v', 1)
  redis.call('HSET', KEYS[3], 'w', now)
end
return {1, u, c, st, pos, h[3], x, h[5] or '0', reason, sl.blocked, sl.rate}
"""
)

# KEYS[1]=q:{c}:u:<user>, KEYS[2]=q:{c}:t:<new token>, KEYS[3]=q:{c}:sale. ARGV: user, concert, new
# token, now, abandon, rate limit, rate window, retention, sweep limit.
# -> {-1, retry ms} throttled | {-2} sold out | {2} draw first |
#    {created 1/0, token, status, position, issued, expires or '', number, '', blocked, rate}
ISSUE = (
    PRELUDE
    + """
local u, c, nt, now, abandon = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local retry = rate_hit(c, 'queue_issue', u, now, tonumber(ARGV[6]), tonumber(ARGV[7]))
if retry > 0 then return {-1, retry} end
local sl = sale(c, now)
if sl.due then return {2} end
local cutoff = now - abandon
local old = redis.call('GET', KEYS[1])
if old then
  local h = redis.call('HMGET', tkey(c, old), 's', 'i', 'x', 'n')
  if h[1] then
    local st = live_status(c, old, h[1], h[3], now, cutoff, sl.o)
    if st == 'W' then
      redis.call('ZADD', ckey(c, 'seen'), 'XX', math.max(now, sl.o), old)
      redis.call('PEXPIRE', tkey(c, old), ARGV[8])
      redis.call('PEXPIRE', KEYS[1], ARGV[8])
      sweep_abandoned(c, cutoff, abandon, tonumber(ARGV[9]), sl.o)
      return {0, old, 'W', position(c, old, sl), h[2], '', h[4], '', sl.blocked, sl.rate}
    elseif st == 'A' then
      return {0, old, 'A', 0, h[2], h[3], h[4], '', sl.blocked, sl.rate}
    elseif h[1] == 'W' then
      local seen = eff_seen(c, old, sl.o)
      drop_waiting(c, old, u, seen and (seen + abandon) or now, 'ABANDONED')
    end
  end
end
if sl.so then return {-2} end
sweep_abandoned(c, cutoff, abandon, tonumber(ARGV[9]), sl.o)
local n = redis.call('HINCRBY', ckey(c, 'sale'), 'n', 1)
redis.call('HSET', KEYS[2], 'u', u, 'n', n, 's', 'W', 'i', now)
redis.call('PEXPIRE', KEYS[2], ARGV[8])
redis.call('ZADD', ckey(c, 'wait'), n, nt)
redis.call('ZADD', ckey(c, 'seen'), math.max(now, sl.o), nt)
redis.call('SET', KEYS[1], nt, 'PX', ARGV[8])
return {1, nt, 'W', position(c, nt, sl), now, '', n, '', sl.blocked, sl.rate}
"""
)

# KEYS[1]=q:{c}:sale. ARGV: concert, now, abandon, batch, cap (-1 = none), active ttl, paused (1/0),
# retention, sweep limit, seat available (1/0), sold out (1/0), rounds kept.
# -> {0} before the opening | {2} draw first | {1, admitted, waiting left to end as SOLD_OUT, rounds...}
PROMOTE = (
    PRELUDE
    + """
local c, now, abandon = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local batch, cap, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local cutoff, limit = now - abandon, tonumber(ARGV[9])
local sl = sale(c, now)
if sl.due then return {2} end
if sl.prequeue then return {0} end
sweep_abandoned(c, cutoff, abandon, limit, sl.o)
local active = ckey(c, 'active')
for _, t in ipairs(redis.call('ZRANGEBYSCORE', active, '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('ZREM', active, t)
  local u = redis.call('HGET', tkey(c, t), 'u')
  if u then
    redis.call('HSET', tkey(c, t), 's', 'E', 'r', 'TIMED_OUT')
    forget_user(c, u, t)
  end
end
local admitted, room = 0, 0
if ARGV[7] ~= '1' and ARGV[10] == '1' and ARGV[11] ~= '1' then
  room = batch
  if cap >= 0 then
    room = math.max(0, math.min(room, cap - redis.call('ZCOUNT', active, '(' .. now, '+inf')))
  end
  while admitted < room do
    local head = redis.call('ZPOPMIN', ckey(c, 'wait'))
    if #head == 0 then break end
    local t = head[1]
    local seen = eff_seen(c, t, sl.o)
    redis.call('ZREM', ckey(c, 'seen'), t)
    local h = redis.call('HMGET', tkey(c, t), 'u', 's')
    if h[2] == 'W' and seen and seen > cutoff then
      local x = now + ttl
      redis.call('HSET', tkey(c, t), 's', 'A', 'x', x)
      redis.call('PEXPIRE', tkey(c, t), ttl + tonumber(ARGV[8]))
      redis.call('PEXPIRE', ckey(c, 'u:' .. h[1]), ttl + tonumber(ARGV[8]))
      redis.call('ZADD', active, x, t)
      admitted = admitted + 1
    elseif h[1] then
      drop_waiting(c, t, h[1], seen and (seen + abandon) or now, 'ABANDONED')
    end
  end
end
local rounds = ckey(c, 'rounds')
redis.call('LPUSH', rounds, now .. ':' .. admitted .. ':' .. room)
redis.call('LTRIM', rounds, 0, tonumber(ARGV[12]) - 1)
local no_seat = ARGV[10] == '1' and '0' or '1'
redis.call('HSET', ckey(c, 'sale'), 'rt', now, 'p', ARGV[7], 'ns', no_seat, 'so', ARGV[11])
redis.call('HINCRBY', ckey(c, 'sale'), 'at', admitted)
local reply = {1, admitted, ARGV[11] == '1' and redis.call('ZCARD', ckey(c, 'wait')) or 0}
for _, entry in ipairs(redis.call('LRANGE', rounds, 0, -1)) do reply[#reply + 1] = entry end
return reply
"""
)

# KEYS[1]=q:{c}:sale. ARGV: concert, now, limit. Up to `limit` waiting tokens end as SOLD_OUT.
# -> waiting tokens left
SOLD_OUT = (
    PRELUDE
    + """
local c, now = ARGV[1], tonumber(ARGV[2])
for _, t in ipairs(redis.call('ZRANGE', ckey(c, 'wait'), 0, tonumber(ARGV[3]) - 1)) do
  drop_waiting(c, t, redis.call('HGET', tkey(c, t), 'u'), now, 'SOLD_OUT')
end
return redis.call('ZCARD', ckey(c, 'wait'))
"""
)

# KEYS[1]=q:{c}:t:<token>, KEYS[2]=q:{c}:sale. ARGV: token, now, concert, reason, abandon.
# -> 1 when it was not yet EXPIRED, 0 otherwise, 2 draw first
EXPIRE = (
    PRELUDE
    + """
local t, now, c, reason, abandon = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local h = redis.call('HMGET', KEYS[1], 'u', 's', 'x')
if not h[1] or h[2] == 'E' then return 0 end
local sl = sale(c, now)
if h[2] == 'W' and sl.due then return 2 end
local x = now
if h[2] == 'A' and tonumber(h[3]) <= now then x, reason = tonumber(h[3]), 'TIMED_OUT' end
if h[2] == 'W' then
  local seen = eff_seen(c, t, sl.o)
  if seen and seen <= now - abandon then x, reason = seen + abandon, 'ABANDONED' end
end
redis.call('ZREM', ckey(c, 'active'), t)
drop_waiting(c, t, h[1], x, reason)
return 1
"""
)

# KEYS[1]=q:{c}:sale, KEYS[2]=q:{c}:wait, KEYS[3]=q:{c}:draw:tmp. ARGV: now, queue number sequence and
# waiting count the draw was computed from. Puts the drawn order in place in one step.
# -> 1 drawn (now or before), 0 the queue changed meanwhile (compute again)
DRAW_SWAP = """
local h = redis.call('HMGET', KEYS[1], 'd', 'n')
if h[1] == '1' then
  redis.call('DEL', KEYS[3])
  return 1
end
if (tonumber(h[2]) or 0) ~= tonumber(ARGV[2]) or redis.call('ZCARD', KEYS[2]) ~= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[3])
  return 0
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('RENAME', KEYS[3], KEYS[2])
else
  redis.call('DEL', KEYS[2])
end
redis.call('HSET', KEYS[1], 'd', '1', 'dt', ARGV[1])
return 1
"""

# KEYS[1]=q:{c}:draw:lock. ARGV: the holder's value. Releases the lock only if still held by it.
UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
