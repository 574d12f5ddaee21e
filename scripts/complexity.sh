#!/usr/bin/env bash
# The complexity study's sweeps (COMPLEXITY.md), into results/complexity/<size>/paper/:
#   tasks: the added tasks (copy, runmax, histogram) on the paper's model, l4-d128;
#   sizes: the paper's two tasks on 2 and 6 layers (their l4-d128 runs are the measures study's,
#          results/measures/paper/, read by the report beside these).
# Every run records every measure of the measures study (no protocol variants or redraws).
# Resumable like every sweep: run it again after a stop; any number of copies may run at once.
#
#   bash scripts/complexity.sh [tasks|sizes ...]       (default: both; WORKERS=1)
#   SLURM=1 bash scripts/complexity.sh                 (each grid as one Slurm job array instead)
#   node dist/src/cli.js complexity-report             (then: COMPLEXITY.md, figures/complexity/)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
[ -f dist/src/cli.js ] || npm run build
measures="$(node dist/src/cli.js measures --list | awk '{print $1}' | grep -vx -e G -e C -e G-layerWV | paste -sd, -)"
common=(--results results/complexity --set "analysis.measures=${measures}" --set analysis.variants=false --set analysis.redraws=0)

# name | sizes | tasks | seeds
grids=(
  "tasks|l4-d128|copy,runmax,histogram|${TASK_SEEDS:-42,123,456,789,1010}"
  "sizes|l2-d128,l6-d128|reverse,sort|${SIZE_SEEDS:-42,123,456}"
)
want=("$@")
for entry in "${grids[@]}"; do
  IFS='|' read -r name sizes tasks seeds <<<"$entry"
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " =~ " ${name} " ]]; then continue; fi
  args=(--sizes "$sizes" --tasks "$tasks" --seeds "$seeds" "${common[@]}")
  echo "== complexity grid ${name}: sizes ${sizes}, tasks ${tasks}, seeds ${seeds}"
  if [ -n "${SLURM:-}" ]; then
    bash scripts/slurm/submit.sh "${args[@]}"
  else
    node dist/src/cli.js sweep --workers "${WORKERS:-1}" "${args[@]}"
  fi
done
