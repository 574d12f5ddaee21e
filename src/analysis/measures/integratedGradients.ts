/**
 * Integrated gradients along the path from the component's output a to its mean mu (Sundararajan,
 * Taly and Yan 2017, "Axiomatic Attribution for Deep Networks"), with k midpoint steps
 * (analysis.igSteps): (mu - a) . (1/k) sum_j dL/da at a + alpha_j (mu - a), alpha_j = (j + 1/2)/k.
 * It sums to the exact loss change of mean-ablating the component (completeness), up to the
 * quadrature; averaged over the first analysis.igBatches of Eq. 1's batches (one backward pass per
 * component, step and batch: ~90 ms each for the paper's model here, so 4 batches of 64 with k = 8
 * take ~1 min).
 */
import { activationGrads } from '../../activations';
import { tf } from '../../backend';
import { Component, componentHook } from '../../model';
import { Batch } from '../../tasks';
import { registerMeasure } from '../importance';
import { componentFnPatch, componentOutput, gradBatches } from './outputs';

/** Integrated gradients of the batch's loss for component c from its output to `target` (a vector that broadcasts), with k midpoint steps. */
export function integratedGradient(model: Parameters<typeof activationGrads>[0], batch: Batch, c: Component, target: tf.Tensor, k: number): number {
  const hook = componentHook(c);
  const { activations, grads } = activationGrads(model, batch, [hook], [], { keepActivations: true });
  grads[hook].dispose();
  const a = componentOutput(c, activations[hook]);
  const delta = tf.sub(target, a); // [batch, pos, width]
  let sum = 0;
  for (let j = 0; j < k; j++) {
    const alpha = (j + 0.5) / k;
    const patch = componentFnPatch(c, (x) => tf.add(x, tf.mul(tf.sub(target, x), alpha)));
    const g = activationGrads(model, batch, [hook], [patch]).grads[hook];
    sum += tf.tidy(() => tf.sum(tf.mul(delta, componentOutput(c, g))).dataSync()[0]);
    g.dispose();
  }
  for (const t of [activations[hook], a, delta]) if (!t.isDisposed) t.dispose();
  return sum / k;
}

export const integratedGradients = registerMeasure({
  name: 'integratedGradients',
  description: 'integrated gradients from the output to its mean, k steps: the loss change of mean ablation, attributed (Sundararajan et al. 2017)',
  kind: 'cheap',
  compute: (ctx) => {
    const means = ctx.means();
    const out: Record<string, number> = Object.fromEntries(ctx.components.map((c) => [c.id, 0]));
    const batches = gradBatches(ctx, Math.min(ctx.cfg.igBatches, ctx.cfg.gradBatches));
    for (const batch of batches) {
      for (const c of ctx.components) {
        const mu = tf.tensor1d(means[c.id]);
        out[c.id] += integratedGradient(ctx.model, batch, c, mu, ctx.cfg.igSteps) / batches.length;
        mu.dispose();
      }
    }
    return out;
  },
});
