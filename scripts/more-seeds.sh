#!/usr/bin/env bash
# Issue 45: the paper preset's store (results/<preset>/) past the paper's 10 seeds, so that the
# task gap is decided with power: the seeds 1, 2, 3, ... (42 skipped: it is one of the paper's)
# up to COUNT seeds a task in all (default 60, the paper's 10 included), each run the preset's
# whole analysis, exactly as the paper's 10 were made.
#
#   bash scripts/more-seeds.sh [reverse|sort ...]     (default: both; COUNT=60, PRESET=paper)
#
# One process per task (each single-threaded, so 2 tasks use 2 cores), seed by seed in order, so
# a stop leaves each task with its first k seeds. Resumable like every sweep (finished runs are
# skipped, a cut-off run resumes from its partial checkpoint): run it again after a stop. Run it
# from a git worktree of a fixed commit and copy the records back (results/README.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
count="${COUNT:-60}"
preset="${PRESET:-paper}"
tasks=("$@")
[ ${#tasks[@]} -gt 0 ] || tasks=(reverse sort)
[ -f dist/src/cli.js ] || npm run build
seeds=$(node -e "
  const { PAPER_SEEDS } = require('./dist/src/settings/config');
  const n = Number(process.argv[1]);
  if (!Number.isInteger(n) || n <= PAPER_SEEDS.length) {
    console.error('COUNT must be an integer above ' + PAPER_SEEDS.length + ' (the paper\'s seeds), got ' + process.argv[1]);
    process.exit(2);
  }
  const out = [];
  for (let s = 1; out.length < n - PAPER_SEEDS.length; s++) if (!PAPER_SEEDS.includes(s)) out.push(s);
  console.log(out.join(','));
" "$count")
pids=()
for task in "${tasks[@]}"; do
  echo "== ${preset} ${task}: seeds ${seeds}"
  node dist/src/cli.js sweep --preset "$preset" --tasks "$task" --seeds "$seeds" --workers 1 &
  pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait' INT TERM
status=0
for p in "${pids[@]}"; do wait "$p" || status=$?; done
exit $status
