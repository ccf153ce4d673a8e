#!/usr/bin/env bash
# Crash-safety test: kill -9 the server in the middle of concurrent writes, restart it on
# the same data folder, and check that nothing it acknowledged was lost.
#
#   bash tests/crash/crash_test.sh [path/to/scorecard]
#
# The binary defaults to target/debug/scorecard (under $CARGO_TARGET_DIR if that is set).
#
# For 3 rounds, on one database that carries over from crash to crash: start the server,
# have 8 writer threads post uniquely named workflows as fast as they can (a name is logged
# as acknowledged only once its 303 arrived), SIGKILL the server a random 1-3 s after the
# first acknowledgement, restart it, and require that every acknowledged name from every
# round so far is in scorecard.json and that PRAGMA integrity_check says "ok". The server
# restarted after one crash is the one the next round writes to and kills.
#
# What it proves: with the settings we ship (WAL, synchronous=normal), a crash of the
# server process at an arbitrary moment loses no acknowledged write and leaves a sound
# database that the next start recovers and serves (the 303 is sent only after COMMIT).
# What it does not prove: durability against power loss or a kernel crash. The killed
# process's writes are already in the OS page cache, which survives it; losing that cache
# (not simulated here) could drop the last commits under synchronous=normal. Nor does it
# cover disk-full, I/O errors, or a corrupted file. Writes that were in flight when the
# server died may or may not be stored; either is fine, so they are not checked.
#
# Traffic goes only to 127.0.0.1. Every loop is bounded in count and time; nothing is
# asserted about timing. Needs bash and python3 (standard library only).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
helper="$here/crash_helper.py"
bin="${1:-${CARGO_TARGET_DIR:-target}/debug/scorecard}"

ROUNDS=3
WRITERS=8
# Per writer per round. 3 rounds x 8 writers x 800 stays under the 20,000-workflow cap
# of one scorecard, whatever the build's speed.
MAX_PER_WRITER=800
WRITE_SECONDS=20 # the writers' own deadline, if the kill never came
HEALTH_SECONDS=20

if [ ! -x "$bin" ]; then
  echo "crash-safety: no executable server binary at $bin (build with: cargo build)" >&2
  exit 2
fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

work="$(mktemp -d "${TMPDIR:-/tmp}/scorecard-crash.XXXXXX")"
data="$work/data"
logs="$work/acked"
mkdir -p "$data" "$logs"
db="$data/scorecard.db"

server_pid=""
writer_pid=""
port=""

cleanup() {
  local status=$?
  if [ -n "$writer_pid" ]; then
    kill -9 "$writer_pid" 2>/dev/null || true
    wait "$writer_pid" 2>/dev/null || true
  fi
  if [ -n "$server_pid" ]; then
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts the server on a free port over $data; sets server_pid and port. A few attempts,
# in case another process takes the free port between the look-up and the bind.
start_server() {
  local attempt
  for attempt in 1 2 3; do
    port="$(python3 "$helper" free-port)"
    "$bin" --bind "127.0.0.1:$port" --data-dir "$data" >>"$work/server.log" 2>&1 &
    server_pid=$!
    if python3 "$helper" wait-healthy "$port" "$server_pid" "$HEALTH_SECONDS"; then
      return 0
    fi
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    echo "  server did not come up (attempt $attempt)" >&2
  done
  echo "  last lines of the server log:" >&2
  tail -n 20 "$work/server.log" >&2 || true
  return 1
}

# SIGTERM, then up to 10 s for a clean stop, then SIGKILL.
stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  crash_server
}

crash_server() {
  kill -9 "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

passed=0
failed=0
token=""

echo "crash-safety: $ROUNDS rounds, $WRITERS writers, kill -9 1-3 s into the writes; binary $bin"
if ! start_server; then
  echo "crash-safety: 0 passed, $ROUNDS failed"
  exit 1
fi
if ! token="$(python3 "$helper" create "$port")"; then
  echo "crash-safety: 0 passed, $ROUNDS failed"
  exit 1
fi

for round in $(seq 1 "$ROUNDS"); do
  # The server is up: started above for round 1, or restarted after the previous crash.
  python3 "$helper" write "$port" "$token" "$round" "$logs" \
    "$WRITERS" "$MAX_PER_WRITER" "$WRITE_SECONDS" >"$work/write-$round.out" &
  writer_pid=$!

  # Let the writers get going (first acknowledgement, at most 10 s), then a random 1-3 s.
  for _ in $(seq 1 100); do
    if [ -n "$(find "$logs" -name "acked-r$round-w*.log" -size +0c -print -quit)" ]; then
      break
    fi
    sleep 0.1
  done
  delay="$((RANDOM % 2001 + 1000))"
  sleep "$((delay / 1000)).$(printf '%03d' "$((delay % 1000))")"
  crash_server
  # The writers stop on the first connection error, at the latest by their own deadline.
  writer_status=0
  wait "$writer_pid" || writer_status=$?
  writer_pid=""
  write_summary="$(cat "$work/write-$round.out")"

  round_ok=1
  if [ "$writer_status" -ne 0 ]; then
    echo "  round $round: writers exited with status $writer_status" >&2
    round_ok=0
  fi
  this_round="$({ cat "$logs"/acked-r"$round"-w*.log 2>/dev/null || true; } | wc -l | tr -d ' ')"
  if [ "$this_round" -eq 0 ]; then
    echo "  round $round: no write was acknowledged before the kill; the round proves nothing" >&2
    round_ok=0
  fi

  check_summary="not checked"
  if start_server; then
    if ! check_summary="$(python3 "$helper" check "$port" "$token" "$logs" "$db" 2>"$work/check.err")"; then
      round_ok=0
      check_summary="${check_summary:-check failed}"
    fi
  else
    round_ok=0
    check_summary="server did not restart after the crash"
  fi

  verdict=FAIL
  if [ "$round_ok" -eq 1 ]; then
    verdict=PASS
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  echo "round $round: killed ${delay} ms after the first ack; writes this round: $write_summary; after restart, all rounds: $check_summary: $verdict"
  if [ -s "$work/check.err" ]; then
    cat "$work/check.err" >&2
    : >"$work/check.err"
  fi

  if [ -z "$server_pid" ]; then
    # Nothing left to drive: the remaining rounds cannot run.
    failed=$((failed + ROUNDS - round))
    break
  fi
done

if [ -n "$server_pid" ]; then
  stop_server
fi

echo "crash-safety: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
  echo "  last lines of the server log:" >&2
  tail -n 20 "$work/server.log" >&2 || true
  exit 1
fi
