/**
 * Integrated gradients along the path from the component's output a to its mean mu (Sundararajan,
 * Taly and Yan 2017, "Axiomatic Attribution for Deep Networks"), with k midpoint steps
 * (analysis.igSteps): (mu - a) . (1/k) sum_j dL/da at a + alpha_j (mu - a), alpha_j = (j + 1/2)/k.
 * It sums to the exact loss change of mean-ablating the component (completeness), up to the
 * quadrature; averaged over the first analysis.igBatches of Eq. 1's batches (one backward pass per
 * component, step and batch: ~90 ms each for the paper's model here, so 4 batches of 64 with k = 8
 * take ~1 min).
 */
import { ActivationCache, activationGrads, runWithCache } from '../../activations';
import { tf } from '../../backend';
import { tokensTensor } from '../../eval';
import { Component, componentHook, componentPatch, Transformer } from '../../model';
import { Batch } from '../../tasks';
import { registerMeasure } from '../registry';
import { measureInfo } from '../measure-info';
import { componentOutput } from './outputs';

/**
 * Integrated gradients of the batch's loss for component c, from its output `a` (taken from
 * `cache`, the batch's unpatched activations) to `target` (a vector that broadcasts), k midpoint steps.
 */
export function integratedGradient(model: Transformer, batch: Batch, cache: ActivationCache, c: Component, target: tf.Tensor, k: number): number {
  const hook = componentHook(c);
  const delta = tf.tidy(() => tf.sub(target, componentOutput(c, cache.get(hook)))); // [batch, pos, width]
  let sum = 0;
  for (let j = 0; j < k; j++) {
    const alpha = (j + 0.5) / k;
    const patch = componentPatch(c, (x) => tf.add(x, tf.mul(tf.sub(target, x), alpha)));
    const g = activationGrads(model, batch, [hook], [patch]).grads[hook];
    sum += tf.tidy(() => tf.sum(tf.mul(delta, componentOutput(c, g))).dataSync()[0]);
    g.dispose();
  }
  delta.dispose();
  return sum / k;
}

export const integratedGradients = registerMeasure({
  ...measureInfo('integratedGradients'),
  compute: (ctx) => {
    const means = ctx.means();
    const out: Record<string, number> = Object.fromEntries(ctx.components.map((c) => [c.id, 0]));
    const batches = ctx.gradBatches(Math.min(ctx.cfg.igBatches, ctx.cfg.gradBatches));
    const hooks = [...new Set(ctx.components.map(componentHook))];
    for (const batch of batches) {
      const tokens = tokensTensor(batch);
      const { logits, cache } = runWithCache(ctx.model, tokens, { hooks }); // each output a: one forward pass per batch
      for (const c of ctx.components) {
        const mu = tf.tensor1d(means[c.id]);
        out[c.id] += integratedGradient(ctx.model, batch, cache, c, mu, ctx.cfg.igSteps) / batches.length;
        mu.dispose();
      }
      for (const t of [tokens, logits]) t.dispose();
      cache.dispose();
    }
    return out;
  },
});
