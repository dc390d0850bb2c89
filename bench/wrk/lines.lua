-- One wrk script for every HTTP scenario, so the load generator does the same work per request in each
-- (the baseline included) and the ratios compare the server alone.
--
-- Environment:
--   BENCH_DATA     file of requests, one a line: PATH <TAB> BODY <TAB> Header: value <TAB> ...
--                  (BODY empty for none). Thread t of n takes lines t, t+n, t+2n, ... in order, so no two
--                  requests of a run share a line until the data runs out (then it wraps and says so).
--   BENCH_METHOD   GET or POST
--   BENCH_THREADS  the -t given to wrk
--   BENCH_RATE     optional total requests/s to pace to (open-loop pacing per thread, no catch-up bursts)
-- done() prints one line "BENCH_JSON {...}" with the counts by status, wraps, latency percentiles (us).

local method = os.getenv("BENCH_METHOD") or "GET"
local data_path = os.getenv("BENCH_DATA")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local rate = tonumber(os.getenv("BENCH_RATE") or "0")

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function split(line)
  local out = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    out[#out + 1] = field
  end
  return out
end

local reqs = {}
local cursor = 0
codes = {}
wraps = 0

function init(args)
  local tid = wrk.thread:get("tid")
  local lines = {}
  for line in io.lines(data_path) do
    if line ~= "" then
      lines[#lines + 1] = line
    end
  end
  -- fewer lines than threads (e.g. the baseline's one path): every thread takes them all
  local share = #lines >= nthreads
  for n, line in ipairs(lines) do
    if not share or (n - 1) % nthreads == tid - 1 then
      local f = split(line)
      local headers = {}
      for i = 3, #f do
        local name, value = f[i]:match("^([^:]+):%s*(.*)$")
        if name then
          headers[name] = value
        end
      end
      local body = f[2] ~= "" and f[2] or nil
      if body then
        headers["Content-Type"] = "application/json"
      end
      reqs[#reqs + 1] = { f[1], headers, body }
    end
  end
  lines = nil
  if #reqs == 0 then
    error("no request lines for thread " .. tid .. " in " .. tostring(data_path))
  end
end

function request()
  cursor = cursor + 1
  if cursor > #reqs then
    cursor = 1
    wraps = wraps + 1
  end
  local r = reqs[cursor]
  return wrk.format(method, r[1], r[2], r[3])
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

if rate > 0 then
  local ffi = require("ffi")
  ffi.cdef([[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clk_id, bench_timespec *tp);
  ]])
  local ts = ffi.new("bench_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local interval = 1000 / (rate / nthreads)
  local next_slot = 0

  -- Called before each request on a connection: claim the thread's next send slot.
  function delay()
    local now = now_ms()
    if next_slot < now then
      next_slot = now
    end
    local wait = next_slot - now
    next_slot = next_slot + interval
    return math.floor(wait)
  end
end

function done(summary, latency, requests)
  local by_code = {}
  local total_wraps = 0
  for _, thread in ipairs(threads) do
    local c = thread:get("codes")
    for code, count in pairs(c) do
      by_code[code] = (by_code[code] or 0) + count
    end
    total_wraps = total_wraps + thread:get("wraps")
  end
  local parts = {}
  for code, count in pairs(by_code) do
    parts[#parts + 1] = string.format('"%d": %d', code, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "codes": {%s}, "wraps": %d, '
      .. '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, table.concat(parts, ", "), total_wraps,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean
  ))
end
