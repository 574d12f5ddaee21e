/**
 * Many sets of components ablated, each set on its own, in shared passes (issue 43's cost: the
 * joint sets, their null and all 190 pairs of one model). A forward pass is a chain of steps
 * (each block's attention half, then its MLP half, then the unembedding); a set patches only the
 * steps its members sit in, so two sets that patch the first s steps alike have the same residual
 * stream entering step s. The sets are walked as a tree of those shared prefixes: each distinct
 * prefix is computed once, and a set's steps before its first patch are read from the unpatched
 * residual cache. Every set gets the numbers a full forward pass with its patches gives, bit for
 * bit (the same ops in the same order: Transformer.step; test/joint.test.ts).
 *
 * Stacking several sets on the batch axis was measured and gives nothing on these kernels (one
 * pass over 1,000 sequences costs the same in batches of 125, 256 or 1,000: the products are
 * compute-bound), so the saving is in the shared prefixes alone.
 */
import { tf } from '../kernels/tf';
import { checkInterrupted } from '../base/stop';
import { sequenceScoresFromLogits, SequenceScores } from '../model/eval';
import { ForwardStep } from '../model/model';
import { Component, componentPatch } from '../model/hooks';
import type { ImportanceContext } from './context';

/** The forward pass's steps in order: for each block its attention half and its MLP half, then the unembedding. */
export function forwardSteps(nLayers: number): ForwardStep[] {
  const out: ForwardStep[] = [];
  for (let l = 0; l < nLayers; l++) out.push({ layer: l, part: 'attn' }, { layer: l, part: 'mlp' });
  out.push({ part: 'unembed' });
  return out;
}

/** The step a component's output is patched in: its block's attention half (a head) or MLP half. */
const stepOf = (c: Component) => 2 * c.layer + (c.kind === 'head' ? 0 : 1);

/** How many step computations the shared prefixes of `sets` take (the unpatched prefixes excluded). */
export function stepCount(sets: readonly (readonly Component[])[], nLayers: number): number {
  let n = 0;
  walk(
    sets.map((s) => [...s]),
    nLayers,
    () => n++,
    () => undefined,
  );
  return n;
}

/**
 * The tree of shared prefixes, depth first: `enter(step, members, patched, parent)` computes the
 * step for the sets `members` (which patch it alike, with `patched`) from its parent's value (null:
 * the unpatched residual entering the sets' first patched step); `leave(value)` is called once the
 * step's subtree is done, so at most one value per step is alive at a time.
 */
function walk<T>(
  sets: Component[][],
  nLayers: number,
  enter: (step: number, members: number[], patched: Component[], parent: T | null) => T,
  leave: (value: T) => void,
): void {
  const S = 2 * nLayers;
  // A set's patches at step s, in any order of its members (the ids sorted): sets alike there share the step.
  const keyAt = (set: Component[], s: number) =>
    set
      .filter((c) => stepOf(c) === s)
      .map((c) => c.id)
      .sort()
      .join(',');
  const rec = (s: number, members: number[], parent: T | null) => {
    const groups = new Map<string, number[]>();
    for (const i of members) {
      const k = s === S ? '' : keyAt(sets[i], s);
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k)!.push(i);
    }
    for (const group of groups.values()) {
      const v = enter(s, group, s === S ? [] : sets[group[0]].filter((c) => stepOf(c) === s), parent);
      try {
        if (s < S) rec(s + 1, group, v);
      } finally {
        leave(v);
      }
    }
  };
  // Sets grouped by their first patched step: the steps before it are the unpatched model's.
  const byFirst = new Map<number, number[]>();
  sets.forEach((set, i) => {
    const f = Math.min(...set.map(stepOf));
    if (!byFirst.has(f)) byFirst.set(f, []);
    byFirst.get(f)!.push(i);
  });
  for (const f of [...byFirst.keys()].sort((a, b) => a - b)) rec(f, byFirst.get(f)!, null);
}

/**
 * The evaluation set's scores with each set's members replaced together by `valueOf(c)` (a tensor
 * broadcasting to the component's output: its mean, zero; made before the call, since the passes
 * run in tidy scopes), one SequenceScores per set in the
 * order given. Sets may repeat (each is computed once). `onBatch(k, batches)` reports progress
 * after each evaluation batch; a stop signal is honoured between batches.
 */
export function setScores(
  ctx: ImportanceContext,
  sets: readonly (readonly Component[])[],
  valueOf: (c: Component) => tf.Tensor,
  onBatch?: (done: number, batches: number) => void,
): SequenceScores[] {
  const L = ctx.model.cfg.nLayers;
  const order = new Map(ctx.components.map((c, i) => [c.id, i]));
  const canon = sets.map((s) => {
    if (!s.length) throw new Error('set passes: an empty set (allowed: one or more components)');
    return [...s].sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  });
  const keys = canon.map((s) => s.map((c) => c.id).join(','));
  const unique = [...new Set(keys)];
  const uniqueSets = unique.map((k) => canon[keys.indexOf(k)]);
  const steps = forwardSteps(L);
  const cache = ctx.evalResiduals();
  const batches = cache.batchList();
  const scores: SequenceScores[] = unique.map(() => ({ correct: [], loss: new Float64Array(0) }));
  const losses: number[][] = unique.map(() => []);
  batches.forEach((batch, k) => {
    checkInterrupted();
    const baseMid = new Map<number, tf.Tensor>(); // block l's unpatched residual after its attention half
    const inputOf = (s: number): tf.Tensor => {
      const l = Math.floor(s / 2);
      if (s % 2 === 0) return cache.residual(k, l);
      if (!baseMid.has(l))
        baseMid.set(
          l,
          tf.tidy(() => ctx.model.step(steps[s - 1], cache.residual(k, l))),
        );
      return baseMid.get(l)!;
    };
    try {
      walk<tf.Tensor | null>(
        uniqueSets,
        L,
        (s, members, patched, parent) => {
          const x = parent ?? inputOf(s);
          const y = tf.tidy(() =>
            ctx.model.step(
              steps[s],
              x,
              patched.map((c) => componentPatch(c, valueOf(c))),
            ),
          );
          if (s < steps.length - 1) return y;
          const sc = sequenceScoresFromLogits(y as tf.Tensor3D, batch);
          y.dispose();
          for (const i of members) {
            scores[i].correct.push(...sc.correct);
            losses[i].push(...sc.loss);
          }
          return null;
        },
        (y) => y?.dispose(),
      );
    } finally {
      for (const t of baseMid.values()) t.dispose();
    }
    onBatch?.(k + 1, batches.length);
  });
  unique.forEach((_, i) => (scores[i].loss = Float64Array.from(losses[i])));
  return keys.map((k) => scores[unique.indexOf(k)]);
}
