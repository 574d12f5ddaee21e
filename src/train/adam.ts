/**
 * Adam as PyTorch has it (beta1 0.9, beta2 0.999, eps 1e-8), its state saved and restored exactly,
 * for one model (keyed like model.params) or K stacked models (one row per model).
 */
import { nativeActive, tf } from '../kernels/tf';
import { AdamInternals, fusedAdamApply } from '../kernels/fused';
import type { Transformer } from '../model/model';
import type { StackedModel } from '../model/stacked';

/** Adam's state: beta1^t and beta2^t, and the first and second moments per parameter (model.params keys). */
export interface AdamState {
  accBeta1: number;
  accBeta2: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export function makeOptimizer(settings: { lr: number; adamEps: number }): tf.Optimizer {
  // PyTorch's Adam defaults: beta1 0.9, beta2 0.999, eps 1e-8 (set explicitly: tfjs defaults to 1e-7).
  const optimizer = tf.train.adam(settings.lr, 0.9, 0.999, settings.adamEps);
  // On the native kernels each parameter's update is one call (src/kernels/fused.ts) with the
  // composed ops' roundings: the same bits.
  const composed = optimizer.applyGradients.bind(optimizer);
  optimizer.applyGradients = (grads) => (nativeActive() ? fusedAdamApply(optimizer, grads) : composed(grads));
  return optimizer;
}

/** Adam's state, keyed like model.params (null before the first step). */
export function adamState(optimizer: tf.Optimizer, model: Transformer): AdamState | null {
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
export function restoreAdamState(optimizer: tf.Optimizer, model: Transformer, state: AdamState, step: number): void {
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

/** Model k's slice of a stack's Adam state, keyed like a model's params (null before the first step). */
export function stackedAdamState(optimizer: tf.Optimizer, stacked: StackedModel, k: number): AdamState | null {
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

/** A stack's Adam state from its models' saved states (one step, hence one beta1^t and beta2^t). */
export function restoreStackedAdam(
  optimizer: tf.Optimizer,
  stacked: StackedModel,
  states: readonly (AdamState | null)[],
  step: number,
): void {
  if (states.some((a) => !a)) throw new Error('train: a saved training state past step 0 has no optimizer state');
  const a0 = states[0]!;
  if (states.some((a) => a!.accBeta1 !== a0.accBeta1 || a!.accBeta2 !== a0.accBeta2))
    throw new Error("train: the models' optimizer states differ in Adam's step count");
  const o = optimizer as unknown as AdamInternals;
  o.accBeta1.assign(tf.scalar(a0.accBeta1));
  o.accBeta2.assign(tf.scalar(a0.accBeta2));
  const moments = (which: 'm' | 'v') =>
    stacked.names.map((name, i) => {
      const shape = stacked.vars[i].shape;
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      const per = data.length / states.length;
      states.forEach((a, k) => {
        const saved = a![which][name];
        if (!saved || saved.length !== per)
          throw new Error(
            `the saved optimizer state of model ${k} has no ${which === 'm' ? 'first' : 'second'} moment for ${name}`,
          );
        data.set(saved, k * per);
      });
      return { originalName: `${stacked.vars[i].name}/${which}`, variable: tf.variable(tf.tensor(data, shape), false) };
    });
  o.accumulatedFirstMoment = moments('m');
  o.accumulatedSecondMoment = moments('v');
  o.iterations_ = step;
}

/** Keeps Adam's moments of the models at `keep` (positions), as StackedModel.keep does their weights. */
export function keepAdamRows(optimizer: tf.Optimizer, keep: readonly number[]): void {
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
