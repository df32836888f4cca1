-- wrk script for the Kesher benchmark: one of three request kinds, chosen by the first argument.
--   wrk -s benchmarks/kesher.lua URL -- MODE API_KEY MEMBERS_FILE RUN_TOKEN SOURCE [BULK_SIZE]
-- MODE is "activity" (POST /api/v1/activities, a fresh Idempotency-Key each), "bulk"
-- (POST /api/v1/activities/bulk with BULK_SIZE purchases) or "member" (GET /api/v1/members/{id}).
-- Members are picked at random from MEMBERS_FILE (one id a line). The summary is printed as one
-- JSON line starting with KESHER_RESULT for benchmarks/run.py to read.

local threads = {}
local next_thread_index = 0

function setup(thread)
  next_thread_index = next_thread_index + 1
  thread:set("thread_index", next_thread_index)
  table.insert(threads, thread)
end

local mode, api_key, run_token, source, bulk_size
local members = {}
local sent = 0
local stores = { "tel-aviv", "haifa", "jerusalem", "beer-sheva", "online" }
-- read back by done() through thread:get
created = 0
replayed = 0
failed = 0
first_error = ""

function init(args)
  mode = args[1]
  api_key = args[2]
  run_token = args[4]
  source = args[5]
  bulk_size = tonumber(args[6] or "1000")
  for line in io.lines(args[3]) do
    if #line > 0 then
      members[#members + 1] = line
    end
  end
  math.randomseed(os.time() + 7919 * thread_index)
end

local function random_member()
  return members[math.random(#members)]
end

local function purchase_attributes()
  return string.format('{"amount":"%d.%02d","store":"%s"}',
    math.random(5, 900), math.random(0, 99), stores[math.random(#stores)])
end

function request()
  sent = sent + 1
  if mode == "member" then
    return wrk.format("GET", "/api/v1/members/" .. random_member(), {
      ["Authorization"] = "Bearer " .. api_key,
    })
  end
  local headers = {
    ["Authorization"] = "Bearer " .. api_key,
    ["Content-Type"] = "application/json",
  }
  if mode == "activity" then
    headers["Idempotency-Key"] = string.format("%s-%d-%d", run_token, thread_index, sent)
    local body = string.format('{"member_id":"%s","type":"purchase","source":"%s","attributes":%s}',
      random_member(), source, purchase_attributes())
    return wrk.format("POST", "/api/v1/activities", headers, body)
  end
  local items = {}
  for i = 1, bulk_size do
    items[i] = string.format(
      '{"member_id":"%s","type":"purchase","source":"%s","attributes":%s,"idempotency_key":"%s-%d-%d-%d"}',
      random_member(), source, purchase_attributes(), run_token, thread_index, sent, i)
  end
  return wrk.format("POST", "/api/v1/activities/bulk", headers,
    '{"activities":[' .. table.concat(items, ",") .. "]}")
end

function response(status, headers, body)
  if status >= 300 then
    if first_error == "" then
      first_error = status .. " " .. string.sub(body or "", 1, 300)
    end
    return
  end
  if mode == "bulk" then
    local c, r, f = string.match(body, '^{"created":%s*(%d+),%s*"replayed":%s*(%d+),%s*"failed":%s*(%d+)')
    if c then
      created = created + tonumber(c)
      replayed = replayed + tonumber(r)
      failed = failed + tonumber(f)
    end
  end
end

local function json_string(text)
  return '"' .. string.gsub(text, '[%c"\\]', function(ch)
    if ch == '"' or ch == "\\" then
      return "\\" .. ch
    end
    return " "
  end) .. '"'
end

function done(summary, latency, requests)
  local c, r, f, err = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    c = c + (thread:get("created") or 0)
    r = r + (thread:get("replayed") or 0)
    f = f + (thread:get("failed") or 0)
    local e = thread:get("first_error") or ""
    if err == "" and e ~= "" then
      err = e
    end
  end
  local e = summary.errors
  io.write(string.format(
    'KESHER_RESULT {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d},"latency_us":{"p50":%.0f,"p95":%.0f,"p99":%.0f,"max":%.0f,"mean":%.1f},' ..
    '"bulk":{"created":%d,"replayed":%d,"failed":%d},"first_error":%s}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean,
    c, r, f, json_string(err)))
end
