-- wrk script: replays pre-signed Twilio webhooks, each once (fresh CallSids).
-- Env: BENCH_REQUESTS  file of "path<TAB>signature<TAB>body" lines (one request each)
--      BENCH_PREFIX    path prefix ("/functions/v1" through the gateway, "" direct)
--      BENCH_DELAY_MS  think time per connection between requests (0: saturate)
-- Each thread takes every n-th line; a thread that runs out starts over and
-- counts it, so the report can say whether any request was sent twice.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file = os.getenv("BENCH_REQUESTS")
  local prefix = os.getenv("BENCH_PREFIX") or ""
  delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
  local n = tonumber(os.getenv("BENCH_THREADS") or "1")
  local run = os.getenv("BENCH_RUN") or "bench"
  reqs = {}
  wrapped = 0
  local i = 0
  for line in io.lines(file) do
    if i % n == id then
      local path, sig, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = sig,
        ["I-Twilio-Idempotency-Token"] = run .. "-" .. i,
      }
      table.insert(reqs, wrk.format("POST", prefix .. path, headers, body))
    end
    i = i + 1
  end
  nxt = 1
end

function request()
  local r = reqs[nxt]
  nxt = nxt + 1
  if nxt > #reqs then
    nxt = 1
    wrapped = wrapped + 1
  end
  return r
end

function delay()
  return delay_ms
end

function done(summary, latency, requests)
  local wraps = 0
  for _, t in ipairs(threads) do wraps = wraps + (t:get("wrapped") or 0) end
  local e = summary.errors
  io.write(string.format(
    '\nBENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"wrapped":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, wraps))
end
