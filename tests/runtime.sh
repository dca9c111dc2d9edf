# Sourced by the scripts that run JS under one runtime (tests, examples).
#
# knit_runtime NAME: sets the array KNIT_CMD to the command that runs a script
#   under NAME: node20 (the machine's node), node24, bun or deno (from
#   .tools/, installed by .ci/setup). Exits 2 for an unknown name and 77
#   (meson's "skipped") when that runtime is not installed.
# knit_link_package DIR BUILD: points DIR/node_modules/knitting at BUILD's
#   staged package, so `import "knitting"` resolves in every runtime.
knit_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

knit_runtime() {
  local bin="$knit_top/.tools/node_modules/.bin"
  case $1 in
    node20) KNIT_CMD=(node) ;;
    node24) KNIT_CMD=("$bin/node") ;;
    bun) KNIT_CMD=("$bin/bun") ;;
    deno) KNIT_CMD=("$bin/deno" run -A --quiet) ;;
    *) echo "unknown runtime $1"; exit 2 ;;
  esac
  command -v "${KNIT_CMD[0]}" >/dev/null 2>&1 || { echo "skip: $1 not installed (run .ci/setup)"; exit 77; }
  export NO_COLOR=1 KNIT_TEST_RUNTIME=$1
}

knit_link_package() {
  mkdir -p "$1/node_modules"
  if [ "$(readlink "$1/node_modules/knitting")" != "$2/npm/knitting" ]; then
    ln -sfn "$2/npm/knitting" "$1/node_modules/knitting" 2>/dev/null || true
  fi
}
