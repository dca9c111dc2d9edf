#!/usr/bin/env bash
# run.sh RUNTIME BUILD_DIR: generates the table for src/tasks.ts with knitgen
# into a scratch copy, then runs main.ts against it under RUNTIME.
set -eu
runtime=$1 build=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../runtime.sh"
knit_runtime "$runtime" # node24, bun or deno: the generated entries import .ts
work="$build/tests/gen-$runtime"
rm -rf "$work" && mkdir -p "$work"
cp -r "$here/src" "$here/main.ts" "$work/"
cp "$build/tests/js/fixtures/native/libffi_tasks.so" "$work/src/" # the native task's library
printf '{ "type": "module", "dependencies": { "knitting": "*" } }\n' >"$work/package.json"
knit_link_package "$work" "$build"
cd "$work"
"$build/knitgen/knitgen" src/tasks.ts -o gen
timeout 60 "${KNIT_CMD[@]}" main.ts
