#!/usr/bin/env bash
# Training-side protocol differences (PROTOCOL.md), one at a time, each a sweep of its own
# under results/ablations/<name>/, compared in REPRODUCTION.md with the preset's own runs on the
# same seeds. Resumable like every sweep: run it again after a stop.
#
#   bash scripts/ablations.sh [name ...]      (default: all; WORKERS=2, SEEDS=42,123,456)
#
# The analysis here records rho and classes only (no protocol variants or redraws: those are
# analysis-side and measured on the main sweeps' models).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
workers="${WORKERS:-2}"
seeds="${SEEDS:-42,123,456}"
light=(--set analysis.variants=false --set analysis.redraws=0)

# name | preset it departs from | the one setting changed
ablations=(
  "init-normal|paper|model.init=normal"                  # N(0, 0.02) weights instead of PyTorch's defaults
  "stop-authors|paper|train.evalEvery=500 train.evalSamples=100"   # the authors' stopping check
  "stop-length7|paper|train.stopLength=7"                # the authors' last section: stop on length-7 accuracy
  "positions-learned|paper|model.positions=learned"      # the paper's text: learned positional embeddings
  "layout-separate|paper|data.layout=separate"           # the authors' padding: PAD between SEP and y1, visible to attention
)                                                        # (last: reversal needs ~4,000 steps with it, not ~350)

want=("$@")
[ -f dist/src/cli.js ] || npm run build
for entry in "${ablations[@]}"; do
  IFS='|' read -r name preset settings <<<"$entry"
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " =~ " ${name} " ]]; then continue; fi
  sets=()
  for s in $settings; do sets+=(--set "$s"); done
  echo "== ablation ${name}: ${preset} + ${settings} (seeds ${seeds}, ${workers} workers)"
  node dist/src/cli.js sweep --preset "$preset" --results "results/ablations/${name}" --seeds "$seeds" --workers "$workers" "${sets[@]}" "${light[@]}"
done
