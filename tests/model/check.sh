#!/bin/sh
# Model-checks tests/model/knit.pml with spin: every configuration must be
# free of assertion violations, invalid end states (deadlock, lost wakeup)
# and LTL violations, and the first signal.c (-DOLD_PARK) must be caught.
# Usage: check.sh <knit.pml> [workdir]
set -eu
pml=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=${2:-$(mktemp -d)}
mkdir -p "$work"
cd "$work"
command -v spin >/dev/null || { echo "spin not installed"; exit 77; }
CC=${CC:-cc}
status=0

# run <name> <expect: pass|fail> <spin -D flags> <pan flags>
run() {
  name=$1 expect=$2 defs=$3 panflags=$4 claim=$5
  rm -rf "$name" && mkdir "$name" && cd "$name"
  spin $defs -a "$pml" >spin.log 2>&1 || { cat spin.log; status=1; cd ..; return; }
  if [ "$claim" = none ]; then
    $CC -w -O2 -DNOCLAIM -DCOLLAPSE -o pan pan.c
  else
    $CC -w -O2 -DCOLLAPSE -o pan pan.c
  fi
  ./pan -m1000000 $panflags >pan.log 2>&1 || true
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.log | head -1)
  states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' pan.log | head -1)
  if [ -z "$errors" ]; then
    echo "FAIL $name: pan did not finish"; cat pan.log; status=1
  elif [ "$expect" = pass ] && [ "$errors" != 0 ]; then
    echo "FAIL $name: $errors error(s)"; grep -E "violated|invalid|cycle" pan.log || true
    spin -t -p -g $defs "$pml" 2>&1 | tail -40 || true
    status=1
  elif [ "$expect" = fail ] && [ "$errors" = 0 ]; then
    echo "FAIL $name: the known lost wakeup was not found"; status=1
  else
    echo "ok   $name ($expect, $states states)"
  fi
  cd ..
}

run one-safety pass "" "" none
run one-ltl pass "" "-a -N no_lost_wakeup0" claim
run two-safety pass "-DTWO" "" none
run old-park fail "-DOLD_PARK" "" none
exit $status
