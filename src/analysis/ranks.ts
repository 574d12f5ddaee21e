/**
 * Ranks, Spearman's rho and the paper's classes (Eq. 3):
 *   Delta_i = Rank(G_i) - Rank(C_i), ascending ranks 1..n;
 *   Hidden Hero: Delta <= -threshold; Gradient Bloat: Delta >= threshold; else Aligned
 *   (strict < / > under the authors' main experiment: `inclusive = false`).
 *
 * Many C_i tie (components whose ablation changes accuracy by nothing), so the rank rule matters:
 * ordinal ranks with ties broken by component order give early-layer components low C ranks,
 * hence large Delta, which manufactures early Bloats and late Heroes by construction.
 */
import { sampleRankCorrelation } from 'simple-statistics';
import type { RankRule } from '../settings/config';
import { Rng } from '../base/rng';

export type ComponentClass = 'HiddenHero' | 'GradientBloat' | 'Aligned';
export const CLASSES: readonly ComponentClass[] = ['HiddenHero', 'GradientBloat', 'Aligned'];

/** Ascending ranks 1..n; tied values share the mean of the ranks they span (scipy's rankdata default). */
export function averageRanks(xs: readonly number[]): number[] {
  const order = xs.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

/**
 * Ascending ordinal ranks 1..n. Ties are broken by input order (`'order'`: earlier first) or by a
 * random permutation drawn from `rng`.
 */
export function ordinalRanks(xs: readonly number[], tieBreak: 'order' | Rng): number[] {
  const key = tieBreak === 'order' ? xs.map((_, i) => i) : tieBreak.shuffle(xs.map((_, i) => i));
  const position = new Array<number>(xs.length);
  key.forEach((idx, k) => (position[idx] = k));
  const order = xs.map((v, i) => i).sort((a, b) => xs[a] - xs[b] || position[a] - position[b]);
  const ranks = new Array<number>(xs.length);
  order.forEach((idx, r) => (ranks[idx] = r + 1));
  return ranks;
}

/** Spearman's rho: Pearson correlation of average ranks (ties handled as scipy.stats.spearmanr does). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} values vs ${y.length}`);
  return sampleRankCorrelation(x as number[], y as number[]);
}

export function classify(delta: number, threshold: number, inclusive: boolean): ComponentClass {
  if (inclusive ? delta <= -threshold : delta < -threshold) return 'HiddenHero';
  if (inclusive ? delta >= threshold : delta > threshold) return 'GradientBloat';
  return 'Aligned';
}

export interface Classification {
  rho: number;
  rankG: number[];
  rankC: number[];
  delta: number[];
  classes: ComponentClass[];
  /** Under 'ordinal-random': the fraction of draws that put each component in each class. */
  classFreq?: Record<ComponentClass, number>[];
  /** Under 'ordinal-random': each component's mean Delta over the draws. */
  meanDelta?: number[];
  /** Hero and Bloat counts: of `classes`, and (random rule) expected over the draws. */
  counts: { heroes: number; bloats: number; expectedHeroes?: number; expectedBloats?: number };
}

export interface RankOptions {
  rankRule: RankRule;
  threshold: number;
  inclusive: boolean;
  tieDraws: number;
  /** Seed for random tie-breaks. */
  seed: number;
}

function countClass(classes: readonly ComponentClass[], c: ComponentClass): number {
  return classes.filter((x) => x === c).length;
}

/**
 * Ranks G and C, computes Delta and classes under the chosen rule. Under 'ordinal-random', the
 * reported `classes` are each component's most frequent class over `tieDraws` seeded draws, with
 * the frequencies and expected counts alongside. The rule is on the draws' counts, not on exact
 * probabilities: only an exact tie in the counts goes to Aligned, so a component whose two
 * likeliest classes are exactly equally likely (a tie group straddling the threshold) gets the
 * one its draws favour, a seeded coin flip; its `classFreq` (~0.5 / ~0.5) shows it.
 */
export function classifyComponents(G: readonly number[], C: readonly number[], opts: RankOptions): Classification {
  if (G.length !== C.length) throw new Error(`classifyComponents: ${G.length} G values vs ${C.length} C values`);
  const rho = spearman(G, C);
  const cls = (delta: number[]) => delta.map((d) => classify(d, opts.threshold, opts.inclusive));
  if (opts.rankRule !== 'ordinal-random') {
    const rank = opts.rankRule === 'average' ? averageRanks : (xs: readonly number[]) => ordinalRanks(xs, 'order');
    const rankG = rank(G);
    const rankC = rank(C);
    const delta = rankG.map((r, i) => r - rankC[i]);
    const classes = cls(delta);
    return {
      rho,
      rankG,
      rankC,
      delta,
      classes,
      counts: { heroes: countClass(classes, 'HiddenHero'), bloats: countClass(classes, 'GradientBloat') },
    };
  }
  const rng = new Rng(opts.seed, 'tie-break');
  const n = G.length;
  const freq = Array.from(
    { length: n },
    () => ({ HiddenHero: 0, GradientBloat: 0, Aligned: 0 }) as Record<ComponentClass, number>,
  );
  const sumDelta = new Array<number>(n).fill(0);
  let first: { rankG: number[]; rankC: number[]; delta: number[] } | null = null;
  for (let d = 0; d < opts.tieDraws; d++) {
    const rankG = ordinalRanks(G, rng);
    const rankC = ordinalRanks(C, rng);
    const delta = rankG.map((r, i) => r - rankC[i]);
    first ??= { rankG, rankC, delta };
    cls(delta).forEach((c, i) => freq[i][c]++);
    delta.forEach((x, i) => (sumDelta[i] += x));
  }
  const classFreq = freq.map((f) => ({
    HiddenHero: f.HiddenHero / opts.tieDraws,
    GradientBloat: f.GradientBloat / opts.tieDraws,
    Aligned: f.Aligned / opts.tieDraws,
  }));
  const classes = classFreq.map((f): ComponentClass => {
    if (f.HiddenHero > f.GradientBloat && f.HiddenHero > f.Aligned) return 'HiddenHero';
    if (f.GradientBloat > f.HiddenHero && f.GradientBloat > f.Aligned) return 'GradientBloat';
    return 'Aligned';
  });
  return {
    rho,
    ...first!,
    classes,
    classFreq,
    meanDelta: sumDelta.map((s) => s / opts.tieDraws),
    counts: {
      heroes: countClass(classes, 'HiddenHero'),
      bloats: countClass(classes, 'GradientBloat'),
      expectedHeroes: classFreq.reduce((a, f) => a + f.HiddenHero, 0),
      expectedBloats: classFreq.reduce((a, f) => a + f.GradientBloat, 0),
    },
  };
}

/**
 * Under 'ordinal-random', each component's exact probability of each class: its ordinal rank is
 * uniform over the positions its tie group spans, in G and in C independently, so its Delta's law
 * is a count over (ties in G) x (ties in C). What `classFreq` estimates by its draws.
 */
export function exactClassProbabilities(
  G: readonly number[],
  C: readonly number[],
  threshold: number,
  inclusive: boolean,
): Record<ComponentClass, number>[] {
  if (G.length !== C.length) throw new Error(`exactClassProbabilities: ${G.length} G values vs ${C.length} C values`);
  const span = (xs: readonly number[], v: number) => ({
    below: xs.filter((w) => w < v).length,
    tied: xs.filter((w) => w === v).length,
  });
  return G.map((g, i) => {
    const sg = span(G, g);
    const sc = span(C, C[i]);
    const p: Record<ComponentClass, number> = { HiddenHero: 0, GradientBloat: 0, Aligned: 0 };
    for (let a = 0; a < sg.tied; a++)
      for (let b = 0; b < sc.tied; b++) p[classify(sg.below + a - (sc.below + b), threshold, inclusive)]++;
    for (const k of CLASSES) p[k] /= sg.tied * sc.tied;
    return p;
  });
}

/**
 * The components whose two likeliest classes are exactly equally likely (a tie group straddling
 * the threshold): under 'ordinal-random' the draws' coin flip classes them (see classifyComponents).
 */
export function coinFlipComponents(
  G: readonly number[],
  C: readonly number[],
  threshold: number,
  inclusive: boolean,
): number[] {
  return exactClassProbabilities(G, C, threshold, inclusive).flatMap((p, i) => {
    const [first, second] = CLASSES.map((k) => p[k]).sort((x, y) => y - x);
    return first === second ? [i] : [];
  });
}

/**
 * Eq. 3 for any pair of recorded measures: `cheap` (a gradient-based score) in G's place, `causal`
 * (an ablation's effect) in C's. `scores` is a run's record of every measure, by component id.
 */
export function classifyMeasures(
  scores: Readonly<Record<string, Record<string, number>>>,
  components: readonly string[],
  cheap: string,
  causal: string,
  opts: RankOptions,
): Classification {
  const column = (m: string) => {
    const s = scores[m];
    if (!s)
      throw new Error(
        `no scores recorded for measure ${JSON.stringify(m)}; recorded: ${Object.keys(scores).join(', ')}`,
      );
    return components.map((id) => s[id]);
  };
  return classifyComponents(column(cheap), column(causal), opts);
}

/**
 * rho in words: its value, or, when Spearman's rho is undefined, which score left it so (a score
 * equal for every component has no ranking: C is 0 everywhere when no single ablation changes the
 * exact match at the chosen length).
 */
export function describeRho(
  rho: number | null | undefined,
  scores: Partial<Record<'G' | 'C', Record<string, number>>> = {},
): string {
  if (rho != null && Number.isFinite(rho)) return rho.toFixed(3);
  const constant = (['G', 'C'] as const).filter((k) => {
    const v = Object.values(scores[k] ?? {});
    return v.length > 0 && v.every((x) => x === v[0]);
  });
  if (!constant.length) return 'undefined (G or C is the same for every component)';
  const why = constant
    .map((k) => `${k} is ${Number(Object.values(scores[k]!)[0].toPrecision(3))} for every component`)
    .join(' and ');
  return `undefined (${why}${constant.includes('C') ? ': no single ablation changes the exact match at this length' : ''})`;
}
