/**
 * The paper's training of a run (Appendix A.1), put together for the task-agnostic loop
 * (src/train/train.ts): the run's initial weights ('init' stream, nudged for an init replica), a
 * fresh batch of its task's sequences of lengths data.minLen..data.maxLen every step ('train-data',
 * or a data replica's stream), and the stopping check: training-distribution exact match on
 * train.evalSamples fresh sequences ('train-eval') every train.evalEvery steps, stopping at
 * train.targetAcc or train.maxSteps. Separate streams, so that changing the check's sample size
 * does not change the batches a model trains on.
 */
import { ExperimentConfig } from '../settings/config';
import type { TrainingOutcome } from '../records/format';
import { BatchStream, TaskName } from '../tasks';
import { checkRun } from '../settings/run-spec';
import { sampleAccuracy } from '../model/eval';
import { Transformer } from '../model/model';
import { Rng } from '../base/rng';
import { initialModel, trainDataRng } from '../train/perturb';
import {
  EvalPoint,
  Lane,
  StepInfo,
  StopRule,
  train,
  TrainingDivergedError,
  TrainResult,
  TrainState,
} from '../train/train';

/** The sequence lengths the stopping rule is checked on: one fixed length (train.stopLength) or the training range. */
export function stoppingCheckLength(cfg: ExperimentConfig): number | { minLen: number; maxLen: number } {
  return cfg.train.stopLength > 0 ? cfg.train.stopLength : { minLen: cfg.data.minLen, maxLen: cfg.data.maxLen };
}

/** The paper's stop rule: a check every train.evalEvery steps, at train.targetAcc or train.maxSteps. */
export function stopRule(cfg: ExperimentConfig): StopRule {
  return { every: cfg.train.evalEvery, target: cfg.train.targetAcc, maxSteps: cfg.train.maxSteps, name: 'exact match' };
}

/** A run's batches and stopping check, fresh or continued from a saved training state. */
export function runLane(task: TaskName, seed: number, cfg: ExperimentConfig, resume?: TrainState | null): Lane {
  const stream = new BatchStream(
    task,
    { ...cfg.data, batchSize: cfg.train.batchSize },
    resume ? Rng.fromState(resume.dataRng) : trainDataRng(cfg, seed),
  );
  const evalRng = resume ? Rng.fromState(resume.evalRng) : new Rng(seed, 'train-eval');
  const lengths = stoppingCheckLength(cfg);
  return {
    name: `seed ${seed}`,
    batches: { next: () => stream.next(), state: () => stream.rng.state() },
    check: {
      score: (model) => sampleAccuracy(model, task, evalRng, cfg.train.evalSamples, lengths),
      state: () => evalRng.state(),
    },
  };
}

export interface RunTrainingOptions {
  task: TaskName;
  seed: number;
  cfg: ExperimentConfig;
  /** Start from this model instead of the run's initial weights (it is trained in place). */
  model?: Transformer;
  /** Continue a stopped run: `model` must hold the weights saved with this state. */
  resume?: TrainState;
  /** Called every `checkpointEvery` steps (and not after the last) with the state to save for a resume; also at the step where a watched SIGINT/SIGTERM stops training. */
  onCheckpoint?: (model: Transformer, state: TrainState) => void;
  /** Steps between onCheckpoint calls (default: every stopping check, train.evalEvery). */
  checkpointEvery?: number;
  /** Called after every step; return 'stop' to end the run early (stopReason 'stopped'). */
  onStep?: (info: { step: number; loss: number; ms: number }) => void | 'stop';
  /** Called after every stopping check. */
  onEval?: (e: EvalPoint) => void;
  /** Draw a progress bar on stderr: 'auto' (default) draws only in an interactive terminal, never under CI. */
  progress?: boolean | 'auto';
}

/** One run trained (a TrainingDivergedError if its loss turns non-finite). */
export function trainRun(opts: RunTrainingOptions): TrainResult {
  const { task, seed } = opts;
  const { cfg } = checkRun(task, seed, opts.cfg); // a notebook may have edited cfg since it was made
  if (opts.resume && !opts.model) throw new Error('train: resume needs the model saved with the state (opts.model)');
  let result: TrainResult | null = null;
  train({
    models: [opts.model ?? initialModel(cfg, seed)],
    lanes: [runLane(task, seed, cfg, opts.resume)],
    adam: cfg.train,
    stop: stopRule(cfg),
    resume: [opts.resume ?? null],
    onDone: (_, r) => (result = r),
    onCheckpoint: opts.onCheckpoint && ((_, m, s) => opts.onCheckpoint!(m, s)),
    checkpointEvery: opts.checkpointEvery,
    onStep: opts.onStep && ((i: StepInfo) => opts.onStep!({ step: i.step, loss: i.losses[0], ms: i.ms })),
    onEval: opts.onEval && ((_, e) => opts.onEval!(e)),
    label: `train ${task} seed ${seed}`,
    progress: opts.progress,
  });
  return result!;
}

export interface RunsTrainingOptions {
  task: TaskName;
  /** The seeds, trained together (stacked when more than one). */
  seeds: readonly number[];
  cfg: ExperimentConfig;
  /**
   * Continue stopped runs: per seed, its saved model and training state, or null to start it
   * afresh; all at one step. The models are consumed.
   */
  resume?: readonly ({ model: Transformer; state: TrainState } | null)[];
  /** A seed finished (target, train.maxSteps, or asked to stop): its result, with its own model. */
  onDone: (seed: number, result: TrainResult) => void;
  /** A seed's loss became non-finite: it leaves the stack, the others go on. */
  onDiverged?: (seed: number, error: TrainingDivergedError) => void;
  /** Every `checkpointEvery` steps, and when a SIGINT/SIGTERM stops training: each unfinished seed's model and state. */
  onCheckpoint?: (seed: number, model: Transformer, state: TrainState) => void;
  checkpointEvery?: number;
  /** Called after each stopping check of each seed. */
  onEval?: (seed: number, e: EvalPoint) => void;
  progress?: boolean | 'auto';
}

/**
 * K seeds of one configuration trained at once (issue 29): each keeps everything it has alone (its
 * initial weights, batches, checks, early stop, curves and resumable state), and its weights and
 * losses equal those of its single-seed run bit for bit on the same kernels (test/stacked.test.ts).
 */
export function trainRuns(opts: RunsTrainingOptions): { stackedSteps: number; msPerStackedStep: number } {
  const { task, seeds } = opts;
  if (!seeds.length) throw new Error('train: no seeds');
  if (new Set(seeds).size !== seeds.length) throw new Error(`train: seeds repeat (${seeds.join(', ')})`);
  let cfg = opts.cfg;
  for (const seed of seeds) cfg = checkRun(task, seed, opts.cfg).cfg;
  const resume = opts.resume ?? seeds.map(() => null);
  if (resume.length !== seeds.length) throw new Error('train: resume must hold one entry (or null) per seed');
  const r = train({
    models: seeds.map((seed, k) => resume[k]?.model ?? initialModel(cfg, seed)),
    lanes: seeds.map((seed, k) => runLane(task, seed, cfg, resume[k]?.state)),
    adam: cfg.train,
    stop: stopRule(cfg),
    resume: resume.map((x) => x?.state ?? null),
    onDone: (k, result) => opts.onDone(seeds[k], result),
    onDiverged: (k, e) => (opts.onDiverged ? opts.onDiverged(seeds[k], e) : undefined),
    onCheckpoint: opts.onCheckpoint && ((k, m, s) => opts.onCheckpoint!(seeds[k], m, s)),
    checkpointEvery: opts.checkpointEvery,
    onEval: opts.onEval && ((k, e) => opts.onEval!(seeds[k], e)),
    label: `train ${task} seeds ${seeds.join(',')}`,
    progress: opts.progress,
  });
  return { stackedSteps: r.steps, msPerStackedStep: r.msPerStep };
}

/** The training outcome a results file and a checkpoint record. */
export function trainingOutcome(r: TrainResult): TrainingOutcome {
  return {
    steps: r.steps,
    reachedTarget: r.reachedTarget,
    stopReason: r.stopReason,
    finalAcc: r.evals.length ? r.evals[r.evals.length - 1].acc : null,
    wallMs: r.wallMs,
    msPerStep: r.msPerStep,
    losses: r.losses,
    evals: r.evals,
  };
}
