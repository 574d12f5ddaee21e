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
install_hint="Debian: sudo apt-get install -y --no-install-recommends jupyter-notebook jupyter-nbconvert python3-ipykernel (or set JUPYTER=/path/to/jupyter)"
if [ -z "$jupyter" ]; then
  echo "error: Jupyter not found. $install_hint" >&2
  exit 127
fi
# Each subcommand is a separate program (jupyter-notebook, jupyter-nbconvert, ...): check the one asked for.
sub="${1:-}"
if [ -n "$sub" ] && [[ "$sub" != -* ]] && ! "$jupyter" "$sub" --version > /dev/null 2>&1; then
  echo "error: 'jupyter $sub' is not installed. $install_hint" >&2
  exit 127
fi
extra=()
# Jupyter's servers refuse to run as root without --allow-root (containers, CI machines).
if [ "$(id -u)" = 0 ] && { [ "$sub" = notebook ] || [ "$sub" = lab ] || [ "$sub" = server ]; }; then
  echo "running as root: adding --allow-root" >&2
  extra+=(--allow-root)
fi
cd "$root"
exec "$jupyter" "$@" "${extra[@]}"
