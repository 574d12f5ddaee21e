/**
 * The causal measures: each component's output replaced, alone, on the run's fixed OOD evaluation
 * set, by one of four ablation values,
 *  - `mean`: its pooled mean, one vector over batch and positions (the paper's C, as the authors' code);
 *  - `positionMean`: its mean at each position, one vector per position;
 *  - `zero`: zero;
 *  - `resample`: its own activation on another OOD sequence of the same length (Chan et al. 2022,
 *    causal scrubbing's resampling ablation), averaged over analysis.resampleDraws source sets;
 * each scored by exact match (the accuracy drop, as Eq. 2) and by the increase in mean
 * cross-entropy (continuous, far less noisy). Every sequence is scored on its own, so each score
 * comes with a 95% interval over the evaluation sequences (normal approximation to the mean of the
 * paired per-sequence differences). Heads are removed before W_O, as the paper's text says.
 */
import { tf } from '../../kernels/tf';
import { SequenceScores, tokensTensor } from '../../model/eval';
import { Patch } from '../../model/patches';
import { Component, componentHook, componentPatch } from '../../model/hooks';
import { Rng } from '../../base/rng';
import { Example, makeBatch, sampleExamples } from '../../tasks';
import type { ImportanceContext } from '../context';
import { ImportanceMeasure, registerMeasure } from '../registry';
import { measureInfo } from '../measure-info';
import { componentOutput } from './outputs';

export type Ablation = 'mean' | 'positionMean' | 'zero' | 'resample';

/** One component's effect under one ablation: each score with its 95% interval over sequences. */
export interface AblationEffect {
  /** Exact-match accuracy drop, Acc_base - Acc_ablated (Eq. 2's form). */
  acc: number;
  accCI: [number, number];
  /** Mean cross-entropy increase, CE_ablated - CE_base (per sequence: the mean over its target positions). */
  ce: number;
  ceCI: [number, number];
}

/** z for a two-sided 95% normal interval. */
const Z95 = 1.959963984540054;

/**
 * The 95% interval of a paired difference: `estimate` +- z * sd(d) / sqrt(n), d the per-sequence
 * differences (sample standard deviation). [NaN, NaN] below two sequences.
 */
export function pairedInterval(estimate: number, d: ArrayLike<number>): [number, number] {
  const n = d.length;
  if (n < 2) return [NaN, NaN];
  let m = 0;
  for (let i = 0; i < n; i++) m += d[i];
  m /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (d[i] - m) ** 2;
  const half = (Z95 * Math.sqrt(ss / (n - 1))) / Math.sqrt(n);
  return [estimate - half, estimate + half];
}

/** Exact-match accuracy and mean cross-entropy of a set of sequence scores. */
const accOf = (s: SequenceScores) => s.correct.filter(Boolean).length / s.correct.length;
const meanLoss = (s: SequenceScores) => s.loss.reduce((a, x) => a + x, 0) / s.loss.length;

/**
 * Each component's effect when its output is replaced by the per-batch values `draws[r](c, k)` (one
 * function per draw r; k the evaluation batch), scored against the unablated model on the same
 * sequences: per sequence, the exact-match and cross-entropy differences averaged over draws.
 */
export function ablationEffectsOf(
  ctx: ImportanceContext,
  draws: ((c: Component, k: number) => Patch)[],
): Record<string, AblationEffect> {
  const out: Record<string, AblationEffect> = {};
  for (const c of ctx.components)
    out[c.id] = patchedEffect(
      ctx,
      c.layer,
      draws.map((patchOf) => (k: number) => [patchOf(c, k)]),
    );
  return out;
}

/**
 * The effect of the patches `draws[r](k)` (one function per draw r, the patches of evaluation batch
 * k; the first patched block `first`), scored against the unablated model on the same sequences:
 * per sequence, the exact-match and cross-entropy differences averaged over draws. One component's
 * (ablationEffectsOf) or a set's (src/analysis/joint.ts) alike.
 */
export function patchedEffect(
  ctx: ImportanceContext,
  first: number,
  draws: ((k: number) => Patch[])[],
): AblationEffect {
  const cache = ctx.evalResiduals();
  return effectOfScores(
    ctx,
    draws.map((patchesOf) => cache.scoresFrom(first, patchesOf)),
  );
}

/** The unablated model's scores on the evaluation set, once per context. */
export function baseScores(ctx: ImportanceContext): SequenceScores {
  return ctx.memo('evalScores', () => ctx.evalResiduals().scoresFrom(0));
}

/**
 * The effect of an ablation whose draws scored the evaluation set as `runs`, against the unablated
 * model on the same sequences: per sequence, the exact-match and cross-entropy differences
 * averaged over draws, with their 95% intervals.
 */
export function effectOfScores(ctx: ImportanceContext, runs: readonly SequenceScores[]): AblationEffect {
  const base = baseScores(ctx);
  const n = base.correct.length;
  const dAcc = new Float64Array(n);
  const dCe = new Float64Array(n);
  for (const r of runs) {
    for (let i = 0; i < n; i++) {
      dAcc[i] += (Number(base.correct[i]) - Number(r.correct[i])) / runs.length;
      dCe[i] += (r.loss[i] - base.loss[i]) / runs.length;
    }
  }
  // Eq. 2's form for the estimate (base accuracy minus ablated accuracy), as the paper's C is computed.
  const acc = accOf(base) - runs.reduce((a, r) => a + accOf(r), 0) / runs.length;
  const ce = runs.reduce((a, r) => a + meanLoss(r), 0) / runs.length - meanLoss(base);
  return { acc, accCI: pairedInterval(acc, dAcc), ce, ceCI: pairedInterval(ce, dCe) };
}

/** The width of component c's output: d_head for a head, d_model for an MLP. */
const widthOf = (ctx: ImportanceContext, c: Component) => (c.kind === 'head' ? ctx.model.dHead : ctx.model.cfg.dModel);

/**
 * Resampling from fixed source sets: in draw r, evaluation sequence i gets component c's activation
 * on sources[r][i] (same length), computed by one unpatched pass over the sources.
 */
export function resampleEffects(
  ctx: ImportanceContext,
  sources: readonly (readonly Example[])[],
): Record<string, AblationEffect> {
  const cache = ctx.evalResiduals();
  const batches = cache.batchList();
  const hookNames = [...new Set(ctx.components.map(componentHook))];
  const held: tf.Tensor[] = [];
  try {
    const draws = sources.map((src) => {
      if (src.length !== cache.examples.length)
        throw new Error(`resample: ${src.length} source sequences for ${cache.examples.length} evaluation sequences`);
      // Source activations per evaluation batch, at every component's hook point.
      const perBatch = batches.map((batch, k) => {
        const chunk = src.slice(k * cache.batchSize, k * cache.batchSize + batch.B);
        if (chunk.some((ex, i) => ex.x.length !== cache.examples[k * cache.batchSize + i].x.length))
          throw new Error('resample: a source sequence differs in length from its evaluation sequence');
        const acts = sourceActivations(ctx, chunk, hookNames);
        held.push(...Object.values(acts));
        return acts;
      });
      return (c: Component, k: number) => componentPatch(c, componentOutput(c, perBatch[k][componentHook(c)]));
    });
    return ablationEffectsOf(ctx, draws);
  } finally {
    for (const t of held) t.dispose();
  }
}

/** The activations at `hookNames` on `examples` (one unpatched pass; the caller disposes them). */
function sourceActivations(
  ctx: ImportanceContext,
  examples: readonly Example[],
  hookNames: string[],
): Record<string, tf.Tensor> {
  const batch = makeBatch(examples, 'contiguous');
  return tf.tidy(() => {
    const { cache } = ctx.model.forward(tokensTensor(batch), { cache: hookNames });
    return Object.fromEntries(hookNames.map((h) => [h, cache[h]])) as Record<string, tf.Tensor>;
  });
}

/** Each component's effect under `ablation`, computed once per context (the exact-match and cross-entropy measures share it). */
export function ablationEffects(ctx: ImportanceContext, ablation: Ablation): Record<string, AblationEffect> {
  return ctx.memo(`ablation:${ablation}`, () => {
    if (ablation === 'resample') {
      const sources = Array.from({ length: ctx.cfg.resampleDraws }, (_, r) =>
        sampleExamples(ctx.task, ctx.evalSet.length, new Rng(ctx.seed, ctx.stream(`resample-${r + 1}`)), ctx.length),
      );
      return resampleEffects(ctx, sources);
    }
    const T = ctx.evalResiduals().batchList()[0].T;
    const valueOf = (c: Component): tf.Tensor => {
      const w = widthOf(ctx, c);
      if (ablation === 'mean') return tf.tensor1d(ctx.means()[c.id]); // [d]
      if (ablation === 'zero') return tf.zeros([w]); // [d]
      const pm = ctx.positionMeans()[c.id];
      if (pm.length !== T * w)
        throw new Error(`per-position mean of ${c.id}: ${pm.length / w} positions, the evaluation sequences have ${T}`);
      return tf.tensor2d(pm, [T, w]); // [pos, d]
    };
    const values = new Map<string, tf.Tensor>();
    try {
      return ablationEffectsOf(ctx, [
        (c) => {
          if (!values.has(c.id)) values.set(c.id, tf.keep(valueOf(c)));
          return componentPatch(c, values.get(c.id)!);
        },
      ]);
    } finally {
      for (const t of values.values()) t.dispose();
    }
  });
}

/** Whether the registered C is Eq. 2 as ablationEffects computes it: paired scoring, heads removed before W_O. */
const cIsEffects = (ctx: ImportanceContext) => ctx.cfg.paired && ctx.cfg.headAblation === 'before-WO';

const scoreOf = (ctx: ImportanceContext, ablation: Ablation, score: 'acc' | 'ce') => {
  const e = ablationEffects(ctx, ablation);
  return Object.fromEntries(ctx.components.map((c) => [c.id, e[c.id][score]]));
};
const intervalOf = (ctx: ImportanceContext, ablation: Ablation, score: 'acc' | 'ce') => {
  const e = ablationEffects(ctx, ablation);
  return Object.fromEntries(ctx.components.map((c) => [c.id, e[c.id][score === 'acc' ? 'accCI' : 'ceCI']]));
};

/**
 * Eq. 2: C_i = Acc_base - Acc_ablated(i -> mu_i), mu_i the component's mean output at the OOD length,
 * under the context's scoring (paired or not) and head ablation (before or after W_O). The registered
 * measure C below gives the same numbers with an interval when it can.
 */
export function meanAblation(ctx: ImportanceContext): Record<string, number> {
  const means = ctx.means();
  const base = ctx.baseline();
  const rng = new Rng(ctx.seed, ctx.stream('C'));
  const out: Record<string, number> = {};
  for (const c of ctx.components) out[c.id] = base - ctx.ablatedAccuracy({ [c.id]: means[c.id] }, rng);
  return out;
}

/**
 * Eq. 2, C_i = Acc_base - Acc_ablated(i -> mu_i): with paired scoring and heads removed before W_O,
 * from per-sequence scores (the same numbers as meanAblation, with an interval); otherwise (the
 * authors' unpaired, after-W_O protocol) meanAblation itself, without one.
 */
export const C = registerMeasure({
  ...measureInfo('C'),
  compute: (ctx) => (cIsEffects(ctx) ? scoreOf(ctx, 'mean', 'acc') : meanAblation(ctx)),
  intervals: (ctx) => (cIsEffects(ctx) ? intervalOf(ctx, 'mean', 'acc') : null),
});

/** A causal measure: an ablation scored by exact match (`acc`) or cross-entropy (`ce`); its name and description: measure-info.ts. */
function causal(name: string, ablation: Ablation, score: 'acc' | 'ce'): ImportanceMeasure {
  return registerMeasure({
    ...measureInfo(name),
    compute: (ctx) => scoreOf(ctx, ablation, score),
    intervals: (ctx) => intervalOf(ctx, ablation, score),
  });
}

export const C_CE = causal('C-CE', 'mean', 'ce');
export const Cpos = causal('Cpos', 'positionMean', 'acc');
export const Cpos_CE = causal('Cpos-CE', 'positionMean', 'ce');
export const Czero = causal('Czero', 'zero', 'acc');
export const Czero_CE = causal('Czero-CE', 'zero', 'ce');
export const Cresample = causal('Cresample', 'resample', 'acc');
export const Cresample_CE = causal('Cresample-CE', 'resample', 'ce');
