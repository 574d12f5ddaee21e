/**
 * What the weight-based measures share: every weight matrix a component owns (a head: its columns
 * of W_Q, W_K and W_V and its rows of W_O; an MLP: both of its weight matrices; biases left out, as
 * in Eq. 1), and the loss gradient with respect to all of them from one backward pass per batch of
 * Eq. 1's batches.
 */
import { tf } from '../../backend';
import { batchLoss } from '../../eval';
import { Component, Transformer, weightGradsFor } from '../../model';
import type { ImportanceContext } from '../context';

/** One block of a parameter: rows [r0, r1) and columns [c0, c1) of a [in, out] weight. */
export interface WeightSlice {
  param: string;
  rows?: [number, number];
  cols?: [number, number];
}

/** The weights component c owns ([in, out] layout: a head's W_Q/W_K/W_V columns and W_O rows h*d_head..). */
export function componentWeights(c: Component, dHead: number): WeightSlice[] {
  const p = `blocks.${c.layer}`;
  if (c.kind === 'mlp') return [{ param: `${p}.mlp.0.weight` }, { param: `${p}.mlp.2.weight` }];
  const span: [number, number] = [c.head! * dHead, (c.head! + 1) * dHead];
  return [...['W_q', 'W_k', 'W_v'].map((w) => ({ param: `${p}.attn.${w}.weight`, cols: span })), { param: `${p}.attn.W_o.weight`, rows: span }];
}

export function sliceOf(t: tf.Tensor, s: WeightSlice): tf.Tensor {
  const [R, C] = t.shape;
  const [r0, r1] = s.rows ?? [0, R];
  const [c0, c1] = s.cols ?? [0, C];
  return tf.slice(t, [r0, c0], [r1 - r0, c1 - c0]);
}

/**
 * For each of Eq. 1's batches, the loss gradient w.r.t. every weight the components own (one
 * backward pass), scored per component by `score(weights, grads)` over its slices; returns each
 * component's score averaged over the batches.
 */
export function meanOverWeightGrads(ctx: ImportanceContext, score: (w: tf.Tensor[], g: tf.Tensor[]) => tf.Scalar): Record<string, number> {
  const model: Transformer = ctx.model;
  const slices = ctx.components.map((c) => componentWeights(c, model.dHead));
  const names = [...new Set(slices.flat().map((s) => s.param))];
  const vars = names.map((n) => model.params[n]);
  const sums: Record<string, number> = Object.fromEntries(ctx.components.map((c) => [c.id, 0]));
  const batches = ctx.gradBatches();
  for (const batch of batches) {
    const values = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => batchLoss(model, batch, undefined, weightGradsFor(vars)), vars);
      return tf.stack(slices.map((ss) => score(ss.map((s) => sliceOf(model.params[s.param], s)), ss.map((s) => sliceOf(grads[model.params[s.param].name], s))))).dataSync();
    });
    ctx.components.forEach((c, i) => (sums[c.id] += values[i]));
  }
  return Object.fromEntries(ctx.components.map((c) => [c.id, sums[c.id] / batches.length]));
}
