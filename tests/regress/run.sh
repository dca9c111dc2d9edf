#!/usr/bin/env bash
# run.sh RUNTIME TEST_FILE BUILD_DIR: runs one regression test file (a path
# relative to tests/regress) under one runtime, like tests/js/run.sh. Exits
# 77 (skip) when that runtime is not installed.
set -u
runtime=$1 file=$2 build=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../runtime.sh"
knit_runtime "$runtime"
knit_link_package "$here" "$build"
exec "${KNIT_CMD[@]}" "$here/$file"
