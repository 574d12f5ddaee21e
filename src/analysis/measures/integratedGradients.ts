/**
 * Integrated gradients along the path from the component's output a to its mean mu (Sundararajan,
 * Taly and Yan 2017, "Axiomatic Attribution for Deep Networks"), with k midpoint steps
 * (analysis.igSteps): (mu - a) . (1/k) sum_j dL/da at a + alpha_j (mu - a), alpha_j = (j + 1/2)/k.
 * It sums to the exact loss change of mean-ablating the component (completeness), up to the
 * quadrature; averaged over the first analysis.igBatches of Eq. 1's batches (one forward and
 * backward pass per component, step and batch, from the component's block on: the blocks before it
 * are the batch's residual stream, computed once per batch). Stacking a component's k steps on the
 * batch axis in one pass was measured slower here (the paper's model, 8 steps: 13.1 s one step a
 * pass, 13.3 / 16.4 / 19.8 s at 2 / 4 / 8 steps a pass) and, on the native kernels, not the same
 * bits as one pass per step (4.5e-6 relative): the steps go one pass each.
 */
import { checkInterrupted } from '../../base/stop';
import { ActivationCache, activationGrads, runWithCache } from '../../model/activations';
import { tf } from '../../kernels/tf';
import { tokensTensor } from '../../model/eval';
import { Transformer } from '../../model/model';
import { Component, componentHook, componentPatch, hooks } from '../../model/hooks';
import { Batch } from '../../tasks';
import { registerMeasure } from '../registry';
import { measureInfo } from '../measure-info';
import { componentOutput } from './outputs';

/**
 * Integrated gradients of the batch's loss for component c, from its output `a` to `target` (a
 * vector that broadcasts), k midpoint steps. `cache` holds the batch's unpatched activations at
 * c's hook point and at its block's hook_resid_pre (where each step's pass starts).
 */
export function integratedGradient(
  model: Transformer,
  batch: Batch,
  cache: ActivationCache,
  c: Component,
  target: tf.Tensor,
  k: number,
): number {
  const hook = componentHook(c);
  const from = { layer: c.layer, resid: cache.get(hooks.residPre(c.layer)) };
  const delta = tf.tidy(() => tf.sub(target, componentOutput(c, cache.get(hook)))); // [batch, pos, width]
  let sum = 0;
  for (let j = 0; j < k; j++) {
    const alpha = (j + 0.5) / k;
    const patch = componentPatch(c, (x) => tf.add(x, tf.mul(tf.sub(target, x), alpha)));
    const g = activationGrads(model, batch, [hook], [patch], { from }).grads[hook];
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
    const hookNames = [
      ...new Set([...ctx.components.map(componentHook), ...ctx.components.map((c) => hooks.residPre(c.layer))]),
    ];
    for (const batch of batches) {
      const tokens = tokensTensor(batch);
      const { logits, cache } = runWithCache(ctx.model, tokens, { hooks: hookNames }); // each output a and block input: one forward pass per batch
      for (const c of ctx.components) {
        checkInterrupted();
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
