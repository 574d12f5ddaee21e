/**
 * What the weight-based measures read: every weight matrix a component owns (a head: its columns
 * of W_Q, W_K and W_V and its rows of W_O; an MLP: both of its weight matrices; biases left out, as
 * in Eq. 1); their gradients come from the shared pass (gradient-pass.ts).
 */
import { tf } from '../../kernels/tf';
import { Component } from '../../model/hooks';

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
  return [
    ...['W_q', 'W_k', 'W_v'].map((w) => ({ param: `${p}.attn.${w}.weight`, cols: span })),
    { param: `${p}.attn.W_o.weight`, rows: span },
  ];
}

export function sliceOf(t: tf.Tensor, s: WeightSlice): tf.Tensor {
  const [R, C] = t.shape;
  const [r0, r1] = s.rows ?? [0, R];
  const [c0, c1] = s.cols ?? [0, C];
  return tf.slice(t, [r0, c0], [r1 - r0, c1 - c0]);
}
