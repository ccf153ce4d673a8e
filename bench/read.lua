-- wrk script for the read runs: plain GETs (no per-response Lua, so wrk stays cheap);
-- at the end one machine-readable line that bench/run.sh parses.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d socket_errors=%d status_errors=%d non3xx=-1\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect + e.read + e.write + e.timeout, e.status))
end
