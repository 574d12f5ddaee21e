/** The report's statistics against hand-computed cases. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binomial, bootstrap, inside, mean, permutationTest, quantileSorted, shiftTest } from '../src/report/stats';

test('quantiles interpolate linearly between order statistics (numpy default)', () => {
  assert.equal(quantileSorted([1, 2, 3, 4], 0.25), 1.75);
  assert.equal(quantileSorted([1, 2, 3, 4], 0), 1);
  assert.equal(quantileSorted([1, 2, 3, 4], 1), 4);
  assert.equal(quantileSorted([5], 0.9), 5);
  assert.ok(Number.isNaN(quantileSorted([], 0.5)));
});

test('binomial coefficients', () => {
  assert.equal(binomial(20, 10), 184756);
  assert.equal(binomial(4, 2), 6);
  assert.equal(binomial(5, 0), 1);
  assert.equal(binomial(3, 4), 0);
});

test('exact permutation test: a = [3, 4] vs b = [1, 2] by hand', () => {
  // The 6 splits give sum(a) in {3, 4, 5, 5, 6, 7}; the statistic is sum(a) - 5; observed 2 (sum 7).
  const g = permutationTest([3, 4], [1, 2]);
  assert.equal(g.exact, true);
  assert.equal(g.permutations, 6);
  assert.equal(g.observed, 2);
  assert.equal(g.p, 1 / 6);
  const t = permutationTest([3, 4], [1, 2], { alternative: 'two-sided' });
  assert.equal(t.p, 2 / 6);
  // Reversed groups: the observed difference is the smallest possible, so every split is >= it.
  assert.equal(permutationTest([1, 2], [3, 4]).p, 1);
});

test('the Monte Carlo permutation test agrees with the exact one', () => {
  const a = [0.88, 0.77, 0.68, 0.84, 0.74, 0.56, 0.47, 0.79, 0.73, 0.81];
  const b = [0.44, 0.36, -0.11, 0.19, 0.6, 0.1, 0.73, 0.37, 0.08, 0.42];
  const exact = permutationTest(a, b);
  const mc = permutationTest(a, b, { maxExact: 0, resamples: 20000 });
  assert.equal(exact.permutations, 184756);
  assert.equal(mc.exact, false);
  assert.ok(exact.p > 0 && exact.p < 0.01, `exact p ${exact.p}`);
  assert.ok(Math.abs(mc.p - exact.p) < 0.002, `${mc.p} vs ${exact.p}`);
});

test('bootstrap: constant data, a three-point sample by hand, determinism, no interval for fewer than 3 items', () => {
  const c = bootstrap([2, 2, 2], mean);
  assert.deepEqual([c.estimate, c.lo, c.hi], [2, 2, 2]);
  // Means of resamples of [0, 0, 30] are 0, 10, 20, 30 with probabilities 8/27, 12/27, 6/27, 1/27:
  // the 2.5% quantile is 0, and the 97.5% one is 30 (P(mean <= 20) = 26/27 < 0.975).
  const t = bootstrap([0, 0, 30], mean, { resamples: 4000 });
  assert.equal(t.estimate, 10);
  assert.equal(t.lo, 0);
  assert.equal(t.hi, 30);
  // Two runs: the estimate, no interval (it would say nothing).
  const two = bootstrap([0, 10], mean);
  assert.equal(two.estimate, 5);
  assert.ok(Number.isNaN(two.lo) && Number.isNaN(two.hi));
  const x = [0.1, 0.5, 0.3, 0.9, 0.2];
  assert.deepEqual(bootstrap(x, mean, { seed: 3 }), bootstrap(x, mean, { seed: 3 }));
  const iv = bootstrap(x, mean);
  assert.ok(iv.lo < mean(x) && mean(x) < iv.hi);
  assert.ok(iv.lo >= 0.1 && iv.hi <= 0.9);
  assert.ok(inside(0.4, iv));
  assert.ok(!inside(0.95, iv));
  const one = bootstrap([1], mean);
  assert.ok(Number.isNaN(one.lo) && !inside(1, one));
});

test('shiftTest: the interval is the shifts the exact test does not reject; it excludes 0 exactly when p < 0.05', () => {
  const a = [0.88, 0.77, 0.68, 0.84, 0.74, 0.56, 0.47, 0.79, 0.73, 0.81];
  const b = [0.44, 0.36, -0.11, 0.19, 0.6, 0.1, 0.73, 0.37, 0.08, 0.42];
  const { test: t, interval: iv } = shiftTest(a, b);
  assert.equal(t.alternative, 'two-sided');
  assert.equal(t.p, permutationTest(a, b, { alternative: 'two-sided' }).p);
  assert.ok(t.p < 0.05 && iv.lo > 0, `p ${t.p}, [${iv.lo}, ${iv.hi}]`);
  const pAt = (d: number) =>
    permutationTest(
      a.map((x) => x - d),
      b,
      { alternative: 'two-sided' },
    ).p;
  for (const [end, inward] of [
    [iv.lo, 1],
    [iv.hi, -1],
  ] as const) {
    assert.ok(pAt(end + inward * 1e-4) > 0.05, `just inside ${end}`);
    assert.ok(pAt(end - inward * 1e-3) <= 0.05, `just outside ${end}`);
  }
  // Overlapping samples: 0 inside, p >= 0.05.
  const same = shiftTest([0.5, 0.3, 0.6, 0.4, 0.55], [0.45, 0.35, 0.5, 0.6, 0.3]);
  assert.ok(same.test.p >= 0.05 && same.interval.lo < 0 && same.interval.hi > 0);
  // 2 against 2: the smallest two-sided p is 2/6, nothing can be rejected: unbounded.
  assert.deepEqual(shiftTest([3, 4], [1, 2]).interval.lo, -Infinity);
});
