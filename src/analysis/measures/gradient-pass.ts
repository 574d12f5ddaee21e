/**
 * The gradient measures' shared pass: each of Eq. 1's batches goes forward and backward once, and
 * that one pass gives every component's weights with their loss gradients and every component's
 * output a with dL/da. Each gradient measure is a per-batch score of one component on it
 * (`registerBatchMeasure`); every such measure the analysis computes (analysis.measures) is scored
 * on the same passes, so four measures cost one set of passes instead of four. A measure's numbers
 * are the same bits alone or with the others (the gradients do not depend on what else is asked of
 * the pass; tested).
 */
import { checkInterrupted } from '../../base/stop';
import { activationGrads } from '../../model/activations';
import { tf } from '../../kernels/tf';
import { Component, componentHook } from '../../model/hooks';
import type { ImportanceContext } from '../context';
import { measureInfo } from '../measure-info';
import { ImportanceMeasure, registerMeasure } from '../registry';
import { componentOutput } from './outputs';
import { componentWeights, sliceOf } from './weights';

/**
 * A gradient measure's score of one component on one batch, from
 *  - `weights`: the weights the component owns (weights.ts componentWeights) and their gradients, or
 *  - `outputs`: its output a, dL/da and its pooled mean mu (the ablation value, a vector that broadcasts).
 */
export type BatchScore =
  | { weights: (w: tf.Tensor[], g: tf.Tensor[]) => tf.Scalar }
  | { outputs: (c: Component, a: tf.Tensor, g: tf.Tensor, mu: tf.Tensor) => tf.Scalar };

const BATCH_SCORES = new Map<string, BatchScore>();

/** Registers a gradient measure scored on the shared pass: its value is its per-batch score averaged over Eq. 1's batches. */
export function registerBatchMeasure(name: string, score: BatchScore): ImportanceMeasure {
  BATCH_SCORES.set(name, score);
  return registerMeasure({ ...measureInfo(name), compute: (ctx) => batchMeasure(ctx, name) });
}

/** The per-batch score of gradient measure `name` (an error naming those there are otherwise). */
function batchScore(name: string): BatchScore {
  const s = BATCH_SCORES.get(name);
  if (!s)
    throw new Error(
      `${name} is not a gradient measure of the shared pass; those are: ${[...BATCH_SCORES.keys()].join(', ')}`,
    );
  return s;
}

/** Measure `name` on the shared pass of this context: the pass scores it with every other batch measure in analysis.measures. */
export function batchMeasure(ctx: ImportanceContext, name: string): Record<string, number> {
  batchScore(name);
  const names = [...new Set([...ctx.cfg.measures.filter((n) => BATCH_SCORES.has(n)), name])].sort();
  return ctx.memo(`gradientPass:${names.join(',')}`, () => gradientPass(ctx, names))[name];
}

/**
 * Measures `names` (each registered with a BatchScore) on one forward and backward pass per batch of
 * Eq. 1's batches: each component's score per measure, averaged over the batches.
 */
export function gradientPass(ctx: ImportanceContext, names: readonly string[]): Record<string, Record<string, number>> {
  const { model, components } = ctx;
  const scores = names.map(batchScore);
  const wantWeights = scores.some((s) => 'weights' in s);
  const wantOutputs = scores.some((s) => 'outputs' in s);
  const slices = components.map((c) => componentWeights(c, model.dHead));
  const vars = wantWeights ? [...new Set(slices.flat().map((s) => s.param))].map((n) => model.params[n]) : [];
  const hookNames = wantOutputs ? [...new Set(components.map(componentHook))] : [];
  const means = wantOutputs ? ctx.means() : {};
  const sums = names.map(() => new Float64Array(components.length));
  const batches = ctx.gradBatches();
  for (const batch of batches) {
    checkInterrupted();
    const { grads, activations, weightGrads } = activationGrads(model, batch, hookNames, [], {
      keepActivations: wantOutputs,
      weights: vars,
    });
    try {
      const values = tf.tidy(() => {
        const per = scores.flatMap((s) =>
          components.map((c, i) => {
            if ('weights' in s) {
              const ss = slices[i];
              return s.weights(
                ss.map((w) => sliceOf(model.params[w.param], w)),
                ss.map((w) => sliceOf(weightGrads[model.params[w.param].name], w)),
              );
            }
            const h = componentHook(c);
            return s.outputs(
              c,
              componentOutput(c, activations[h]),
              componentOutput(c, grads[h]),
              tf.tensor1d(means[c.id]),
            );
          }),
        );
        return tf.stack(per).dataSync(); // [measure * component]
      });
      sums.forEach((sum, m) => components.forEach((_, i) => (sum[i] += values[m * components.length + i])));
    } finally {
      for (const t of [...Object.values(grads), ...Object.values(activations), ...Object.values(weightGrads)])
        t.dispose();
    }
  }
  return Object.fromEntries(
    names.map((n, m) => [n, Object.fromEntries(components.map((c, i) => [c.id, sums[m][i] / batches.length]))]),
  );
}
