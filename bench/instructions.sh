#!/usr/bin/env bash
# Instruction counts of computing and rendering a scorecard, under callgrind.
#
#   cargo build --release --example render_cost
#   bash bench/instructions.sh            # page and json, N = 1,000 and 2,000
#   bash bench/instructions.sh --page     # page only (what the CI guard runs)
#   bash bench/instructions.sh --annotate # also list the top functions inside measure_pages
#
# Only `measure_pages` / `measure_json` in examples/render_cost.rs are counted
# (--toggle-collect), so building the synthetic scorecard is left out. The figure that
# matters is the slope, (I(2000) - I(1000)) / 1000: instructions per extra workflow row,
# free of fixed costs (page chrome, the first allocation of buffers). I(1000)/1000 is shown
# beside it. Counts are instructions, not time: the same binary gives the same count on
# any machine, whatever else runs on it.
#
# Needs valgrind and python3. Honours CARGO_TARGET_DIR, or RENDER_COST_BIN to point at
# the binary directly. The last lines are machine-readable: `RESULT page_slope=...`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

modes=(page json)
annotate=0
for arg in "$@"; do
  case "$arg" in
    --page) modes=(page) ;;
    --annotate) annotate=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

target_dir="${CARGO_TARGET_DIR:-target}"
bin="${RENDER_COST_BIN:-$target_dir/release/examples/render_cost}"
if [ ! -x "$bin" ]; then
  echo "error: $bin not found: build it with 'cargo build --release --example render_cost'" >&2
  exit 2
fi
command -v valgrind >/dev/null || { echo "error: valgrind is not installed (apt-get install -y valgrind)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "error: python3 is not installed" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Total Ir counted while inside the toggled function, from callgrind's output file.
total_ir() {
  python3 - "$1" <<'PY'
import re, sys
total = None
with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
    for line in f:
        m = re.match(r"^(summary|totals):\s+(\d+)", line)
        if m:
            total = int(m.group(2))  # `totals` comes last and wins; they agree anyway
if total is None:
    sys.exit("no summary/totals line in " + sys.argv[1])
print(total)
PY
}

# count MODE N -> prints the instructions inside measure_<MODE> for N workflows.
count() {
  local mode=$1 n=$2 fn out
  case "$mode" in
    page) fn=measure_pages ;;
    json) fn=measure_json ;;
  esac
  out="$work/callgrind.$mode.$n"
  # The wildcard matches the demangled symbol (render_cost::measure_pages, with or
  # without a ::h<hash> suffix). No cache or branch simulation: Ir only.
  if ! valgrind --tool=callgrind --callgrind-out-file="$out" \
      --toggle-collect="*render_cost::${fn}*" \
      "$bin" "$n" "$mode" >"$work/stdout.$mode.$n" 2>"$work/valgrind.$mode.$n.log"; then
    cat "$work/valgrind.$mode.$n.log" >&2
    echo "error: valgrind failed on $bin $n $mode" >&2
    exit 1
  fi
  local ir
  ir=$(total_ir "$out")
  if [ "$ir" -eq 0 ]; then
    echo "error: callgrind counted nothing: is $fn still in $bin (and #[inline(never)])?" >&2
    exit 1
  fi
  echo "$ir"
}

declare -A ir
for mode in "${modes[@]}"; do
  for n in 1000 2000; do
    ir[$mode.$n]=$(count "$mode" "$n")
  done
done

printf '\nInstructions (Ir) inside measure_pages / measure_json, %s\n\n' "$bin"
declare -A slope avg
printf '| mode | I(1000) | I(2000) | slope (I(2000)-I(1000))/1000 per row | I(1000)/1000 per row |\n'
printf '|---|---:|---:|---:|---:|\n'
for mode in "${modes[@]}"; do
  a=${ir[$mode.1000]} b=${ir[$mode.2000]}
  slope[$mode]=$(( (b - a) / 1000 ))
  avg[$mode]=$(( a / 1000 ))
  printf '| %s | %d | %d | %d | %d |\n' "$mode" "$a" "$b" "${slope[$mode]}" "${avg[$mode]}"
done

if [ "$annotate" -eq 1 ] && [ -n "${ir[page.2000]:-}" ]; then
  printf '\nTop functions inside measure_pages, N=2000 (callgrind_annotate, inclusive):\n\n'
  callgrind_annotate --inclusive=yes "$work/callgrind.page.2000" 2>/dev/null | sed -n '1,60p'
  printf '\nTop functions inside measure_pages, N=2000 (callgrind_annotate, self):\n\n'
  callgrind_annotate "$work/callgrind.page.2000" 2>/dev/null | sed -n '1,40p'
fi

echo
for mode in "${modes[@]}"; do
  echo "RESULT ${mode}_slope=${slope[$mode]} ${mode}_per_row_at_1000=${avg[$mode]}"
done
