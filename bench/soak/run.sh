#!/usr/bin/env bash
# bench/soak/run.sh [--seconds N] [--runtime node24|node20|bun|deno]
#                   [--threads N] [--inflight N] [--every N] [--build DIR]
# A soak: steady mixed load on one pool for --seconds (default 60), one line
# of throughput and memory every --every seconds (default 5), then a verdict
# on RSS growth (exit 0 stable, 1 growing or a wrong result). See soak.mjs.
# To run it from bench/run.sh:   "$here/soak/run.sh" --seconds 60
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
runtime=node24 build="$root/build" pass=()
while (($#)); do
  case $1 in
    --runtime) runtime=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --seconds|--threads|--inflight|--every) pass+=("$1" "$2"); shift 2 ;;
    *) echo "soak: unknown argument $1" >&2; exit 2 ;;
  esac
done
build="$(cd "$build" && pwd)"
tools="$root/.tools/node_modules/.bin"
case $runtime in
  node20) cmd=(/usr/bin/node) ;;
  node24) cmd=("$tools/node") ;;
  bun) cmd=("$tools/bun") ;;
  deno) cmd=("$tools/deno" run -A --quiet) ;;
  *) echo "soak: unknown runtime $runtime" >&2; exit 2 ;;
esac
[[ -f "$build/npm/knitting/knit.node" ]] || ninja -C "$build" >&2
# soak.mjs imports "knitting": point it at this build
mkdir -p "$here/node_modules"
ln -sfn "$build/npm/knitting" "$here/node_modules/knitting"
export KNIT_SOAK_RUNTIME=$runtime
exec "${cmd[@]}" "$here/soak.mjs" "${pass[@]}"
