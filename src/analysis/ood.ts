/**
 * OOD length selection (Section 2.2): the first N in 8, 9, 10, 11 whose exact-match accuracy lies
 * in [accLow, accHigh]. Every length is scored (so a skipped run records what it saw); the first
 * valid one is chosen. No valid N: `length` is null and the run is recorded as skipped.
 */
import { checkInterrupted } from '../base/stop';
import { AnalysisConfig, ConfigError, ExperimentConfig } from '../settings/config';
import { getTask, longestSequence, TaskName, TASKS } from '../tasks';
import { sampleAccuracy } from '../model/eval';
import type { Transformer } from '../model/model';
import { Rng } from '../base/rng';

export interface OodPick {
  length: number | null;
  /** Accuracy at each OOD length, on `samples` fresh sequences each. */
  accuracies: Record<number, number>;
  samples: number;
  range: [number, number];
  /** Set when the candidates were allowed inside the training lengths (tiny test models): not out of distribution. */
  withinTraining?: boolean;
}

/** Candidate lengths as a list: distinct integers in [1, 99], at least one (returns how to name them in an error). */
export function checkOodLengthList(lengths: readonly number[], flag = 'oodLengths'): string {
  const given = !Array.isArray(lengths)
    ? JSON.stringify(lengths)
    : TASKS.some((t) => getTask(t).oodLengths === lengths)
      ? `the default ${lengths.join(',')}`
      : JSON.stringify(lengths.join(','));
  if (!Array.isArray(lengths) || !lengths.length || lengths.some((n) => !Number.isInteger(n) || n < 1 || n > 99)) {
    throw new ConfigError(`${flag}: got ${given}; allowed: comma-separated integers in [1, 99]`);
  }
  if (new Set(lengths).size !== lengths.length)
    throw new ConfigError(`${flag}: got ${given}, which repeats a length; allowed: distinct integers`);
  return given;
}

/**
 * Checks candidate OOD lengths before any work: integers, no repeats, each longer than every
 * training length (else it is not out of distribution) and, with learned positions, short enough
 * for the position table. `allowWithinTraining` admits lengths inside the training range for tiny
 * test models that do not generalise; the run then records `withinTraining` and never calls them OOD.
 */
export function checkOodLengths(
  lengths: readonly number[],
  cfg: ExperimentConfig,
  allowWithinTraining = false,
  flag = '--ood-lengths',
): readonly number[] {
  const { minLen, maxLen } = cfg.data;
  const given = checkOodLengthList(lengths, flag);
  const inside = lengths.filter((n) => n >= minLen && n <= maxLen);
  const shorter = lengths.filter((n) => n < minLen);
  if (!allowWithinTraining && (inside.length || shorter.length)) {
    throw new ConfigError(
      `${flag}: got ${given}, but ${[...shorter, ...inside].join(', ')} ${inside.length + shorter.length > 1 ? 'are' : 'is'} not longer than the training lengths ` +
        `data.minLen..data.maxLen = ${minLen}..${maxLen}, so not out of distribution; allowed: integers > ${maxLen} ` +
        '(to evaluate inside the training lengths on purpose, e.g. a tiny test model, add --allow-id-lengths)',
    );
  }
  if (cfg.model.positions === 'learned') {
    const tooLong = lengths.filter((n) => longestSequence(n) > cfg.model.maxPositions);
    if (tooLong.length) {
      throw new ConfigError(
        `${flag}: got ${given}, but ${tooLong.join(', ')} need more than model.maxPositions=${cfg.model.maxPositions} positions; allowed: lengths N whose longest sequence (2N+2 for the paper's tasks) fits in ${cfg.model.maxPositions}`,
      );
    }
  }
  return lengths;
}

/**
 * The OOD rule (Section 2.2): the first length, in the order tried, whose exact match lies in
 * [accLow, accHigh], both ends included; null when none does.
 */
export function chooseOodLength(
  lengths: readonly number[],
  accuracies: Readonly<Record<number, number>>,
  accLow: number,
  accHigh: number,
): number | null {
  return lengths.find((n) => accuracies[n] >= accLow && accuracies[n] <= accHigh) ?? null;
}

/** Scores every candidate length (`lengths`, in order: the task's own unless a small experiment needs others) and applies the OOD rule. */
export function pickOodLength(
  model: Transformer,
  task: TaskName,
  cfg: AnalysisConfig,
  seed: number,
  lengths: readonly number[] = getTask(task).oodLengths,
): OodPick {
  const rng = new Rng(seed, 'ood-pick');
  const accuracies: Record<number, number> = {};
  for (const n of lengths) {
    checkInterrupted();
    accuracies[n] = sampleAccuracy(model, task, rng, cfg.oodPickSamples, n);
  }
  const length = chooseOodLength(lengths, accuracies, cfg.accLow, cfg.accHigh);
  return { length, accuracies, samples: cfg.oodPickSamples, range: [cfg.accLow, cfg.accHigh] };
}
