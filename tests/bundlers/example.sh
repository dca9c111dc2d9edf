#!/usr/bin/env bash
# example.sh EXAMPLE RUNTIME BUILD_DIR: builds examples/EXAMPLE with its
# bundler (npm deps installed once into a scratch copy), copies the output
# folder alone next to a knitting package that lacks the run-time worker
# entry, and runs it under RUNTIME. The example checks that its calls ran on
# worker threads and prints "EXAMPLE ok".
set -eu
example=$1 runtime=$2 build=$3
source "$(dirname "$0")/lib.sh"
runtime_cmd "$runtime"
src="$top/examples/$example"
work="$build/tests/bundlers/ex-$example"
mkdir -p "$work"
# sources into the scratch copy; its node_modules persist between runs
(cd "$src" && find . -path ./node_modules -prune -o -path ./dist -prune -o -type f -print) |
  while read -r f; do mkdir -p "$work/$(dirname "$f")"; cp "$src/$f" "$work/$f"; done
sed -i "s#\"file:[^\"]*knitting\"#\"file:$build/npm/knitting\"#" "$work/package.json"
npm_install_cached "$work"
ln -sfn "$build/npm/knitting" "$work/node_modules/knitting"
cd "$work"
rm -rf dist
case $example in
  bundled-esbuild) timeout 60 "$(tool_node)" build.mjs ;;
  vite-ssr) timeout 120 "$(tool_node)" node_modules/vite/bin/vite.js build ;;
esac
entry=$(cd dist && ls app.mjs server.js 2>/dev/null | head -1)
run="$build/tests/bundlers/run-$example-$runtime"
rm -rf "$run" && mkdir -p "$run/node_modules"
cp -r dist "$run/dist"
table_only_knitting "$run/node_modules/knitting"
printf '{ "type": "module", "dependencies": { "knitting": "*" } }\n' >"$run/package.json"
cd "$run"
args=()
[ "$example" = vite-ssr ] && args=(--selftest)
out=$(NO_COLOR=1 timeout 60 "${rt[@]}" "dist/$entry" "${args[@]}" 2>&1) && rc=0 || rc=$?
printf '%s\n' "$out"
[ $rc -eq 0 ] || { echo "FAIL: exit code $rc"; exit 1; }
grep -qF "$example ok" <<<"$out" || { echo "FAIL: output lacks '$example ok'"; exit 1; }
