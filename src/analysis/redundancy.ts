/**
 * The redundancy analysis of one trained model (issue 43; the paper's v3 claim that first-order
 * attribution cannot see collective redundancy), on Eq. 2's metric (mean ablation, exact-match
 * drop, on the run's fixed OOD evaluation set; the cross-entropy increase beside it):
 *  - the named sets (Heroes, Bloats, each layer's heads, each layer's components) ablated
 *    together, each against its additive prediction (the sum of its members' single C);
 *  - the null: `nullDraws` random sets of each named set's size, and of its layer make-up;
 *  - every pair's joint effect (interaction C(i, j) - C(i) - C(j));
 *  - Shapley values of the ablation effect over the components, by `permutations` sampled
 *    permutations (the mean marginal effect of adding a component to the set ablated before it,
 *    with its Monte Carlo standard error: the marginals' sd / sqrt(permutations)).
 * Plain numbers out, no tensors, no files.
 */
import { Rng } from '../base/rng';
import type { ImportanceContext } from './context';
import { jointEffects, namedSets, randomSets } from './joint';
import { stepCount } from './set-passes';
import { ablationEffects, AblationEffect } from './measures/ablations';
import type { ComponentClass } from './ranks';

export interface RedundancySettings {
  /** Random sets drawn for each named set's size, and for each Hero or Bloat set's layer make-up (the null). */
  nullDraws: number;
  /** Permutations sampled for the Shapley values. */
  permutations: number;
}

/** A set ablated together: its effect, and its additive prediction (the sum of its members' single effects). */
export interface SetEffect {
  name: string;
  ids: string[];
  acc: number;
  accCI: [number, number];
  ce: number;
  ceCI: [number, number];
  /** Sum of the members' single exact-match drops (their C). */
  predicted: number;
  /** Sum of the members' single cross-entropy increases. */
  predictedCe: number;
}

/** Null draws: each random set's joint exact-match drop and its additive prediction, and the same on cross-entropy, in draw order. */
export interface NullDraws {
  joint: number[];
  predicted: number[];
  jointCe: number[];
  predictedCe: number[];
}

export interface Shapley {
  permutations: number;
  /** Each component's Shapley value of the exact-match drop, and its Monte Carlo standard error. */
  acc: Record<string, number>;
  accSe: Record<string, number>;
  /** The same for the cross-entropy increase. */
  ce: Record<string, number>;
  ceSe: Record<string, number>;
  /** The effect of ablating every component (each permutation's marginals sum to it). */
  all: number;
}

export interface RedundancyResult {
  /** Each component's single effect (mean ablation: acc is the registered C). */
  single: Record<string, { acc: number; ce: number }>;
  sets: SetEffect[];
  /** By size (`size 3`) and by a named set's make-up (`like Heroes`). */
  null: Record<string, NullDraws>;
  /** Every pair (i < j in the model's order): joint exact-match drop and interaction C(i, j) - C(i) - C(j), and the same on cross-entropy. */
  pairs: { a: string; b: string; acc: number; interaction: number; ce: number; interactionCe: number }[];
  shapley: Shapley;
  timingsMs: Record<string, number>;
  /** Per phase, the forward-pass steps its sets took (set-passes.ts stepCount: half-blocks and unembeddings over the evaluation set); absent in records made before it was kept. */
  steps?: Record<string, number>;
}

const sumOf = (single: Record<string, AblationEffect>, ids: readonly string[], key: 'acc' | 'ce') =>
  ids.reduce((a, id) => a + single[id][key], 0);

/** The redundancy analysis of the context's model (classes: the run's Eq. 3 classes, in the components' order). */
export function redundancyAnalysis(
  ctx: ImportanceContext,
  classes: readonly ComponentClass[],
  settings: RedundancySettings,
  onPhase?: (phase: string) => void,
): RedundancyResult {
  for (const [k, v] of Object.entries(settings))
    if (!Number.isInteger(v) || v < 1) throw new Error(`redundancy: ${k} ${v}; allowed: a whole number of 1 or more`);
  const timingsMs: Record<string, number> = {};
  const timed = <T>(phase: string, fn: () => T): T => {
    onPhase?.(phase);
    const t0 = performance.now();
    const out = fn();
    timingsMs[phase] = performance.now() - t0;
    return out;
  };
  const cs = ctx.components;
  const steps: Record<string, number> = {};
  const byId = new Map(cs.map((c) => [c.id, c]));
  /** jointEffects, with the steps its sets take counted to `phase`. */
  const joint = (phase: string, sets: readonly (readonly string[])[]) => {
    const members = sets.map((ids) => ids.map((id) => byId.get(id)!));
    steps[phase] = (steps[phase] ?? 0) + stepCount(members, ctx.model.cfg.nLayers);
    return jointEffects(ctx, sets);
  };
  const single = timed('single', () => ablationEffects(ctx, 'mean'));
  const named = Object.entries(namedSets(cs, classes));
  const sets = timed('sets', () => {
    const effects = joint(
      'sets',
      named.map(([, ids]) => ids),
    );
    return named.map(([name, ids], k): SetEffect => {
      const e = effects[k];
      return {
        name,
        ids,
        acc: e.acc,
        accCI: e.accCI,
        ce: e.ce,
        ceCI: e.ceCI,
        predicted: sumOf(single, ids, 'acc'),
        predictedCe: sumOf(single, ids, 'ce'),
      };
    });
  });
  const nullSets = timed('null', () => {
    const rng = new Rng(ctx.seed, ctx.stream('redundancy-null'));
    const wanted: Record<string, string[][]> = {};
    for (const size of [...new Set(named.map(([, ids]) => ids.length))].sort((a, b) => a - b))
      wanted[`size ${size}`] = randomSets(rng, cs, size, settings.nullDraws);
    for (const [name, ids] of named)
      if (name === 'Heroes' || name === 'Bloats')
        wanted[`like ${name}`] = randomSets(
          rng,
          cs,
          ids.length,
          settings.nullDraws,
          ids.map((id) => byId.get(id)!),
        );
    const effects = joint('null', Object.values(wanted).flat());
    const out: Record<string, NullDraws> = {};
    let k = 0;
    for (const [key, draws] of Object.entries(wanted)) {
      const mine = effects.slice(k, k + draws.length);
      k += draws.length;
      out[key] = {
        joint: mine.map((e) => e.acc),
        predicted: draws.map((ids) => sumOf(single, ids, 'acc')),
        jointCe: mine.map((e) => e.ce),
        predictedCe: draws.map((ids) => sumOf(single, ids, 'ce')),
      };
    }
    return out;
  });
  const pairs = timed('pairs', () => {
    const list: [string, string][] = [];
    for (let i = 0; i < cs.length; i++) for (let j = i + 1; j < cs.length; j++) list.push([cs[i].id, cs[j].id]);
    const effects = joint('pairs', list);
    return list.map(([a, b], k) => ({
      a,
      b,
      acc: effects[k].acc,
      interaction: effects[k].acc - single[a].acc - single[b].acc,
      ce: effects[k].ce,
      interactionCe: effects[k].ce - single[a].ce - single[b].ce,
    }));
  });
  const shapley = timed('shapley', () => shapleyValues(ctx, settings.permutations, (sets) => joint('shapley', sets)));
  return {
    single: Object.fromEntries(cs.map((c) => [c.id, { acc: single[c.id].acc, ce: single[c.id].ce }])),
    sets,
    null: nullSets,
    pairs,
    shapley,
    timingsMs,
    steps,
  };
}

/**
 * Shapley values of the mean-ablation effect over the context's components, by sampled
 * permutations (Castro et al. 2009): for each permutation, every component's marginal effect
 * v(S + i) - v(S), S the components before it, v the joint effect (v of the empty set 0); the
 * value is the marginals' mean over permutations, its Monte Carlo standard error their sd over
 * sqrt(permutations). Permutations from the context seed's 'shapley' stream.
 */
export function shapleyValues(
  ctx: ImportanceContext,
  permutations: number,
  effectsOf: (sets: string[][]) => AblationEffect[] = (sets) => jointEffects(ctx, sets),
): Shapley {
  const ids = ctx.components.map((c) => c.id);
  const rng = new Rng(ctx.seed, ctx.stream('shapley'));
  const perms = Array.from({ length: permutations }, () => rng.shuffle(ids));
  const prefixes = perms.flatMap((p) => p.map((_, k) => p.slice(0, k + 1)));
  const effects = effectsOf(prefixes);
  const marg = { acc: new Map<string, number[]>(), ce: new Map<string, number[]>() };
  for (const id of ids) for (const m of Object.values(marg)) m.set(id, []);
  perms.forEach((p, r) => {
    const off = r * ids.length;
    p.forEach((id, k) => {
      for (const key of ['acc', 'ce'] as const) {
        const before = k ? effects[off + k - 1][key] : 0;
        marg[key].get(id)!.push(effects[off + k][key] - before);
      }
    });
  });
  const stat = (xs: number[]) => {
    const m = xs.reduce((a, x) => a + x, 0) / xs.length;
    const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1)) : NaN;
    return [m, sd / Math.sqrt(xs.length)];
  };
  const out = (key: 'acc' | 'ce', i: 0 | 1) => Object.fromEntries(ids.map((id) => [id, stat(marg[key].get(id)!)[i]]));
  return {
    permutations,
    acc: out('acc', 0),
    accSe: out('acc', 1),
    ce: out('ce', 0),
    ceSe: out('ce', 1),
    all: effects[ids.length - 1].acc,
  };
}
