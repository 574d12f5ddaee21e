/**
 * A run's activations and their gradients, in TransformerLens's terms: `runWithCache` keeps the
 * activation at every hook point (an `ActivationCache`), `activationGrads` gives the loss gradient
 * with respect to the activations at any set of hook points in one backward pass. Both take the
 * same patches as `Transformer.forward`, scoped to the call.
 */
import { tf } from '../kernels/tf';
import { batchLoss } from './eval';
import { ForwardOptions, Transformer } from './model';
import { weightGradsFor } from './ops';
import { Patch } from './patches';
import type { Batch } from '../tasks';

/** Activations by hook point name (`blocks.{l}.attn.hook_z`, ...), as one forward pass saw them. */
export class ActivationCache {
  constructor(private readonly values: Record<string, tf.Tensor>) {}

  /** The hook points held, in the order the forward pass reached them. */
  hooks(): string[] {
    return Object.keys(this.values);
  }

  has(hook: string): boolean {
    return hook in this.values;
  }

  /** The activation at `hook` (owned by the cache: clone it to keep it past dispose()). */
  get(hook: string): tf.Tensor {
    const v = this.values[hook];
    if (!v)
      throw new Error(`ActivationCache: no activation at ${JSON.stringify(hook)}; cached: ${this.hooks().join(', ')}`);
    return v;
  }

  dispose(): void {
    for (const v of Object.values(this.values)) v.dispose();
  }
}

/** The shape of the activation at `hook` for `B` sequences of `T` tokens. */
export function hookShape(model: Transformer, hook: string, B: number, T: number): number[] {
  const { nHeads: H, dModel: D } = model.cfg;
  if (!model.hookPoints().includes(hook))
    throw new Error(`unknown hook point ${JSON.stringify(hook)}; allowed: ${model.hookPoints().join(', ')}`);
  if (hook.endsWith('attn.hook_pattern')) return [B, H, T, T]; // [batch, head, query_pos, key_pos]
  if (hook.endsWith('attn.hook_z')) return [B, T, H, model.dHead]; // [batch, pos, head, d_head]
  return [B, T, D]; // [batch, pos, d_model]
}

/** One forward pass keeping the activations at `hookNames` (default: every hook point). The caller disposes both. */
export function runWithCache(
  model: Transformer,
  tokens: tf.Tensor2D,
  opts: { hooks?: readonly string[]; patches?: readonly Patch[] } = {},
): { logits: tf.Tensor3D; cache: ActivationCache } {
  const wanted = opts.hooks ?? model.hookPoints();
  const { logits, cache } = tf.tidy(() => {
    const r = model.forward(tokens, { patches: opts.patches, cache: wanted });
    return { logits: r.logits, cache: r.cache } as unknown as tf.TensorContainer;
  }) as unknown as { logits: tf.Tensor3D; cache: Record<string, tf.Tensor> };
  return { logits, cache: new ActivationCache(Object.fromEntries(wanted.map((h) => [h, cache[h]]))) };
}

/**
 * The batch's mean loss and its gradient with respect to the activation at each of `hookNames`,
 * in one backward pass (after `patches`, which apply first): each activation a gets a zero
 * addend d (the patch a -> a + d), and dL/dd at d = 0 is dL/da. Weight gradients are computed
 * only for `opts.weights` (default none), in the same pass: each variable's gradient by name.
 * With `opts.from` the pass starts at that block from its residual stream (model.ts ForwardOptions).
 * With `keepActivations`, the activations themselves (after `patches`) come back too. The caller
 * disposes the tensors returned.
 */
export function activationGrads(
  model: Transformer,
  batch: Batch,
  hookNames: readonly string[],
  patches: readonly Patch[] = [],
  opts: { keepActivations?: boolean; weights?: readonly tf.Variable[]; from?: ForwardOptions['from'] } = {},
): {
  loss: number;
  grads: Record<string, tf.Tensor>;
  activations: Record<string, tf.Tensor>;
  weightGrads: Record<string, tf.Tensor>;
} {
  if (new Set(hookNames).size !== hookNames.length)
    throw new Error(`activationGrads: a hook point is listed twice in ${hookNames.join(', ')}`);
  const weights = opts.weights ?? [];
  const zeros = hookNames.map((h) => tf.zeros(hookShape(model, h, batch.B, batch.T)));
  const activations: Record<string, tf.Tensor> = {};
  try {
    const addend = (hook: string, d: tf.Tensor) => (a: tf.Tensor) => {
      if (opts.keepActivations) activations[hook] = tf.keep(a);
      return tf.add(a, d);
    };
    // Weight gradients only for the weights asked for (none: only the activations').
    const f = (...ds: tf.Tensor[]) =>
      batchLoss(
        model,
        batch,
        [...patches, ...hookNames.map((hook, i) => ({ hook, value: addend(hook, ds[i]) }))],
        weightGradsFor(weights),
        opts.from,
      );
    const { value, grads } = tf.valueAndGrads(f)([...zeros, ...weights]);
    const loss = value.dataSync()[0];
    value.dispose();
    return {
      loss,
      grads: Object.fromEntries(hookNames.map((h, i) => [h, grads[i]])),
      activations,
      weightGrads: Object.fromEntries(weights.map((w, i) => [w.name, grads[hookNames.length + i]])),
    };
  } finally {
    for (const z of zeros) z.dispose();
  }
}
