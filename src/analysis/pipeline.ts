/**
 * The paper's analysis of one trained model: OOD length -> G (Eq. 1) and C (Eq. 2) -> rho, Delta
 * and classes (Eq. 3) -> pruning (Tables 2 and 6). Returns plain numbers (no tensors), with the
 * wall time of each phase. Knows nothing of files.
 */
import type { AnalysisConfig, TaskName } from '../config';
import type { Transformer } from '../model';
import { Rng } from '../rng';
import { sampleExamples } from '../tasks';
import { getMeasure, ImportanceContext } from './importance';
import { OodPick, pickOodLength } from './ood';
import { pruningAnalysis, PruningResult } from './prune';
import { Classification, classifyComponents } from './ranks';

export interface AnalysisResult {
  status: 'analysed' | 'skipped';
  ood: OodPick;
  /** Why a run was skipped (no OOD length in range). */
  reason?: string;
  components: string[];
  baseline?: number; // OOD exact match the C values are measured against
  /** One score per component for every measure computed, keyed by measure name (G, C, ...). */
  scores: Record<string, Record<string, number>>;
  classification?: Classification;
  pruning?: PruningResult;
  timingsMs: Record<string, number>;
}

export interface AnalyzeOptions {
  model: Transformer;
  task: TaskName;
  seed: number;
  cfg: AnalysisConfig;
  /** Measures beyond G and C to compute (registry names, e.g. 'zeroAblation'). */
  extraMeasures?: string[];
  /** Candidate OOD lengths, in order (default: the paper's 8, 9, 10, 11). */
  oodLengths?: readonly number[];
  /** Skip the pruning phase. */
  noPruning?: boolean;
  /** Called when a phase starts (for progress output). */
  onPhase?: (phase: string) => void;
}

function timed<T>(timings: Record<string, number>, phase: string, onPhase: AnalyzeOptions['onPhase'], fn: () => T): T {
  onPhase?.(phase);
  const t0 = performance.now();
  const out = fn();
  timings[phase] = performance.now() - t0;
  return out;
}

export function analyzeModel(opts: AnalyzeOptions): AnalysisResult {
  const { model, task, seed, cfg } = opts;
  const timingsMs: Record<string, number> = {};
  const components = model.components().map((c) => c.id);
  const ood = timed(timingsMs, 'oodPick', opts.onPhase, () => pickOodLength(model, task, cfg, seed, opts.oodLengths));
  if (ood.length === null) {
    const seen = Object.entries(ood.accuracies).map(([n, a]) => `N=${n}: ${(100 * a).toFixed(1)}%`).join(', ');
    return { status: 'skipped', ood, reason: `no OOD length with accuracy in [${cfg.accLow}, ${cfg.accHigh}] (${seen})`, components, scores: {}, timingsMs };
  }
  const evalSet = sampleExamples(task, cfg.evalSamples, new Rng(seed, 'ood-eval'), ood.length);
  const ctx = new ImportanceContext(model, task, ood.length, cfg, seed, evalSet, ood.accuracies[ood.length]);
  const scores: Record<string, Record<string, number>> = {};
  scores.G = timed(timingsMs, 'G', opts.onPhase, () => getMeasure('G').compute(ctx));
  timed(timingsMs, 'means', opts.onPhase, () => ctx.means());
  scores.C = timed(timingsMs, 'C', opts.onPhase, () => getMeasure('C').compute(ctx));
  for (const name of opts.extraMeasures ?? []) scores[name] = timed(timingsMs, name, opts.onPhase, () => getMeasure(name).compute(ctx));
  const G = components.map((id) => scores.G[id]);
  const C = components.map((id) => scores.C[id]);
  const classification = classifyComponents(G, C, { ...cfg, seed });
  const pruning = opts.noPruning
    ? undefined
    : timed(timingsMs, 'pruning', opts.onPhase, () =>
        pruningAnalysis({
          model,
          task,
          seed,
          cfg,
          evalSet,
          means: ctx.means(),
          ids: components,
          delta: classification.meanDelta ?? classification.delta,
          classes: classification.classes,
        }),
      );
  return { status: 'analysed', ood, components, baseline: ctx.baseline(), scores, classification, pruning, timingsMs };
}
