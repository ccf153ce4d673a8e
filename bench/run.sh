#!/usr/bin/env bash
# The load benchmark: read and write throughput, latency and memory of the release server
# on this machine, next to the same bytes served from memory and raw SQLite commits.
#
#   bash bench/run.sh
#
# Needs a Linux box with 2+ cores, taskset, curl, python3 and wrk (installed with apt-get
# if missing). Traffic goes to 127.0.0.1 only. The server runs pinned to CPU 0 and wrk to
# CPU 1, so they never compete for a core. Every load run is bounded in time; the whole
# script takes about 6 minutes with the defaults (plus any wait for a quiet machine).
#
# Settings (environment):
#   BENCH_SECONDS=3        length of each measured read run
#   BENCH_WARMUP=1         warm-up before each read run (discarded)
#   BENCH_ROUNDS=3         rounds of interleaved read runs; medians are reported
#   BENCH_WRITE_SECONDS=10 length of the write run
#   BENCH_KEEP=1           keep the work folder (server log, raw wrk output, CSVs)
#   BENCH_NO_BUILD=1       do not run `cargo build --release` first
#   BENCH_QUIET_WAIT=120   seconds to wait for other work on the machine to finish
#   BENCH_QUIET_BUDGET=60  seconds, in all, to wait for quiet between runs
#   CARGO_TARGET_DIR       where the release binary is
#   SCORECARD_BIN          the server binary to measure (skips the build)
#
# The summary (markdown) is printed at the end and saved as summary.md in the work folder.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo_root="$PWD"
bench="$repo_root/bench"

secs="${BENCH_SECONDS:-3}"
warmup="${BENCH_WARMUP:-1}"
rounds="${BENCH_ROUNDS:-3}"
write_secs="${BENCH_WRITE_SECONDS:-10}"
sizes=(100 1000 10000)
conns=(8 50)
started_at=$(date +%s)

log() { printf '[%4ds] %s\n' "$(( $(date +%s) - started_at ))" "$*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

# --- tools -------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk (apt-get)"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq wrk >/dev/null \
    || die "wrk is missing and apt-get could not install it"
fi
for tool in taskset curl python3 wrk; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
[ "$(nproc --all)" -ge 2 ] || die "needs 2 cores: the server is pinned to CPU 0 and wrk to CPU 1"

target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$repo_root/$target_dir" ;; esac
bin="${SCORECARD_BIN:-$target_dir/release/scorecard}"
if [ -z "${SCORECARD_BIN:-}" ] && [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  log "cargo build --release --bin scorecard"
  cargo build --release --quiet --bin scorecard
fi
[ -x "$bin" ] || die "$bin not found: run cargo build --release"

# --- a quiet machine ---------------------------------------------------------------------
# Other busy processes (a compile, say) skew every figure. Wait up to BENCH_QUIET_WAIT
# seconds (default 120) for the CPUs to be under 15% busy over a second; then go anyway,
# and the summary shows the load average.
cpu_busy_percent() {
  python3 - "${1:-1}" <<'PY'
import sys, time
def sample():
    f = open("/proc/stat").readline().split()[1:]
    v = list(map(int, f))
    return sum(v), v[3] + v[4]
t0, i0 = sample(); time.sleep(float(sys.argv[1])); t1, i1 = sample()
print(round(100 * (1 - (i1 - i0) / max(1, t1 - t0))))
PY
}
quiet_deadline=$(( $(date +%s) + ${BENCH_QUIET_WAIT:-120} ))
while :; do
  busy=$(cpu_busy_percent)
  [ "$busy" -lt 15 ] && break
  if [ "$(date +%s)" -ge "$quiet_deadline" ]; then
    log "warning: the machine is still ${busy}% busy with other work; measuring anyway"
    break
  fi
  log "waiting for a quiet machine: ${busy}% busy"
  sleep 4
done

# --- work folder, server -----------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/scorecard-bench.XXXXXX")"
mkdir -p "$work/wrk"
server_pid=""
cleanup() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ "$status" -ne 0 ]; then
    echo "work folder kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
log "starting $bin on $base (CPU 0), data in $work/data"
# The server's own settings come from flags only: no SCORECARD_* variable from this shell
# (a database URL, an admin password) may point it elsewhere or lock it.
unset_scorecard=()
for var in $(compgen -e | grep '^SCORECARD_' || true); do unset_scorecard+=(-u "$var"); done
env "${unset_scorecard[@]}" RUST_LOG="${RUST_LOG:-scorecard=info,tower_http=info,warn}" \
  taskset -c 0 "$bin" --bind "127.0.0.1:$port" --data-dir "$work/data" --bench-mirror \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "the server exited"; }
  sleep 0.1
done
[ "$(curl -fsS "$base/healthz")" = ok ] || die "the server did not answer /healthz within 10 s"

hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }
# Resets the peak to the current RSS (Linux >= 4.0), so a later VmHWM is this load's peak.
reset_hwm() { echo 5 >"/proc/$server_pid/clear_refs" 2>/dev/null; }

results="$work/results.txt"   # key=value lines, read by summarise.py
: >"$results"
record() { echo "$*" >>"$results"; }
record "started=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
record "machine=$(nproc --all) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/^MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo), $(uname -sr)"
record "disk=$(df -T "$work" | awk 'NR == 2 {print $2 " on " $1}')"
record "settings=seconds=$secs (at least 10 for JSON at 10,000 workflows and 50 connections) warmup=$warmup rounds=$rounds write_seconds=$write_secs"
record "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
record "busy_start=${busy}%"
record "wrk=$(wrk -v 2>&1 | head -1 | awk '{print $2}')"
record "binary=$bin"
if [ -n "${SCORECARD_BIN:-}" ]; then
  record "commit=the binary in SCORECARD_BIN ($bin)"
else
  record "commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo_root" diff --quiet HEAD -- src templates Cargo.toml Cargo.lock 2>/dev/null || echo ' with uncommitted changes')"
fi

# --- seed --------------------------------------------------------------------------------
declare -A token
for n in "${sizes[@]}"; do
  location=$(curl -fsS -o /dev/null -w '%{redirect_url}' \
    --data-urlencode "name=Benchmark $n" --data-urlencode currency=USD "$base/scorecards")
  token[$n]="${location##*/s/}"
  [ -n "${token[$n]}" ] && [ "${token[$n]}" != "$location" ] || die "no /s/{token} in the answer to POST /scorecards: '$location'"
  python3 "$bench/gen_csv.py" "$n" >"$work/workflows-$n.csv"
  t0=$(date +%s.%N)
  answer=$(curl -fsS -H 'Accept: application/json' \
    -F "file=@$work/workflows-$n.csv;type=text/csv" "$base/s/${token[$n]}/import")
  t1=$(date +%s.%N)
  added=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["added"])' "$answer")
  [ "$added" = "$n" ] || die "import of $n workflows answered $answer"
  curl -fsS -o "$work/scorecard-$n.json" "$base/s/${token[$n]}/scorecard.json"
  curl -fsS -o "$work/page-$n.html" "$base/s/${token[$n]}"
  count=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["workflows"]))' "$work/scorecard-$n.json")
  [ "$count" = "$n" ] || die "scorecard.json lists $count workflows, expected $n"
  record "seed.$n.import_seconds=$(python3 -c "print(round($t1 - $t0, 3))")"
  record "bytes.page.$n=$(stat -c %s "$work/page-$n.html")"
  record "bytes.json.$n=$(stat -c %s "$work/scorecard-$n.json")"
  log "seeded $n workflows (import $(python3 -c "print(round($t1 - $t0, 2))") s); page $(stat -c %s "$work/page-$n.html") B, json $(stat -c %s "$work/scorecard-$n.json") B"
done
record "hwm_after_seed_kb=$(hwm_kb)"

# --- wrk ---------------------------------------------------------------------------------
# Server CPU time so far (user + system, all threads), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
# Waits (at most 15 s) until the server is idle, so requests still queued from a run that
# wrk has abandoned (a slow JSON render, say) do not eat into the next run.
settle() {
  local prev now
  prev=$(cpu_ticks)
  for _ in $(seq 75); do
    sleep 0.2
    now=$(cpu_ticks)
    [ $(( now - prev )) -le 1 ] && return 0
    prev=$now
  done
  log "warning: the server was still busy 15 s after a run"
}

# CPU 0's busy and total ticks (the server's core), from /proc/stat.
cpu0_ticks() { awk '/^cpu0 / {t = 0; for (i = 2; i <= NF; i++) t += $i; print $2 + $3 + $4 + $7 + $8 + $9, t}' /proc/stat; }

# Before each measured run (the server idle), waits while other programs keep the CPUs
# over 15% busy, from a budget of BENCH_QUIET_BUDGET seconds (default 60) for the whole
# benchmark; once spent, runs go ahead and the CPU 0 share below tells.
quiet_budget="${BENCH_QUIET_BUDGET:-60}"
wait_quiet() {
  local t0 busy
  while [ "$quiet_budget" -gt 0 ]; do
    t0=$(date +%s)
    busy=$(cpu_busy_percent 0.5)
    [ "$busy" -lt 15 ] && return 0
    sleep 1.5
    quiet_budget=$(( quiet_budget - ($(date +%s) - t0) - 1 ))
  done
}

# measure ROUND KIND N CONNS URL: a warm-up, then a measured run; appends a result line.
# Responses slower than 10 s count as timeouts (errors), not as latency. Also notes how
# much of CPU 0 went to anything but the server during the run (other programs, and
# kernel network work not charged to the server): a high figure marks a disturbed run.
measure() {
  local round=$1 kind=$2 n=$3 c=$4 url=$5 raw line s0 s1 b0 t0 b1 t1 other duration=$secs
  # 50 queued 10,000-workflow JSON answers take seconds to serve, so that run lasts at
  # least 10 s to see more than the first wave.
  if [ "$kind" = json ] && [ "$n" -ge 10000 ] && [ "$c" -ge 50 ] && [ "$duration" -lt 10 ]; then duration=10; fi
  wait_quiet
  taskset -c 1 wrk -t1 -c"$c" -d"${warmup}s" --timeout 10s "$url" >/dev/null
  settle
  raw="$work/wrk/r$round-$kind-$n-c$c.txt"
  s0=$(cpu_ticks); read -r b0 t0 < <(cpu0_ticks)
  taskset -c 1 wrk -t1 -c"$c" -d"${duration}s" --timeout 10s --latency -s "$bench/read.lua" "$url" >"$raw"
  s1=$(cpu_ticks); read -r b1 t1 < <(cpu0_ticks)
  other=$(( 100 * ((b1 - b0) - (s1 - s0)) / (t1 - t0 > 0 ? t1 - t0 : 1) ))
  [ "$other" -ge 0 ] || other=0
  settle
  line=$(grep '^RESULT ' "$raw" | tail -1)
  [ -n "$line" ] || die "no RESULT in $raw"
  record "run round=$round kind=$kind n=$n conns=$c ${line#RESULT } cpu0_other_pct=$other"
  log "round $round $kind n=$n c=$c: $(python3 -c 'import sys; d = dict(kv.split("=") for kv in sys.argv[1].split()[1:]); print("%.0f req/s, p50 %.2f ms, p99 %.2f ms" % (int(d["requests"]) / int(d["duration_us"]) * 1e6, int(d["p50_us"]) / 1e3, int(d["p99_us"]) / 1e3))' "$line"), CPU 0 ${other}% other"
}

mirror_load() {
  local file=$1 stored got
  stored=$(curl -fsS -X PUT --data-binary "@$file" "$base/_bench/mirror")
  [ "$stored" = stored ] || die "PUT /_bench/mirror answered '$stored'"
  got=$(curl -fsS "$base/_bench/mirror" | wc -c)
  [ "$got" = "$(stat -c %s "$file")" ] || die "the mirror serves $got bytes, not $(stat -c %s "$file")"
}

# --- reads ---------------------------------------------------------------------------------
# Each round: the HTML page and the mirror serving the same bytes, alternately, for every
# N and connection count; then scorecard.json; then /healthz. The HTML runs come first so
# that round 1's peak memory after the 10,000-workflow page load is not that of a JSON load.
for round in $(seq "$rounds"); do
  for n in "${sizes[@]}"; do
    for c in "${conns[@]}"; do
      heavy=$([ "$n" = 10000 ] && [ "$c" = 50 ] && echo 1 || echo 0)
      if [ "$heavy" = 1 ]; then
        record "hwm_before_html_load.r$round=$(hwm_kb)"
        if reset_hwm; then record "hwm_reset=yes"; else record "hwm_reset=no"; fi
      fi
      measure "$round" page "$n" "$c" "$base/s/${token[$n]}"
      if [ "$heavy" = 1 ]; then record "hwm_html_10000_c50.r$round=$(hwm_kb)"; fi
      mirror_load "$work/page-$n.html"
      measure "$round" mirror "$n" "$c" "$base/_bench/mirror"
    done
  done
  for n in "${sizes[@]}"; do
    for c in "${conns[@]}"; do
      heavy=$([ "$n" = 10000 ] && [ "$c" = 50 ] && echo 1 || echo 0)
      if [ "$heavy" = 1 ]; then
        record "hwm_before_json_load.r$round=$(hwm_kb)"
        reset_hwm || true
      fi
      measure "$round" json "$n" "$c" "$base/s/${token[$n]}/scorecard.json"
      if [ "$heavy" = 1 ]; then record "hwm_json_10000_c50.r$round=$(hwm_kb)"; fi
    done
  done
  for c in "${conns[@]}"; do
    measure "$round" healthz 0 "$c" "$base/healthz"
  done
done
record "rss_after_reads_kb=$(rss_kb)"

# --- writes: 50 connections editing workflows of the 1,000-workflow scorecard ------------
write_n=1000
python3 - "$work/scorecard-$write_n.json" "$work/workflows-$write_n.csv" "${token[$write_n]}" \
  >"$work/targets.lua" <<'PY'
import csv, json, sys
from urllib.parse import quote_plus

card = json.load(open(sys.argv[1]))
rows = {r["name"]: r for r in csv.DictReader(open(sys.argv[2], newline=""))}
token = sys.argv[3]
print("targets = {")
for w in card["workflows"]:
    row = rows[w["name"]]
    # Every other field as imported, so the edit changes only metric and spend.
    keep = {k: v for k, v in row.items() if k not in ("metric", "monthly_spend")}
    body = "&".join(f"{k}={quote_plus(v)}" for k, v in keep.items())
    print(f'  {{ path = "/s/{token}/workflows/{w["id"]}", body = "{body}" }},')
print("}")
PY
[ "$(grep -c 'path =' "$work/targets.lua")" = "$write_n" ] || die "targets.lua is incomplete"
changes_before=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute("select count(*) from changes").fetchone()[0])' "$work/data/scorecard.db")
raw="$work/wrk/write-c50.txt"
wait_quiet
log "writes: 50 connections for ${write_secs} s"
s0=$(cpu_ticks); read -r b0 t0 < <(cpu0_ticks)
taskset -c 1 wrk -t1 -c50 -d"${write_secs}s" --timeout 10s --latency -s "$bench/write.lua" "$base" "$work/targets.lua" >"$raw"
s1=$(cpu_ticks); read -r b1 t1 < <(cpu0_ticks)
other=$(( 100 * ((b1 - b0) - (s1 - s0)) / (t1 - t0 > 0 ? t1 - t0 : 1) ))
[ "$other" -ge 0 ] || other=0
line=$(grep '^RESULT ' "$raw" | tail -1)
[ -n "$line" ] || die "no RESULT in $raw"
record "write n=$write_n conns=50 ${line#RESULT } cpu0_other_pct=$other"
settle
changes_after=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute("select count(*) from changes").fetchone()[0])' "$work/data/scorecard.db")
record "write_history_rows=$(( changes_after - changes_before ))"
log "writes: ${line#RESULT }"

# --- a room saving at once: bursts of 50 edits, each burst answered before the next -----
wait_quiet
log "bursts of 50 edits at once (bench/write_burst.py)"
line=$(taskset -c 1 python3 "$bench/write_burst.py" "$base" "${token[$write_n]}" \
  "$work/workflows-$write_n.csv" "$work/scorecard-$write_n.json" 40 50 | grep '^RESULT ')
record "burst n=$write_n ${line#RESULT }"
log "bursts: ${line#RESULT }"

# --- one edit at a time, against N: what a single write costs without queueing --------
log "single edits, one at a time (bench/write_probe.py)"
probe_specs=()
for n in "${sizes[@]}"; do
  probe_specs+=("$n:${token[$n]}:$work/workflows-$n.csv:$work/scorecard-$n.json")
done
taskset -c 1 python3 "$bench/write_probe.py" "$base" 20 "${probe_specs[@]}" | grep '^RESULT ' | while read -r _ rest; do
  record "probe $rest"
done

record "hwm_end_kb=$(hwm_kb)"
record "rss_end_kb=$(rss_kb)"
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""

# --- raw SQLite, same kind of transaction, same disk, on the server's core ---------------
log "raw SQLite commits (bench/raw_sqlite.py)"
line=$(taskset -c 0 python3 "$bench/raw_sqlite.py" "$work/data/scorecard.db" "$work" 5000 10 | grep '^RESULT ')
record "raw_sqlite ${line#RESULT }"

# --- instruction counts: the committed figure ------------------------------------------
if [ -f "$bench/instructions-per-row.txt" ]; then
  record "instructions_committed=$(tr -dc '0-9' <"$bench/instructions-per-row.txt")"
fi

record "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
record "quiet_budget_left=$quiet_budget"
record "total_seconds=$(( $(date +%s) - started_at ))"

python3 "$bench/summarise.py" "$results" | tee "$work/summary.md"
