/**
 * Gradients of the loss with respect to component weights: each head's slice of W_V
 * (d_model x d_head) and each MLP's second-layer weight (d_ff x d_model). Bias gradients are not
 * included. `componentGradNorms` returns one batch's Frobenius norms, the term Eq. 1 averages.
 */
import { tf } from '../kernels/tf';
import type { Batch } from '../tasks';
import { batchLoss } from './eval';
import { Transformer } from './model';
import { weightGradsFor } from './ops';
import { Patch } from './patches';
import { Component } from './hooks';

/** Where a component's weights live for Eq. 1: heads, their W_V columns; MLPs, the second layer's weight. */
export function componentWeight(c: Component, dHead: number): { param: string; cols?: [number, number] } {
  if (c.kind === 'head')
    return { param: `blocks.${c.layer}.attn.W_v.weight`, cols: [c.head! * dHead, (c.head! + 1) * dHead] };
  return { param: `blocks.${c.layer}.mlp.2.weight` };
}

export interface ComponentGrads {
  loss: number;
  /** Gradient of each component's weights, keyed by component id (caller disposes). */
  grads: Record<string, tf.Tensor2D>;
}

/** The gradient of one batch's loss with respect to each component's weights. */
export function componentGrads(
  model: Transformer,
  batch: Batch,
  components: readonly Component[] = model.components(),
  patches?: readonly Patch[],
): ComponentGrads {
  const where = components.map((c) => componentWeight(c, model.dHead));
  const paramNames = [...new Set(where.map((w) => w.param))];
  const vars = paramNames.map((n) => model.params[n]);
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => batchLoss(model, batch, patches, weightGradsFor(vars)), vars);
    const out: Record<string, tf.Tensor2D> = {};
    components.forEach((c, i) => {
      const w = where[i];
      const g = grads[model.params[w.param].name] as tf.Tensor2D; // [in, out]
      out[c.id] = (
        w.cols ? tf.slice(g, [0, w.cols[0]], [g.shape[0], w.cols[1] - w.cols[0]]) : tf.clone(g)
      ) as tf.Tensor2D;
    });
    const loss = value.dataSync()[0];
    return { loss, grads: out } as unknown as tf.TensorContainer;
  }) as unknown as ComponentGrads;
}

/** Frobenius norm of the gradient of one batch's loss w.r.t. each component's weights. */
export function componentGradNorms(
  model: Transformer,
  batch: Batch,
  components: readonly Component[] = model.components(),
): { loss: number; norms: Record<string, number> } {
  const { loss, grads } = componentGrads(model, batch, components);
  const ids = Object.keys(grads);
  const normsT = tf.tidy(() => tf.stack(ids.map((id) => tf.norm(grads[id]))));
  const values = normsT.dataSync();
  normsT.dispose();
  for (const g of Object.values(grads)) g.dispose();
  const norms: Record<string, number> = {};
  ids.forEach((id, i) => (norms[id] = values[i]));
  return { loss, norms };
}
