/**
 * What one training step updates: one model (`Single`), or K models stacked and stepped in one
 * pass (`Stacked`, src/model/stacked.ts; each model's weights and losses equal those it gets alone,
 * bit for bit on the same kernels: test/stacked.test.ts). The training loop (train.ts) sees only
 * this interface.
 */
import { tf } from '../kernels/tf';
import type { Batch } from '../tasks';
import { lossFromLogits, targetWeights, tokensTensor } from '../model/eval';
import { Transformer } from '../model/model';
import { stackBatches, StackedModel } from '../model/stacked';
import {
  AdamState,
  adamState,
  keepAdamRows,
  makeOptimizer,
  restoreAdamState,
  restoreStackedAdam,
  stackedAdamState,
} from './adam';

export interface Trainee {
  /** Models being trained. */
  readonly size: number;
  /** One Adam step of model k on batches[k], for every k; each model's loss before the update. */
  step(batches: readonly Batch[]): number[];
  /** Calls fn with model k as it is now (a stack lends a copy, disposed after). */
  lend<T>(k: number, fn: (model: Transformer) => T): T;
  /** Model k to keep (the caller owns it). */
  take(k: number): Transformer;
  /** Adam's state of model k (null before the first step). */
  adam(k: number): AdamState | null;
  /** Keeps only the models at `rows` (positions, ascending; at least one). */
  keep(rows: readonly number[]): void;
  /** Frees the optimizer (and a stack's weights; a single model is the caller's). */
  dispose(): void;
}

/** One Adam step on one batch; returns the loss before the update. */
export function trainStep(model: Transformer, optimizer: tf.Optimizer, batch: Batch, vars: tf.Variable[]): number {
  const tokens = tokensTensor(batch);
  const weights = targetWeights(batch, model.cfg.vocabSize);
  const cost = optimizer.minimize(() => lossFromLogits(model.forward(tokens).logits, weights), true, vars);
  const loss = cost!.dataSync()[0];
  cost!.dispose();
  tokens.dispose();
  weights.dispose();
  return loss;
}

/** One model, trained in place; `resume` restores Adam's state saved at `step`. */
export class Single implements Trainee {
  readonly size = 1;
  private readonly optimizer: tf.Optimizer;
  private readonly vars: tf.Variable[];
  constructor(
    private readonly model: Transformer,
    settings: { lr: number; adamEps: number },
    resume: { adam: AdamState | null; step: number } | null,
  ) {
    this.optimizer = makeOptimizer(settings);
    if (resume?.adam) restoreAdamState(this.optimizer, model, resume.adam, resume.step);
    this.vars = Object.values(model.params);
  }
  step(batches: readonly Batch[]): number[] {
    return [trainStep(this.model, this.optimizer, batches[0], this.vars)];
  }
  lend<T>(_k: number, fn: (model: Transformer) => T): T {
    return fn(this.model);
  }
  take(): Transformer {
    return this.model;
  }
  adam(): AdamState | null {
    return adamState(this.optimizer, this.model);
  }
  keep(): void {}
  dispose(): void {
    this.optimizer.dispose();
  }
}

/** K models stacked (the given models are consumed); `resume` restores their Adam states saved at one step. */
export class Stacked implements Trainee {
  private readonly stacked: StackedModel;
  private readonly optimizer: tf.Optimizer;
  constructor(
    models: readonly Transformer[],
    settings: { lr: number; adamEps: number },
    resume: { adams: readonly (AdamState | null)[]; step: number } | null,
  ) {
    this.stacked = StackedModel.stack(models);
    for (const m of models) m.dispose();
    this.optimizer = makeOptimizer(settings);
    if (resume && resume.step > 0) restoreStackedAdam(this.optimizer, this.stacked, resume.adams, resume.step);
  }
  get size(): number {
    return this.stacked.size;
  }
  step(batches: readonly Batch[]): number[] {
    return stackedStep(this.stacked, this.optimizer, batches);
  }
  lend<T>(k: number, fn: (model: Transformer) => T): T {
    const m = this.stacked.unstack(k);
    try {
      return fn(m);
    } finally {
      m.dispose();
    }
  }
  take(k: number): Transformer {
    return this.stacked.unstack(k);
  }
  adam(k: number): AdamState | null {
    return stackedAdamState(this.optimizer, this.stacked, k);
  }
  keep(rows: readonly number[]): void {
    this.stacked.keep(rows);
    keepAdamRows(this.optimizer, rows);
  }
  dispose(): void {
    this.optimizer.dispose();
    this.stacked.dispose();
  }
}

/**
 * One Adam step of every stacked model on its own batch; returns each model's loss before the
 * update. When the K batches differ in length (a batch's length is that of its longest sequence),
 * they are passed in groups of one length (each group's rows of the parameters gathered, its
 * gradients computed alone), and the gradients put back in model order before the one Adam update.
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
      // Back to model order: position k of the concatenated groups holds model order[k].
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
