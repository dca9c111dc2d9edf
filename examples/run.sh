#!/usr/bin/env bash
# run.sh RUNTIME EXAMPLE ENTRY EXPECT BUILD_DIR: runs one example under one
# runtime and checks that its output contains EXPECT. Exit 77 = skipped.
set -u
runtime=$1 example=$2 entry=$3 expect=$4 build=$5
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/runtime.sh"
knit_runtime "$runtime"
dir="$here/$example"
knit_link_package "$dir" "$build"
cd "$dir"
out=$(timeout 120 "${KNIT_CMD[@]}" "$entry" 2>&1)
rc=$?
printf '%s\n' "$out"
[ $rc -eq 0 ] || { echo "FAIL: exit code $rc"; exit 1; }
grep -qF -- "$expect" <<<"$out" || { echo "FAIL: output lacks: $expect"; exit 1; }
