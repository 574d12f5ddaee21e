#!/usr/bin/env bash
# Executes every notebook in place, with static (PNG) figures, as they are committed.
# Default: the small configuration, recomputed (what CI runs). GCG_NOTEBOOK_SMALL=0 and
# GCG_NOTEBOOK_RECOMPUTE=0 execute them on the committed results/ instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export GCG_NOTEBOOK_SMALL="${GCG_NOTEBOOK_SMALL:-1}"
export GCG_NOTEBOOK_RECOMPUTE="${GCG_NOTEBOOK_RECOMPUTE:-1}"
export GCG_NOTEBOOK_STATIC=1
export GCG_NOTEBOOK_RESULTS="${GCG_NOTEBOOK_RESULTS:-$(mktemp -d)}"
for nb in "$root"/notebooks/[0-9][0-9]-*.ipynb; do
  case "$nb" in *-mine.ipynb) continue ;; esac   # a reader's own copies (README)
  start=$(date +%s)
  bash "$root/scripts/jupyter.sh" nbconvert --to notebook --execute --ExecutePreprocessor.startup_timeout=300 --inplace "$nb"
  echo "$(basename "$nb"): $(( $(date +%s) - start )) s, $(stat -c %s "$nb") bytes"
done
