/**
 * What the activation-based measures share: a component's output inside its hook point's value,
 * its ablation value, and one forward and backward pass per batch over Eq. 1's batches giving every
 * component's output a and the loss gradient dL/da together.
 */
import { activationGrads } from '../../activations';
import { tf } from '../../backend';
import { Component, componentHook } from '../../model';
import type { ImportanceContext } from '../context';

/** Component c's output within its hook's value: head h's slice of hook_z [batch, pos, d_head], or the MLP's hook_mlp_out [batch, pos, d_model]. */
export function componentOutput(c: Component, hookValue: tf.Tensor): tf.Tensor {
  if (c.kind !== 'head') return hookValue;
  const [B, T, , dh] = hookValue.shape;
  return tf.reshape(tf.slice(hookValue, [0, 0, c.head!, 0], [B, T, 1, dh]), [B, T, dh]);
}

/**
 * For each of Eq. 1's batches, every component's output a and dL/da from one forward and one
 * backward pass, scored by `score(c, a, dL/da, mu)` (mu: c's pooled mean, the ablation value, as a
 * vector that broadcasts); returns each component's score averaged over the batches.
 */
export function meanOverBatches(ctx: ImportanceContext, score: (c: Component, a: tf.Tensor, g: tf.Tensor, mu: tf.Tensor) => tf.Scalar): Record<string, number> {
  const hookNames = [...new Set(ctx.components.map(componentHook))];
  const means = ctx.means();
  const sums: Record<string, number> = Object.fromEntries(ctx.components.map((c) => [c.id, 0]));
  const batches = ctx.gradBatches();
  for (const batch of batches) {
    const { grads, activations } = activationGrads(ctx.model, batch, hookNames, [], { keepActivations: true });
    const values = tf.tidy(() => tf.stack(ctx.components.map((c) => score(c, componentOutput(c, activations[componentHook(c)]), componentOutput(c, grads[componentHook(c)]), tf.tensor1d(means[c.id])))).dataSync());
    ctx.components.forEach((c, i) => (sums[c.id] += values[i]));
    for (const t of [...Object.values(grads), ...Object.values(activations)]) t.dispose();
  }
  return Object.fromEntries(ctx.components.map((c) => [c.id, sums[c.id] / batches.length]));
}
