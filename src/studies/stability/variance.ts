/** The decomposition of a measure's variance over seeds and their replicas (between seeds, within a seed, evaluation, chaos) and its nested bootstrap. */
import { Rng } from '../../base/rng';
import { bootstrapP, Interval, mean, MIN_INTERVAL_ITEMS, percentileInterval } from '../../report/stats';

/** Bootstrap resamples, unless a caller says otherwise. */
export const RESAMPLES = 10_000;

/** A variance split into its parts, each an estimate with its 95% interval (method of moments, one-way random effects). */
export interface Decomposition {
  /** Seeds and replicas behind it. */
  seeds: number;
  runs: number;
  between: Interval; // variance of the seed effect
  within: Interval; // variance between replicas of a seed (training chaos plus evaluation)
  evaluation: Interval; // variance between redraws of one model's sequences
  chaos: Interval; // within minus evaluation: training chaos alone (a lower bound: replicas share the seed's evaluation sequences, so their spread holds less than a redraw's evaluation noise)
  /** Shares of between + within. */
  betweenShare: Interval;
  /** The seed share were all the evaluation noise shared by a seed's replicas (they are scored on the seed's own sequences, so shared noise counts as seed variance): (between - evaluation) / total, at least 0; betweenShare is the upper bound. */
  betweenShareLow: Interval;
  chaosShare: Interval;
  evaluationShare: Interval;
}

/**
 * One-way random-effects variance parts by the method of moments (ANOVA), groups of any sizes:
 * within = the pooled within-group variance; between = (MS_between - MS_within) / n0 with
 * n0 = (N - sum n_g^2 / N) / (G - 1). NaN where not estimable (no group of two; fewer than two groups).
 */
export function varianceParts(groups: readonly (readonly number[])[]): { between: number; within: number } {
  const gs = groups.filter((g) => g.length > 0);
  const N = gs.reduce((a, g) => a + g.length, 0);
  const G = gs.length;
  const means = gs.map(mean);
  const grand = gs.reduce((a, g) => a + g.reduce((s, x) => s + x, 0), 0) / N;
  const ssWithin = gs.reduce((a, g, i) => a + g.reduce((s, x) => s + (x - means[i]) ** 2, 0), 0);
  const within = N > G ? ssWithin / (N - G) : NaN;
  if (G < 2) return { between: NaN, within };
  const msBetween = gs.reduce((a, g, i) => a + g.length * (means[i] - grand) ** 2, 0) / (G - 1);
  const n0 = (N - gs.reduce((a, g) => a + g.length ** 2, 0) / N) / (G - 1);
  return { between: (msBetween - (Number.isFinite(within) ? within : 0)) / n0, within };
}

/** The pooled variance of values measured repeatedly on each unit (sum of squares over sum of degrees of freedom). */
export function pooledVariance(units: readonly (readonly number[])[]): number {
  let ss = 0;
  let df = 0;
  for (const u of units) {
    if (u.length < 2) continue;
    const m = mean(u);
    ss += u.reduce((s, x) => s + (x - m) ** 2, 0);
    df += u.length - 1;
  }
  return df ? ss / df : NaN;
}

/** What is resampled of one seed: its replicas' values and its evaluation redraws' values. */
export interface SeedValues {
  replicas: number[];
  evaluation: number[];
}

/** The percentile interval and the two-sided p against `nullValue` of one set of resampled values. */
function summarize(estimate: number, vals: number[], nullValue: number): { iv: Interval; p: number } {
  return { iv: percentileInterval(estimate, vals, 0.95), p: bootstrapP(vals, nullValue) };
}

export const none = (estimate: number): Interval => ({ estimate, lo: NaN, hi: NaN, level: 0.95, resamples: 0 });

/**
 * The nested bootstrap's draws of one task's seeds: its seeds with replacement, then within each
 * drawn seed its replicas and its evaluation values with replacement; `visit` sees each draw.
 */
function nestedDraws(
  seeds: readonly SeedValues[],
  seed: number,
  resamples: number,
  visit: (drawn: SeedValues[]) => void,
): void {
  const rng = new Rng(seed, 'nested-bootstrap');
  const pick = <T>(xs: readonly T[]): T[] => xs.map(() => xs[Math.floor(rng.next() * xs.length)]);
  for (let k = 0; k < resamples; k++)
    visit(pick(seeds).map((u) => ({ replicas: pick(u.replicas), evaluation: pick(u.evaluation) })));
}

/**
 * The nested bootstrap of a statistic of one task's seeds (nestedDraws): its percentile interval and
 * two-sided p against `nullValue`. No interval (and p NaN) under MIN_INTERVAL_ITEMS seeds.
 */
export function nestedBootstrap(
  seeds: readonly SeedValues[],
  stat: (resampled: SeedValues[]) => number,
  opts: { seed?: number; nullValue?: number; resamples?: number } = {},
): { iv: Interval; p: number } {
  const estimate = stat(seeds.slice());
  if (seeds.length < MIN_INTERVAL_ITEMS) return { iv: none(estimate), p: NaN };
  const vals: number[] = [];
  nestedDraws(seeds, opts.seed ?? 0, opts.resamples ?? RESAMPLES, (drawn) => {
    const v = stat(drawn);
    if (Number.isFinite(v)) vals.push(v);
  });
  return summarize(estimate, vals, opts.nullValue ?? 0);
}

/**
 * The variance parts of one task's seeds (replicas within seeds, evaluation redraws of each base
 * run), as variances can be: a moment estimate below 0 (sampling) is set to 0, and the evaluation
 * part to at most the within-seed variance it is part of, so the three parts add up to the total.
 */
export function decompose(seeds: readonly SeedValues[]): {
  between: number;
  within: number;
  evaluation: number;
  chaos: number;
} {
  const raw = varianceParts(seeds.map((s) => s.replicas));
  const between = Math.max(0, raw.between);
  const within = raw.within;
  const evaluation = Math.min(pooledVariance(seeds.map((s) => s.evaluation)), within);
  return { between, within, evaluation, chaos: within - evaluation };
}

/** Every part of `decompose` and its share of the total, each with its nested-bootstrap interval (one set of draws for all). */
export function decomposition(seeds: readonly SeedValues[], salt: number, resamples: number): Decomposition {
  const parts = (d: ReturnType<typeof decompose>) => {
    const total = d.between + d.within;
    return {
      between: d.between,
      within: d.within,
      evaluation: d.evaluation,
      chaos: d.chaos,
      betweenShare: d.between / total,
      betweenShareLow: Math.max(0, d.between - d.evaluation) / total,
      chaosShare: d.chaos / total,
      evaluationShare: d.evaluation / total,
    };
  };
  type Parts = ReturnType<typeof parts>;
  const estimate = parts(decompose(seeds));
  const keys = Object.keys(estimate) as (keyof Parts)[];
  const vals = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<keyof Parts, number[]>;
  if (seeds.length >= MIN_INTERVAL_ITEMS)
    nestedDraws(seeds, salt, resamples, (drawn) => {
      const d = parts(decompose(drawn));
      for (const k of keys) if (Number.isFinite(d[k])) vals[k].push(d[k]);
    });
  const iv = (k: keyof Parts) =>
    seeds.length >= MIN_INTERVAL_ITEMS ? summarize(estimate[k], vals[k], 0).iv : none(estimate[k]);
  return {
    seeds: seeds.length,
    runs: seeds.reduce((a, s) => a + s.replicas.length, 0),
    ...(Object.fromEntries(keys.map((k) => [k, iv(k)])) as Record<keyof Parts, Interval>),
  };
}
