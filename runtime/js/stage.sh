#!/bin/sh
# stage.sh DEST ADDON FILE... : lays out the installable knitting package.
set -eu
dest=$1; addon=$2; shift 2
rm -rf "$dest"
mkdir -p "$dest"
cp "$@" "$dest/"
cp "$addon" "$dest/knit.node"
