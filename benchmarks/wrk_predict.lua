-- wrk script: POST canvas PNGs as raw image/png bytes, cycling through the files listed (":"-separated)
-- in INKDIGIT_BENCH_PNGS, and report percentiles and errors as one JSON line.
local bodies = {}
for path in string.gmatch(os.getenv("INKDIGIT_BENCH_PNGS") or "", "[^:]+") do
  local f = assert(io.open(path, "rb"))
  bodies[#bodies + 1] = f:read("*a")
  f:close()
end
assert(#bodies > 0, "INKDIGIT_BENCH_PNGS names no file")
local headers = { ["Content-Type"] = "image/png" }
local token = os.getenv("INKDIGIT_BENCH_TOKEN")  -- signed in: every reading is kept in the history
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
local n = 0

function setup(thread)
  thread:set("n", math.random(#bodies))  -- threads start at different drawings
end

request = function()
  n = n % #bodies + 1
  return wrk.format("POST", nil, headers, bodies[n])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, ' ..
    '"max_ms": %.2f, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, e.status, e.connect + e.read + e.write + e.timeout))
end
