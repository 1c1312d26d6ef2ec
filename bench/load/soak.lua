-- wrk script of `make soak` (bench/soak.py): the mix of bench/load/requests.lua, plus what the
-- soak checks afterwards: statuses per endpoint and class, and the client_id of every message
-- POST answered 201 (each message carries a unique client_id, so every one can be found).
--   wrk -tC -cC -d600s -s bench/load/soak.lua http://127.0.0.1:18080 -- <mix.tsv> <run>
-- One connection per thread (-t = -c): wrk then calls request() and response() in turn on each
-- thread, so response() knows which request it answers.
-- Each line: METHOD <TAB> PATH <TAB> BEARER or - <TAB> JSON-BODY or - <TAB> TAG
-- A JSON body of a line tagged message or ws* gets ,"client_id":"<run>-<tag>-t<thread>-<n>".
-- done() prints SOAK-JSON {requests, rps, percentiles, errors, statuses{tag: {class: n}}},
-- then the 201'd client_ids, one a line, between SOAK-IDS-BEGIN and SOAK-IDS-END.

local requests = {}
local counter = 0
local threads = {}
local run = "soak"
local last_tag = nil
local last_client = nil
local sent = 0
local statuses = {}
-- globals that done() reads from each thread with thread:get(): strings only (wrk 4.1 crashes
-- copying tables between Lua states). counts: "tag class n" lines; created: client_ids.
counts = ""
created = ""

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
      local tag = (f[5] and f[5] ~= "") and f[5] or "other"
      local entry = { tag = tag }
      if body and (tag == "message" or tag:sub(1, 2) == "ws") then
        entry.method, entry.path, entry.headers, entry.body = f[1], f[2], headers, body
      elseif f[2]:find("{n}", 1, true) then  -- a cache-buster, as in requests.lua
        entry.method, entry.path, entry.headers, entry.template = f[1], f[2], headers, true
      else
        entry.raw = wrk.format(f[1], f[2], headers, body)
      end
      built[#built + 1] = entry
    end
  end
  file:close()
  assert(#built > 0, "no requests in " .. tostring(path))
  return built
end

function init(args)
  requests = load(args[1])
  run = args[2] or run
  math.randomseed(2000 + #requests + (tonumber(id) or 0))
end

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  threads[#threads + 1] = thread
end

function request()
  local entry = requests[math.random(#requests)]
  last_tag = entry.tag
  if entry.raw then
    last_client = nil
    return entry.raw
  end
  sent = sent + 1
  if entry.template then
    last_client = nil
    local path = entry.path:gsub("{n}", tostring(id) .. "-" .. tostring(sent), 1)
    return wrk.format(entry.method, path, entry.headers, nil)
  end
  last_client = string.format("%s-%s-t%s-%d", run, entry.tag, tostring(id), sent)
  local body = entry.body:gsub("}%s*$", ',"client_id":"' .. last_client .. '"}')
  return wrk.format(entry.method, entry.path, entry.headers, body)
end

function response(status, headers, body)
  local tag = last_tag or "other"
  local per = statuses[tag]
  if per == nil then
    per = {}
    statuses[tag] = per
  end
  local class = tostring(math.floor(status / 100)) .. "xx"
  per[class] = (per[class] or 0) + 1
  if status == 201 then
    per["201"] = (per["201"] or 0) + 1
    if last_client then
      created = created .. last_client .. "\n"
    end
  end
  local lines = {}
  for t, p in pairs(statuses) do
    for key, n in pairs(p) do
      lines[#lines + 1] = t .. " " .. key .. " " .. n
    end
  end
  counts = table.concat(lines, "\n")
  last_tag, last_client = nil, nil
end

local function json_counts(all)
  local parts = {}
  for tag, per in pairs(all) do
    local inner = {}
    for key, n in pairs(per) do
      inner[#inner + 1] = string.format('"%s": %d', key, n)
    end
    parts[#parts + 1] = string.format('"%s": {%s}', tag, table.concat(inner, ", "))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, _)
  local all = {}
  local ids = {}
  for _, thread in ipairs(threads) do
    for tag, key, n in (thread:get("counts") or ""):gmatch("(%S+) (%S+) (%d+)") do
      all[tag] = all[tag] or {}
      all[tag][key] = (all[tag][key] or 0) + tonumber(n)
    end
    for client in (thread:get("created") or ""):gmatch("[^\n]+") do
      ids[#ids + 1] = client
    end
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'SOAK-JSON {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, ' ..
    '"p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f, "bytes": %d, ' ..
    '"non_2xx": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, ' ..
    '"timeouts": %d, "created_ids": %d, "statuses": %s}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000, summary.bytes,
    e.status, e.connect, e.read, e.write, e.timeout, #ids, json_counts(all)))
  io.write("SOAK-IDS-BEGIN\n")
  for _, client in ipairs(ids) do
    io.write(client .. "\n")
  end
  io.write("SOAK-IDS-END\n")
end
