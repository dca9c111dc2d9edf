#!/usr/bin/env bash
# run.sh RUNTIME TEST_FILE BUILD_DIR: runs one JS test file under one runtime.
# RUNTIME is node20 (the machine's node), node24, bun or deno. Exits 77
# (skip) when that runtime is not installed.
set -u
runtime=$1 file=$2 build=$3
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin="$top/.tools/node_modules/.bin"
case $runtime in
  node20) cmd=(node) ;;
  node24) cmd=("$bin/node") ;;
  bun) cmd=("$bin/bun") ;;
  deno) cmd=("$bin/deno" run -A --quiet) ;;
  *) echo "unknown runtime $runtime"; exit 2 ;;
esac
command -v "${cmd[0]}" >/dev/null 2>&1 || { echo "skip: $runtime not installed (run .ci/setup)"; exit 77; }
# Test-only dependencies (fast-check) from package.json, installed once.
if [ ! -f "$here/node_modules/fast-check/package.json" ]; then
  log=$(cd "$here" && npm install --no-audit --no-fund --no-package-lock --loglevel=error 2>&1) ||
    echo "run.sh: npm install in tests/js failed:"$'\n'"$log" >&2
fi
# Tests import "knitting": point it at the staged package of this build.
mkdir -p "$here/node_modules"
if [ "$(readlink "$here/node_modules/knitting")" != "$build/npm/knitting" ]; then
  ln -sfn "$build/npm/knitting" "$here/node_modules/knitting" 2>/dev/null || true
fi
export NO_COLOR=1 KNIT_TEST_RUNTIME=$runtime
exec "${cmd[@]}" "$here/$file"
