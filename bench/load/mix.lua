-- A learner mix for wrk: each thread plays its own signed-in learners (cookies and CSRF tokens come in
-- through LEADTHE_USERS: "cookie|csrf;cookie|csrf;..."). Paths come from LEADTHE_PATHS (comma-separated)
-- with weights; POSTs complete a lesson (idempotent on the server).
local users = {}
for entry in string.gmatch(os.getenv("LEADTHE_USERS") or "", "([^;]+)") do
  local cookie, csrf = string.match(entry, "([^|]*)|(.*)")
  table.insert(users, {cookie = cookie, csrf = csrf})
end
local lesson = os.getenv("LEADTHE_LESSON") or "/courses/ai-foundations/lessons/what-generative-ai-is"
local course = string.match(lesson, "(/courses/[^/]+)")
local mix = {
  {weight = 25, method = "GET", path = "/dashboard"},
  {weight = 20, method = "GET", path = "/courses"},
  {weight = 35, method = "GET", path = lesson},
  {weight = 10, method = "POST", path = lesson .. "/complete"},
  {weight = 10, method = "GET", path = "/search?q=prompt"},
}
if os.getenv("LEADTHE_ONLY") then mix = {{weight = 100, method = "GET", path = os.getenv("LEADTHE_ONLY")}} end

-- LEADTHE_THINK_MS: each simulated user pauses about this long between requests (a person reading a lesson),
-- so 50 connections are 50 people rather than 50 request cannons.
local think = tonumber(os.getenv("LEADTHE_THINK_MS") or "0")
function delay()
  if think > 0 then return math.random(math.floor(think / 2), math.floor(think * 3 / 2)) end
  return 0
end

local counter = 0
local threads = {}
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local me
function init(args)
  me = id or 1
  math.randomseed(me * 7919)
end

function request()
  local roll = math.random(100)
  local acc = 0
  local choice = mix[#mix]
  for _, item in ipairs(mix) do
    acc = acc + item.weight
    if roll <= acc then choice = item; break end
  end
  local headers = {}
  if #users > 0 then
    local u = users[math.random(#users)]
    headers["Cookie"] = u.cookie
    if choice.method == "POST" then
      headers["X-CSRFToken"] = u.csrf
      headers["Content-Type"] = "application/x-www-form-urlencoded"
      return wrk.format("POST", choice.path, headers, "csrf_token=" .. u.csrf)
    end
  end
  headers["Accept-Encoding"] = "gzip, br"
  return wrk.format(choice.method, choice.path, headers)
end

local errors = 0
function response(status, headers, body)
  if status >= 400 then errors = errors + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.1f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f non2xx3xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
