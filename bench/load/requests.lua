-- wrk script of `make bench`: replays a request file written by bench/harness.py.
--   wrk -t2 -c16 -d8s -s bench/load/requests.lua http://127.0.0.1:18080 -- <file.tsv>
-- Each line: METHOD <TAB> PATH <TAB> BEARER-TOKEN or - <TAB> JSON-BODY or -
-- A line is picked at random for every request (ids, users and bodies vary like real traffic).
-- Lines may repeat: a mix file weights an endpoint by how many lines it has.
-- "{n}" in a path becomes a number unique to the request (a cache-buster for uncached cells).
-- done() prints one JSON line (prefix BENCH-JSON) with rps, percentiles (ms) and error counts.

local requests = {}
local counter = 0

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  return fields
end

local function load(path)
  local built = {}
  local file = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in file:lines() do
    if line ~= "" and line:sub(1, 1) ~= "#" then
      local f = split(line)
      local headers = { ["Accept"] = "application/json", ["Accept-Encoding"] = "gzip" }
      if f[3] and f[3] ~= "-" and f[3] ~= "" then
        headers["Authorization"] = "Bearer " .. f[3]
      end
      local body = nil
      if f[4] and f[4] ~= "-" and f[4] ~= "" then
        body = f[4]
        headers["Content-Type"] = "application/json"
      end
      if f[2]:find("{n}", 1, true) then
        built[#built + 1] = { f[1], f[2], headers, body }  -- formatted per request
      else
        built[#built + 1] = wrk.format(f[1], f[2], headers, body)
      end
    end
  end
  file:close()
  assert(#built > 0, "no requests in " .. tostring(path))
  return built
end

function init(args)
  requests = load(args[1])
  -- a different sequence per thread, the same across runs
  math.randomseed(1000 + #requests + (tonumber(id) or 0))  -- `id`: set by setup() below
end

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

local sent = 0

function request()
  local chosen = requests[math.random(#requests)]
  if type(chosen) == "string" then
    return chosen
  end
  sent = sent + 1
  local path = chosen[2]:gsub("{n}", tostring(id or 0) .. "-" .. tostring(sent), 1)
  return wrk.format(chosen[1], path, chosen[3], chosen[4])
end

function done(summary, latency, _)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, ' ..
    '"p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f, "bytes": %d, ' ..
    '"non_2xx": %d, "socket_errors": %d, "timeouts": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000, summary.bytes,
    e.status, e.connect + e.read + e.write, e.timeout))
end
