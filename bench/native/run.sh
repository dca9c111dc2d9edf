#!/usr/bin/env bash
# bench/native/run.sh [--quick] [BUILD_DIR]: CRC-32 in C against the same in
# JS (examples/native-crc) under node 20, node 24, bun and deno, against the
# build in BUILD_DIR (default build/). Writes
# bench/native/results/native-<runtime>.{json,md}. The round trip and
# throughput of a trivial C task are case 6 of bench/run.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
quick=""
if [[ "${1:-}" == "--quick" ]]; then quick="--quick"; shift; fi
build="$(cd "${1:-$root/build}" && pwd)"
ninja -C "$build" runtime/js/npm-knitting.stamp examples/native-crc/libcrc.so >&2
# both modules import "knitting": point them at this build
for d in "$here" "$root/examples/native-crc"; do
  mkdir -p "$d/node_modules"
  ln -sfn "$build/npm/knitting" "$d/node_modules/knitting"
done
export KNIT_EXAMPLE_LIBDIR="$build/examples/native-crc"
tools="$root/.tools/node_modules/.bin"
mkdir -p "$here/results"
for rt in node20 node24 bun deno; do
  case $rt in
    node20) cmd=(/usr/bin/node) ;;
    node24) cmd=("$tools/node") ;;
    bun) cmd=("$tools/bun") ;;
    deno) cmd=("$tools/deno" run -A --quiet) ;;
  esac
  command -v "${cmd[0]}" >/dev/null 2>&1 || { echo "skip: $rt not installed" >&2; continue; }
  out="$here/results/native-$rt"
  (cd "$here" && "${cmd[@]}" native.bench.mjs $quick --json "$out.json") | tee "$out.md"
done
