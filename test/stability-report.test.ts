/**
 * The stability study's statistics (src/studies/stability/numbers.ts): the variance parts against hand
 * computation, the nested bootstrap's interval and test agreeing (one method), the power rule, and
 * a study of hand-made runs whose classes and rhos are known.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyComponents, spearman } from '../src/analysis/ranks';
import { getConfig } from '../src/settings/validate';
import { stabilityStudy } from '../src/studies/stability/numbers';
import {
  decompose,
  decomposition,
  nestedBootstrap,
  pooledVariance,
  SeedValues,
  varianceParts,
} from '../src/studies/stability/variance';
import { normalCdf, powerAt, runsForPower, seedsForPower } from '../src/report/stats';
import type { RunRecord } from '../src/records/format';
import { IDS } from './records';

test('varianceParts: hand-computed one-way random-effects moments, balanced and unbalanced', () => {
  // Means 2 and 6; MS_within = 4 / 2 = 2; MS_between = 2*4 + 2*4 = 16; n0 = 2: between = (16 - 2) / 2 = 7.
  assert.deepEqual(
    varianceParts([
      [1, 3],
      [5, 7],
    ]),
    { between: 7, within: 2 },
  );
  // Means 3 and 10, N = 4: within = 8 / 2 = 4; MS_between = 3 * 1.75^2 + 5.25^2 = 36.75; n0 = (4 - 10/4) / 1 = 1.5.
  const u = varianceParts([[1, 3, 5], [10]]);
  assert.equal(u.within, 4);
  assert.ok(Math.abs(u.between - (36.75 - 4) / 1.5) < 1e-12);
  assert.ok(Number.isNaN(varianceParts([[1], [2]]).within), 'no group of two: no within-group variance');
  assert.ok(Number.isNaN(varianceParts([[1, 2]]).between), 'one group: no between-group variance');
  assert.ok(Math.abs(pooledVariance([[1, 2, 3], [5, 5], [9]]) - 2 / 3) < 1e-12);
});

test('seedsForPower: 2 (z_.975 + z_.8)^2 v / delta^2, rounded up; runsForPower from an interval', () => {
  assert.equal(seedsForPower(0.2, 0.04), 16); // 15.70
  assert.equal(seedsForPower(-0.2, 0.04), 16);
  assert.equal(seedsForPower(0.1, 0.04), 63); // 62.79
  assert.equal(seedsForPower(0, 0.04), Infinity);
  // From an interval: se = width / 3.92; n (2.80 se / |estimate|)^2. Width 0.392, estimate 0.1, 30 runs: se 0.1, 30 x 7.85 = 235.5.
  assert.equal(runsForPower({ estimate: 0.1, lo: -0.096, hi: 0.296, level: 0.95, resamples: 1 }, 30), 236);
  assert.equal(runsForPower({ estimate: 0.1, lo: -Infinity, hi: 0.3, level: 0.95, resamples: 1 }, 30), Infinity);
  // powerAt: Phi(z - 1.96) + Phi(-z - 1.96), z = |delta| / sqrt(2 v / n). Phi from the tables: Phi(1.96) 0.9750, Phi(-1) 0.1587.
  assert.ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-6);
  assert.ok(Math.abs(normalCdf(-1) - 0.158655) < 1e-6);
  // delta 0.2, v 0.04, 16 a group: z = 2.8284, Phi(0.8685) = 0.8074 (tables: Phi(0.86) 0.80511, Phi(0.87) 0.80785, interpolated).
  assert.ok(Math.abs(powerAt(0.2, 0.04, 16) - 0.8074) < 5e-4, String(powerAt(0.2, 0.04, 16)));
  assert.ok(Math.abs(powerAt(0, 0.04, 16) - 0.05) < 1e-6, 'no difference: the power is the test level');
  assert.ok(powerAt(0.2, 0.04, seedsForPower(0.2, 0.04)) >= 0.8, 'seedsForPower gives at least 80%');
});

test("nestedBootstrap: no interval under 3 seeds; the interval excludes the null value exactly when p < 0.05; the decomposition's parts from one set of draws", () => {
  const seeds = (xs: number[][]): SeedValues[] => xs.map((r) => ({ replicas: r, evaluation: [] }));
  const meanOfSeeds = (us: SeedValues[]) =>
    us.reduce((s, u) => s + u.replicas.reduce((x, y) => x + y, 0) / u.replicas.length, 0) / us.length;
  const two = nestedBootstrap(seeds([[1], [2]]), meanOfSeeds);
  assert.ok(Number.isNaN(two.iv.lo) && Number.isNaN(two.p));
  assert.equal(two.iv.estimate, 1.5);
  const far = nestedBootstrap(
    seeds([
      [0.8, 0.82],
      [0.75, 0.7],
      [0.9, 0.85],
      [0.8, 0.78],
    ]),
    meanOfSeeds,
    { resamples: 2000, nullValue: 0.5 },
  );
  assert.ok(far.iv.lo > 0.5 && far.p < 0.05, JSON.stringify(far));
  const near = nestedBootstrap(
    seeds([
      [0.5, 0.7],
      [0.3, 0.6],
      [0.4, 0.5],
      [0.6, 0.2],
    ]),
    meanOfSeeds,
    { resamples: 2000, nullValue: 0.5 },
  );
  assert.ok(near.iv.lo < 0.5 && near.iv.hi > 0.5 && near.p >= 0.05, JSON.stringify(near));
  // Within a seed the replicas are resampled too: seeds whose replicas differ widen the interval over seeds with one value each (same seed means).
  const spread = nestedBootstrap(
    seeds([
      [0, 2],
      [1, 3],
      [2, 4],
    ]),
    meanOfSeeds,
    { resamples: 4000 },
  );
  const flat = nestedBootstrap(seeds([[1], [2], [3]]), meanOfSeeds, { resamples: 4000 });
  assert.equal(spread.iv.estimate, flat.iv.estimate);
  assert.ok(
    spread.iv.hi - spread.iv.lo > flat.iv.hi - flat.iv.lo,
    `${JSON.stringify(spread.iv)} vs ${JSON.stringify(flat.iv)}`,
  );
  // decomposition: every part's interval from one set of draws, the same as bootstrapping each part on its own with the same generator seed.
  const units: SeedValues[] = [
    [0.5, 0.7, 0.6],
    [0.3, 0.2],
    [0.9, 0.6, 0.8],
    [0.4, 0.45],
  ].map((r, k) => ({ replicas: r, evaluation: [0.1 * k, 0.1 * k + 0.05, 0.1 * k - 0.02] }));
  const d = decomposition(units, 7, 800);
  const total = (x: ReturnType<typeof decompose>) => x.between + x.within;
  const alone = (f: (x: ReturnType<typeof decompose>) => number) =>
    nestedBootstrap(units, (us) => f(decompose(us)), { seed: 7, resamples: 800 }).iv;
  assert.deepEqual(
    d.between,
    alone((x) => x.between),
  );
  assert.deepEqual(
    d.chaos,
    alone((x) => x.chaos),
  );
  assert.deepEqual(
    d.evaluationShare,
    alone((x) => x.evaluation / total(x)),
  );
  assert.deepEqual(
    d.chaosShare,
    alone((x) => x.chaos / total(x)),
  );
  // The seed share were all the evaluation noise shared by a seed's replicas: (between - evaluation) / total, from the same draws.
  assert.deepEqual(
    d.betweenShareLow,
    alone((x) => Math.max(0, x.between - x.evaluation) / total(x)),
  );
  const e = decompose(units);
  assert.ok(e.between > e.evaluation, 'the fixture has a seed part above its evaluation part');
  assert.ok(Math.abs(d.betweenShareLow.estimate - (d.betweenShare.estimate - d.evaluationShare.estimate)) < 1e-12);
  assert.equal(d.runs, 10);
  assert.ok(Number.isNaN(decomposition(units.slice(0, 2), 7, 800).chaos.lo), 'two seeds: no interval');
  // The same seed of the generator gives the same interval (a report rebuilds identically).
  assert.deepEqual(
    nestedBootstrap(
      seeds([
        [1, 2],
        [3, 4],
        [5, 7],
      ]),
      (a) => a[0].replicas[0],
      { resamples: 500 },
    ),
    nestedBootstrap(
      seeds([
        [1, 2],
        [3, 4],
        [5, 7],
      ]),
      (a) => a[0].replicas[0],
      { resamples: 500 },
    ),
  );
});

/** A hand-made analysed run: G, C and Cpos given, Eq. 3 computed as the pipeline does (threshold 2, so six components can hold a class). */
function run(
  seed: number,
  replica: { initReplica?: number; dataReplica?: number },
  G: number[],
  C: number[],
  pruneGap: number | null = 0.1,
): RunRecord {
  const base = getConfig('paper');
  const config = {
    ...base,
    train: { ...base.train, initReplica: replica.initReplica ?? 0, dataReplica: replica.dataReplica ?? 0 },
    analysis: { ...base.analysis, threshold: 2, measures: ['Cpos'], tieDraws: 10 },
  };
  const byId = (xs: number[]) => Object.fromEntries(IDS.map((id, i) => [id, xs[i]]));
  const classification = classifyComponents(G, C, { ...config.analysis, seed });
  return {
    format: 1,
    preset: 'paper',
    task: 'reverse',
    seed,
    config,
    provenance: { backend: 'wasm', kernels: 'native' } as RunRecord['provenance'],
    training: {
      steps: 100,
      reachedTarget: true,
      stopReason: 'target',
      finalAcc: 0.9,
      wallMs: 1,
      msPerStep: 1,
      losses: [],
      evals: [],
    },
    timingsMs: { train: 1, analysis: 1 },
    analysis: {
      status: 'analysed',
      ood: { length: 9, accuracies: { 9: 0.5 }, samples: 10, range: [0.2, 0.75] },
      components: IDS,
      baseline: 0.5,
      scores: { G: byId(G), C: byId(C), Cpos: byId(C.map((c) => -c)) },
      timingsMs: {},
      classification,
      pruning: {
        heroes: [],
        bloats: [],
        ood: {
          baseline: 0.5,
          heroesPruned: pruneGap === null ? null : 0.3,
          bloatsPruned: pruneGap === null ? null : 0.3 + pruneGap,
        },
        id: { baseline: 0.9, heroesPruned: null, bloatsPruned: null },
        allBloats: { ids: [], idBefore: 0.9, idAfter: null, protocol: 'paper' },
        idLength: 5,
      },
      redraws: [1, 2].map((k) => ({
        redraw: k,
        baseline: 0.5,
        G: byId(G),
        C: byId(C.map((c, i) => (i === k ? c + 0.5 : c))),
        rho: NaN,
        heroes: 0,
        bloats: 0,
        classes: [],
        scores: { Cpos: byId(C.map((c) => -c)) },
      })),
    },
  } as RunRecord;
}

test('coin flips counted: components whose two likeliest classes are exactly equally likely, and how many the draws classed', () => {
  // threshold 2: L0.H0 has rank G 3 and rank C 1 or 2 (tied with L0.H1): Delta 2 or 1, Bloat or Aligned at 50/50.
  const G = [3, 1, 2, 4, 5, 6];
  const C = [0, 0, 1, 2, 3, 4];
  const runs = [run(1, {}, G, C), run(1, { initReplica: 1 }, G, C), run(1, { dataReplica: 1 }, G, C)];
  const s = stabilityStudy({ runs, kernelRuns: [], kernelsLabel: 'wasm native+fused', otherKernels: null });
  const gc = s.pairs.find((p) => p.pair.causal === 'C')!;
  assert.deepEqual(
    gc.seeds[0].replicas.map((r) => r.coinFlips),
    [[0], [0], [0]],
  );
  const bloats = runs.filter((r) => r.analysis.classification!.classes[0] === 'GradientBloat').length;
  assert.deepEqual(gc.coinFlips, { runs: 3, components: 3, heroOrBloat: bloats, tieDraws: 10 });
  // Cpos = -C: no ties straddle the threshold there
  assert.deepEqual(s.pairs.find((p) => p.pair.causal === 'Cpos')!.coinFlips.components, 0);
});

test("a study of hand-made runs: rho per replica, robust classes counted only where >= 80% of a seed's runs agree", () => {
  const G = [1, 2, 3, 4, 5, 6];
  const heroC = [6, 1, 2, 3, 4, 5]; // Delta = [-5, 1, 1, 1, 1, 1]: L0.H0 a Hidden Hero (threshold 2), nothing else
  const flat = [1, 2, 3, 4, 5, 6]; // Delta 0 everywhere
  const runs = [
    // seed 1: L0.H0 a Hero in all three runs (robust); seed 2: in two of three (not robust); seed 3: in one of three.
    run(1, {}, G, heroC),
    run(1, { initReplica: 1 }, G, heroC),
    run(1, { dataReplica: 1 }, G, heroC),
    run(2, {}, G, heroC),
    run(2, { initReplica: 1 }, G, heroC),
    run(2, { dataReplica: 1 }, G, flat),
    run(3, {}, G, heroC),
    run(3, { initReplica: 1 }, G, flat),
    run(3, { dataReplica: 1 }, G, flat, null),
  ];
  const s = stabilityStudy({ runs, kernelRuns: [], kernelsLabel: 'wasm native+fused', otherKernels: null });
  const gc = s.pairs.find((p) => p.pair.causal === 'C')!;
  assert.deepEqual(
    gc.seeds.map((x) => x.replicas.map((r) => `${r.kind}${r.r}`)),
    [
      ['base0', 'init1', 'data1'],
      ['base0', 'init1', 'data1'],
      ['base0', 'init1', 'data1'],
    ],
  );
  assert.equal(gc.seeds[1].replicas[2].rho, spearman(G, flat));
  assert.equal(gc.seeds[0].replicas[0].rho, spearman(G, heroC));
  const h = gc.components.find((c) => c.id === 'L0.H0')!;
  assert.equal(h.robustHero, 1);
  assert.equal(h.baseHero, 3);
  assert.ok(Math.abs(h.pHero - (1 + 2 / 3 + 1 / 3) / 3) < 1e-12);
  assert.deepEqual(gc.counts, { robustHeroes: 1, robustBloats: 0, baseHeroes: 3, baseBloats: 0 });
  // The layer claim: one robust Hero (at one seed) gets no interval and no test; the per-run Heroes (at three seeds) do: all in L0, none late.
  assert.equal(gc.heroesLate.robust.members, 1);
  assert.ok(Number.isNaN(gc.heroesLate.robust.share.lo) && Number.isNaN(gc.heroesLate.robust.p));
  assert.deepEqual(
    [gc.heroesLate.base.members, gc.heroesLate.base.inLayers, gc.heroesLate.base.share.lo, gc.heroesLate.base.share.hi],
    [3, 0, 0, 0],
  );
  // Evaluation: each base run's rho on its own sequences and on the two redraws.
  assert.equal(gc.seeds[0].evalRhos.length, 3);
  assert.equal(
    gc.seeds[0].evalRhos[1],
    spearman(
      G,
      heroC.map((c, i) => (i === 1 ? c + 0.5 : c)),
    ),
  );
  // Pruning gap: 0.1 in every run that has one (seed 3's data replica has none).
  assert.ok(Math.abs(gc.pruning.gap.estimate - 0.1) < 1e-12);
  assert.equal(gc.pruning.robustSeeds, 3);
  // Within-seed variance of rho is the replicas' spread: seed 1 has none, seeds 2 and 3 have a run or two at rho 1.
  const rhoHero = spearman(G, heroC);
  assert.ok(
    Math.abs(
      gc.rho.pooled.within.estimate -
        varianceParts([
          [rhoHero, rhoHero, rhoHero],
          [rhoHero, rhoHero, 1],
          [rhoHero, 1, 1],
        ]).within,
    ) < 1e-12,
  );
  assert.equal(gc.rho.pooled.runs, 9);
  // The per-position pair is there too, from the Cpos scores.
  const gp = s.pairs.find((p) => p.pair.causal === 'Cpos')!;
  assert.equal(
    gp.seeds[0].replicas[0].rho,
    spearman(
      G,
      heroC.map((c) => -c),
    ),
  );
});
