import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  averageRanks,
  classify,
  classifyComponents,
  classifyMeasures,
  coinFlipComponents,
  describeRho,
  exactClassProbabilities,
  ordinalRanks,
  spearman,
} from '../src/analysis/ranks';
import { mostExtreme } from '../src/analysis/prune';
import { Rng } from '../src/base/rng';

test('average ranks give ties the mean of the ranks they span (scipy rankdata)', () => {
  assert.deepEqual(averageRanks([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
  assert.deepEqual(averageRanks([0, 0, 0]), [2, 2, 2]);
  assert.deepEqual(averageRanks([3, 1, 2]), [3, 1, 2]);
});

test('ordinal ranks: ties by order, or by a seeded random permutation', () => {
  assert.deepEqual(ordinalRanks([10, 20, 20, 5], 'order'), [2, 3, 4, 1]);
  const seen = new Set<string>();
  const rng = new Rng(1);
  for (let i = 0; i < 50; i++) {
    const r = ordinalRanks([10, 20, 20, 5], rng);
    assert.equal(r[0], 2);
    assert.equal(r[3], 1);
    seen.add(r.join());
  }
  assert.deepEqual([...seen].sort(), ['2,3,4,1', '2,4,3,1']);
});

test('Spearman rho on hand-computed cases, with ties', () => {
  // ranks y = [1, 2, 3.5, 5, 3.5]; rho = 8 / sqrt(10 * 9.5)
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 8 / Math.sqrt(95)) < 1e-12);
  assert.ok(Math.abs(spearman([1, 2, 3], [30, 20, 10]) + 1) < 1e-12);
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 3, 2, 4]) - 0.8) < 1e-12);
  // order of the pairs does not matter
  assert.equal(spearman([5, 4, 3, 2, 1], [7, 8, 7, 6, 5]), spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]));
});

test('class thresholds: paper (<= -6, >= 6) and authors (< -6, > 6)', () => {
  assert.equal(classify(-6, 6, true), 'HiddenHero');
  assert.equal(classify(-6, 6, false), 'Aligned');
  assert.equal(classify(-6.5, 6, false), 'HiddenHero');
  assert.equal(classify(6, 6, true), 'GradientBloat');
  assert.equal(classify(6, 6, false), 'Aligned');
  assert.equal(classify(7, 6, false), 'GradientBloat');
  assert.equal(classify(5.5, 6, true), 'Aligned');
  assert.equal(classify(0, 6, true), 'Aligned');
});

test('Delta = Rank(G) - Rank(C) and classes, by hand', () => {
  const G = [1, 2, 3, 4, 5, 6, 7, 8];
  const C = [8, 7, 6, 5, 4, 3, 2, 1];
  const r = classifyComponents(G, C, { rankRule: 'average', threshold: 6, inclusive: true, tieDraws: 1, seed: 0 });
  assert.deepEqual(r.delta, [-7, -5, -3, -1, 1, 3, 5, 7]);
  assert.deepEqual(r.classes, [
    'HiddenHero',
    'Aligned',
    'Aligned',
    'Aligned',
    'Aligned',
    'Aligned',
    'Aligned',
    'GradientBloat',
  ]);
  assert.ok(Math.abs(r.rho + 1) < 1e-12);
  assert.deepEqual(r.counts, { heroes: 1, bloats: 1 });
});

test('ties broken by component order manufacture early Bloats; random tie-breaks do not favour a layer', () => {
  // 20 components, G increasing with index, every C tied at 0 (nothing matters causally).
  const G = Array.from({ length: 20 }, (_, i) => (i * 7) % 20); // a permutation of 0..19
  const C = new Array(20).fill(0);
  const base = { threshold: 6, inclusive: true, tieDraws: 2000, seed: 3 };
  const byOrder = classifyComponents(G, C, { ...base, rankRule: 'ordinal-order' });
  // rank C is just the position: Delta_i = rankG_i - (i + 1)
  assert.deepEqual(
    byOrder.rankC,
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  const avg = classifyComponents(G, C, { ...base, rankRule: 'average' });
  assert.deepEqual(avg.rankC, new Array(20).fill(10.5));
  const rnd = classifyComponents(G, C, { ...base, rankRule: 'ordinal-random' });
  // With every C tied, rank C is uniform on 1..20 for each component: P(Hero) = P(rankC >= rankG + 6).
  rnd.classFreq!.forEach((f, i) => {
    const rg = byOrder.rankG[i];
    const pHero = Math.max(0, 20 - (rg + 6) + 1) / 20;
    const pBloat = Math.max(0, rg - 6) / 20;
    assert.ok(Math.abs(f.HiddenHero - pHero) < 0.04, `component ${i}: P(Hero) ${f.HiddenHero} vs ${pHero}`);
    assert.ok(Math.abs(f.GradientBloat - pBloat) < 0.04, `component ${i}: P(Bloat) ${f.GradientBloat} vs ${pBloat}`);
    assert.ok(Math.abs(f.HiddenHero + f.GradientBloat + f.Aligned - 1) < 1e-9);
  });
  assert.ok(Math.abs(rnd.counts.expectedHeroes! - rnd.classFreq!.reduce((a, f) => a + f.HiddenHero, 0)) < 1e-9);
  // same seed, same draws
  assert.deepEqual(classifyComponents(G, C, { ...base, rankRule: 'ordinal-random' }).classFreq, rnd.classFreq);
});

test("exact class probabilities under random tie-breaks: a hand-counted case, the draws' estimate, and the coin flips", () => {
  // 8 components, threshold 2. G all distinct (ranks = value). C: components 0-3 tied at 0 (ranks 1-4
  // each with probability 1/4), then 4..7 distinct (ranks 5..8).
  const G = [4, 1, 2, 3, 8, 7, 6, 5];
  const C = [0, 0, 0, 0, 1, 2, 3, 4];
  const p = exactClassProbabilities(G, C, 2, true);
  // component 0: rankG 4, rankC uniform on 1..4: Delta 3, 2, 1, 0 -> Bloat 2/4, Aligned 2/4 (a coin flip)
  assert.deepEqual(p[0], { HiddenHero: 0, GradientBloat: 0.5, Aligned: 0.5 });
  // component 1: rankG 1: Delta 0, -1, -2, -3 -> Hero 2/4
  assert.deepEqual(p[1], { HiddenHero: 0.5, GradientBloat: 0, Aligned: 0.5 });
  // component 2: rankG 2: Delta 1, 0, -1, -2 -> Hero 1/4
  assert.deepEqual(p[2], { HiddenHero: 0.25, GradientBloat: 0, Aligned: 0.75 });
  // component 3: rankG 3: Delta 2, 1, 0, -1 -> Bloat 1/4
  assert.deepEqual(p[3], { HiddenHero: 0, GradientBloat: 0.25, Aligned: 0.75 });
  // untied: Delta 8-5 = 3 (Bloat), 7-6 = 1, 6-7 = -1, 5-8 = -3 (Hero)
  assert.deepEqual(p.slice(4), [
    { HiddenHero: 0, GradientBloat: 1, Aligned: 0 },
    { HiddenHero: 0, GradientBloat: 0, Aligned: 1 },
    { HiddenHero: 0, GradientBloat: 0, Aligned: 1 },
    { HiddenHero: 1, GradientBloat: 0, Aligned: 0 },
  ]);
  // strict threshold: Delta must pass 2, so component 0 is Bloat only at Delta 3
  assert.deepEqual(exactClassProbabilities(G, C, 2, false)[0], { HiddenHero: 0, GradientBloat: 0.25, Aligned: 0.75 });
  assert.deepEqual(coinFlipComponents(G, C, 2, true), [0, 1]);
  assert.deepEqual(coinFlipComponents(G, C, 2, false), []);
  // ties in G and C together: the draws estimate the exact law
  const G2 = [0, 0, 0, 1, 2, 2, 3, 4, 5, 5, 6, 7];
  const C2 = [3, 0, 0, 0, 0, 1, 1, 2, 0, 4, 5, 1];
  const exact = exactClassProbabilities(G2, C2, 3, true);
  const drawn = classifyComponents(G2, C2, {
    rankRule: 'ordinal-random',
    threshold: 3,
    inclusive: true,
    tieDraws: 20_000,
    seed: 5,
  });
  drawn.classFreq!.forEach((f, i) => {
    for (const k of ['HiddenHero', 'GradientBloat', 'Aligned'] as const)
      assert.ok(Math.abs(f[k] - exact[i][k]) < 0.015, `component ${i} ${k}: drawn ${f[k]} vs exact ${exact[i][k]}`);
  });
});

test('the most extreme Heroes and Bloats', () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const delta = [-7, -9, 8, 6, -7];
  const classes = ['HiddenHero', 'HiddenHero', 'GradientBloat', 'GradientBloat', 'HiddenHero'] as const;
  assert.deepEqual(mostExtreme(ids, delta, classes, 'HiddenHero', 2), ['b', 'a']);
  assert.deepEqual(mostExtreme(ids, delta, classes, 'GradientBloat', 2), ['c', 'd']);
  assert.deepEqual(mostExtreme(ids, delta, classes, 'GradientBloat', 1), ['c']);
  assert.deepEqual(
    mostExtreme(ids, delta, ['Aligned', 'Aligned', 'Aligned', 'Aligned', 'Aligned'], 'HiddenHero', 2),
    [],
  );
});

test("Eq. 3 for any pair of recorded measures: (G, C) is the paper's classification; another causal measure in C's place gives its own", () => {
  const components = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
  const col = (xs: number[]) => Object.fromEntries(components.map((id, i) => [id, xs[i]]));
  const G = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
  const C = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const zero = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
  const scores = { G: col(G), C: col(C), Czero: col(zero) };
  const opts = { rankRule: 'average' as const, threshold: 6, inclusive: true, seed: 1, tieDraws: 10 };
  assert.deepEqual(classifyMeasures(scores, components, 'G', 'C', opts), classifyComponents(G, C, opts));
  const gc = classifyMeasures(scores, components, 'G', 'C', opts);
  assert.ok(Math.abs(gc.rho + 1) < 1e-12);
  assert.deepEqual(gc.classes, [
    'GradientBloat',
    'GradientBloat',
    'Aligned',
    'Aligned',
    'Aligned',
    'Aligned',
    'Aligned',
    'Aligned',
    'HiddenHero',
    'HiddenHero',
  ]); // a: rank G 10, rank C 1, Delta +9
  const gz = classifyMeasures(scores, components, 'G', 'Czero', opts);
  assert.ok(Math.abs(gz.rho - 1) < 1e-12);
  assert.deepEqual(gz.counts, { heroes: 0, bloats: 0 });
  assert.throws(
    () => classifyMeasures(scores, components, 'G', 'resample', opts),
    /no scores recorded for measure "resample"; recorded: G, C, Czero/,
  );
});

test('rho in words: its value, or which score left it undefined', () => {
  assert.equal(describeRho(0.50607), '0.506');
  assert.equal(
    describeRho(NaN, { G: { a: 1, b: 2 }, C: { a: 0, b: 0 } }),
    'undefined (C is 0 for every component: no single ablation changes the exact match at this length)',
  );
  assert.equal(
    describeRho(null, { G: { a: 0.25, b: 0.25 }, C: { a: 0.1, b: 0 } }),
    'undefined (G is 0.25 for every component)',
  );
  assert.equal(describeRho(undefined), 'undefined (G or C is the same for every component)');
});
