#!/usr/bin/env bash
# The complexity study's sweeps (COMPLEXITY.md), into results/complexity/<size>/paper/:
#   tasks:  the five tasks (copy, reverse, runmax, sort, histogram) on the paper's model, l4-d128;
#   sizes:  the paper's two tasks on 2 and 6 layers (l2-d128, l6-d128);
#   widths: the paper's two tasks at half and double width (l4-d64, l4-d256).
# Every grid first runs seeds 42..1010 (FIRST_SEEDS), then the paper's model gets five more
# (MORE_SEEDS), so that a sweep cut off part way leaves every cell with as many seeds as it could.
# Every run records every measure of the measures study (no protocol variants or redraws).
# One study, one kernel family: every model is trained on the wasm backend (the report refuses a
# mix, and a results folder refuses work made on other kernels). The committed study in
# results/complexity was made on the native kernel family retired in issue 42, so a new one goes
# into a store of its own: RESULTS=results/complexity-stock (the folder guard refuses, before any
# work, to add stock runs to the committed store). Resumable like every sweep: run it again after a
# stop; any number of copies may run at once.
#
#   RESULTS=DIR bash scripts/complexity.sh [tasks|sizes|widths ...]   (default: all; WORKERS=1)
#   SLURM=1 bash scripts/complexity.sh                    (each grid as one Slurm job array instead)
#   node dist/src/cli.js complexity-report --results DIR  (then: COMPLEXITY.md, figures/complexity/)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
[ -f dist/src/cli.js ] || npm run build
export GCG_BACKEND=wasm
results="${RESULTS:-results/complexity}"
measures="$(node dist/src/cli.js measures --list | awk '{print $1}' | grep -vx -e G -e C -e G-layerWV | paste -sd, -)"
common=(--results "${results}" --set "analysis.measures=${measures}" --set analysis.variants=false --set analysis.redraws=0)
first="${FIRST_SEEDS:-42,123,456,789,1010}"
more="${MORE_SEEDS:-2020,3030,4040,5050,6060}"

# name | sizes | tasks | seeds   (in the order they run)
grids=(
  "tasks|l4-d128|copy,reverse,runmax,sort,histogram|${first}"
  "sizes|l2-d128,l6-d128|reverse,sort|${first}"
  "widths|l4-d64,l4-d256|reverse,sort|${first}"
  "tasks|l4-d128|copy,reverse,runmax,sort,histogram|${more}"
)
want=("$@")
for w in "${want[@]}"; do
  case "$w" in tasks|sizes|widths) ;; *) echo "error: grid ${w}; allowed: tasks, sizes, widths" >&2; exit 2 ;; esac
done
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
