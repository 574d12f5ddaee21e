/**
 * The training loop, knowing nothing of the task: models, a batch stream and a stopping check per
 * model, a stop rule. Adam steps every model on its own next batch; every `stop.every` steps each
 * model's check is scored and a model whose score reaches `stop.target` leaves (its result handed
 * over at once); all stop at `stop.maxSteps`. A non-finite loss ends that model with a
 * TrainingDivergedError carrying its curves. One model trains alone; K train stacked, one pass
 * for all (src/train/trainee.ts), each bit for bit as it trains alone.
 *
 * The paper's training (Appendix A.1: a run's initial weights, its task's batches, the 90% exact
 * match check) is put together by the runner (src/runner/training.ts).
 */
import type { Batch } from '../tasks';
import { checkInterrupted, holdInterrupts, InterruptedError, pendingSignal } from '../base/stop';
import type { Transformer } from '../model/model';
import { ProgressBar, progressWanted } from '../base/progress';
import type { RngState } from '../base/rng';
import type { AdamState } from './adam';
import { Single, Stacked, Trainee } from './trainee';

export interface EvalPoint {
  step: number;
  acc: number; // the stopping check's score (the paper's: training-distribution exact match)
}

export interface StepInfo {
  step: number; // steps completed
  losses: number[]; // each model's loss at this step (in the order of the models still training)
  ms: number; // wall time of this step
}

export type StopReason = 'target' | 'maxSteps' | 'stopped';

export interface TrainResult {
  model: Transformer;
  steps: number;
  reachedTarget: boolean;
  stopReason: StopReason;
  losses: number[]; // per step
  evals: EvalPoint[];
  wallMs: number;
  msPerStep: number; // mean wall time of an optimisation step (stopping checks excluded; a stack's step shared out)
  /** Stopped by onStep ('stopped'): everything besides the weights that resumes it bit for bit (with `model`). */
  state?: TrainState;
}

/**
 * Everything besides the weights that the rest of a run depends on: with it, a run stopped after
 * step k and resumed continues exactly (bit for bit) as if it had never stopped.
 */
export interface TrainState {
  step: number;
  losses: number[];
  evals: EvalPoint[];
  stepMs: number; // summed wall time of the optimisation steps so far
  wallMs: number; // wall time so far
  dataRng: RngState; // the batch stream's state
  evalRng: RngState; // the stopping check's state
  adam: AdamState | null;
}

/** When training stops: a check every `every` steps, a model leaving once its score >= `target`, all at `maxSteps`. */
export interface StopRule {
  every: number;
  target: number;
  maxSteps: number;
  /** What the score is, for progress lines (the paper's: 'exact match'). */
  name: string;
}

/** One model's own inputs: its training batches and its stopping check, each with a state to save for a resume. */
export interface Lane {
  /** For progress lines: 'seed 42'. */
  name: string;
  batches: { next(): Batch; state(): RngState };
  check: { score(model: Transformer): number; state(): RngState };
}

export interface TrainOptions {
  /** The models, trained in place (one) or stacked (several: consumed, each result is a new model). */
  models: readonly Transformer[];
  /** Model k's batches and check. */
  lanes: readonly Lane[];
  adam: { lr: number; adamEps: number };
  stop: StopRule;
  /**
   * Continue stopped runs: model k's training state (models[k] holds the weights saved with it), or
   * null for a fresh start. All resume at one step (all fresh, or all saved at one step).
   */
  resume?: readonly (TrainState | null)[];
  /** Model k finished (target, maxSteps, or asked to stop): its result, with its own model. */
  onDone: (k: number, result: TrainResult) => void;
  /** Model k's loss became non-finite: it leaves, the others go on (default: throw the error). */
  onDiverged?: (k: number, error: TrainingDivergedError) => void;
  /**
   * Every `checkpointEvery` steps (default stop.every; not after the last), and at the step where a
   * watched SIGINT/SIGTERM stops training (src/io/interrupt.ts): each unfinished model and its state.
   */
  onCheckpoint?: (k: number, model: Transformer, state: TrainState) => void;
  checkpointEvery?: number;
  /** After every step; 'stop' ends every model still training after that step's check (stopReason 'stopped', with its state), unless the check or train.maxSteps ends it. */
  onStep?: (info: StepInfo) => void | 'stop';
  /** After each stopping check of each model. */
  onEval?: (k: number, e: EvalPoint) => void;
  /** Progress bar title; drawn on stderr: 'auto' (default) only in an interactive terminal, never under CI. */
  label?: string;
  progress?: boolean | 'auto';
}

export class TrainingDivergedError extends Error {
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly losses: number[],
    readonly evals: EvalPoint[],
  ) {
    super(`training diverged: loss is ${loss} at step ${step}; try a lower train.lr (curves so far are on this error)`);
    this.name = 'TrainingDivergedError';
  }
}

/** How a run ended, in words: `reached 90% after 800 steps`, `stopped at train.maxSteps=800 without reaching 90%`. */
export function describeStop(reason: StopReason, steps: number, target: number): string {
  const pct = `${(100 * target).toFixed(0)}%`;
  if (reason === 'target') return `reached ${pct} after ${steps} steps`;
  if (reason === 'maxSteps') return `stopped at train.maxSteps=${steps} without reaching ${pct}`;
  return `stopped after ${steps} steps (asked to stop)`;
}

/** What one model carries through training. */
interface Run {
  k: number; // its position in opts.models
  lane: Lane;
  losses: number[];
  evals: EvalPoint[];
  stepMs: number;
  t0: number;
}

/**
 * Trains the models, handing each one's result to onDone as it finishes. Returns the steps taken
 * and their mean wall time. Throws InterruptedError after saving every unfinished model
 * (onCheckpoint) when SIGINT/SIGTERM arrives.
 */
export function train(opts: TrainOptions): { steps: number; msPerStep: number } {
  const { stop } = opts;
  const K = opts.models.length;
  if (!K) throw new Error('train: no models');
  if (opts.lanes.length !== K) throw new Error(`train: ${opts.lanes.length} lanes for ${K} models`);
  for (const [key, v] of Object.entries({ every: stop.every, maxSteps: stop.maxSteps }))
    if (!Number.isInteger(v) || v < 1) throw new Error(`train: stop.${key} must be a positive integer, got ${v}`);
  const resume = opts.resume ?? opts.models.map(() => null);
  if (resume.length !== K) throw new Error('train: resume must hold one entry (or null) per model');
  const startSteps = new Set(resume.map((r) => r?.step ?? 0));
  if (startSteps.size > 1)
    throw new Error(
      `train: the models resume at different steps (${[...startSteps].join(', ')}); train each step's models together`,
    );
  let step = [...startSteps][0];
  const startStep = step;
  const trainee: Trainee =
    K === 1
      ? new Single(opts.models[0], opts.adam, resume[0] ? { adam: resume[0].adam, step } : null)
      : new Stacked(opts.models, opts.adam, { adams: resume.map((r) => r?.adam ?? null), step });
  const now = Date.now();
  let runs: Run[] = opts.lanes.map((lane, k) => ({
    k,
    lane,
    losses: resume[k]?.losses.slice() ?? [],
    evals: resume[k]?.evals.slice() ?? [],
    stepMs: resume[k]?.stepMs ?? 0,
    t0: now - (resume[k]?.wallMs ?? 0),
  }));
  const drawBar = opts.progress === 'auto' || opts.progress === undefined ? progressWanted() : opts.progress;
  const bar = new ProgressBar(stop.maxSteps, opts.label ?? 'train', drawBar);
  const checkpointEvery = opts.checkpointEvery ?? stop.every;
  let totalMs = 0;
  let steps = 0;

  const stateOf = (i: number): TrainState => ({
    step,
    losses: runs[i].losses.slice(),
    evals: runs[i].evals.slice(),
    stepMs: runs[i].stepMs,
    wallMs: Date.now() - runs[i].t0,
    dataRng: runs[i].lane.batches.state(),
    evalRng: runs[i].lane.check.state(),
    adam: trainee.adam(i),
  });
  const checkpointAll = () =>
    runs.forEach((run, i) => trainee.lend(i, (m) => opts.onCheckpoint!(run.k, m, stateOf(i))));
  /** Hands over the models at `done` (positions among runs) with their reasons, and keeps the others. */
  const finish = (done: Map<number, StopReason | TrainingDivergedError>, states?: Map<number, TrainState>) => {
    if (!done.size) return;
    for (const [i, why] of done) {
      const run = runs[i];
      if (why instanceof TrainingDivergedError) {
        if (!opts.onDiverged) throw why;
        opts.onDiverged(run.k, why);
        continue;
      }
      bar.finish(`${K > 1 ? `${run.lane.name}: ` : ''}${describeStop(why, step, stop.target)}`);
      opts.onDone(run.k, {
        model: trainee.take(i),
        steps: step,
        reachedTarget: why === 'target',
        stopReason: why,
        losses: run.losses,
        evals: run.evals,
        wallMs: Date.now() - run.t0,
        msPerStep: step ? run.stepMs / step : NaN,
        ...(states?.has(i) ? { state: states.get(i) } : {}),
      });
    }
    const keep = runs.map((_, i) => i).filter((i) => !done.has(i));
    if (keep.length) trainee.keep(keep);
    runs = keep.map((i) => runs[i]);
  };

  try {
    while (runs.length && step < stop.maxSteps) {
      const signal = pendingSignal();
      if (signal) {
        // Stopped by SIGINT/SIGTERM between two steps: the state here resumes bit for bit.
        if (opts.onCheckpoint && step > startStep) {
          checkpointAll();
          throw new InterruptedError(
            signal,
            `training state ${K > 1 ? `of ${runs.map((r) => r.lane.name).join(', ')} ` : ''}at step ${step} saved`,
          );
        }
        checkInterrupted();
      }
      const release = holdInterrupts(); // a step and its checks run whole
      try {
        const s0 = Date.now();
        const losses = trainee.step(runs.map((r) => r.lane.batches.next()));
        const ms = Date.now() - s0;
        totalMs += ms;
        steps++;
        step++;
        const diverged = new Map<number, TrainingDivergedError>();
        runs.forEach((run, i) => {
          run.stepMs += ms / runs.length; // each model's share of the step
          run.losses.push(losses[i]);
          if (!Number.isFinite(losses[i]))
            diverged.set(i, new TrainingDivergedError(step, losses[i], run.losses, run.evals));
        });
        finish(diverged);
        if (!runs.length) break;
        const kept = losses.filter((_, i) => !diverged.has(i));
        bar.update(step, progressLine(kept, runs, stop.name));
        // A stop asked here comes after this step's check, so a resumed run misses none (nor the end at train.maxSteps).
        const stopAsked = opts.onStep?.({ step, losses: kept, ms }) === 'stop';
        const done = new Map<number, StopReason>();
        if (step % stop.every === 0) {
          runs.forEach((run, i) => {
            const point = { step, acc: trainee.lend(i, (m) => run.lane.check.score(m)) };
            run.evals.push(point);
            bar.clear();
            opts.onEval?.(run.k, point);
            if (point.acc >= stop.target) done.set(i, 'target');
          });
        }
        if (step >= stop.maxSteps) runs.forEach((_, i) => done.has(i) || done.set(i, 'maxSteps'));
        finish(done);
        if (opts.onCheckpoint && runs.length && step % checkpointEvery === 0 && step < stop.maxSteps) checkpointAll();
        if (stopAsked && runs.length) {
          finish(new Map(runs.map((_, i) => [i, 'stopped'])), new Map(runs.map((_, i) => [i, stateOf(i)])));
          break;
        }
      } finally {
        release();
      }
    }
  } finally {
    trainee.dispose();
  }
  return { steps, msPerStep: steps ? totalMs / steps : NaN };
}

/** The progress bar's line: one model's loss and last score, or the mean loss of several. */
function progressLine(losses: readonly number[], runs: readonly Run[], score: string): string {
  if (runs.length > 1)
    return `${runs.length} models, mean loss ${(losses.reduce((a, b) => a + b, 0) / losses.length).toFixed(3)}`;
  const evals = runs[0].evals;
  const last = evals.length ? evals[evals.length - 1].acc : NaN;
  return `loss ${losses[0].toFixed(3)} ${score} ${Number.isNaN(last) ? '-' : `${(100 * last).toFixed(1)}%`}`;
}
