/**
 * Training (Appendix A.1): Adam, a fresh random batch of sequences of lengths minLen..maxLen every
 * step, stop once training-distribution exact match reaches targetAcc (checked every evalEvery
 * steps on evalSamples fresh sequences) or at maxSteps. A non-finite loss stops the run with a
 * TrainingDivergedError that carries the curves computed so far.
 *
 * Random streams of one seed: 'init' (weights), 'train-data' (batches), 'train-eval' (the stopping
 * checks), so changing the check's sample size does not change the batches a model trains on.
 * A replica of the stability study nudges the initial weights or draws the batches from another
 * stream (src/settings/replica.ts).
 */
import { fusedActive, tf } from '../kernels/tf';
import { ExperimentConfig } from '../settings/config';
import { BatchStream, TaskName } from '../tasks';
import { checkRun } from '../settings/run-spec';
import { checkInterrupted, holdInterrupts, InterruptedError, pendingSignal } from '../base/stop';
import { lossFromLogits, sampleAccuracy, targetWeights, tokensTensor } from '../model/eval';
import { AdamInternals, fusedAdamApply } from '../kernels/fused';
import { Transformer } from '../model/model';
import { ProgressBar, progressWanted } from '../base/progress';
import { Rng, RngState } from '../base/rng';
import { initialModel, trainDataRng } from './perturb';

export interface EvalPoint {
  step: number;
  acc: number; // training-distribution exact match
}

export interface StepInfo {
  step: number; // steps completed
  loss: number;
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
  msPerStep: number; // mean wall time of an optimisation step (stopping checks excluded)
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
  dataRng: RngState; // the 'train-data' stream
  evalRng: RngState; // the 'train-eval' stream
  /** Adam's state: beta1^t and beta2^t, and the first and second moments per parameter (model.params keys). */
  adam: { accBeta1: number; accBeta2: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> } | null;
}

export interface TrainOptions {
  task: TaskName;
  seed: number;
  cfg: ExperimentConfig;
  /** Start from this model instead of fresh weights (it is trained in place). */
  model?: Transformer;
  /** Continue a stopped run: `model` must hold the weights saved with this state. */
  resume?: TrainState;
  /**
   * Called every `checkpointEvery` steps (and not after the last) with the state to save for a
   * resume; also at the step where a watched SIGINT/SIGTERM stops training (src/io/interrupt.ts).
   */
  onCheckpoint?: (model: Transformer, state: TrainState) => void;
  /** Steps between onCheckpoint calls (default: every stopping check, train.evalEvery). */
  checkpointEvery?: number;
  /** Called after every step; return 'stop' to end the run early (stopReason 'stopped'). */
  onStep?: (info: StepInfo) => void | 'stop';
  /** Called after every stopping check. */
  onEval?: (e: EvalPoint) => void;
  /** Draw a progress bar on stderr: 'auto' (default) draws only in an interactive terminal, never under CI. */
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

/** One Adam step on one batch; returns the loss before the update. */
export function trainStep(
  model: Transformer,
  optimizer: tf.Optimizer,
  batch: ReturnType<BatchStream['next']>,
  vars: tf.Variable[],
): number {
  const tokens = tokensTensor(batch);
  const weights = targetWeights(batch, model.cfg.vocabSize);
  const cost = optimizer.minimize(() => lossFromLogits(model.forward(tokens).logits, weights), true, vars);
  const loss = cost!.dataSync()[0];
  cost!.dispose();
  tokens.dispose();
  weights.dispose();
  return loss;
}

/** The sequence lengths the stopping rule is checked on: one fixed length (train.stopLength) or the training range. */
export function stoppingCheckLength(cfg: ExperimentConfig): number | { minLen: number; maxLen: number } {
  return cfg.train.stopLength > 0 ? cfg.train.stopLength : { minLen: cfg.data.minLen, maxLen: cfg.data.maxLen };
}

/** How a run ended, in words: `reached 90% after 800 steps`, `stopped at train.maxSteps=800 without reaching 90%`. */
export function describeStop(reason: StopReason, steps: number, cfg: ExperimentConfig): string {
  const target = `${(100 * cfg.train.targetAcc).toFixed(0)}%`;
  if (reason === 'target') return `reached ${target} after ${steps} steps`;
  if (reason === 'maxSteps') return `stopped at train.maxSteps=${steps} without reaching ${target}`;
  return `stopped after ${steps} steps (asked to stop)`;
}

export function makeOptimizer(cfg: ExperimentConfig): tf.Optimizer {
  // PyTorch's Adam defaults: beta1 0.9, beta2 0.999, eps 1e-8 (set explicitly: tfjs defaults to 1e-7).
  const optimizer = tf.train.adam(cfg.train.lr, 0.9, 0.999, cfg.train.adamEps);
  // On the native kernels each parameter's update is one call (src/kernels/fused.ts), the same bits.
  const composed = optimizer.applyGradients.bind(optimizer);
  optimizer.applyGradients = (grads) => (fusedActive() ? fusedAdamApply(optimizer, grads) : composed(grads));
  return optimizer;
}

/** Adam's state, keyed like model.params (null before the first step). */
export function adamState(optimizer: tf.Optimizer, model: Transformer): TrainState['adam'] {
  const o = optimizer as unknown as AdamInternals;
  if (!o.accumulatedFirstMoment.length) return null;
  const keys = Object.keys(model.params);
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  keys.forEach((k, i) => {
    // Copies: on the tensorflow and cpu backends dataSync() is the optimizer's own storage.
    m[k] = Float32Array.from(o.accumulatedFirstMoment[i].variable.dataSync() as Float32Array);
    v[k] = Float32Array.from(o.accumulatedSecondMoment[i].variable.dataSync() as Float32Array);
  });
  return { accBeta1: o.accBeta1.dataSync()[0], accBeta2: o.accBeta2.dataSync()[0], m, v };
}

/**
 * Restores Adam's state exactly (tfjs's own setWeights recomputes beta^t with pow, which can differ
 * from the running product in the last bit). Moments follow the order of `model.params`, which is
 * the order `minimize` sees the variables in.
 */
export function restoreAdamState(
  optimizer: tf.Optimizer,
  model: Transformer,
  state: NonNullable<TrainState['adam']>,
  step: number,
): void {
  const o = optimizer as unknown as AdamInternals;
  const entries = Object.entries(model.params);
  for (const [k] of entries) {
    if (!state.m[k] || !state.v[k]) throw new Error(`the saved optimizer state has no moments for ${k}`);
  }
  o.accBeta1.assign(tf.scalar(state.accBeta1));
  o.accBeta2.assign(tf.scalar(state.accBeta2));
  o.accumulatedFirstMoment = entries.map(([k, p]) => ({
    originalName: `${p.name}/m`,
    variable: tf.variable(tf.tensor(state.m[k], p.shape), false),
  }));
  o.accumulatedSecondMoment = entries.map(([k, p]) => ({
    originalName: `${p.name}/v`,
    variable: tf.variable(tf.tensor(state.v[k], p.shape), false),
  }));
  o.iterations_ = step;
}

export function train(opts: TrainOptions): TrainResult {
  const { cfg, task, seed } = opts;
  checkRun(task, seed, cfg); // the command line's checks, at this entry too (a notebook may have edited cfg since)
  const r = opts.resume;
  if (r && !opts.model) throw new Error('train: resume needs the model saved with the state (opts.model)');
  const t0 = Date.now() - (r?.wallMs ?? 0);
  const model = opts.model ?? initialModel(cfg, seed);
  const optimizer = makeOptimizer(cfg);
  if (r?.adam) restoreAdamState(optimizer, model, r.adam, r.step);
  const vars = Object.values(model.params);
  const stream = new BatchStream(
    task,
    { ...cfg.data, batchSize: cfg.train.batchSize },
    r ? Rng.fromState(r.dataRng) : trainDataRng(cfg, seed),
  );
  const evalRng = r ? Rng.fromState(r.evalRng) : new Rng(seed, 'train-eval');
  const losses: number[] = r ? r.losses.slice() : [];
  const evals: EvalPoint[] = r ? r.evals.slice() : [];
  const drawBar = opts.progress === 'auto' || opts.progress === undefined ? progressWanted() : opts.progress;
  const bar = new ProgressBar(cfg.train.maxSteps, `train ${task} seed ${seed}`, drawBar);
  const checkpointEvery = opts.checkpointEvery ?? cfg.train.evalEvery;
  let stepMs = r?.stepMs ?? 0;
  let stopReason: StopReason = 'maxSteps';
  let step = r?.step ?? 0;
  const state = (): TrainState => ({
    step,
    losses: losses.slice(),
    evals: evals.slice(),
    stepMs,
    wallMs: Date.now() - t0,
    dataRng: stream.rng.state(),
    evalRng: evalRng.state(),
    adam: adamState(optimizer, model),
  });
  const startStep = step;
  try {
    while (step < cfg.train.maxSteps) {
      const signal = pendingSignal();
      if (signal) {
        // Stopped by SIGINT/SIGTERM between two steps: the state here resumes bit for bit.
        if (opts.onCheckpoint && step > startStep) {
          opts.onCheckpoint(model, state());
          throw new InterruptedError(signal, `training state at step ${step} saved`);
        }
        checkInterrupted();
      }
      const release = holdInterrupts();
      try {
        const s0 = Date.now();
        const loss = trainStep(model, optimizer, stream.next(), vars);
        const ms = Date.now() - s0;
        stepMs += ms;
        step++;
        losses.push(loss);
        if (!Number.isFinite(loss)) throw new TrainingDivergedError(step, loss, losses, evals);
        const last = evals.length ? evals[evals.length - 1].acc : NaN;
        bar.update(
          step,
          `loss ${loss.toFixed(3)} exact match ${Number.isNaN(last) ? '-' : `${(100 * last).toFixed(1)}%`}`,
        );
        if (opts.onStep?.({ step, loss, ms }) === 'stop') {
          stopReason = 'stopped';
          break;
        }
        if (step % cfg.train.evalEvery === 0) {
          const acc = sampleAccuracy(model, task, evalRng, cfg.train.evalSamples, stoppingCheckLength(cfg));
          const point = { step, acc };
          evals.push(point);
          bar.clear();
          opts.onEval?.(point);
          if (acc >= cfg.train.targetAcc) {
            stopReason = 'target';
            break;
          }
        }
        if (opts.onCheckpoint && step % checkpointEvery === 0 && step < cfg.train.maxSteps)
          opts.onCheckpoint(model, state());
      } finally {
        release();
      }
    }
  } finally {
    optimizer.dispose();
  }
  bar.finish(describeStop(stopReason, step, cfg));
  return {
    model,
    steps: step,
    reachedTarget: stopReason === 'target',
    stopReason,
    losses,
    evals,
    wallMs: Date.now() - t0,
    msPerStep: step ? stepMs / step : NaN,
  };
}
