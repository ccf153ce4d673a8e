-- wrk script for the write run: every request POSTs an edit of one workflow, without a
-- `version` (no stale check), changing its metric and spend, so every request commits.
--
--   wrk ... -s bench/write.lua http://127.0.0.1:PORT -- targets.lua
--
-- targets.lua (written by bench/run.sh from scorecard.json) defines `targets`, a list of
-- { path = "/s/TOKEN/workflows/ID", body = "name=...&team=...&..." } with the workflow's
-- other fields as stored, so only metric and spend change. Responses other than 3xx are
-- counted per thread and summed in done().
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  dofile(args[1])
  counter = 0
  non3xx = 0
  -- Threads start at different places in the list.
  offset = math.random(1, #targets)
end

function request()
  counter = counter + 1
  local t = targets[(offset + counter * 7919) % #targets + 1]
  local cents = (counter * 104729) % 50000000
  local body = string.format("%s&metric=Edited+%d&monthly_spend=%d.%02d",
    t.body, counter, math.floor(cents / 100), cents % 100)
  return wrk.format("POST", t.path,
    { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end

function response(status, headers, body)
  if status < 300 or status >= 400 then
    non3xx = non3xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non3xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d socket_errors=%d status_errors=%d non3xx=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect + e.read + e.write + e.timeout, e.status, bad))
end
