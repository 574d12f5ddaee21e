#!/usr/bin/env bash
# Submits a sweep's grid as one Slurm job array (one array task per run; scripts/slurm/sweep.sbatch).
#   bash scripts/slurm/submit.sh --results results/complexity --sizes l2-d128,l6-d128 --tasks reverse,sort --seeds 42,123
# Extra sbatch options go in SBATCH_OPTS (e.g. SBATCH_OPTS="--partition=cpu --time=08:00:00"); at most
# MAX_PARALLEL (default: no limit) array tasks run at once. Finished runs are skipped by each task,
# so submitting again after a failure or a time limit only redoes what is missing.
# GCG_COMMAND=stability submits the stability study's grid (gcg stability <options>) instead.
set -euo pipefail
cmd="${GCG_COMMAND:-sweep}"
case "$cmd" in sweep|stability) ;; *) echo "error: GCG_COMMAND=$cmd; allowed: sweep, stability" >&2; exit 2 ;; esac
export GCG_COMMAND="$cmd"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
[ -f dist/src/cli.js ] || npm run build
list="$(node dist/src/cli.js "$cmd" "$@" --list)"   # checks every option and setting before anything is submitted
n="$(head -n 1 <<<"$list" | cut -d' ' -f1)"
todo="$(tail -n +3 <<<"$list" | grep -vc ' finished$' || true)"
echo "$n jobs, $todo not finished (gcg $cmd $* --list shows them)"
if [ "$todo" -eq 0 ]; then echo "nothing to submit"; exit 0; fi
array="0-$((n - 1))${MAX_PARALLEL:+%$MAX_PARALLEL}"
# shellcheck disable=SC2086
sbatch ${SBATCH_OPTS:-} --export=ALL --array="$array" scripts/slurm/sweep.sbatch "$@"
