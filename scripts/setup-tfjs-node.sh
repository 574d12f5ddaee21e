#!/usr/bin/env bash
# Builds the optional tfjs-node backend (`tensorflow`; npm alias tfjs-node-native) without its
# download: tfjs-node's install script fetches libtensorflow from a host that is not reachable
# everywhere, so `npm ci` leaves it out there. This builds its addon from the package's own sources
# (node-gyp, Node's headers) against the TensorFlow C API inside a TensorFlow Python wheel or an
# installed TensorFlow. Never part of `npm ci`; a later `npm ci` removes the result again.
#
#   npm run setup:tfjs-node                       # an installed TensorFlow, else a wheel in .cache/tfjs-node/
#                                                 # or ~/.cache/gradient-causal-gap/ (where CI keeps it)
#   npm run setup:tfjs-node -- path/to/tensorflow_cpu-*.whl
#   npm run setup:tfjs-node -- /path/to/site-packages/tensorflow
#
# Get a wheel with: pip download --no-deps -d .cache/tfjs-node tensorflow-cpu (about 270 MB).
# Needs: a C++ compiler and make (node-gyp), unzip for a wheel; about 2 min and 900 MB.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
fail() { echo "setup:tfjs-node: $*" >&2; exit 2; }

src="${1:-}"
if [ -z "$src" ]; then
  src="$(python3 -c 'import os, tensorflow; print(os.path.dirname(tensorflow.__file__))' 2>/dev/null || true)"
  [ -n "$src" ] || src="$(ls .cache/tfjs-node/*.whl "${XDG_CACHE_HOME:-$HOME/.cache}"/gradient-causal-gap/tensorflow*.whl 2> /dev/null | head -n 1 || true)"
fi
[ -n "$src" ] || fail "needs the TensorFlow C API: give a TensorFlow wheel (pip download --no-deps -d .cache/tfjs-node tensorflow-cpu) or install TensorFlow (pip install tensorflow-cpu), then run it again"
[ -e "$src" ] || fail "$src does not exist; give a TensorFlow wheel (.whl) or an installed TensorFlow's package folder"
for tool in c++ make; do command -v "$tool" > /dev/null || fail "needs $tool (Debian: apt-get install build-essential)"; done
gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp="$(command -v node-gyp || true)"
[ -n "$gyp" ] || fail "needs node-gyp (it comes with npm; or npm install -g node-gyp)"
nodedir=""
for d in "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")" /usr /usr/local; do
  if [ -f "$d/include/node/node_api.h" ]; then nodedir="$d"; break; fi
done
[ -n "$nodedir" ] || fail "needs Node's headers (include/node/node_api.h; Debian: apt-get install libnode-dev)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
version="$(node -p "require('./package.json').optionalDependencies['tfjs-node-native'].split('@').pop()")"
pkg="node_modules/tfjs-node-native"

echo "setup:tfjs-node: @tensorflow/tfjs-node $version from the npm registry"
npm pack --silent "@tensorflow/tfjs-node@$version" --pack-destination "$work" > /dev/null
rm -rf "$pkg"
mkdir -p "$pkg"
tar xzf "$work"/*.tgz -C "$pkg" --strip-components=1
# Its dependencies, but not @tensorflow/tfjs: the project's own copy must serve it (one engine, one
# set of registered backends), and no install script (that is the download this replaces).
node -e "
  const f = '$pkg/package.json'; const p = require('./' + f);
  delete p.dependencies['@tensorflow/tfjs']; delete p.scripts; delete p.devDependencies;
  require('fs').writeFileSync(f, JSON.stringify(p, null, 2));"
(cd "$pkg" && npm install --omit=dev --ignore-scripts --no-package-lock --no-audit --no-fund --loglevel=error > /dev/null)

echo "setup:tfjs-node: TensorFlow C API from $src"
if [ -f "$src" ]; then
  command -v unzip > /dev/null || fail "needs unzip to read a wheel (Debian: apt-get install unzip)"
  unzip -q -o "$src" 'tensorflow/libtensorflow_cc.so.2' 'tensorflow/libtensorflow_framework.so.2' \
    'tensorflow/include/tensorflow/c/*' 'tensorflow/include/tensorflow/core/platform/*' \
    'tensorflow/include/tsl/platform/*' 'tensorflow/include/tensorflow/tsl/*' 'tensorflow/include/xla/tsl/c/*' -d "$work/tf" \
    || fail "$src holds no TensorFlow C API (tensorflow/libtensorflow_cc.so.2 and its headers)"
  tf="$work/tf/tensorflow"
else
  tf="$src"
fi
[ -f "$tf/libtensorflow_cc.so.2" ] && [ -f "$tf/include/tensorflow/c/c_api.h" ] || fail "$src holds no TensorFlow C API (libtensorflow_cc.so.2 and include/tensorflow/c/c_api.h)"
mkdir -p "$pkg/deps/lib" "$pkg/deps/include"
cp "$tf/libtensorflow_cc.so.2" "$tf/libtensorflow_framework.so.2" "$pkg/deps/lib/"
command -v strip > /dev/null && strip --strip-unneeded "$pkg/deps/lib/"*.so.2 2> /dev/null || true
cp -r "$tf/include/." "$pkg/deps/include/"
# The binding links -ltensorflow; the library is the _cc one (its SONAME, libtensorflow_cc.so.2, is what it loads).
ln -sf libtensorflow_cc.so.2 "$pkg/deps/lib/libtensorflow.so"
ln -sf libtensorflow_framework.so.2 "$pkg/deps/lib/libtensorflow_framework.so"

echo "setup:tfjs-node: building the addon (node-gyp, about 2 min)"
(cd "$pkg" && node "$gyp" rebuild --nodedir="$nodedir" --napi_build_version=8 --module_name=tfjs_binding --module_path="$root/$pkg/lib/napi-v8" > "$work/gyp.log" 2>&1) \
  || { grep -m 8 -E "error|Error" "$work/gyp.log" >&2; fail "node-gyp failed (its first errors above)"; }

GCG_BACKEND=tensorflow node -e "
  const tf = require('@tensorflow/tfjs'); require('tfjs-node-native');
  if (!tf.findBackend('tensorflow')) { console.error('setup:tfjs-node: built, but it registers no tensorflow backend'); process.exit(1); }
  console.log('setup:tfjs-node: done: the tensorflow backend loads (' + '$pkg' + ', ' + require('child_process').execSync('du -sh $pkg').toString().split('\t')[0] + ')');"
