/**
 * OOD length selection (Section 2.2): the first N in 8, 9, 10, 11 whose exact-match accuracy lies
 * in [accLow, accHigh]. Every length is scored (so a skipped run records what it saw); the first
 * valid one is chosen. No valid N: `length` is null and the run is recorded as skipped.
 */
import type { AnalysisConfig, TaskName } from '../config';
import { sampleAccuracy } from '../eval';
import type { Transformer } from '../model';
import { Rng } from '../rng';
import { OOD_LENGTHS } from '../tasks';

export interface OodPick {
  length: number | null;
  /** Accuracy at each OOD length, on `samples` fresh sequences each. */
  accuracies: Record<number, number>;
  samples: number;
  range: [number, number];
}

/** `lengths`: the candidates in order (the paper's 8..11 unless a small experiment needs others). */
export function pickOodLength(
  model: Transformer,
  task: TaskName,
  cfg: AnalysisConfig,
  seed: number,
  lengths: readonly number[] = OOD_LENGTHS,
): OodPick {
  const rng = new Rng(seed, 'ood-pick');
  const accuracies: Record<number, number> = {};
  for (const n of lengths) accuracies[n] = sampleAccuracy(model, task, rng, cfg.oodPickSamples, n);
  const length = lengths.find((n) => accuracies[n] >= cfg.accLow && accuracies[n] <= cfg.accHigh) ?? null;
  return { length, accuracies, samples: cfg.oodPickSamples, range: [cfg.accLow, cfg.accHigh] };
}
