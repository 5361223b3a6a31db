#!/usr/bin/env bash
# bench/compare.sh: crmhub beside its peer and beside the disk's limit, in ONE
# run on this machine, with the ratios (issue 18, acceptance 1; the figures
# of each run go to docs/performance.md). On a shared, noisy VM only the
# ratios measured in the same run mean something; the absolute figures
# move with the neighbours' load.
#
#   intake, delivery skipped   bench/intake.sh with INTAKE_ONLY=1 (rules that
#                              skip every record: the workers only lease and ack)
#   intake, with delivery      bench/intake.sh (mapping into crm.db running)
#   the peer's intake          bench/reference.sh ONLY=bullmq: Node.js + BullMQ
#                              on Redis with appendfsync always, same wrk load
#   queue                      crmhub bench queue, 4 producers x 4 consumers, 512 B
#   the peer's queue           bench/reference/queue.js: BullMQ, 4 producers x 4
#                              workers, 512 B, Redis appendfsync always
#   raw SQLite                 raw_sqlite_bench: insert-then-delete, 100-row
#                              commits, WAL, synchronous=FULL (fsync per commit)
#
# Goals (the issue's, on this machine): intake >= 3x the peer with p99 <= 5 ms;
# with delivery >= 1.5x the peer; queue >= 10x BullMQ and >= 0.9x raw SQLite.
# The verdicts are printed, not enforced.
#
# Not part of the test suite. Needs a Release build (build-release: crmhub and
# bench/raw_sqlite_bench) and, from Debian and the npm registry:
#   apt-get install -y redis-server nodejs npm nginx-light wrk
# (npm fetches BullMQ on the first run, see bench/reference.sh).
#
# Environment: CRMHUB_BINARY, RAW_SQLITE_BENCH, DURATION (30s) and the other
# knobs of bench/intake.sh, ROUNDS (3: interleaved rounds of the intake
# figures, see below), QUEUE_MESSAGES (200000), BULLMQ_MESSAGES (50000).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${CRMHUB_BINARY:-$root/build-release/crmhub}"
raw="${RAW_SQLITE_BENCH:-$root/build-release/bench/raw_sqlite_bench}"
cache="${REFERENCE_CACHE:-$HOME/.cache/crmhub-bench-reference}"
queue_messages="${QUEUE_MESSAGES:-200000}"
bullmq_messages="${BULLMQ_MESSAGES:-50000}"
export CRMHUB_BINARY="$bin"

die() { echo "compare.sh: $*" >&2; exit 1; }
[[ -x "$bin" ]] || die "no crmhub binary at $bin"
[[ -x "$raw" ]] || die "no raw_sqlite_bench at $raw"
for tool in redis-server redis-cli node npm wrk python3; do
  command -v "$tool" >/dev/null || die "$tool is not installed (see the header)"
done

tmp="$(mktemp -d -t crmhub-compare-XXXXXX)"
redis_pid=""
cleanup() {
  [[ -n "$redis_pid" ]] && { kill -TERM "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT

# Field $2 of the line of file $1 that starts with $3 (intake.sh's summary).
field() { awk -v p="$3" -v n="$2" 'index($0, p) == 1 {print $n; exit}' "$1"; }

# The three intake figures are measured in ROUNDS interleaved rounds (crmhub
# without delivery, crmhub with delivery, the peer; then again), so a
# neighbour's load that comes and goes during the run falls on both sides;
# each figure is the median of its rounds and each ratio the median of the
# rounds' own ratios (crmhub over the peer measured right after it).
rounds="${ROUNDS:-3}"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, not '$rounds'"
: >"$tmp/rounds"
for round in $(seq 1 "$rounds"); do
  echo "== 1/6 crmhub intake, delivery skipped by rules (round $round of $rounds)"
  INTAKE_ONLY=1 "$root/bench/intake.sh" >"$tmp/intake-only.out" 2>&1 || { cat "$tmp/intake-only.out"; die "intake.sh (INTAKE_ONLY) failed"; }
  only_rps="$(field "$tmp/intake-only.out" 2 "throughput")"
  only_p99="$(field "$tmp/intake-only.out" 3 "p99 latency")"

  echo "== 2/6 crmhub intake, delivery into crm.db running (round $round of $rounds)"
  "$root/bench/intake.sh" >"$tmp/intake.out" 2>&1 || { cat "$tmp/intake.out"; die "intake.sh failed"; }
  full_rps="$(field "$tmp/intake.out" 2 "throughput")"
  full_p99="$(field "$tmp/intake.out" 3 "p99 latency")"

  echo "== 3/6 the peer's intake: Node.js + BullMQ, Redis appendfsync always (round $round of $rounds)"
  ONLY=bullmq "$root/bench/reference.sh" >"$tmp/peer.out" 2>&1 || { cat "$tmp/peer.out"; die "reference.sh failed"; }
  peer_rps="" peer_p99=""
  read -r peer_rps peer_p99 < <(awk '/^node \+ BullMQ, Redis/ { for (i = 1; i <= NF; i++) { if ($i == "req/s") r = $(i-1); if ($i == "p99") p = $(i+1) } print r, p; exit }' "$tmp/peer.out")
  [[ -n "${peer_rps:-}" && -n "${peer_p99:-}" ]] || { cat "$tmp/peer.out"; die "cannot read the peer's figures"; }
  echo "$only_rps $only_p99 $full_rps $full_p99 $peer_rps $peer_p99" >>"$tmp/rounds"
done
# Medians over the rounds (the middle one; the mean of the middle two for an
# even count): the figures, then the per-round ratios.
read -r intake_only_rps intake_only_p99 intake_rps intake_p99 peer_rps peer_p99 r_only r_full < <(
  python3 - "$tmp/rounds" <<'PY'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
cols = [statistics.median(c) for c in zip(*rows)]
r_only = statistics.median(r[0] / r[4] for r in rows)
r_full = statistics.median(r[2] / r[4] for r in rows)
print("%.0f %.3f %.0f %.3f %.0f %.3f %.2f %.2f" % (*cols, r_only, r_full))
PY
)
[[ -n "${r_full:-}" ]] || die "cannot take the medians of $tmp/rounds"

echo "== 4/6 crmhub bench queue, 4 x 4, 512 B"
"$bin" bench queue --messages "$queue_messages" --producers 4 --consumers 4 --payload-bytes 512 --json >"$tmp/queue.json"
queue_e2e="$(python3 -c 'import json,sys; print("%.0f" % json.load(open(sys.argv[1]))["end_to_end_per_s"])' "$tmp/queue.json")"

echo "== 5/6 BullMQ queue, 4 x 4, 512 B, Redis appendfsync always"
redis_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$tmp/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp/redis" --appendonly yes \
  --appendfsync always --save "" --logfile "$tmp/redis/redis.log" &
redis_pid=$!
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
[[ "$(redis-cli -p "$redis_port" config get appendfsync | tail -1)" == always ]] || die "redis-server is not at appendfsync always"
[[ -d "$cache/node_modules/bullmq" ]] || die "BullMQ is not in $cache (run bench/reference.sh once)"
NODE_PATH="$cache/node_modules" node "$root/bench/reference/queue.js" "$redis_port" "$bullmq_messages" 4 4 512 >"$tmp/bullmq.json"
bullmq_e2e="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end_to_end_per_s"])' "$tmp/bullmq.json")"
kill -TERM "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=""

echo "== 6/6 raw SQLite: insert-then-delete, 100-row fsync'd commits"
"$raw" --messages "$queue_messages" --rows-per-commit 100 --payload-bytes 512 --json >"$tmp/raw.json"
raw_rate="$(python3 -c 'import json,sys; print("%.0f" % json.load(open(sys.argv[1]))["messages_per_s"])' "$tmp/raw.json")"
# Not a goal, an explanation: the same loop on the queue's own tables and
# indexes (dedup upsert + message insert, delete by id), one thread.
"$raw" --schema queue --messages "$queue_messages" --rows-per-commit 100 --payload-bytes 512 --json >"$tmp/raw-queue.json"
raw_queue_rate="$(python3 -c 'import json,sys; print("%.0f" % json.load(open(sys.argv[1]))["messages_per_s"])' "$tmp/raw-queue.json")"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }
goal() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "?" && a + 0 >= b ? "met" : "MISSED") }'; }
p99goal() { awk -v a="$1" 'BEGIN { print (a <= 5 ? "met" : "MISSED") }'; }
r_bull="$(ratio "$queue_e2e" "$bullmq_e2e")"
r_raw="$(ratio "$queue_e2e" "$raw_rate")"

echo
echo "== crmhub beside its peer and the disk ($(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg), $(date -u +%FT%TZ)) =="
echo "intake rounds (req/s, p99 ms): crmhub without delivery | with delivery | the peer"
awk '{ printf "  round %d: %6.0f %6.2f | %6.0f %6.2f | %6.0f %6.2f   %.2fx, %.2fx\n", NR, $1, $2, $3, $4, $5, $6, $1 / $5, $3 / $5 }' "$tmp/rounds"
echo "medians of the $rounds rounds:"
printf '%-44s %9s %10s   %s\n' "figure" "crmhub" "p99 ms" "ratio (goal)"
printf '%-44s %9.0f %10s   %sx the peer (>= 3, p99 <= 5: %s, %s)\n' "intake, delivery skipped by rules (req/s)" \
  "$intake_only_rps" "$intake_only_p99" "$r_only" "$(goal "$r_only" 3)" "$(p99goal "$intake_only_p99")"
printf '%-44s %9.0f %10s   %sx the peer (>= 1.5: %s)\n' "intake, delivery into crm.db (req/s)" \
  "$intake_rps" "$intake_p99" "$r_full" "$(goal "$r_full" 1.5)"
printf '%-44s %9.0f %10s\n' "  peer: node + BullMQ receiver (req/s)" "$peer_rps" "$peer_p99"
printf '%-44s %9.0f %10s   %sx BullMQ (>= 10: %s), %sx raw SQLite (>= 0.9: %s)\n' \
  "queue end to end, 4x4, 512 B (msg/s)" "$queue_e2e" "-" "$r_bull" "$(goal "$r_bull" 10)" \
  "$r_raw" "$(goal "$r_raw" 0.9)"
printf '%-44s %9.0f\n' "  peer: BullMQ queue, 4x4, 512 B (msg/s)" "$bullmq_e2e"
printf '%-44s %9.0f\n' "  limit: raw SQLite, 100-row commits (msg/s)" "$raw_rate"
printf '%-44s %9.0f   queue %sx this\n' "  the same on the queue's schema (msg/s)" "$raw_queue_rate" "$(ratio "$queue_e2e" "$raw_queue_rate")"
