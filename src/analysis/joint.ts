/**
 * Joint ablation (issue 43: the paper's v3 claim that first-order attribution cannot see collective
 * redundancy): the effect of ablating a set of components together, on Eq. 2's metric (the
 * exact-match drop on the run's fixed OOD evaluation set, with the cross-entropy increase beside
 * it), against its additive prediction, the sum of the members' single effects; pairwise
 * interactions C(i, j) - C(i) - C(j); and the random sets of a given size (or of a given set's
 * layer make-up) that serve as the null. The sets share passes (set-passes.ts: the same numbers
 * as a full pass with each set's patches; tested), with the ablation values the single-component
 * measures use (ctx.means() for `mean`).
 */
import { tf } from '../kernels/tf';
import { Rng } from '../base/rng';
import { Component } from '../model/hooks';
import type { ImportanceContext } from './context';
import { AblationEffect, ablationEffects, effectOfScores } from './measures/ablations';
import { setScores } from './set-passes';
import type { ComponentClass } from './ranks';

/** The ablations a set can be removed by: the pooled mean (Eq. 2's) or zero. */
export type JointAblation = 'mean' | 'zero';

/** The components named by `ids` (each once, in the model's order); throws naming an unknown or repeated one. */
function membersOf(ctx: ImportanceContext, ids: readonly string[]): Component[] {
  if (!ids.length) throw new Error('joint ablation: an empty set (allowed: one or more component ids)');
  if (new Set(ids).size !== ids.length) throw new Error(`joint ablation: a component named twice in ${ids.join(', ')}`);
  const byId = new Map(ctx.components.map((c) => [c.id, c]));
  for (const id of ids)
    if (!byId.has(id))
      throw new Error(
        `joint ablation: unknown component ${id}; allowed: ${ctx.components.map((c) => c.id).join(', ')}`,
      );
  return ctx.components.filter((c) => ids.includes(c.id));
}

/**
 * The effect of ablating each set of `sets` (component ids) together: exact-match drop and
 * cross-entropy increase, each with its 95% interval over sequences, in the order given. All sets
 * share passes (set-passes.ts); `onBatch` reports progress per evaluation batch.
 */
export function jointEffects(
  ctx: ImportanceContext,
  sets: readonly (readonly string[])[],
  ablation: JointAblation = 'mean',
  onBatch?: (done: number, batches: number) => void,
): AblationEffect[] {
  const members = sets.map((ids) => membersOf(ctx, ids));
  const values = new Map<string, tf.Tensor>(); // made here, outside the passes' tidy scopes
  for (const c of new Set(members.flat()))
    values.set(
      c.id,
      ablation === 'mean'
        ? tf.tensor1d(ctx.means()[c.id]) // [d]
        : tf.zeros([c.kind === 'head' ? ctx.model.dHead : ctx.model.cfg.dModel]),
    );
  const valueOf = (c: Component) => values.get(c.id)!;
  try {
    return setScores(ctx, members, valueOf, onBatch).map((run) => effectOfScores(ctx, [run]));
  } finally {
    for (const v of values.values()) v.dispose();
  }
}

/** The effect of ablating the components `ids` together (one set of jointEffects). */
export function jointEffect(
  ctx: ImportanceContext,
  ids: readonly string[],
  ablation: JointAblation = 'mean',
): AblationEffect {
  return jointEffects(ctx, [ids], ablation)[0];
}

/** A set's joint effect beside its additive prediction (the sum of the members' single effects) and their ratio. */
export interface JointVsAdditive {
  ids: string[];
  /** Exact-match drop with the set ablated together. */
  joint: number;
  /** The sum of the members' single exact-match drops (ablationEffects: the registered C under `mean`). */
  predicted: number;
  /** joint / predicted (NaN when the prediction is 0). */
  ratio: number;
}

/** `jointEffect` of each set against its additive prediction. */
export function jointVsAdditive(
  ctx: ImportanceContext,
  sets: readonly (readonly string[])[],
  ablation: JointAblation = 'mean',
): JointVsAdditive[] {
  const single = ablationEffects(ctx, ablation);
  const joint = jointEffects(ctx, sets, ablation);
  return sets.map((ids, k) => {
    const predicted = ids.reduce((a, id) => a + single[id].acc, 0);
    return { ids: [...ids], joint: joint[k].acc, predicted, ratio: predicted === 0 ? NaN : joint[k].acc / predicted };
  });
}

/**
 * Pairwise interactions of every pair of the context's components, in the model's order (i < j):
 * C(i, j) - C(i) - C(j) on exact match; negative where the two are redundant (removing both costs
 * less than the sum), positive where they compensate for each other.
 */
export function pairInteractions(
  ctx: ImportanceContext,
  ablation: JointAblation = 'mean',
): { a: string; b: string; interaction: number }[] {
  const single = ablationEffects(ctx, ablation);
  const cs = ctx.components;
  const pairs: [Component, Component][] = [];
  for (let i = 0; i < cs.length; i++) for (let j = i + 1; j < cs.length; j++) pairs.push([cs[i], cs[j]]);
  const both = jointEffects(
    ctx,
    pairs.map(([a, b]) => [a.id, b.id]),
    ablation,
  );
  return pairs.map(([a, b], k) => ({
    a: a.id,
    b: b.id,
    interaction: both[k].acc - single[a.id].acc - single[b.id].acc,
  }));
}

/**
 * `draws` random sets of `size` distinct components (the null for a set of that size), each in the
 * model's order; with `like`, each drawn with like's make-up: as many heads and MLPs from each
 * layer as it has. Deterministic in `rng`; throws naming the sizes allowed.
 */
export function randomSets(
  rng: Rng,
  components: readonly Component[],
  size: number,
  draws: number,
  like?: readonly Component[],
): string[][] {
  if (!Number.isInteger(size) || size < 1 || size > components.length)
    throw new Error(`random sets: size ${size}; allowed: an integer from 1 to ${components.length}`);
  if (like && like.length !== size)
    throw new Error(`random sets: size ${size}, but the make-up given has ${like.length}`);
  const order = new Map(components.map((c, i) => [c.id, i]));
  const groups = like
    ? [...new Set(like.map((c) => `${c.layer} ${c.kind}`))].map((key) => ({
        pool: components.filter((c) => `${c.layer} ${c.kind}` === key),
        n: like.filter((c) => `${c.layer} ${c.kind}` === key).length,
      }))
    : [{ pool: [...components], n: size }];
  return Array.from({ length: draws }, () =>
    groups
      .flatMap((g) => rng.shuffle(g.pool).slice(0, g.n))
      .sort((x, y) => order.get(x.id)! - order.get(y.id)!)
      .map((c) => c.id),
  );
}

/**
 * The sets issue 43 ablates together, by name: `Heroes` and `Bloats` (a run's classes, in the
 * components' order; left out when empty), and for each layer l `L<l> heads` and `L<l> all` (its
 * heads and MLP).
 */
export function namedSets(
  components: readonly Component[],
  classes: readonly ComponentClass[],
): Record<string, string[]> {
  if (classes.length !== components.length)
    throw new Error(`named sets: ${classes.length} classes for ${components.length} components`);
  const out: Record<string, string[]> = {};
  const heroes = components.filter((_, i) => classes[i] === 'HiddenHero').map((c) => c.id);
  const bloats = components.filter((_, i) => classes[i] === 'GradientBloat').map((c) => c.id);
  if (heroes.length) out.Heroes = heroes;
  if (bloats.length) out.Bloats = bloats;
  for (const l of [...new Set(components.map((c) => c.layer))].sort((a, b) => a - b)) {
    out[`L${l} heads`] = components.filter((c) => c.layer === l && c.kind === 'head').map((c) => c.id);
    out[`L${l} all`] = components.filter((c) => c.layer === l).map((c) => c.id);
  }
  return out;
}
