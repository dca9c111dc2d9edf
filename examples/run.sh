#!/usr/bin/env bash
# run.sh RUNTIME EXAMPLE ENTRY EXPECT BUILD_DIR: runs one example under one
# runtime and checks that its output contains EXPECT. Exit 77 = skipped.
set -u
runtime=$1 example=$2 entry=$3 expect=$4 build=$5
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
bin="$top/.tools/node_modules/.bin"
case $runtime in
  node20) cmd=(node) ;;
  node24) cmd=("$bin/node") ;;
  bun) cmd=("$bin/bun") ;;
  deno) cmd=("$bin/deno" run -A --quiet) ;;
  *) echo "unknown runtime $runtime"; exit 2 ;;
esac
command -v "${cmd[0]}" >/dev/null 2>&1 || { echo "skip: $runtime not installed (run .ci/setup)"; exit 77; }
dir="$here/$example"
mkdir -p "$dir/node_modules"
if [ "$(readlink "$dir/node_modules/knitting")" != "$build/npm/knitting" ]; then
  ln -sfn "$build/npm/knitting" "$dir/node_modules/knitting" 2>/dev/null || true
fi
cd "$dir"
out=$(NO_COLOR=1 timeout 120 "${cmd[@]}" "$entry" 2>&1)
rc=$?
printf '%s\n' "$out"
[ $rc -eq 0 ] || { echo "FAIL: exit code $rc"; exit 1; }
grep -qF -- "$expect" <<<"$out" || { echo "FAIL: output lacks: $expect"; exit 1; }
