#!/usr/bin/env bash
# Runs Jupyter with this project's tslab kernel registered in a project-local JUPYTER_PATH
# (.jupyter-local/, git-ignored), so nothing is installed into the user's Jupyter.
#   bash scripts/jupyter.sh notebook                       # interactive (Debian: jupyter-notebook)
#   bash scripts/jupyter.sh nbconvert --to notebook --execute notebooks/02-training.ipynb
# Jupyter comes from Debian (/usr/bin/jupyter, which runs Debian's /usr/bin/python3) or from
# JUPYTER=/path/to/jupyter (e.g. a pip install elsewhere).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kernel_dir="$root/.jupyter-local/kernels/tslab"
mkdir -p "$kernel_dir"
cat > "$kernel_dir/kernel.json" <<JSON
{"argv": ["$(command -v node)", "$root/node_modules/tslab/bin/tslab", "kernel", "--config-path", "{connection_file}"],
 "display_name": "TypeScript (tslab)", "language": "typescript"}
JSON
export JUPYTER_PATH="$root/.jupyter-local"
jupyter="${JUPYTER:-/usr/bin/jupyter}"
if [ ! -x "$jupyter" ]; then
  jupyter="$(command -v jupyter || true)"
fi
if [ -z "$jupyter" ]; then
  echo "Jupyter not found: apt-get install -y --no-install-recommends jupyter-nbconvert jupyter-notebook (or set JUPYTER=...)" >&2
  exit 127
fi
cd "$root"
exec "$jupyter" "$@"
