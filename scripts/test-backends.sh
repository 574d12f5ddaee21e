#!/usr/bin/env bash
# The backend-sensitive tests on other backends (CI: after npm test, which runs the whole suite on
# the default backend, wasm with the native kernels): parity with PyTorch, the backend, the model and
# its interventions, every measure, the ablations, the gradients, checkpoints and a tiny run end to
# end (train, resume, analyse). tensorflow needs tfjs-node (npm run setup:tfjs-node).
#   bash scripts/test-backends.sh            tensorflow, and the model's tests on cpu
#   bash scripts/test-backends.sh cpu        the backend-sensitive tests on the backends named
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
files=()
for f in parity backend model interventions measures ablations grads checkpoint; do files+=("dist/test/$f.test.js"); done
status=0
for backend in "${@:-tensorflow}"; do
  echo "== the backend-sensitive tests on $backend"
  GCG_BACKEND="$backend" node --test --test-concurrency=1 "${files[@]}" || status=1
done
if [ $# -eq 0 ]; then
  # cpu hands out its own storage from dataSync, as tensorflow does for weights: the copies test there too.
  echo "== the model's tests on cpu"
  GCG_BACKEND=cpu node --test dist/test/model.test.js || status=1
fi
exit $status
