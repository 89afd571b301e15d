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

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
