/**
 * Statistics over seeds for the reproduction report: percentile bootstrap confidence intervals
 * (seeded, so a report rebuilds identically), exact two-sample permutation tests and a trend test.
 *
 * With 10 seeds a bootstrap interval is rough (it is too narrow by about sqrt(9/10) and cannot
 * leave the range of the data); the report says so where it uses one.
 */
import { spearman as spearmanRho } from '../analysis/ranks';
import { Rng } from '../rng';

export interface Interval {
  estimate: number; // the statistic on the data itself
  lo: number;
  hi: number;
  level: number; // e.g. 0.95
  resamples: number;
}

/** The q-quantile of sorted values, linear interpolation between order statistics (numpy's default). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < sorted.length ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i];
}

/** Fewer items than this get no interval (the estimate alone; a report shows the runs): an interval from two runs says nothing. */
export const MIN_INTERVAL_ITEMS = 3;

/**
 * Percentile bootstrap of `stat` over one sample: resample the items with replacement
 * `resamples` times. Resamples on which the statistic is not finite are dropped. No interval for
 * fewer than MIN_INTERVAL_ITEMS items.
 */
export function bootstrap<T>(items: readonly T[], stat: (xs: readonly T[]) => number, opts: { resamples?: number; level?: number; seed?: number } = {}): Interval {
  const resamples = opts.resamples ?? 10_000;
  const level = opts.level ?? 0.95;
  const estimate = items.length ? stat(items) : NaN;
  if (items.length < MIN_INTERVAL_ITEMS) return { estimate, lo: NaN, hi: NaN, level, resamples: 0 };
  const rng = new Rng(opts.seed ?? 0, 'bootstrap');
  const vals: number[] = [];
  const buf: T[] = new Array(items.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < items.length; i++) buf[i] = items[Math.floor(rng.next() * items.length)];
    const v = stat(buf);
    if (Number.isFinite(v)) vals.push(v);
  }
  return percentileInterval(estimate, vals, level);
}

/** The central `level` interval of the resampled values (sorted in place). */
function percentileInterval(estimate: number, vals: number[], level: number): Interval {
  vals.sort((a, b) => a - b);
  const q = (1 - level) / 2;
  return { estimate, lo: quantileSorted(vals, q), hi: quantileSorted(vals, 1 - q), level, resamples: vals.length };
}

/**
 * Percentile bootstrap of a statistic of two independent samples (each resampled on its own),
 * e.g. a difference of means between two tasks; no interval when either has fewer than
 * MIN_INTERVAL_ITEMS items.
 */
export function bootstrap2<T>(
  a: readonly T[],
  b: readonly T[],
  stat: (x: readonly T[], y: readonly T[]) => number,
  opts: { resamples?: number; level?: number; seed?: number } = {},
): Interval {
  const resamples = opts.resamples ?? 10_000;
  const level = opts.level ?? 0.95;
  const estimate = a.length && b.length ? stat(a, b) : NaN;
  if (a.length < MIN_INTERVAL_ITEMS || b.length < MIN_INTERVAL_ITEMS) return { estimate, lo: NaN, hi: NaN, level, resamples: 0 };
  const rng = new Rng(opts.seed ?? 0, 'bootstrap2');
  const vals: number[] = [];
  const ba: T[] = new Array(a.length);
  const bb: T[] = new Array(b.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < a.length; i++) ba[i] = a[Math.floor(rng.next() * a.length)];
    for (let i = 0; i < b.length; i++) bb[i] = b[Math.floor(rng.next() * b.length)];
    const v = stat(ba, bb);
    if (Number.isFinite(v)) vals.push(v);
  }
  return percentileInterval(estimate, vals, level);
}

export const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);
export const sum = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0);

/** Whether a value lies inside an interval (inclusive); false when the interval is undefined. */
export function inside(x: number, iv: Interval): boolean {
  return Number.isFinite(iv.lo) && Number.isFinite(iv.hi) && x >= iv.lo && x <= iv.hi;
}

export interface PermutationTest {
  observed: number; // mean(a) - mean(b)
  p: number; // P(statistic >= observed) under exchangeability (one-sided), or |.| >= |observed| (two-sided)
  alternative: 'greater' | 'two-sided';
  exact: boolean; // every relabelling enumerated, else Monte Carlo
  permutations: number;
}

/**
 * Two-sample permutation test of the difference of means, mean(a) - mean(b). Exact (every way of
 * splitting the pooled values into groups of |a| and |b|) when there are at most `maxExact` such
 * splits (10 vs 10 seeds: 184,756), else `resamples` random relabellings. The observed split counts
 * among the permutations, so p >= 1 / permutations.
 */
export function permutationTest(
  a: readonly number[],
  b: readonly number[],
  opts: { alternative?: 'greater' | 'two-sided'; maxExact?: number; resamples?: number; seed?: number } = {},
): PermutationTest {
  const alternative = opts.alternative ?? 'greater';
  const pooled = [...a, ...b];
  const n = pooled.length;
  const k = a.length;
  const total = sum(pooled);
  const observed = mean(a) - mean(b);
  if (!a.length || !b.length) return { observed: NaN, p: NaN, alternative, exact: true, permutations: 0 };
  const statOfSumA = (sa: number) => sa / k - (total - sa) / (n - k);
  const eps = 1e-12 * Math.max(1, Math.abs(observed));
  const extreme = (v: number) => (alternative === 'greater' ? v >= observed - eps : Math.abs(v) >= Math.abs(observed) - eps);
  const splits = binomial(n, k);
  if (splits <= (opts.maxExact ?? 200_000)) {
    let count = 0;
    let perms = 0;
    // Enumerate k-subsets of pooled indices (lexicographic), tracking the subset's sum.
    const idx = Array.from({ length: k }, (_, i) => i);
    for (;;) {
      let sa = 0;
      for (const i of idx) sa += pooled[i];
      perms++;
      if (extreme(statOfSumA(sa))) count++;
      let i = k - 1;
      while (i >= 0 && idx[i] === n - k + i) i--;
      if (i < 0) break;
      idx[i]++;
      for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1] + 1;
    }
    return { observed, p: count / perms, alternative, exact: true, permutations: perms };
  }
  const resamples = opts.resamples ?? 100_000;
  const rng = new Rng(opts.seed ?? 0, 'permutation');
  let count = 1; // the observed labelling
  for (let r = 0; r < resamples; r++) {
    const sh = rng.shuffle(pooled);
    let sa = 0;
    for (let i = 0; i < k; i++) sa += sh[i];
    if (extreme(statOfSumA(sa))) count++;
  }
  return { observed, p: count / (resamples + 1), alternative, exact: false, permutations: resamples + 1 };
}

/** n choose k as a float (exact below 2^53). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= Math.min(k, n - k); i++) r = (r * (n - Math.min(k, n - k) + i)) / i;
  return Math.round(r);
}

/** A monotone trend of per-run values y over a group-level x (task complexity, model size). */
export interface TrendTest {
  /** Spearman's rho between x and y over all runs (each run has its group's x; ties averaged). */
  rho: number;
  /** Two-sided permutation p-value: y shuffled across all runs `permutations - 1` times (seeded); the observed counts. */
  p: number;
  permutations: number;
  /** 95% percentile bootstrap interval of rho, runs resampled within each group. */
  interval: Interval;
  runs: number;
  groups: number;
}

/**
 * Spearman trend test over groups: is y monotone in x? (The complexity question: does rho(G, C)
 * fall as tasks get harder or models bigger?) Under the null, y does not depend on the group, so
 * every relabelling of the runs is equally likely; the interval keeps each group's size.
 */
export function trendTest(groups: readonly { x: number; ys: readonly number[] }[], opts: { resamples?: number; permutations?: number; seed?: number } = {}): TrendTest {
  const gs = groups.map((g) => ({ x: g.x, ys: g.ys.filter(Number.isFinite) })).filter((g) => g.ys.length);
  const xs = gs.flatMap((g) => g.ys.map(() => g.x));
  const ys = gs.flatMap((g) => g.ys);
  const rho = xs.length >= 3 && new Set(xs).size >= 2 ? spearmanRho(xs, ys) : NaN;
  const empty: Interval = { estimate: rho, lo: NaN, hi: NaN, level: 0.95, resamples: 0 };
  if (!Number.isFinite(rho)) return { rho, p: NaN, permutations: 0, interval: empty, runs: ys.length, groups: gs.length };
  const permutations = opts.permutations ?? 10_000;
  const rng = new Rng(opts.seed ?? 0, 'trend');
  const eps = 1e-12;
  let count = 1;
  for (let r = 1; r < permutations; r++) {
    const v = spearmanRho(xs, rng.shuffle(ys));
    if (Math.abs(v) >= Math.abs(rho) - eps) count++;
  }
  const boot = new Rng(opts.seed ?? 0, 'trend-bootstrap');
  const vals: number[] = [];
  const resamples = opts.resamples ?? 10_000;
  for (let r = 0; r < resamples; r++) {
    const y = gs.flatMap((g) => g.ys.map(() => g.ys[Math.floor(boot.next() * g.ys.length)]));
    const v = spearmanRho(xs, y);
    if (Number.isFinite(v)) vals.push(v);
  }
  return { rho, p: count / permutations, permutations, interval: percentileInterval(rho, vals, 0.95), runs: ys.length, groups: gs.length };
}
