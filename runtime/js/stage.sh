#!/bin/sh
# stage.sh DEST ADDON FILE... [--headers HEADER...] : lays out the installable
# knitting package; headers go to DEST/include/knit/ (for native tasks).
set -eu
dest=$1; addon=$2; shift 2
rm -rf "$dest"
mkdir -p "$dest/include/knit"
while [ $# -gt 0 ] && [ "$1" != --headers ]; do
  cp "$1" "$dest/"
  shift
done
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && cp "$@" "$dest/include/knit/"
cp "$addon" "$dest/knit.node"
