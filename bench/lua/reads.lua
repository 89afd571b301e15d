-- wrk script: GET /api/companies/{id} with a CloudFront-Viewer-Country header rotating over regions.
-- Configured by environment (read at load time, so the main state and every thread agree):
--   BENCH_IDS          ids are drawn uniformly from 1..BENCH_IDS
--   BENCH_COUNTRIES    comma-separated country codes, used in turn
--   BENCH_THINK_MAX_MS when > 0, each connection is a user that waits uniform 0..max ms before every request,
--   BENCH_ARRIVAL_MAX_MS   except its first: uniform 0..this (the users arrive over that ramp)
--   BENCH_CONNECTIONS_PER_THREAD  how many first requests a thread makes (wrk asks delay() once per connection
--                      before any response, so the thread's first that many calls are the arrivals)
-- Prints one line "BENCH_JSON {...}" with the summary, error counts and latency percentiles (microseconds).

local ids = tonumber(os.getenv("BENCH_IDS") or "1000")
local think_max = tonumber(os.getenv("BENCH_THINK_MAX_MS") or "0")
local countries = {}
for code in string.gmatch(os.getenv("BENCH_COUNTRIES") or "DE,US,JP", "[^,]+") do
  countries[#countries + 1] = code
end

local threads = {}
local next_seed = 1

function setup(thread)
  thread:set("seed", next_seed)
  next_seed = next_seed + 1
  threads[#threads + 1] = thread
end

local counter = 0

function init(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
  counter = math.random(0, #countries - 1)
end

function request()
  counter = counter + 1
  local headers = { ["CloudFront-Viewer-Country"] = countries[counter % #countries + 1] }
  return wrk.format("GET", "/api/companies/" .. math.random(1, ids), headers)
end

local arrival_max = tonumber(os.getenv("BENCH_ARRIVAL_MAX_MS") or "0")
local arrivals_left = tonumber(os.getenv("BENCH_CONNECTIONS_PER_THREAD") or "0")

if think_max > 0 then
  function delay()
    if arrivals_left > 0 then
      arrivals_left = arrivals_left - 1
      return math.random(0, arrival_max)
    end
    return math.random(0, think_max)
  end
end

-- The summary line bench.wrk parses, shared by every script (BENCH_LUA_DIR is set by bench.wrk).
dofile(os.getenv("BENCH_LUA_DIR") .. "/summary.lua")
