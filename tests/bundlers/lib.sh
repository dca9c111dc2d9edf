# Shared by the bundler and package tests (sourced). Sets: here top bin build
# and `run_cmd RUNTIME` (the command line for a runtime, or exit 77).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
bin="$top/.tools/node_modules/.bin"

# The node that runs the build tools (esbuild, vite, npm scripts): node 24 if
# installed, else the system node.
tool_node() {
  if [ -x "$bin/node" ]; then echo "$bin/node"; else command -v node; fi
}

runtime_cmd() {
  case $1 in
    node20) rt=(node) ;;
    node24) rt=("$bin/node") ;;
    bun) rt=("$bin/bun") ;;
    deno) rt=("$bin/deno" run -A --quiet) ;;
    *) echo "unknown runtime $1"; exit 2 ;;
  esac
  command -v "${rt[0]}" >/dev/null 2>&1 || { echo "skip: $1 not installed (run .ci/setup)"; exit 77; }
  if [ "$1" = node20 ] && ! node -e 'process.exit(+process.versions.node.split(".")[0] === 20 ? 0 : 1)'; then
    echo "skip: the node on PATH is not node 20"; exit 77
  fi
}

# npm install in DIR, skipped when package.json has not changed since the
# last successful install there (the registry is hit once per change).
npm_install_cached() {
  local dir=$1 stamp sum
  stamp="$dir/node_modules/.knit-install-stamp"
  sum=$(sha256sum "$dir/package.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return 0; fi
  (cd "$dir" && PATH="$(dirname "$(tool_node)"):$PATH" timeout 240 npm install --no-audit --no-fund \
     --prefer-offline --loglevel=error --no-package-lock >npm-install.log 2>&1) || {
    cat "$dir/npm-install.log"; echo "FAIL: npm install in $dir"; exit 1; }
  echo "$sum" >"$stamp"
}

# A copy of the staged knitting package without its run-time worker entry
# (worker.js): code that still runs only if the generated table is used.
table_only_knitting() {
  local dest=$1
  rm -rf "$dest" && mkdir -p "$(dirname "$dest")"
  cp -rL "$build/npm/knitting" "$dest"
  rm -f "$dest/worker.js"
}
