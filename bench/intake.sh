#!/usr/bin/env bash
# bench/intake.sh: webhook intake throughput and latency (docs/performance.md).
#
# Builds nothing. Starts the built daemon ($CRMHUB_BINARY, else
# build-release/crmhub) with a temporary config holding one generic webhook
# adapter with HMAC, then drives POST /hooks/bench with wrk (--latency).
#
# Honest about dedup: wrk's Lua has no HMAC, so every request carries the same
# pre-signed 512-byte JSON body and the adapter takes each event's identity
# from a header (idempotency_key = "header:Idempotency-Key"); the Lua script
# gives every request a unique Idempotency-Key, so each one is a new,
# durably enqueued event (nothing is short-circuited as a duplicate). The
# signature is still verified on every request.
#
# The delivery workers map and apply the queued events to the embedded CRM
# store while the benchmark runs, as in production.
#
# Environment: CRMHUB_BINARY, DURATION (30s), CONNECTIONS (32), THREADS (2),
# WARMUP (5s), INTAKE_ONLY (0; 1 = mapping rules that skip every record, so
# the delivery workers only lease and ack: separates intake from delivery). Targets (2 cores): >= 30000 req/s, p99 <= 5 ms, RSS idle <= 30 MB.
# Exit 0 when the run was valid (every answer 2xx, and the daemon counted
# each one as a new event, none as a duplicate), 1 otherwise; the target
# verdicts are printed, not enforced (machines differ).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${CRMHUB_BINARY:-$root/build-release/crmhub}"

# shellcheck source=bench/webhook_load.sh
source "$root/bench/webhook_load.sh"

die() { echo "intake.sh: $*" >&2; exit 1; }
[[ -x "$bin" ]] || die "no crmhub binary at $bin (build it: cmake --preset release && ninja -C build-release crmhub, or set CRMHUB_BINARY)"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
command -v curl >/dev/null || die "curl is not installed"
command -v openssl >/dev/null || die "openssl is not installed"

tmp="$(mktemp -d -t crmhub-intake-XXXXXX)"
daemon_pid=""
cleanup() {
  if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port="$(free_port)"
key="bench-hmac-key-$(date +%s)"
mkdir -p "$tmp/secrets" "$tmp/var"
printf '%s\n' "$key" >"$tmp/secrets/hmac"
printf '%s\n' "bench-admin-token" >"$tmp/secrets/admin-token"

mapping="$root/config/mappings/site-lead.toml"
if [[ "${INTAKE_ONLY:-0}" == 1 ]]; then
  mapping="$tmp/skip-all.toml"
  cat >"$mapping" <<'EOF'
format = 1
name = "skip-all"
[[skip_if]]
path = "/id"
equals = "bench-1"
[[entity]]
rule = "lead"
kind = "lead"
external_id = { path = "/id", required = true }
[entity.fields]
title = { path = "/name" }
EOF
fi

cat >"$tmp/crmhub.toml" <<EOF
[daemon]
data_dir = "var"
io_threads = 2

[log]
level = "warn"

[http]
listen = ["127.0.0.1:$port"]
max_connections = 4096

[admin]
token_file = "secrets/admin-token"

[queue]
high_water_mark = 100000000

[crm]
sink = "sqlite"

[adapters.bench]
type = "webhook"
secret_file = "secrets/hmac"
signature_header = "X-Signature"
idempotency_key = "header:Idempotency-Key"
allow_ips = ["127.0.0.0/8"]
mapping = "$mapping"
EOF

# One website-form submission of exactly 512 bytes, signed.
make_signed_body "$key" || die "cannot build the request body"

"$bin" run --config "$tmp/crmhub.toml" >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$tmp/daemon.log" >&2; die "crmhub run exited"; }
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$tmp/daemon.log" >&2; die "daemon not ready"; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$daemon_pid/status"; }
rss_idle_kb="$(rss_kb)"

# A signed request must be accepted before we measure anything.
check="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/hooks/bench" \
  -H "Content-Type: application/json" -H "X-Signature: $signature" \
  -H "Idempotency-Key: check-$$" --data-binary "$body")"
[[ "$check" == "200" ]] || { cat "$tmp/daemon.log" >&2; die "signed request answered $check, not 200"; }

write_wrk_lua "$tmp/intake.lua" /hooks/bench

# The disk's own durable-append latency, on the data directory's disk: every
# answer waits for an fsync, so this bounds what any durable receiver can do
# here (see bench/fsync_bench.h); printed beside the result.
fsync_json="$("$bin" bench fsync --dir "$tmp/fsync-probe" --writes 200 --connections "$connections" --json)"
read -r fsync_p50_ms fsync_ceiling fsync_expected < <(echo "$fsync_json" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print("%.2f %.0f %.0f" % (j["p50_us"] / 1000, j["ceiling_per_s"], j["group_commit_estimate_per_s"]))')

url="http://127.0.0.1:$port"
echo "warm-up ($warmup)..."
wrk -t"$threads" -c"$connections" -d"$warmup" -s "$tmp/intake.lua" "$url" -- "warm$$" >/dev/null

echo "measuring: wrk -t$threads -c$connections -d$duration --latency (512-byte signed body)"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$daemon_pid/stat"; }
cpu_before="$(cpu_ticks)"
wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$tmp/intake.lua" "$url" -- "run$$" \
  | tee "$tmp/wrk.out"
cpu_after="$(cpu_ticks)"
rss_load_kb="$(rss_kb)"
requests="$(awk '/ requests in / {print $1}' "$tmp/wrk.out")"
# The daemon's CPU time (all threads: HTTP, HMAC, queue writer and flusher,
# and the delivery work done meanwhile) per answered request.
cpu_us_per_req="$(echo "($cpu_after - $cpu_before) * 1000000 / $(getconf CLK_TCK) / $requests" | bc -l)"

read -r rps p99_ms non2xx < <(wrk_figures "$tmp/wrk.out")
errors="$(grep -E '^ +Socket errors:' "$tmp/wrk.out" || true)"
queued="$(curl -fsS -H 'Authorization: Bearer bench-admin-token' "$url/api/v1/queue" || echo '{}')"
# The daemon's own counters must show that every answered request was a new
# event (none short-circuited as a duplicate): the run measures what it claims.
metric() { curl -fsS "$url/metrics" | awk -v m="$1{adapter=\"bench\"}" '$1 == m {print $2}'; }
received="$(metric crmhub_events_received_total)"
duplicates="$(metric crmhub_events_duplicate_total)"

verdict() { if awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { exit !(op == ">=" ? a >= b : a <= b) }'; then echo "ok"; else echo "MISSED"; fi; }
echo
echo "== crmhub webhook intake ($(nproc) cores, $connections connections, $duration) =="
printf 'throughput   %10.0f req/s    target >= 30000   %s\n' "$rps" "$(verdict "$rps" 30000 '>=')"
printf 'p99 latency  %10s ms       target <= 5       %s\n' "$p99_ms" "$(verdict "$p99_ms" 5 '<=')"
printf 'RSS idle     %10.1f MB       target <= 30      %s\n' "$(echo "$rss_idle_kb / 1024" | bc -l)" \
  "$(verdict "$(echo "$rss_idle_kb / 1024" | bc -l)" 30 '<=')"
printf 'RSS loaded   %10.1f MB\n' "$(echo "$rss_load_kb / 1024" | bc -l)"
printf 'fsync p50    %10s ms       this disk, %s connections: ceiling %s durable answers/s, ~%s expected\n' \
  "$fsync_p50_ms" "$connections" "$fsync_ceiling" "$fsync_expected"
printf 'daemon CPU   %10.1f us/request (all threads; load average now %s)\n' "$cpu_us_per_req" \
  "$(cut -d' ' -f1 /proc/loadavg)"
echo "queue        $queued"
echo "events       ${received:-?} received (warm-up and check included), ${duplicates:-?} duplicates"
[[ -n "$errors" ]] && echo "wrk:$errors"
if [[ "$non2xx" != "0" ]]; then
  echo "INVALID RUN: $non2xx answers were not 2xx (see $tmp/daemon.log)" >&2
  tail -20 "$tmp/daemon.log" >&2
  exit 1
fi
if [[ "${duplicates:-x}" != "0" ]] || awk -v r="${received:-0}" -v n="$requests" 'BEGIN { exit !(r < n) }'; then
  echo "INVALID RUN: ${duplicates:-?} duplicates and ${received:-?} events for $requests answered requests" >&2
  exit 1
fi
