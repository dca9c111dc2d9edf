#!/usr/bin/env bash
# run.sh RUNTIME BUILD_DIR CALLS THREADS [SEED]: runs stress.mjs under one
# runtime (tests/runtime.sh) against the staged package of BUILD_DIR. Exits
# 77 (skip) when the runtime is missing.
set -u
runtime=$1 build=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../runtime.sh"
knit_runtime "$runtime"
knit_link_package "$here" "$build"
exec "${KNIT_CMD[@]}" "$here/stress.mjs" "$@"
