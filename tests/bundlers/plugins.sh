#!/usr/bin/env bash
# plugins.sh BUILD_DIR: runs plugins.test.mjs on a scratch copy of fixture/
# with Rollup and esbuild from the tests' tools and a knitting package that
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
table_only_knitting "$work/node_modules/knitting"
for m in rollup @rollup esbuild @esbuild; do ln -s "$tools/node_modules/$m" "$work/node_modules/$m"; done
printf '{ "type": "module" }\n' >"$work/package.json"
timeout 120 "${rt[@]}" "$here/plugins.test.mjs" "$work"
