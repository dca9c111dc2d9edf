#!/usr/bin/env bash
# The knitgen scan bench: ~10 MB of realistic TypeScript, scanned by
# `knitgen --manifest`. Prints the best of several runs. Must stay under 1 s.
#
#   bench/knitgen/run.sh [path/to/knitgen] [megabytes]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
knitgen=${1:-$top/build/knitgen/knitgen}
mb=${2:-10}
runs=5
[ -x "$knitgen" ] || { echo "bench: no knitgen at $knitgen (build first, or pass its path)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bytes=$((mb * 1000 * 1000))
# one big module
awk -v bytes="$bytes" -v prefix="" -f "$here/gen.awk" >"$work/big.ts"
# the same volume as 100 modules joined by an index of export * lines
mkdir -p "$work/split"
: >"$work/split/index.ts"
for m in $(seq 0 99); do
  awk -v bytes=$((bytes / 100)) -v prefix="m${m}_" -f "$here/gen.awk" >"$work/split/mod$m.ts"
  echo "export * from \"./mod$m\";" >>"$work/split/index.ts"
done

best_ms() { # args: knitgen arguments; prints the best wall time in ms
  local best=
  for _ in $(seq $runs); do
    local t0 t1
    t0=$(date +%s%N)
    "$knitgen" "$@" >"$work/out.json"
    t1=$(date +%s%N)
    local ms=$(((t1 - t0) / 1000000))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  echo "$best"
}

report() { # label, size, ms
  local tasks
  tasks=$(grep -o '"name":' "$work/out.json" | wc -l)
  awk -v l="$1" -v b="$2" -v ms="$3" -v n="$tasks" 'BEGIN {
    mb = b / 1e6; printf "%-22s %6.1f MB  %6d tasks  %5d ms  %7.1f MB/s\n", l, mb, n, ms, (ms > 0 ? mb / (ms / 1000) : 0) }'
}

big_ms=$(best_ms --manifest "$work/big.ts")
report "one 10 MB module" "$(stat -c %s "$work/big.ts")" "$big_ms"
split_bytes=$(cat "$work"/split/*.ts | wc -c)
split_ms=$(best_ms --manifest "$work/split/index.ts")
report "100 modules, export *" "$split_bytes" "$split_ms"
if [ "$big_ms" -ge 1000 ] || [ "$split_ms" -ge 1000 ]; then
  echo "bench: FAIL: the scan must take under 1 s" >&2
  exit 1
fi
echo "bench: ok (best of $runs runs, $(nproc) CPUs, $(uname -m))"
