#!/usr/bin/env bash
# plugins.sh BUILD_DIR: runs plugins.test.mjs on a scratch copy of fixture/
# with Rollup, esbuild and Vite from the tests' tools and a knitting package that
# lacks the run-time worker entry (so only the generated table can work).
set -eu
build=$1
source "$(dirname "$0")/lib.sh"
runtime_cmd node24
tools="$build/tests/bundlers/tools"
mkdir -p "$tools"
cp "$here/package.json" "$tools/package.json"
npm_install_cached "$tools"
work="$build/tests/bundlers/plugins"
rm -rf "$work" && mkdir -p "$work/node_modules"
cp -r "$here/fixture" "$work/fixture"
cp "$build/tests/js/fixtures/native/libffi_tasks.so" "$work/fixture/"
table_only_knitting "$work/node_modules/knitting"
for m in rollup @rollup esbuild @esbuild vite; do ln -s "$tools/node_modules/$m" "$work/node_modules/$m"; done
printf '{ "type": "module" }\n' >"$work/package.json"
# the runtimes that run the bundles: lines of NAME, then the command's words,
# separated by \037
export KNIT_RUNTIMES=""
for r in node20 node24 bun deno; do
  if cmd=$(runtime_cmd "$r" >/dev/null && printf '\037%s' "${rt[@]}"); then KNIT_RUNTIMES+="$r$cmd"$'\n'; fi
done
timeout 200 "${rt[@]}" "$here/plugins.test.mjs" "$work"
