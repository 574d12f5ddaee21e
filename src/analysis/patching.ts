/**
 * Replacing components' outputs: the patches for a set of values (heads before W_O, or the
 * authors' slice after it), and the exact-match accuracy of the model so patched.
 */
import { checkInterrupted } from '../base/stop';
import { tf } from '../kernels/tf';
import { AnalysisConfig } from '../settings/config';
import { accuracy, exactMatch, ResidCache } from '../model/eval';
import { Transformer } from '../model/model';
import { Patch } from '../model/patches';
import { componentPatch, hooks } from '../model/hooks';
import { Example } from '../tasks';

/**
 * Builds the patches that replace each listed component's output with its value, runs `fn`, and
 * disposes them. Heads follow `headAblation` (see HeadAblation in config.ts).
 */
export function withPatches<T>(
  model: Transformer,
  values: Record<string, Float32Array>,
  headAblation: AnalysisConfig['headAblation'],
  fn: (patches: Patch[]) => T,
): T {
  const byId = new Map(model.components().map((c) => [c.id, c]));
  const tensors: tf.Tensor[] = [];
  const patches = Object.entries(values).map(([id, v]) => {
    const c = byId.get(id);
    if (!c) throw new Error(`unknown component ${id}`);
    const t = tf.tensor1d(v);
    tensors.push(t);
    if (c.kind === 'head' && headAblation === 'after-WO-slice') {
      const dh = model.dHead;
      return { hook: hooks.attnOut(c.layer), cols: [c.head! * dh, (c.head! + 1) * dh] as [number, number], value: t };
    }
    return componentPatch(c, t);
  });
  try {
    return fn(patches);
  } finally {
    for (const t of tensors) t.dispose();
  }
}

/**
 * Exact-match accuracy on `examples` with the listed components' outputs replaced by the given
 * values. With `residuals` (computed for these same examples) the pass starts at the first
 * patched block, which gives the same result.
 */
export function accuracyWith(
  model: Transformer,
  values: Record<string, Float32Array>,
  headAblation: AnalysisConfig['headAblation'],
  examples: readonly Example[],
  residuals?: ResidCache,
): number {
  checkInterrupted(); // between ablations
  if (residuals && residuals.examples !== examples)
    throw new Error('accuracyWith: the residual cache was computed for other examples');
  const ids = Object.keys(values);
  const byId = new Map(model.components().map((c) => [c.id, c]));
  const first = Math.min(...ids.map((id) => byId.get(id)?.layer ?? 0));
  return withPatches(model, values, headAblation, (patches) =>
    accuracy(
      residuals && ids.length ? residuals.exactMatchFrom(first, patches) : exactMatch(model, examples, { patches }),
    ),
  );
}
