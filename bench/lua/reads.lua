-- wrk script: GET /api/companies/{id} with a CloudFront-Viewer-Country header rotating over regions.
-- Configured by environment (read at load time, so the main state and every thread agree):
--   BENCH_IDS          ids are drawn uniformly from 1..BENCH_IDS
--   BENCH_COUNTRIES    comma-separated country codes, used in turn
-- Closed loop only: users with think time come from bench/think_users.py (wrk's timers cost it O(users) per
-- wake-up; README, Performance).
-- Prints one line "BENCH_JSON {...}" with the summary, error counts and latency percentiles (microseconds).

local ids = tonumber(os.getenv("BENCH_IDS") or "1000")
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

-- The summary line bench.wrk parses, shared by every script (BENCH_LUA_DIR is set by bench.wrk).
dofile(os.getenv("BENCH_LUA_DIR") .. "/summary.lua")
