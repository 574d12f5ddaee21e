/**
 * G, the gradient magnitude of Eq. 1 (the paper's cheap measure), and the authors' variant of it
 * whose heads are scored by their whole layer's W_V.
 */
import { checkInterrupted } from '../../base/stop';
import { tf } from '../../kernels/tf';
import { batchLoss } from '../../model/eval';
import { weightGradsFor } from '../../model/ops';
import { Rng } from '../../base/rng';
import { makeBatch, sampleExamples } from '../../tasks';
import type { ImportanceContext } from '../context';
import { measureInfo } from '../measure-info';
import { registerMeasure } from '../registry';

/**
 * Eq. 1 from its summands: G_i = (1/B) sum_b ||grad_{W_i} L_b||_F, given each of the B batches'
 * gradient norms per component.
 */
export function eq1Mean(perBatch: readonly Record<string, number>[], ids: readonly string[]): Record<string, number> {
  const sums: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 0]));
  for (const nb of perBatch) for (const id of ids) sums[id] += nb[id];
  return Object.fromEntries(ids.map((id) => [id, sums[id] / perBatch.length]));
}

/**
 * Eq. 1: G_i = (1/B) sum_b ||grad_{W_i} L_b||_F over B batches at the OOD length.
 * Heads: the head's d_model x d_head slice of W_V; MLPs: the second linear layer's weight.
 */
export function gradientMagnitude(ctx: ImportanceContext): Record<string, number> {
  const ids = ctx.components.map((c) => c.id);
  return eq1Mean(ctx.gradNorms(ids), ids);
}

/**
 * The variant of Eq. 1 in the authors' last section: a head's G is the norm of the gradient of its
 * whole layer's W_V (so the heads of a layer tie); MLPs as in Eq. 1.
 */
export function gradientMagnitudeLayerWV(ctx: ImportanceContext): Record<string, number> {
  const rng = new Rng(ctx.seed, ctx.stream('G'));
  const layers = [...new Set(ctx.components.filter((c) => c.kind === 'head').map((c) => c.layer))];
  const mlps = ctx.components.filter((c) => c.kind === 'mlp');
  const names = layers.map((l) => `blocks.${l}.attn.W_v.weight`);
  const sums = new Map<string, number>();
  // Eq. 1 on the same batches already gave each head's slice norm per batch; the whole layer's
  // Frobenius norm is the root of the sum of its heads' squared slice norms (the slices partition W_V).
  const headsOf = (l: number) =>
    ctx.model
      .components()
      .filter((c) => c.kind === 'head' && c.layer === l)
      .map((c) => c.id);
  const cached = ctx.cachedGradNorms(layers.flatMap(headsOf));
  if (cached) {
    for (const nb of cached)
      for (const l of layers)
        sums.set(`L${l}`, (sums.get(`L${l}`) ?? 0) + Math.hypot(...headsOf(l).map((id) => nb[id])));
  }
  for (let b = 0; b < ctx.cfg.gradBatches && !cached; b++) {
    checkInterrupted();
    const batch = makeBatch(sampleExamples(ctx.task, ctx.cfg.gradBatchSize, rng, ctx.length));
    const norms = tf.tidy(() => {
      const vars = names.map((n) => ctx.model.params[n]);
      const { grads } = tf.variableGrads(() => batchLoss(ctx.model, batch, undefined, weightGradsFor(vars)), vars);
      return tf.stack(vars.map((v) => tf.norm(grads[v.name]))).dataSync();
    });
    layers.forEach((l, i) => sums.set(`L${l}`, (sums.get(`L${l}`) ?? 0) + norms[i]));
  }
  const out: Record<string, number> = {};
  for (const c of ctx.components) if (c.kind === 'head') out[c.id] = sums.get(`L${c.layer}`)! / ctx.cfg.gradBatches;
  if (mlps.length) Object.assign(out, gradientMagnitude(ctx.withConfig(ctx.cfg, ctx.evalSet, mlps)));
  return out;
}

registerMeasure({ ...measureInfo('G'), compute: gradientMagnitude });
registerMeasure({ ...measureInfo('G-layerWV'), compute: gradientMagnitudeLayerWV });
