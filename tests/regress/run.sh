#!/usr/bin/env bash
# run.sh RUNTIME TEST_FILE BUILD_DIR: runs one regression test file (a path
# relative to tests/regress) under one runtime, like tests/js/run.sh.
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
# Tests import "knitting": point it at the staged package of this build.
mkdir -p "$here/node_modules"
if [ "$(readlink "$here/node_modules/knitting")" != "$build/npm/knitting" ]; then
  ln -sfn "$build/npm/knitting" "$here/node_modules/knitting"
fi
export NO_COLOR=1 KNIT_TEST_RUNTIME=$runtime
exec "${cmd[@]}" "$here/$file"
