-- wrk script: the same GET again and again, with an optional Authorization header.
-- Configured by environment: BENCH_PATH (path and query), BENCH_AUTHORIZATION (header value, optional).
-- Prints one line "BENCH_JSON {...}" like reads.lua, so bench.wrk parses both alike.

local path = os.getenv("BENCH_PATH") or "/health"
local authorization = os.getenv("BENCH_AUTHORIZATION")
local headers = {}
if authorization and authorization ~= "" then
  headers["Authorization"] = authorization
end

function request()
  return wrk.format("GET", path, headers)
end

-- The summary line bench.wrk parses, shared by every script (BENCH_LUA_DIR is set by bench.wrk).
dofile(os.getenv("BENCH_LUA_DIR") .. "/summary.lua")
