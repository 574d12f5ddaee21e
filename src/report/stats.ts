/**
 * Statistics over seeds for the reports, each claim's interval and test from one method:
 * percentile bootstrap confidence intervals (seeded, so a report rebuilds identically) with the
 * test of the same resamples (bootstrapP); exact two-sample permutation tests with the interval
 * that inverts them (shiftTest); and a trend's slope with its permutation test and inverted
 * interval (trendTest).
 *
 * With 10 seeds a bootstrap interval is rough (it is too narrow by about sqrt(9/10) and cannot
 * leave the range of the data); the report says so where it uses one.
 */
import { Rng } from '../base/rng';

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
export function bootstrap<T>(
  items: readonly T[],
  stat: (xs: readonly T[]) => number,
  opts: { resamples?: number; level?: number; seed?: number } = {},
): Interval {
  return resampled(items, stat, opts).interval;
}

/** The resampled statistics of `bootstrap` and the interval made from them (the values sorted; none under MIN_INTERVAL_ITEMS items). */
function resampled<T>(
  items: readonly T[],
  stat: (xs: readonly T[]) => number,
  opts: { resamples?: number; level?: number; seed?: number },
): { interval: Interval; vals: number[] } {
  const resamples = opts.resamples ?? 10_000;
  const level = opts.level ?? 0.95;
  const estimate = items.length ? stat(items) : NaN;
  if (items.length < MIN_INTERVAL_ITEMS)
    return { interval: { estimate, lo: NaN, hi: NaN, level, resamples: 0 }, vals: [] };
  const rng = new Rng(opts.seed ?? 0, 'bootstrap');
  const vals: number[] = [];
  const buf: T[] = new Array(items.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < items.length; i++) buf[i] = items[Math.floor(rng.next() * items.length)];
    const v = stat(buf);
    if (Number.isFinite(v)) vals.push(v);
  }
  return { interval: percentileInterval(estimate, vals, level), vals };
}

/** `bootstrap`'s interval and the test of the same resamples against `nullValue` (bootstrapP; two-sided unless asked). */
export function bootstrapTest<T>(
  items: readonly T[],
  stat: (xs: readonly T[]) => number,
  opts: {
    resamples?: number;
    level?: number;
    seed?: number;
    nullValue?: number;
    alternative?: BootstrapTest['alternative'];
  } = {},
): BootstrapTest {
  const alternative = opts.alternative ?? 'two-sided';
  const { interval, vals } = resampled(items, stat, opts);
  return { interval, p: vals.length ? bootstrapP(vals, opts.nullValue ?? 0, alternative) : NaN, alternative };
}

/** The central `level` interval of the resampled values (sorted in place). */
export function percentileInterval(estimate: number, vals: number[], level: number): Interval {
  vals.sort((a, b) => a - b);
  const q = (1 - level) / 2;
  return { estimate, lo: quantileSorted(vals, q), hi: quantileSorted(vals, 1 - q), level, resamples: vals.length };
}

/** A bootstrap interval and the test of the same resamples (so the interval excludes the null value when p < 1 - level, to within one resample). */
export interface BootstrapTest {
  interval: Interval;
  /** Against `nullValue` (default 0): see bootstrapP. NaN without an interval. */
  p: number;
  alternative: 'two-sided' | 'greater';
}

/**
 * The p-value of resampled values against `nullValue`: two-sided, twice the smaller share of
 * values at or beyond it on either side (at most 1); 'greater' (the statistic exceeds it), the
 * share at or below it. The central 95% percentile interval excludes the null value when, and (to within
 * one resample at its edge) only when, the two-sided p is below 0.05.
 */
export function bootstrapP(
  vals: readonly number[],
  nullValue = 0,
  alternative: BootstrapTest['alternative'] = 'two-sided',
): number {
  if (!vals.length) return NaN;
  const below = vals.filter((v) => v <= nullValue).length / vals.length;
  if (alternative === 'greater') return below;
  const above = vals.filter((v) => v >= nullValue).length / vals.length;
  return Math.min(1, 2 * Math.min(below, above));
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
  const extreme = (v: number) =>
    alternative === 'greater' ? v >= observed - eps : Math.abs(v) >= Math.abs(observed) - eps;
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

/**
 * The interval that inverts a test: every value v the test does not reject (pAt(v) > alpha). From
 * `estimate` (never rejected) outwards on each side to a value `reach` away, which must be rejected
 * (else that end is infinite: nothing that far is rejected), then bisection to within 1e-7 of reach.
 */
function invertTest(pAt: (v: number) => number, estimate: number, reach: number, alpha: number): [number, number] {
  const end = (dir: 1 | -1) => {
    const far = estimate + dir * reach;
    if (pAt(far) > alpha) return dir * Infinity;
    let inside = estimate;
    let outside = far;
    for (let i = 0; i < 50 && Math.abs(outside - inside) > 1e-7 * reach; i++) {
      const mid = (inside + outside) / 2;
      if (pAt(mid) > alpha) inside = mid;
      else outside = mid;
    }
    return inside;
  };
  return [end(-1), end(1)];
}

/** A two-sample comparison whose interval and test are one method: the exact permutation test and the interval that inverts it. */
export interface ShiftTest {
  test: PermutationTest; // two-sided, mean(a) - mean(b)
  /** Every shift d for which the two-sided test of (a - d) against b gives p > 1 - level; infinite ends when no shift is rejected that far (too few items to reject at that level). */
  interval: Interval;
}

/**
 * The difference of means mean(a) - mean(b) with the two-sided permutation test (exact when the
 * splits are few enough, as permutationTest) and its 95% interval by inversion: the shifts d for
 * which the test of (a - d) against b does not reject at 0.05 (found by bisection). The interval
 * excludes 0 exactly when p < 0.05 (up to the bisection's precision at its ends). With few items no
 * shift can be rejected (3 vs 3: the smallest two-sided p is 2/20): the interval is then unbounded.
 */
export function shiftTest(
  a: readonly number[],
  b: readonly number[],
  opts: { level?: number; maxExact?: number; resamples?: number; seed?: number } = {},
): ShiftTest {
  const level = opts.level ?? 0.95;
  const alpha = 1 - level;
  const test = permutationTest(a, b, { ...opts, alternative: 'two-sided' });
  const estimate = test.observed;
  if (!Number.isFinite(estimate)) return { test, interval: { estimate, lo: NaN, hi: NaN, level, resamples: 0 } };
  const pOf = (d: number) =>
    permutationTest(
      a.map((x) => x - d),
      b,
      { ...opts, alternative: 'two-sided' },
    ).p;
  const all = [...a, ...b];
  const [lo, hi] = invertTest(pOf, estimate, 4 * (Math.max(...all) - Math.min(...all) || 1), alpha);
  return { test, interval: { estimate, lo, hi, level, resamples: test.permutations } };
}

/** n choose k as a float (exact below 2^53). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= Math.min(k, n - k); i++) r = (r * (n - Math.min(k, n - k) + i)) / i;
  return Math.round(r);
}

/** A trend of per-run values y over a group-level x (task complexity, model size): a slope, its test and the interval that inverts it. */
export interface TrendTest {
  /** Least-squares slope of y on x over all runs (each run has its group's x). */
  slope: number;
  /** The slopes b that the permutation test of "y - b x has no trend in x" does not reject at 0.05 (bisection; an end is infinite when nothing that far is rejected). */
  interval: Interval;
  /** Two-sided permutation p against no trend (the same test at b = 0): below 0.05 exactly when the interval excludes 0 (up to the bisection's precision at its ends). */
  p: number;
  permutations: number;
  runs: number;
  groups: number;
}

/**
 * Trend test over groups: does y change with x? (The complexity question: does rho (G, C) fall as
 * tasks get harder or models bigger?) The statistic is the least-squares slope of y on x. The test
 * of a slope b permutes the residuals y - b x over all runs (under "the slope is b" they are
 * exchangeable: the permutation test of a regression slope), with `permutations` random
 * relabellings, seeded, the same ones for every b, the observed one counted; p is that test at
 * b = 0 (the permutation test of Pearson's correlation of x and y), and the 95% interval is every b
 * it does not reject.
 */
export function trendTest(
  groups: readonly { x: number; ys: readonly number[] }[],
  opts: { permutations?: number; seed?: number; level?: number } = {},
): TrendTest {
  const level = opts.level ?? 0.95;
  const gs = groups.map((g) => ({ x: g.x, ys: g.ys.filter(Number.isFinite) })).filter((g) => g.ys.length);
  const xs = gs.flatMap((g) => g.ys.map(() => g.x));
  const ys = gs.flatMap((g) => g.ys);
  const n = ys.length;
  if (n < 3 || new Set(xs).size < 2)
    return {
      slope: NaN,
      interval: { estimate: NaN, lo: NaN, hi: NaN, level, resamples: 0 },
      p: NaN,
      permutations: 0,
      runs: n,
      groups: gs.length,
    };
  const xm = mean(xs);
  const c = xs.map((x) => x - xm);
  const B = c.reduce((a, ci) => a + ci * ci, 0); // = sum c_i x_i
  const A = c.reduce((a, ci, i) => a + ci * ys[i], 0); // = sum c_i y_i
  const slope = A / B;
  // Relabelling pi: T_pi(b) = sum_i c_i (y - b x)_pi(i) = A_pi - b B_pi; observed: T(b) = A - b B.
  const K = opts.permutations ?? 10_000;
  const rng = new Rng(opts.seed ?? 0, 'trend');
  const Ap = new Float64Array(K);
  const Bp = new Float64Array(K);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let k = 0; k < K; k++) {
    const pi = rng.shuffle(order);
    let a = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      a += c[i] * ys[pi[i]];
      b += c[i] * xs[pi[i]];
    }
    Ap[k] = a;
    Bp[k] = b;
  }
  const pAt = (b: number) => {
    const observed = Math.abs(A - b * B) * (1 - 1e-12);
    let count = 1;
    for (let k = 0; k < K; k++) if (Math.abs(Ap[k] - b * Bp[k]) >= observed) count++;
    return count / (K + 1);
  };
  const span = (Math.max(...ys) - Math.min(...ys) || 1) / (Math.max(...xs) - Math.min(...xs));
  const [lo, hi] = invertTest(pAt, slope, 8 * span, 1 - level); // T = 0 at the slope itself: never rejected
  return {
    slope,
    interval: { estimate: slope, lo, hi, level, resamples: K + 1 },
    p: pAt(0),
    permutations: K + 1,
    runs: n,
    groups: gs.length,
  };
}

const Z975 = 1.959963984540054;
const Z80 = 0.8416212335729143;

/** Items per group for 80% power (two-sided alpha 0.05, normal approximation) to detect a difference `delta` of two group means whose items vary with variance `v`. */
export function seedsForPower(delta: number, v: number): number {
  if (!(Math.abs(delta) > 0) || !Number.isFinite(v)) return Infinity;
  return Math.ceil((2 * (Z975 + Z80) ** 2 * Math.max(0, v)) / delta ** 2);
}

/** The standard normal distribution function (Zelen & Severo's polynomial, Abramowitz & Stegun 26.2.17: absolute error below 7.5e-8). */
export function normalCdf(x: number): number {
  if (!Number.isFinite(x)) return x > 0 ? 1 : 0;
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const poly = t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const upper = (Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI)) * poly; // P(Z > |x|)
  return x >= 0 ? 1 - upper : upper;
}

/** The power of a two-sided test at alpha 0.05 (normal approximation) to detect a difference `delta` of two group means, `n` items per group, items varying with variance `v`: the design seedsForPower sizes. */
export function powerAt(delta: number, v: number, n: number): number {
  if (!(v > 0) || !(n > 0)) return NaN;
  const z = Math.abs(delta) / Math.sqrt((2 * v) / n);
  return normalCdf(z - Z975) + normalCdf(-z - Z975);
}

/**
 * Runs for 80% power (two-sided alpha 0.05, normal approximation) to detect an effect of the size
 * estimated, from an estimate on `n` runs and its 95% interval: the standard error read off the
 * interval's width (width / (2 x 1.96)), shrinking as 1 / sqrt(runs). Infinite without an effect or
 * a finite interval.
 */
export function runsForPower(iv: Interval, n: number): number {
  const se = (iv.hi - iv.lo) / (2 * Z975);
  if (!(Math.abs(iv.estimate) > 0) || !Number.isFinite(se) || !(se > 0)) return Infinity;
  return Math.ceil(n * (((Z975 + Z80) * se) / Math.abs(iv.estimate)) ** 2);
}
