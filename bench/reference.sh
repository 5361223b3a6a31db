#!/usr/bin/env bash
# bench/reference.sh: the issue's two reference receivers, measured on this
# machine under exactly bench/intake.sh's load (bench/webhook_load.sh: wrk,
# 512-byte signed JSON, a unique Idempotency-Key per request), so that
# crmhub's intake figures can be read against the same hardware at the same
# hour (docs/performance.md):
#
#   nginx   answering a static 200 (`return 200`) to the same POST;
#   bullmq  a Node.js receiver (bench/reference/receiver.js: HMAC check, JSON
#           parse, BullMQ add with the key as job id) on Redis with
#           appendonly yes and appendfsync always, so it answers after fsync.
#
# Needs nginx, redis-server, nodejs and npm (Debian packages nginx-light,
# redis-server, nodejs, npm), wrk, openssl, python3. npm fetches BullMQ
# (bench/reference/package.json) from the npm registry into $REFERENCE_CACHE
# (default ~/.cache/crmhub-bench-reference) on the first run.
#
# Environment: DURATION (30s), CONNECTIONS (32), THREADS (2), WARMUP (5s),
# ONLY (nginx or bullmq: run one). Exit 0 when every run was valid (the
# BullMQ run: every answer 2xx and one queued job per answered request).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${REFERENCE_CACHE:-$HOME/.cache/crmhub-bench-reference}"

# shellcheck source=bench/webhook_load.sh
source "$root/bench/webhook_load.sh"

die() { echo "reference.sh: $*" >&2; exit 1; }
for tool in wrk openssl python3; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
want() { [[ -z "${ONLY:-}" || "${ONLY:-}" == "$1" ]]; }
if want nginx; then command -v nginx >/dev/null || die "nginx is not installed (apt-get install nginx-light)"; fi
if want bullmq; then
  for tool in redis-server redis-cli node npm; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install redis-server nodejs npm)"
  done
fi

tmp="$(mktemp -d -t crmhub-reference-XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

wait_for_port() {  # port, what
  for _ in $(seq 1 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  die "$2 did not listen on port $1"
}

key="reference-hmac-key-$(date +%s)"
printf '%s\n' "$key" >"$tmp/hmac"
make_signed_body "$key" || die "cannot build the request body"
write_wrk_lua "$tmp/load.lua" /hooks/bench

# Runs wrk against port $1 (warm-up, then the measured run); sets `rps`,
# `p99_ms`, `non2xx`, `requests`.
drive() {
  wrk -t"$threads" -c"$connections" -d"$warmup" -s "$tmp/load.lua" "http://127.0.0.1:$1" -- "warm$$" >/dev/null
  wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$tmp/load.lua" \
    "http://127.0.0.1:$1" -- "run$$" >"$tmp/wrk.out"
  read -r rps p99_ms non2xx < <(wrk_figures "$tmp/wrk.out")
  requests="$(awk '/ requests in / {print $1}' "$tmp/wrk.out")"
}

results=()
valid=1

if want nginx; then
  port="$(free_port)"
  mkdir -p "$tmp/nginx"
  cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $tmp/nginx;
  server {
    listen 127.0.0.1:$port;
    location / { return 200 '{"status":"accepted"}'; }
  }
}
CONF
  nginx -c "$tmp/nginx/nginx.conf" -g 'daemon off;' &
  pids+=($!)
  wait_for_port "$port" nginx
  echo "nginx: wrk -t$threads -c$connections -d$duration..."
  drive "$port"
  results+=("$(printf '%-34s %9.0f req/s   p99 %7s ms' "nginx, static 200 (no work)" "$rps" "$p99_ms")")
  [[ "$non2xx" == 0 ]] || { echo "nginx: $non2xx answers were not 2xx" >&2; valid=0; }
fi

if want bullmq; then
  mkdir -p "$cache"
  if ! cmp -s "$root/bench/reference/package.json" "$cache/package.json" ||
     [[ ! -d "$cache/node_modules/bullmq" ]]; then
    cp "$root/bench/reference/package.json" "$cache/package.json"
    echo "npm: installing BullMQ into $cache..."
    (cd "$cache" && npm install --no-audit --no-fund --loglevel=error) || die "npm install failed"
  fi
  redis_port="$(free_port)"
  mkdir -p "$tmp/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp/redis" --appendonly yes \
    --appendfsync always --save "" --logfile "$tmp/redis/redis.log" &
  pids+=($!)
  wait_for_port "$redis_port" redis-server
  [[ "$(redis-cli -p "$redis_port" config get appendfsync | tail -1)" == always ]] ||
    die "redis-server is not at appendfsync always"
  port="$(free_port)"
  NODE_PATH="$cache/node_modules" node "$root/bench/reference/receiver.js" "$port" "$redis_port" \
    "$tmp/hmac" >"$tmp/receiver.log" 2>&1 &
  pids+=($!)
  wait_for_port "$port" "the Node.js receiver"
  echo "node + BullMQ: wrk -t$threads -c$connections -d$duration..."
  drive "$port"
  # BullMQ keeps added jobs in the wait list (no worker runs): one per
  # answered request, as crmhub's counters say for its own run.
  jobs="$(redis-cli -p "$redis_port" llen bull:hooks:wait)"
  results+=("$(printf '%-34s %9.0f req/s   p99 %7s ms   (%s jobs queued)' \
    "node + BullMQ, Redis fsync always" "$rps" "$p99_ms" "$jobs")")
  if [[ "$non2xx" != 0 ]] || (( jobs < requests )); then
    echo "bullmq: $non2xx answers not 2xx, $jobs jobs for $requests answered requests" >&2
    tail -5 "$tmp/receiver.log" >&2
    valid=0
  fi
fi

echo
echo "== reference receivers ($(nproc) cores, $connections connections, $duration, load average $(cut -d' ' -f1 /proc/loadavg)) =="
printf '%s\n' "${results[@]}"
echo "the issue's figures, on its machine: nginx ~75,000 req/s (p99 0.7 ms); node + BullMQ ~11,000 req/s (p99 16 ms)"
[[ "$valid" == 1 ]] || { echo "INVALID RUN" >&2; exit 1; }
