#!/bin/sh
# Makes sure better-sqlite3's compiled module loads with the installed node; if it does not (another
# Node.js ABI, e.g. Node 22 from NodeSource), builds it from the source shipped beside it.
# Run by postinst; run it again after changing the Node.js major version:
#   /usr/lib/pipeline/lib/native-module.sh
set -e
ROOT=${1:-/usr/lib/pipeline}
MOD="$ROOT/node_modules/better-sqlite3"

loads() {
  node -e "const D = require(process.argv[1]); new D(':memory:').prepare('select 1').get()" "$MOD" 2>"${1:-/dev/null}"
}

if ! command -v node >/dev/null 2>&1; then
  echo "pipeline: node is not on PATH; install nodejs (>= 20.19)" >&2
  exit 1
fi
if loads; then
  exit 0
fi
echo "pipeline: better-sqlite3's module does not load with node $(node -v) on $(uname -m); building it from source" >&2
missing=""
for tool in python3 make g++; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
NODE_GYP=""
if command -v node-gyp >/dev/null 2>&1; then
  NODE_GYP=node-gyp
else
  for js in /usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js /usr/share/nodejs/node-gyp/bin/node-gyp.js /usr/lib/nodejs/node-gyp/bin/node-gyp.js; do
    if [ -f "$js" ]; then NODE_GYP="node $js"; break; fi
  done
fi
[ -n "$NODE_GYP" ] || missing="$missing node-gyp"
if [ -n "$missing" ]; then
  echo "pipeline: cannot build better-sqlite3 for node $(node -v): missing$missing." >&2
  echo "pipeline: install them (apt-get install python3 make g++; node-gyp comes with NodeSource's nodejs, or apt-get install node-gyp)," >&2
  echo "pipeline: then run 'dpkg --configure -a' (or $ROOT/lib/native-module.sh)." >&2
  exit 1
fi
NODEDIR=""
[ -f /usr/include/node/node.h ] && NODEDIR="--nodedir=/usr"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# node-gyp keeps its header cache under $HOME; a private one leaves root's home alone
if ! (cd "$MOD" && HOME="$WORK" $NODE_GYP rebuild --release $NODEDIR >"$WORK/build.log" 2>&1); then
  tail -n 30 "$WORK/build.log" >&2
  echo "pipeline: building better-sqlite3 failed (log above). Without /usr/include/node, node-gyp downloads the headers (Debian's own nodejs: apt-get install libnode-dev)." >&2
  exit 1
fi
# keep the module, not the build tree
mv "$MOD/build/Release/better_sqlite3.node" "$WORK/"
rm -rf "$MOD/build"
mkdir -p "$MOD/build/Release"
mv "$WORK/better_sqlite3.node" "$MOD/build/Release/"
if ! loads "$WORK/err"; then
  cat "$WORK/err" >&2
  echo "pipeline: the rebuilt better-sqlite3 does not load either" >&2
  exit 1
fi
echo "pipeline: better-sqlite3 built for node $(node -v)" >&2
