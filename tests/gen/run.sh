#!/usr/bin/env bash
# run.sh RUNTIME BUILD_DIR: generates the table for src/tasks.ts with knitgen
# into a scratch copy, then runs main.ts against it under RUNTIME.
set -eu
runtime=$1 build=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin="$top/.tools/node_modules/.bin"
case $runtime in
  node24) cmd=("$bin/node") ;;
  bun) cmd=("$bin/bun") ;;
  deno) cmd=("$bin/deno" run -A --quiet) ;;
  *) echo "unknown runtime $runtime"; exit 2 ;;
esac
[ -x "${cmd[0]}" ] || { echo "skip: $runtime not installed"; exit 77; }
work="$build/tests/gen-$runtime"
rm -rf "$work" && mkdir -p "$work/node_modules"
cp -r "$here/src" "$here/main.ts" "$work/"
cp "$build/tests/js/fixtures/native/libffi_tasks.so" "$work/src/" # the native task's library
printf '{ "type": "module", "dependencies": { "knitting": "*" } }\n' >"$work/package.json"
ln -s "$build/npm/knitting" "$work/node_modules/knitting"
cd "$work"
"$build/knitgen/knitgen" src/tasks.ts -o gen
NO_COLOR=1 timeout 60 "${cmd[@]}" main.ts
