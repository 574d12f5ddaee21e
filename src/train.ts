/**
 * Training (Appendix A.1): Adam, a fresh random batch of sequences of lengths minLen..maxLen every
 * step, stop once training-distribution exact match reaches targetAcc (checked every evalEvery
 * steps on evalSamples fresh sequences) or at maxSteps. A non-finite loss stops the run with a
 * TrainingDivergedError that carries the curves computed so far.
 *
 * Random streams of one seed: 'init' (weights), 'train-data' (batches), 'train-eval' (the stopping
 * checks), so changing the check's sample size does not change the batches a model trains on.
 */
import { tf } from './backend';
import type { ExperimentConfig, TaskName } from './config';
import { lossFromLogits, sampleAccuracy, targetWeights, tokensTensor } from './eval';
import { Transformer } from './model';
import { ProgressBar, progressWanted } from './progress';
import { Rng } from './rng';
import { BatchStream } from './tasks';

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

export interface TrainOptions {
  task: TaskName;
  seed: number;
  cfg: ExperimentConfig;
  /** Start from this model instead of fresh weights (it is trained in place). */
  model?: Transformer;
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
export function trainStep(model: Transformer, optimizer: tf.Optimizer, batch: ReturnType<BatchStream['next']>, vars: tf.Variable[]): number {
  const tokens = tokensTensor(batch);
  const weights = targetWeights(batch);
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

export function makeOptimizer(cfg: ExperimentConfig): tf.Optimizer {
  // PyTorch's Adam defaults: beta1 0.9, beta2 0.999, eps 1e-8 (set explicitly: tfjs defaults to 1e-7).
  return tf.train.adam(cfg.train.lr, 0.9, 0.999, cfg.train.adamEps);
}

export function train(opts: TrainOptions): TrainResult {
  const { cfg, task, seed } = opts;
  const t0 = Date.now();
  const model = opts.model ?? Transformer.init(cfg.model, seed);
  const optimizer = makeOptimizer(cfg);
  const vars = Object.values(model.params);
  const stream = new BatchStream(task, { ...cfg.data, batchSize: cfg.train.batchSize }, new Rng(seed, 'train-data'));
  const evalRng = new Rng(seed, 'train-eval');
  const losses: number[] = [];
  const evals: EvalPoint[] = [];
  const drawBar = opts.progress === 'auto' || opts.progress === undefined ? progressWanted() : opts.progress;
  const bar = new ProgressBar(cfg.train.maxSteps, `train ${task} seed ${seed}`, drawBar);
  let stepMs = 0;
  let stopReason: StopReason = 'maxSteps';
  let step = 0;
  try {
    while (step < cfg.train.maxSteps) {
      const s0 = Date.now();
      const loss = trainStep(model, optimizer, stream.next(), vars);
      const ms = Date.now() - s0;
      stepMs += ms;
      step++;
      losses.push(loss);
      if (!Number.isFinite(loss)) throw new TrainingDivergedError(step, loss, losses, evals);
      const last = evals.length ? evals[evals.length - 1].acc : NaN;
      bar.update(step, `loss ${loss.toFixed(3)} acc ${Number.isNaN(last) ? '-' : last.toFixed(2)}`);
      if (opts.onStep?.({ step, loss, ms }) === 'stop') {
        stopReason = 'stopped';
        break;
      }
      if (step % cfg.train.evalEvery === 0) {
        const acc = sampleAccuracy(model, task, evalRng, cfg.train.evalSamples, stoppingCheckLength(cfg));
        const point = { step, acc };
        evals.push(point);
        opts.onEval?.(point);
        if (acc >= cfg.train.targetAcc) {
          stopReason = 'target';
          break;
        }
      }
    }
  } finally {
    optimizer.dispose();
  }
  bar.finish(`${stopReason} after ${step} steps`);
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
