-- An interpreter in the style of OpenStackoid's proof of concept (seed 004), written for the
-- benchmark only: per request it reads every header, decodes the X-Scope JSON with a general
-- decoder, fills a default scope, finds the service by scanning the endpoint list for a URL
-- prefix of Host + path, builds <Region>_<ServiceType>_<Interface>, and re-encodes the scope
-- into a header for the next hop. The endpoint list and region come from `scope_services.lua`
-- (written by bench/router_bench.py from the rendered site).

local data = dofile(os.getenv("SCOPE_SERVICES"))

local function skip(s, i)
  return s:find("[^ \t\r\n]", i) or #s + 1
end

local decode_value

local function decode_string(s, i)
  local j, out = i + 1, {}
  while true do
    local c = s:sub(j, j)
    if c == "" then error("unterminated string") end
    if c == '"' then return table.concat(out), j + 1 end
    if c == "\\" then
      local e = s:sub(j + 1, j + 1)
      local map = { n = "\n", t = "\t", r = "\r", b = "\b", f = "\f", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
      if e == "u" then
        out[#out + 1] = utf8.char(tonumber(s:sub(j + 2, j + 5), 16)); j = j + 6
      else
        out[#out + 1] = map[e] or error("bad escape"); j = j + 2
      end
    else
      out[#out + 1] = c; j = j + 1
    end
  end
end

local function decode_object(s, i)
  local obj = {}
  i = skip(s, i + 1)
  if s:sub(i, i) == "}" then return obj, i + 1 end
  while true do
    local k; k, i = decode_string(s, skip(s, i))
    i = skip(s, i)
    if s:sub(i, i) ~= ":" then error("expected ':'") end
    obj[k], i = decode_value(s, skip(s, i + 1))
    i = skip(s, i)
    local c = s:sub(i, i)
    if c == "}" then return obj, i + 1 end
    if c ~= "," then error("expected ','") end
    i = i + 1
  end
end

local function decode_array(s, i)
  local arr = {}
  i = skip(s, i + 1)
  if s:sub(i, i) == "]" then return arr, i + 1 end
  while true do
    arr[#arr + 1], i = decode_value(s, skip(s, i))
    i = skip(s, i)
    local c = s:sub(i, i)
    if c == "]" then return arr, i + 1 end
    if c ~= "," then error("expected ','") end
    i = i + 1
  end
end

decode_value = function(s, i)
  local c = s:sub(i, i)
  if c == "{" then return decode_object(s, i) end
  if c == "[" then return decode_array(s, i) end
  if c == '"' then return decode_string(s, i) end
  for word, v in pairs({ ["true"] = true, ["false"] = false, ["null"] = nil }) do
    if s:sub(i, i + #word - 1) == word then return v, i + #word end
  end
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  if num then return tonumber(num), i + #num end
  error("unexpected character at " .. i)
end

local function encode(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = string.format("%q:%q", k, v) end
  table.sort(parts)
  return "{" .. table.concat(parts, ",") .. "}"
end

local function lookup_by_url(url)
  for _, svc in ipairs(data.services) do
    if url:sub(1, #svc.url) == svc.url then return svc end
  end
  return nil
end

core.register_fetches("interpret_scope", function(txn)
  local headers = txn.http:req_get_headers()
  local service = lookup_by_url(txn.sf:base())
  if not service then return data.default_backend end
  local scope = {}
  for _, t in ipairs(data.types) do scope[t] = data.region end
  local raw = headers["x-scope"] and headers["x-scope"][0]
  if raw then
    for k, v in pairs((decode_value(raw, skip(raw, 1)))) do scope[k] = v end
  end
  txn.http:req_set_header("X-Scope", encode(scope))
  return scope[service.type] .. "_" .. service.type .. "_" .. service.interface
end)
