/**
 * What the activation-based measures share: a component's output inside its hook point's value,
 * its ablation value, and one forward and backward pass per batch over Eq. 1's batches giving every
 * component's output a and the loss gradient dL/da together.
 */
import { activationGrads } from '../../activations';
import { tf } from '../../backend';
import { Component, componentHook, Patch } from '../../model';
import { Rng } from '../../rng';
import { Batch, makeBatch, sampleExamples } from '../../tasks';
import type { ImportanceContext } from '../importance';

/** Component c's output within its hook's value: head h's slice of hook_z [batch, pos, d_head], or the MLP's hook_mlp_out [batch, pos, d_model]. */
export function componentOutput(c: Component, hookValue: tf.Tensor): tf.Tensor {
  if (c.kind !== 'head') return hookValue;
  const [B, T, , dh] = hookValue.shape;
  return tf.reshape(tf.slice(hookValue, [0, 0, c.head!, 0], [B, T, 1, dh]), [B, T, dh]);
}

/** A patch that maps c's output a to f(a) (heads: only head h's slice of hook_z). */
export function componentFnPatch(c: Component, f: (a: tf.Tensor) => tf.Tensor): Patch {
  return c.kind === 'head' ? { hook: componentHook(c), head: c.head, value: f } : { hook: componentHook(c), value: f };
}

/** The first `count` of the batches Eq. 1 is computed on (the context's 'G' stream), drawn afresh: the activation-based measures score the same data as G. */
export function gradBatches(ctx: ImportanceContext, count = ctx.cfg.gradBatches): Batch[] {
  const rng = new Rng(ctx.seed, ctx.stream('G'));
  return Array.from({ length: count }, () => makeBatch(sampleExamples(ctx.task, ctx.cfg.gradBatchSize, rng, ctx.length)));
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
  const batches = gradBatches(ctx);
  for (const batch of batches) {
    const { grads, activations } = activationGrads(ctx.model, batch, hookNames, [], { keepActivations: true });
    const values = tf.tidy(() => tf.stack(ctx.components.map((c) => score(c, componentOutput(c, activations[componentHook(c)]), componentOutput(c, grads[componentHook(c)]), tf.tensor1d(means[c.id])))).dataSync());
    ctx.components.forEach((c, i) => (sums[c.id] += values[i]));
    for (const t of [...Object.values(grads), ...Object.values(activations)]) t.dispose();
  }
  return Object.fromEntries(ctx.components.map((c) => [c.id, sums[c.id] / batches.length]));
}
