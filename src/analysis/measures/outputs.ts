/**
 * A component's output inside its hook point's value: what the activation-based measures read
 * (the gradient measures' a and dL/da come from the shared pass, gradient-pass.ts; the ablations
 * replace it).
 */
import { tf } from '../../kernels/tf';
import { Component } from '../../model/hooks';

/** Component c's output within its hook's value: head h's slice of hook_z [batch, pos, d_head], or the MLP's hook_mlp_out [batch, pos, d_model]. */
export function componentOutput(c: Component, hookValue: tf.Tensor): tf.Tensor {
  if (c.kind !== 'head') return hookValue;
  const [B, T, , dh] = hookValue.shape;
  return tf.reshape(tf.slice(hookValue, [0, 0, c.head!, 0], [B, T, 1, dh]), [B, T, dh]);
}
