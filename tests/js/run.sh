#!/usr/bin/env bash
# run.sh RUNTIME TEST_FILE BUILD_DIR: runs one JS test file under one runtime
# (node20, node24, bun or deno; tests/runtime.sh). Exits 77 (skip) when that
# runtime is not installed.
set -u
runtime=$1 file=$2 build=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../runtime.sh"
knit_runtime "$runtime"
# Test-only dependencies (fast-check) from package.json, installed once.
if [ ! -f "$here/node_modules/fast-check/package.json" ]; then
  log=$(cd "$here" && npm install --no-audit --no-fund --no-package-lock --loglevel=error 2>&1) ||
    echo "run.sh: npm install in tests/js failed:"$'\n'"$log" >&2
fi
knit_link_package "$here" "$build"
exec "${KNIT_CMD[@]}" "$here/$file"
