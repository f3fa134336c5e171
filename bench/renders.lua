-- wrk script: a closed loop of POST /v1/renders (bench/renders.py runs it).
-- Arguments: tag, tenths, template, field. Request n of a thread asks for one of 16
-- payloads rendered before when n % 10 < tenths (a repeat), else for a new value, and
-- every answer is counted: drawn ("cached": false), cached, or not a 201.
local threads = {}
local started = 0

function setup(thread)
  started = started + 1
  thread:set("id", started)
  table.insert(threads, thread)
end

function init(args)
  tag, tenths, template, field = args[1], tonumber(args[2]), args[3], args[4]
  n, drawn, cached, other = 0, 0, 0, 0
end

function request()
  n = n + 1
  local value
  if n % 10 < tenths then
    value = string.format("Repeat %s %d", tag, n % 16)
  else
    value = string.format("New %s %d-%d", tag, id, n)
  end
  local body = string.format(
    '{"template":"%s","fields":{"%s":"%s"},"format":"png"}', template, field, value)
  return wrk.format("POST", "/v1/renders", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status ~= 201 then
    other = other + 1
  elseif string.find(body, '"cached": false', 1, true) then
    drawn = drawn + 1
  else
    cached = cached + 1
  end
end

function done(summary, latency, requests)
  local d, c, o = 0, 0, 0
  for _, t in ipairs(threads) do
    d, c, o = d + t:get("drawn"), c + t:get("cached"), o + t:get("other")
  end
  io.write(string.format(
    "RENDERS drawn=%d cached=%d other=%d p50_us=%d p99_us=%d duration_us=%d\n",
    d, c, o, latency:percentile(50), latency:percentile(99), summary.duration))
end
