#!/bin/sh
# Golden test of one knitgen case (after Wayland's scanner-test.sh).
#
#   run.sh KNITGEN CASEDIR [--update]
#
# Runs knitgen in CASEDIR (so module paths are relative) with the arguments in
# CASEDIR/args, default `--manifest input.ts` (or input.tsx, or the file
# CASEDIR/input-name names), and compares
# stdout, stderr and the exit status with CASEDIR/expected/{stdout,stderr,
# status}; a missing file means empty output, status 0. Error cases thus
# assert each diagnostic's line and column. If CASEDIR/expected/gen exists,
# `knitgen INPUT -o gen-out` must also reproduce it file for file (CASEDIR/gen
# marks the cases whose expectations --update writes; expected/cstubs and
# CASEDIR/cstubs do the same for --c-stubs).
# --update rewrites the expectations instead.
set -eu
knitgen=$1
dir=$2
update=${3:-}
case $knitgen in /*) ;; *) knitgen=$(pwd)/$knitgen ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
# work on a copy, so generated relative paths do not depend on where the
# source tree or the temporary directory live
src=$(cd "$dir" && pwd)
mkdir "$tmp/case"
(cd "$src" && tar cf - --exclude=./expected .) | (cd "$tmp/case" && tar xf -)
cd "$tmp/case"
input=input.ts
[ -f input.tsx ] && input=input.tsx
# CASEDIR/input-name: another input file (its name is the generated stem)
[ -f input-name ] && input=$(cat input-name)
if [ -f args ]; then args=$(cat args); else args="--manifest $input"; fi

set +e
# shellcheck disable=SC2086 # args is a word list on purpose
"$knitgen" $args >"$tmp/stdout" 2>"$tmp/stderr"
echo $? >"$tmp/status"
set -e

fail=0
check() { # name
  exp=$src/expected/$1
  if [ -n "$update" ]; then
    mkdir -p "$src/expected"
    if [ -s "$tmp/$1" ] && ! { [ "$1" = status ] && [ "$(cat "$tmp/$1")" = 0 ]; }; then
      cp "$tmp/$1" "$exp"
    else
      rm -f "$exp"
    fi
    return
  fi
  if [ -f "$exp" ]; then
    want=$exp
  elif [ "$1" = status ]; then
    echo 0 >"$tmp/want-status"
    want=$tmp/want-status
  else
    : >"$tmp/want-$1"
    want=$tmp/want-$1
  fi
  if ! diff -u "$want" "$tmp/$1"; then
    echo "golden: $dir: $1 differs" >&2
    fail=1
  fi
}
check stdout
check stderr
check status

if [ -d "$src/expected/gen" ] || { [ -n "$update" ] && [ -f gen ]; }; then
  "$knitgen" "$input" -o gen-out >/dev/null
  if [ -n "$update" ]; then
    rm -rf "$src/expected/gen"
    cp -r gen-out "$src/expected/gen"
  elif ! diff -ru "$src/expected/gen" gen-out; then
    echo "golden: $dir: generated files differ" >&2
    fail=1
  fi
fi
# CASEDIR/expected/cstubs (or --update with CASEDIR/cstubs): the C that
# `knitgen --c-stubs INPUT -o cstubs-out` writes for the native tasks.
if [ -d "$src/expected/cstubs" ] || { [ -n "$update" ] && [ -f cstubs ]; }; then
  "$knitgen" --c-stubs "$input" -o cstubs-out >/dev/null
  if [ -n "$update" ]; then
    rm -rf "$src/expected/cstubs"
    cp -r cstubs-out "$src/expected/cstubs"
  elif ! diff -ru "$src/expected/cstubs" cstubs-out; then
    echo "golden: $dir: generated C stubs differ" >&2
    fail=1
  fi
fi
exit $fail
