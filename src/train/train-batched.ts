/**
 * Training K seeds of one configuration at once (issue 29): the models stacked (src/model/stacked.ts),
 * one Adam step of all of them per kernel call chain. Each seed keeps everything it has alone: its
 * initial weights ('init' stream), its batches ('train-data'), its stopping checks ('train-eval'),
 * its early stop (a seed that reaches its target leaves the stack at that step, and its result is
 * handed over at once), its curves and its resumable state. A seed's weights and losses equal those
 * of its single-seed run (src/train/train.ts) bit for bit on the same kernels (test/stacked.test.ts).
 *
 * When the K batches of a step differ in length (a batch's length is that of its longest
 * sequence), the seeds are stepped in groups of one length, each group's gradients from its own
 * stacked pass; Adam then updates all seeds at once.
 */
import { tf } from '../kernels/tf';
import { ExperimentConfig } from '../settings/config';
import { Batch, BatchStream, TaskName } from '../tasks';
import { sampleAccuracy } from '../model/eval';
import { checkInterrupted, holdInterrupts, InterruptedError, pendingSignal } from '../base/stop';
import { Transformer } from '../model/model';
import { ProgressBar, progressWanted } from '../base/progress';
import { initialModel, trainDataRng } from './perturb';
import { Rng } from '../base/rng';
import { checkRun } from '../settings/run-spec';
import { stackBatches, StackedModel } from '../model/stacked';
import {
  describeStop,
  EvalPoint,
  makeOptimizer,
  stoppingCheckLength,
  StopReason,
  TrainingDivergedError,
  TrainResult,
  TrainState,
} from './train';
import { AdamInternals } from '../kernels/fused';

export interface BatchedTrainOptions {
  task: TaskName;
  /** The seeds, trained together (K = seeds.length). */
  seeds: readonly number[];
  cfg: ExperimentConfig;
  /**
   * Continue stopped runs: per seed, its saved model and training state, or null to start it
   * afresh. Seeds that resume together must all be at the same step (all fresh, or all saved at
   * one step), since they share every step from there. The models are consumed (stacked, then
   * disposed).
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

/** What one seed carries through the stacked training. */
interface SeedRun {
  seed: number;
  stream: BatchStream;
  evalRng: Rng;
  losses: number[];
  evals: EvalPoint[];
  stepMs: number;
  t0: number;
}

/**
 * Trains the seeds stacked, handing each one's result to onDone as it finishes. Returns the number
 * of stacked steps taken. Throws InterruptedError after saving every unfinished seed (onCheckpoint)
 * when SIGINT/SIGTERM arrives.
 */
export function trainBatched(opts: BatchedTrainOptions): { stackedSteps: number; msPerStackedStep: number } {
  const { cfg, task } = opts;
  if (!opts.seeds.length) throw new Error('trainBatched: no seeds');
  if (new Set(opts.seeds).size !== opts.seeds.length)
    throw new Error(`trainBatched: seeds repeat (${opts.seeds.join(', ')})`);
  for (const seed of opts.seeds) checkRun(task, seed, cfg);
  const resume = opts.resume ?? opts.seeds.map(() => null);
  if (resume.length !== opts.seeds.length)
    throw new Error('trainBatched: resume must hold one entry (or null) per seed');
  const startSteps = new Set(resume.map((r) => r?.state.step ?? 0));
  if (startSteps.size > 1)
    throw new Error(
      `trainBatched: the seeds resume at different steps (${[...startSteps].join(', ')}); train each step's seeds together`,
    );
  let step = [...startSteps][0];

  const models = opts.seeds.map((seed, k) => resume[k]?.model ?? initialModel(cfg, seed));
  const stacked = StackedModel.stack(models);
  for (const m of models) m.dispose();
  const optimizer = makeOptimizer(cfg);
  if (step > 0)
    restoreStackedAdam(
      optimizer,
      stacked,
      resume.map((r) => r!.state),
    );
  const now = Date.now();
  let runs: SeedRun[] = opts.seeds.map((seed, k) => {
    const r = resume[k]?.state;
    return {
      seed,
      stream: new BatchStream(
        task,
        { ...cfg.data, batchSize: cfg.train.batchSize },
        r ? Rng.fromState(r.dataRng) : trainDataRng(cfg, seed),
      ),
      evalRng: r ? Rng.fromState(r.evalRng) : new Rng(seed, 'train-eval'),
      losses: r ? r.losses.slice() : [],
      evals: r ? r.evals.slice() : [],
      stepMs: r?.stepMs ?? 0,
      t0: now - (r?.wallMs ?? 0),
    };
  });
  const drawBar = opts.progress === 'auto' || opts.progress === undefined ? progressWanted() : opts.progress;
  const bar = new ProgressBar(cfg.train.maxSteps, `train ${task} seeds ${opts.seeds.join(',')}`, drawBar);
  const checkpointEvery = opts.checkpointEvery ?? cfg.train.evalEvery;
  const startStep = step;
  let stackedMs = 0;
  let stackedSteps = 0;

  const stateOf = (k: number): TrainState => ({
    step,
    losses: runs[k].losses.slice(),
    evals: runs[k].evals.slice(),
    stepMs: runs[k].stepMs,
    wallMs: Date.now() - runs[k].t0,
    dataRng: runs[k].stream.rng.state(),
    evalRng: runs[k].evalRng.state(),
    adam: stackedAdamState(optimizer, stacked, k),
  });
  const checkpointAll = () => {
    for (let k = 0; k < runs.length; k++) {
      const m = stacked.unstack(k);
      try {
        opts.onCheckpoint!(runs[k].seed, m, stateOf(k));
      } finally {
        m.dispose();
      }
    }
  };
  /** Hands over the seeds at `done` (positions) with their reasons, and keeps the others stacked. */
  const finish = (done: Map<number, StopReason | TrainingDivergedError>) => {
    if (!done.size) return;
    for (const [k, why] of done) {
      const run = runs[k];
      if (why instanceof TrainingDivergedError) {
        opts.onDiverged?.(run.seed, why);
        continue;
      }
      bar.finish(`seed ${run.seed}: ${describeStop(why, step, cfg)}`);
      opts.onDone(run.seed, {
        model: stacked.unstack(k),
        steps: step,
        reachedTarget: why === 'target',
        stopReason: why,
        losses: run.losses,
        evals: run.evals,
        wallMs: Date.now() - run.t0,
        msPerStep: step ? run.stepMs / step : NaN,
      });
    }
    const keep = runs.map((_, k) => k).filter((k) => !done.has(k));
    if (keep.length) {
      stacked.keep(keep);
      keepAdamRows(optimizer, keep);
    }
    runs = keep.map((k) => runs[k]);
  };

  try {
    while (runs.length && step < cfg.train.maxSteps) {
      const signal = pendingSignal();
      if (signal) {
        if (opts.onCheckpoint && step > startStep) {
          checkpointAll();
          throw new InterruptedError(
            signal,
            `training state of seeds ${runs.map((r) => r.seed).join(', ')} at step ${step} saved`,
          );
        }
        checkInterrupted();
      }
      const release = holdInterrupts();
      try {
        const s0 = Date.now();
        const losses = stackedStep(
          stacked,
          optimizer,
          runs.map((r) => r.stream.next()),
        );
        const ms = Date.now() - s0;
        stackedMs += ms;
        stackedSteps++;
        step++;
        const done = new Map<number, StopReason | TrainingDivergedError>();
        runs.forEach((run, k) => {
          run.stepMs += ms / runs.length; // each seed's share of the stacked step
          run.losses.push(losses[k]);
          if (!Number.isFinite(losses[k]))
            done.set(k, new TrainingDivergedError(step, losses[k], run.losses, run.evals));
        });
        bar.update(
          step,
          `${runs.length} seeds, mean loss ${(losses.reduce((a, b) => a + b, 0) / losses.length).toFixed(3)}`,
        );
        if (step % cfg.train.evalEvery === 0) {
          runs.forEach((run, k) => {
            if (done.has(k)) return;
            const m = stacked.unstack(k);
            let acc: number;
            try {
              acc = sampleAccuracy(m, task, run.evalRng, cfg.train.evalSamples, stoppingCheckLength(cfg));
            } finally {
              m.dispose();
            }
            const point = { step, acc };
            run.evals.push(point);
            bar.clear();
            opts.onEval?.(run.seed, point);
            if (acc >= cfg.train.targetAcc) done.set(k, 'target');
          });
        }
        if (step >= cfg.train.maxSteps) runs.forEach((_, k) => done.has(k) || done.set(k, 'maxSteps'));
        finish(done);
        if (opts.onCheckpoint && runs.length && step % checkpointEvery === 0 && step < cfg.train.maxSteps)
          checkpointAll();
      } finally {
        release();
      }
    }
  } finally {
    optimizer.dispose();
    stacked.dispose();
  }
  return { stackedSteps, msPerStackedStep: stackedSteps ? stackedMs / stackedSteps : NaN };
}

/**
 * One Adam step of every stacked model on its own batch; returns each model's loss before the
 * update. Batches of different lengths are passed in groups of one length (each group's rows of
 * the parameters gathered, its gradients computed alone), and the gradients put back in seed order
 * before the one Adam update.
 */
export function stackedStep(stacked: StackedModel, optimizer: tf.Optimizer, batches: readonly Batch[]): number[] {
  const K = batches.length;
  if (K !== stacked.size) throw new Error(`stackedStep: ${K} batches for ${stacked.size} models`);
  const groups = new Map<number, number[]>();
  batches.forEach((b, k) => groups.set(b.T, [...(groups.get(b.T) ?? []), k]));
  const losses = new Array<number>(K);
  tf.tidy(() => {
    const parts: { rows: number[]; grads: tf.Tensor[] }[] = [];
    for (const rows of groups.values()) {
      const all = rows.length === K;
      const params = all ? stacked.vars : stacked.vars.map((v) => tf.gather(v, rows));
      const { tokens, weights } = stackBatches(
        rows.map((k) => batches[k]),
        stacked.cfg.vocabSize,
      );
      let perModel: tf.Tensor1D | null = null;
      const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => {
        perModel = tf.keep(stacked.losses(ps, tokens, weights)); // kept past the gradient's own tidy
        return tf.sum(perModel);
      })(params);
      value.dispose();
      const values = (perModel as tf.Tensor1D | null)!.dataSync();
      (perModel as tf.Tensor1D | null)!.dispose();
      rows.forEach((k, i) => (losses[k] = values[i]));
      parts.push({ rows, grads });
    }
    let grads: tf.Tensor[];
    if (parts.length === 1) grads = parts[0].grads;
    else {
      // Back to seed order: position k of the concatenated groups holds seed order[k].
      const order = parts.flatMap((p) => p.rows);
      const inverse = order.map((_, k) => order.indexOf(k));
      grads = stacked.vars.map((_, i) => tf.gather(tf.concat(parts.map((p) => p.grads[i])), inverse));
    }
    const named: tf.NamedTensorMap = {};
    stacked.vars.forEach((v, i) => (named[v.name] = grads[i]));
    optimizer.applyGradients(named);
  });
  return losses;
}

/** Seed k's slice of Adam's state, keyed like a model's params (null before the first step). */
function stackedAdamState(optimizer: tf.Optimizer, stacked: StackedModel, k: number): TrainState['adam'] {
  const o = optimizer as unknown as AdamInternals;
  if (!o.accumulatedFirstMoment.length) return null;
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  const row = (t: tf.Variable) => tf.tidy(() => Float32Array.from(tf.slice(t, [k], [1]).dataSync() as Float32Array));
  stacked.names.forEach((name, i) => {
    m[name] = row(o.accumulatedFirstMoment[i].variable);
    v[name] = row(o.accumulatedSecondMoment[i].variable);
  });
  return { accBeta1: o.accBeta1.dataSync()[0], accBeta2: o.accBeta2.dataSync()[0], m, v };
}

/** Adam's state from the seeds' saved states (one step, hence one beta1^t and beta2^t), stacked. */
function restoreStackedAdam(optimizer: tf.Optimizer, stacked: StackedModel, states: readonly TrainState[]): void {
  const adams = states.map((s) => s.adam);
  if (adams.some((a) => !a)) throw new Error('trainBatched: a saved training state past step 0 has no optimizer state');
  const a0 = adams[0]!;
  if (adams.some((a) => a!.accBeta1 !== a0.accBeta1 || a!.accBeta2 !== a0.accBeta2))
    throw new Error("trainBatched: the seeds' optimizer states differ in Adam's step count");
  const o = optimizer as unknown as AdamInternals;
  o.accBeta1.assign(tf.scalar(a0.accBeta1));
  o.accBeta2.assign(tf.scalar(a0.accBeta2));
  const moments = (which: 'm' | 'v') =>
    stacked.names.map((name, i) => {
      const shape = stacked.vars[i].shape;
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      const per = data.length / adams.length;
      adams.forEach((a, k) => {
        const saved = a![which][name];
        if (!saved || saved.length !== per)
          throw new Error(
            `the saved optimizer state of seed ${states[k] ? k : '?'} has no ${which === 'm' ? 'first' : 'second'} moment for ${name}`,
          );
        data.set(saved, k * per);
      });
      return { originalName: `${stacked.vars[i].name}/${which}`, variable: tf.variable(tf.tensor(data, shape), false) };
    });
  o.accumulatedFirstMoment = moments('m');
  o.accumulatedSecondMoment = moments('v');
  o.iterations_ = states[0].step;
}

/** Keeps Adam's moments of the models at `keep` (positions), as StackedModel.keep does their weights. */
function keepAdamRows(optimizer: tf.Optimizer, keep: readonly number[]): void {
  const o = optimizer as unknown as AdamInternals;
  const cut = (list: AdamInternals['accumulatedFirstMoment']) =>
    list.map(({ originalName, variable }) => {
      const next = tf.tidy(() => tf.variable(tf.gather(variable, keep), false));
      variable.dispose();
      return { originalName, variable: next };
    });
  o.accumulatedFirstMoment = cut(o.accumulatedFirstMoment);
  o.accumulatedSecondMoment = cut(o.accumulatedSecondMoment);
}
