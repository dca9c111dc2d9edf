#!/usr/bin/env bash
# package.sh WHAT BUILD_DIR: the npm package path in a scratch folder.
# knitgen --package on pkg/src/tasks.ts, npm pack (it, knitting and
# tiny-dep, which a task module imports), npm install the tarballs into a
# fresh project, then WHAT:
#   node20 | node24 | bun | deno   run consumer/main.ts (a .mjs copy on node 20)
#   tsc                            tsc --noEmit passes on main.ts and fails,
#                                  as it must, on bad.ts
set -eu
what=$1 build=$2
source "$(dirname "$0")/lib.sh"
[ "$what" = tsc ] || runtime_cmd "$what"
work="$build/tests/bundlers/package-$what"
tools="$build/tests/bundlers/tools"
mkdir -p "$tools"
cp "$here/package.json" "$tools/package.json"
npm_install_cached "$tools"
export PATH="$(dirname "$(tool_node)"):$PATH"

rm -rf "$work" && mkdir -p "$work/proj/node_modules" "$work/packs" "$work/app"
cp -r "$here/pkg/src" "$here/pkg/tsconfig.json" "$work/proj/"
printf '{ "name": "proj", "private": true, "type": "module", "dependencies": { "tiny-dep": "^1.0.0" } }\n' >"$work/proj/package.json"
ln -s "$build/npm/knitting" "$work/proj/node_modules/knitting"
ln -s "$here/pkg/tiny-dep" "$work/proj/node_modules/tiny-dep"
ln -s "$tools/node_modules/@types" "$work/proj/node_modules/@types"
ln -s "$tools/node_modules/typescript" "$work/proj/node_modules/typescript"
mkdir -p "$work/proj/node_modules/.bin" && ln -s ../typescript/bin/tsc "$work/proj/node_modules/.bin/tsc"

# 1. generate (tsc from the project's node_modules/.bin); no diagnostics at all
cd "$work/proj"
timeout 60 "$build/knitgen/knitgen" src/tasks.ts --package @knit-test/my-tasks@1.2.3 -o dist/my-tasks 2>gen.err ||
  { cat gen.err; echo "FAIL: knitgen --package"; exit 1; }
[ ! -s gen.err ] || { cat gen.err; echo "FAIL: knitgen --package printed diagnostics"; exit 1; }
grep -q '"tiny-dep": "^1.0.0"' dist/my-tasks/package.json ||
  { cat dist/my-tasks/package.json; echo "FAIL: the package does not depend on tiny-dep"; exit 1; }

# 2. pack (knitting and tiny-dep too: the package depends on them, and
# nothing is fetched)
cd "$work/packs"
timeout 60 npm pack --loglevel=error "$build/npm/knitting" "$here/pkg/tiny-dep" "$work/proj/dist/my-tasks" >/dev/null

# 3. install into a fresh project, offline
cd "$work/app"
printf '{ "name": "app", "private": true, "type": "module" }\n' >package.json
timeout 120 npm install --offline --no-audit --no-fund --loglevel=error ../packs/*.tgz
[ -f node_modules/@knit-test/my-tasks/lib/tasks.js ] || { echo "FAIL: package not installed"; exit 1; }
cp "$here/pkg/consumer/"* .

# 4. import and call, or type-check
if [ "$what" = tsc ]; then
  ln -s "$tools/node_modules/@types" node_modules/@types
  tsc="$tools/node_modules/.bin/tsc"
  timeout 60 "$tsc" -p . || { echo "FAIL: tsc --noEmit on main.ts"; exit 1; }
  sed 's/"main.ts"/"bad.ts"/' tsconfig.json >tsconfig.bad.json
  out=$(timeout 60 "$tsc" -p tsconfig.bad.json 2>&1) && { echo "FAIL: bad.ts type-checked"; exit 1; }
  printf '%s\n' "$out"
  for code in TS2322 TS2741 TS2339; do
    grep -q "bad.ts.*$code" <<<"$out" || { echo "FAIL: expected $code from bad.ts"; exit 1; }
  done
  echo "package types ok"
  exit 0
fi
entry=main.ts
if [ "$what" = node20 ]; then
  # node 20 cannot strip types: the same program without its annotations
  sed -E 's/const ([a-z]+): [^=]+ =/const \1 =/' main.ts >main.mjs
  entry=main.mjs
fi
out=$(NO_COLOR=1 timeout 60 "${rt[@]}" "$entry" 2>&1) && rc=0 || rc=$?
printf '%s\n' "$out"
[ $rc -eq 0 ] || { echo "FAIL: exit code $rc"; exit 1; }
grep -q "^package ok" <<<"$out" || { echo "FAIL: no 'package ok'"; exit 1; }
