#!/usr/bin/env bash
# Runs the knitting benchmark suite under node 24, bun and deno (and node 20
# for the cheap cases). Writes bench/results/<case>.{json,md} and docs/bench-*.svg.
#
#   bench/run.sh            full suite (several minutes)
#   bench/run.sh --quick    knitting vs postMessage latency, under 60 s; prints a table
#
# Environment: NODE24, BUN, DENO, NODE20 override the runtimes; BENCH_WAIT_LOAD=0
# skips waiting for a quiet machine in full mode; BENCH_NATIVE=1 also runs
# bench/native/run.sh (a CPU-bound task in C against JS) after the suite.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$here"

QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1

tools="$root/.tools/node_modules/.bin"
pick() { for c in "$@"; do if [[ -x "$c" ]] || command -v "$c" >/dev/null 2>&1; then echo "$c"; return; fi; done; }
NODE24="${NODE24:-$(pick "$tools/node" node)}"
BUN="${BUN:-$(pick "$tools/bun" bun)}"
DENO="${DENO:-$(pick "$tools/deno" deno)}"
NODE20="${NODE20:-$(pick /usr/bin/node)}"

# ---- setup: the package must be built, the peers installed ----------------
if [[ ! -f "$root/build/npm/knitting/knit.node" || ! -f "$root/build/bench/native/libecho_gen.so" ]]; then
  echo "bench: building knitting (ninja -C build)" >&2
  ninja -C "$root/build" >&2
fi
if [[ ! -d node_modules/mitata || ! -d node_modules/piscina || ! -d node_modules/tinypool || ! -d node_modules/workerpool || ! -d node_modules/ws || ! -e node_modules/knitting ]]; then
  echo "bench: installing the peers into bench/node_modules" >&2
  PATH="$(dirname "$NODE24"):$PATH" npm install --no-audit --no-fund --loglevel=error >&2
fi

raw="$(mktemp -d "${TMPDIR:-/tmp}/knit-bench.XXXXXX")"
trap 'rm -rf "$raw"' EXIT

load1() { cut -d' ' -f1 /proc/loadavg; }
# % of all cores busy over $1 seconds (default 1; other processes, we are idle here)
busy() {
  local a b
  a=($(head -1 /proc/stat)); sleep "${1:-1}"; b=($(head -1 /proc/stat))
  local ta=0 tb=0 i
  for i in "${a[@]:1}"; do ta=$((ta + i)); done
  for i in "${b[@]:1}"; do tb=$((tb + i)); done
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) tot=$(( tb - ta ))
  (( tot > 0 )) && echo $(( 100 - 100 * idle / tot )) || echo 0
}
wait_quiet() {
  [[ "${BENCH_WAIT_LOAD:-1}" == 0 ]] && return
  local i=0 b
  while b=$(busy); (( b > 20 )); do
    if (( i == 0 )); then echo "bench: the machine is ${b}% busy; waiting up to 120 s for a quieter machine" >&2; fi
    (( i++ >= 60 )) && { echo "bench: still ${b}% busy; running anyway, the tables show it" >&2; return; }
    sleep 1
  done
}

# run RUNTIME_LABEL CASE [args...]
run() {
  local label="$1" case="$2"; shift 2
  local cmd
  case "$label" in
    node24) cmd=("$NODE24") ;;
    node20) cmd=("$NODE20") ;;
    bun) cmd=("$BUN") ;;
    deno) cmd=("$DENO" run -A) ;;
  esac
  [[ -z "${cmd[0]}" ]] && { echo "bench: no $label runtime; skipping" >&2; return; }
  local limit=240
  (( QUICK )) && limit=15   # 3 runtimes must fit in 60 s even if one hangs
  if (( QUICK )); then BENCH_BUSY="$(busy 0.3)"; else BENCH_BUSY="$(busy)"; fi
  export BENCH_BUSY
  if ! timeout -k 2 "$limit" "${cmd[@]}" "cases/$case.mjs" "$raw/$case.$label.json" "$@" 2> >(if (( QUICK )); then cat >/dev/null; else cat >&2; fi); then
    echo "bench: $case on $label failed or timed out" >&2
  fi
}

# which knitting build is measured (others rebuild build/ while we run)
pkg="$root/build/npm/knitting"
build_id() { cat "$pkg"/*.js "$pkg"/knit.node 2>/dev/null | sha256sum | cut -c1-12; }
build0="$(build_id)"
head="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
built="$(date -u -r "$pkg/knit.node" '+%Y-%m-%d %H:%M' 2>/dev/null || echo unknown)"
write_build() {
  local now; now="$(build_id)"
  printf '{"head":"%s","package":"%s","built":"%s","changedDuringRun":%s}\n' "$head" "$build0" "$built" "$([[ "$now" != "$build0" ]] && echo true || echo false)" > "$raw/build.json"
  [[ "$now" != "$build0" ]] && echo "bench: WARNING: build/npm/knitting changed during the run ($build0 -> $now); rerun for consistent figures" >&2
  return 0
}

start=$(date +%s)
if (( QUICK )); then
  for rt in node24 bun deno; do run "$rt" latency --quick --only=knitting,postMessage; done
  write_build
  "$NODE24" lib/report.mjs "$raw" --quick
  echo "(quick mode: $(( $(date +%s) - start )) s; full suite: bench/run.sh)"
  exit 0
fi

# the generated table of the table case (issue 5): knitgen's own output
"$root/build/knitgen/knitgen" table/tasks.ts -o table/gen

for rt in node24 bun deno node20; do
  for c in latency throughput payload startup idle scaling native table; do
    # node 20 only where cheap: the payload sweep and the scan are skipped
    # there, and it cannot import the .ts tasks of the table case
    [[ "$rt" == node20 && ( "$c" == payload || "$c" == scaling || "$c" == table ) ]] && continue
    wait_quiet
    echo "bench: $c on $rt" >&2
    run "$rt" "$c"
  done
done
write_build
"$NODE24" lib/report.mjs "$raw"
# C against JS on CPU-bound work (bench/native, with the native-crc example)
if [[ "${BENCH_NATIVE:-0}" == 1 && -x "$here/native/run.sh" ]]; then
  "$here/native/run.sh" >&2 || echo "bench: bench/native/run.sh failed" >&2
fi
echo "bench: done in $(( $(date +%s) - start )) s; tables in bench/results/, charts in docs/bench-*.svg" >&2
