# bench/webhook_load.sh: the webhook load that bench/intake.sh and
# bench/reference.sh both send, so that their figures compare like for like.
# Sourced, not run. Needs openssl and python3.

# The load's shape, from the environment: wrk's run and warm-up durations,
# connections and threads.
duration="${DURATION:-30s}"
connections="${CONNECTIONS:-32}"
threads="${THREADS:-2}"
warmup="${WARMUP:-5s}"

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Sets `body` (one website-form submission, exactly 512 bytes of JSON) and
# `signature` (its HMAC-SHA256 under key $1, hex).
make_signed_body() {
  local key="$1"
  local prefix='{"id":"bench-1","name":"Анна Петрова","phone":"+7 999 000-00-00","email":"anna@example.com","utm_source":"bench","message":"'
  local suffix='"}'
  local pad=$((512 - $(printf '%s%s' "$prefix" "$suffix" | wc -c)))
  body="$prefix$(head -c "$pad" /dev/zero | tr '\0' 'x')$suffix"
  [[ "$(printf '%s' "$body" | wc -c)" -eq 512 ]] || { echo "body is not 512 bytes" >&2; return 1; }
  signature="$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$key" -r | cut -d' ' -f1)"
}

# Writes wrk's Lua script to $1: POST $2 with `body` and `signature`, and a
# unique Idempotency-Key per request (run nonce given to wrk after "--",
# thread, counter). wrk's Lua has no HMAC, so the body cannot be re-signed
# per request; the key header is what makes each request a new event.
write_wrk_lua() {
  local file="$1" path="$2"
  local lua_body="${body//\\/\\\\}"
  lua_body="${lua_body//\"/\\\"}"
  cat >"$file" <<LUA
local next_id = 0
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end
function init(args)
  nonce = args[1] or "run"
  counter = 0
  wrk.method = "POST"
  wrk.body = "$lua_body"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Signature"] = "$signature"
end
function request()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = nonce .. "-" .. tid .. "-" .. counter
  return wrk.format(nil, "$path")
end
LUA
}

# wrk prints "812.00us", "1.23ms", "2.01s"; prints milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else print "nan" }'
}

# Reads wrk --latency output $1; prints "req/s p99_ms non2xx" (non2xx 0 when
# wrk printed no such line).
wrk_figures() {
  local rps p99 non2xx
  rps="$(awk '/^Requests\/sec:/ {print $2}' "$1")"
  p99="$(awk '$1 == "99%" {print $2}' "$1")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$1")"
  echo "$rps $(to_ms "$p99") ${non2xx:-0}"
}
