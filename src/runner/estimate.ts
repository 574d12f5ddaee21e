/**
 * How long a run will take here, said before it starts (the demo's banner, a notebook's
 * announcement): a few training steps of its configuration are timed now, and multiplied by the
 * steps the committed runs of that task and model size took to reach the target (their range);
 * the analysis is the committed run's recorded phases, scaled by the sequences each scores and by
 * this machine's speed. The hard bound (train.maxSteps) is said separately: early stopping ends
 * almost every run long before it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExperimentConfig, PresetName } from '../settings/config';
import { Transformer } from '../model/model';
import { formatDuration } from '../base/progress';
import { projectRoot } from '../io/project-root';
import { Rng } from '../base/rng';
import { SIZE_KEYS, sizeOf } from '../settings/sizes';
import { loadRecords } from '../records/store';
import { configDiffValues, RunRecord } from '../records/format';
import { BatchStream, TaskName } from '../tasks';
import { makeOptimizer } from '../train/adam';
import { trainStep } from '../train/trainee';

/** The committed results store (results/ at the project root). */
export function committedResultsDir(): string {
  return path.join(projectRoot(), 'results');
}

/** Mean wall time of a training step of this configuration here, from a few real steps. */
export function measureStepMs(cfg: ExperimentConfig, task: TaskName, steps = 3): number {
  const model = Transformer.init(cfg.model, 0);
  const opt = makeOptimizer(cfg.train);
  const stream = new BatchStream(task, { ...cfg.data, batchSize: cfg.train.batchSize }, new Rng(0, 'measure'));
  const vars = Object.values(model.params);
  trainStep(model, opt, stream.next(), vars); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) trainStep(model, opt, stream.next(), vars);
  const ms = (performance.now() - t0) / steps;
  opt.dispose();
  model.dispose();
  return ms;
}

/**
 * The analysis time of `cfg` on a model of the committed run `guide`'s size, from that run's phase
 * timings: the phases `cfg` runs, each scaled by how many sequences it scores (the protocol variants
 * and the noise-floor redraws are the long ones).
 */
export function analysisEstimate(guide: RunRecord, cfg: ExperimentConfig): number {
  const t = guide.analysis.timingsMs;
  const g = guide.config.analysis;
  const a = cfg.analysis;
  const ratio = (x: number, y: number) => (y > 0 ? x / y : 1);
  return (
    (t.oodPick ?? 0) * ratio(a.oodPickSamples, g.oodPickSamples) +
    (t.G ?? 0) * ratio(a.gradBatches * a.gradBatchSize, g.gradBatches * g.gradBatchSize) +
    (t.means ?? 0) * ratio(a.meanBatches * a.gradBatchSize, g.meanBatches * g.gradBatchSize) +
    ((t.C ?? 0) + (t.pruning ?? 0)) * ratio(a.evalSamples, g.evalSamples) +
    (a.variants ? (t.variants ?? 0) : 0) +
    (t.redraws ?? 0) * ratio(a.redraws, g.redraws)
  );
}

/** The committed runs of a task under a preset, in every committed store (results/<preset>/ and each size's folder of the complexity study). */
export function committedRunsOf(task: TaskName, preset: PresetName, root = committedResultsDir()): RunRecord[] {
  const folders = [
    root,
    ...(fs.existsSync(path.join(root, 'complexity'))
      ? fs.readdirSync(path.join(root, 'complexity')).map((s) => path.join(root, 'complexity', s))
      : []),
  ];
  return folders
    .filter((d) => fs.existsSync(path.join(d, preset)))
    .flatMap((d) => loadRecords(d, preset))
    .filter((r) => r.task === task && r.training.reachedTarget);
}

/** What a run's time is estimated from, and the estimate. */
export interface RunEstimate {
  msPerStep: number;
  /** Steps to the target: [fewest, most] over the runs it goes by (equal for a retrain of a known run). */
  steps: [number, number];
  /** Where the steps come from, in words. */
  stepsFrom: string;
  /** The steps the runs gone by took, before train.maxSteps caps them. */
  stepsTaken: [number, number];
  /** Training plus analysis, at the fewest and the most steps. */
  totalMs: [number, number];
  /** The analysis alone (NaN: no committed run to go by). */
  analysisMs: number;
  /** train.maxSteps and its training time: the bound, not the expectation. */
  bound: { steps: number; ms: number };
}

/**
 * The estimate of one run of `cfg`: steps from `known` (a run with these very training settings,
 * e.g. its own earlier record) or else from the committed runs of the task with this model size
 * and the same data and training settings but for the seed, or else of the task at any size or
 * setting (said so); the analysis from the nearest committed run's recorded phases.
 */
export function estimateRun(opts: {
  cfg: ExperimentConfig;
  preset: PresetName;
  task: TaskName;
  msPerStep: number;
  known?: RunRecord | null;
  analysed?: boolean;
  committed?: readonly RunRecord[];
}): RunEstimate {
  const { cfg, msPerStep } = opts;
  const committed = opts.committed ?? committedRunsOf(opts.task, opts.preset);
  const sameSize = (r: RunRecord) => SIZE_KEYS.every((k) => r.config.model[k] === cfg.model[k]);
  const sameTraining = (r: RunRecord) => !configDiffValues(r.config, cfg, ['model', 'data', 'train']).length;
  const known = opts.known && sameTraining(opts.known) ? opts.known : null;
  let runs: readonly RunRecord[];
  let stepsFrom: string;
  if (known) {
    runs = [known];
    stepsFrom = 'as the run with these settings took';
  } else if ((runs = committed.filter(sameTraining)).length) {
    stepsFrom = `the ${runs.length} committed ${opts.task} run${runs.length > 1 ? 's' : ''} with these settings`;
  } else if ((runs = committed.filter(sameSize)).length) {
    stepsFrom = `the ${runs.length} committed ${opts.task} run${runs.length > 1 ? 's' : ''} of this size (${sizeOf(cfg.model)}) under other settings`;
  } else if ((runs = committed).length) {
    stepsFrom = `the ${runs.length} committed ${opts.task} run${runs.length > 1 ? 's' : ''} of other sizes (none of ${sizeOf(cfg.model)})`;
  } else {
    stepsFrom = `no committed ${opts.task} run to go by: the bound`;
  }
  const counts = runs.map((r) => r.training.steps);
  const steps: [number, number] = counts.length
    ? [Math.min(...counts), Math.max(...counts)]
    : [cfg.train.maxSteps, cfg.train.maxSteps];
  const bounded: [number, number] = [Math.min(steps[0], cfg.train.maxSteps), Math.min(steps[1], cfg.train.maxSteps)];
  const trainMs = (n: number) => n * msPerStep * 1.1; // the stopping checks add about a tenth
  const guide = opts.analysed === false ? null : (known ?? runs.find(sameSize) ?? runs[0] ?? null);
  const analysisMs =
    opts.analysed === false ? 0 : guide ? analysisEstimate(guide, cfg) * (msPerStep / guide.training.msPerStep) : NaN;
  const extra = Number.isFinite(analysisMs) ? analysisMs : 0;
  return {
    msPerStep,
    steps: bounded,
    stepsFrom,
    stepsTaken: steps,
    totalMs: [trainMs(bounded[0]) + extra, trainMs(bounded[1]) + extra],
    analysisMs,
    bound: { steps: cfg.train.maxSteps, ms: trainMs(cfg.train.maxSteps) + extra },
  };
}

/** An estimate in one line: "~1m40s-2m10s: 300-400 steps (...) x 119 ms/step measured now, analysis ~20s; at most 15000 steps (~33m)". */
export function describeEstimate(e: RunEstimate): string {
  const range = (a: number, b: number, f: (x: number) => string) => (f(a) === f(b) ? f(a) : `${f(a)}-${f(b)}`);
  const analysis = !Number.isFinite(e.analysisMs)
    ? ', analysis not estimated (no committed run to go by)'
    : e.analysisMs > 0
      ? `, analysis ~${formatDuration(e.analysisMs)}`
      : '';
  const bound =
    e.steps[1] < e.bound.steps
      ? `; at most train.maxSteps=${e.bound.steps} steps (~${formatDuration(e.bound.ms)}) if it never reaches the target`
      : '';
  const capped =
    e.stepsTaken[1] > e.steps[1]
      ? `train.maxSteps caps it; ${e.stepsFrom} took ${range(e.stepsTaken[0], e.stepsTaken[1], String)}`
      : e.stepsFrom;
  return `~${range(e.totalMs[0], e.totalMs[1], formatDuration)}: ${range(e.steps[0], e.steps[1], String)} steps (${capped}) x ${e.msPerStep.toFixed(0)} ms/step measured now${analysis}${bound}`;
}
