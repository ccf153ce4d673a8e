#!/usr/bin/env bash
# CI guard: fails if rendering a scorecard now costs more than 10% more instructions per
# workflow row than the figure committed in bench/instructions-per-row.txt.
#
#   cargo build --release --example render_cost
#   bash bench/check-instructions.sh
#
# The count comes from bench/instructions.sh --page (callgrind, deterministic for a given
# binary), so the guard is free of timing noise. When a change makes rendering cheaper,
# or a dearer render is accepted on purpose, write the new figure into the file.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

figure_file=bench/instructions-per-row.txt
tolerance_percent=10

committed=$(tr -dc '0-9' <"$figure_file")
if [ -z "$committed" ]; then
  echo "error: $figure_file holds no integer" >&2
  exit 2
fi

output=$(bash bench/instructions.sh --page)
echo "$output"
measured=$(sed -n 's/^RESULT page_slope=\([0-9]*\).*/\1/p' <<<"$output")
if [ -z "$measured" ]; then
  echo "error: bench/instructions.sh gave no page slope" >&2
  exit 2
fi

limit=$(( committed + committed * tolerance_percent / 100 ))
echo
echo "instructions per workflow row (page): measured $measured, committed $committed, limit $limit (+${tolerance_percent}%)"
if [ "$measured" -gt "$limit" ]; then
  echo "FAIL: rendering costs $measured instructions per workflow row, more than ${tolerance_percent}% above the committed $committed." >&2
  echo "      Find the new cost with 'bash bench/instructions.sh --annotate'; if it is accepted, write $measured into $figure_file." >&2
  exit 1
fi
echo "OK: within ${tolerance_percent}% of the committed figure."
