/**
 * The stability study's numbers (STABILITY.md, notebook 11) from its records: how much of a run's
 * rho, Delta and classes is the seed, how much is training chaos (a replica's last-bit nudge of the
 * initial weights, or its reshuffled training batches: src/settings/replica.ts) and how much is evaluation
 * sampling (the base run's redraws), for the paper's pair (G, C) and the per-position pair (G, Cpos).
 *
 * One inference method per claim, whose interval and test agree: the variance parts, the layer
 * claims and the pruning gap by a percentile bootstrap that resamples seeds and, within each
 * resampled seed, its replicas (and its evaluation redraws), 10,000 times, seeded, a test's p from
 * the same resamples (two-sided: twice the smaller share of resampled values on either side of the
 * null value); the task comparison by an exact permutation test over seeds (each seed's runs move
 * together) and the interval that inverts it. No interval below MIN_INTERVAL_ITEMS seeds.
 */
import { classifyMeasures, coinFlipComponents } from '../../analysis/ranks';
import { TaskName } from '../../tasks';
import { replicaName, replicaOf } from '../../settings/replica';
import { RunRecord } from '../../records/format';
import { layerOf, MeasurePair, pairClassification } from '../../report/records';
import { mean, MIN_INTERVAL_ITEMS, powerAt, seedsForPower, shiftTest } from '../../report/stats';
import { SeedValues, none, nestedBootstrap, decompose, decomposition, RESAMPLES } from './variance';
import {
  ReplicaResult,
  SeedResult,
  ComponentStability,
  LayerClaim,
  PairStudy,
  TaskComparison,
  StabilityStudy,
  StabilityInput,
} from './types';
/** The pairs the study decomposes: the paper's, and the per-position mean ablation's (MEASURES.md). */
export const STABILITY_PAIRS: readonly MeasurePair[] = [
  { cheap: 'G', causal: 'C' },
  { cheap: 'G', causal: 'Cpos' },
];

/** A class is robust at a seed when at least this share of the seed's replicas give it. */
export const ROBUST_SHARE = 0.8;

// ---------------------------------------------------------------- variance parts

// ---------------------------------------------------------------- the bootstrap

// ---------------------------------------------------------------- from records

const HERO = 'HiddenHero';
const BLOAT = 'GradientBloat';

function replicaResult(rec: RunRecord, pair: MeasurePair): ReplicaResult {
  const c = pairClassification(rec, pair);
  const p = rec.analysis.pruning?.ood;
  const pruneGap = p && p.heroesPruned !== null && p.bloatsPruned !== null ? p.bloatsPruned - p.heroesPruned : null;
  const a = rec.config.analysis;
  const ids = rec.analysis.components;
  const coinFlips =
    a.rankRule === 'ordinal-random'
      ? coinFlipComponents(
          ids.map((id) => rec.analysis.scores[pair.cheap][id]),
          ids.map((id) => rec.analysis.scores[pair.causal][id]),
          a.threshold,
          a.inclusive,
        )
      : [];
  return {
    ...replicaOf(rec.config),
    rho: c.rho,
    classes: c.classes,
    delta: c.meanDelta ?? c.delta,
    pruneGap,
    coinFlips,
  };
}

/** The base run's rho and Delta on each redraw of its sequences under a pair (G from the redraw, the causal score from the redraw). */
function redrawsOf(rec: RunRecord, pair: MeasurePair): { rho: number; delta: number[] }[] {
  const ids = rec.analysis.components;
  return (rec.analysis.redraws ?? []).flatMap((d) => {
    const causal = pair.causal === 'C' ? d.C : d.scores?.[pair.causal];
    if (!causal) return [];
    const c = classifyMeasures({ G: d.G, [pair.causal]: causal }, ids, 'G', pair.causal, {
      ...rec.config.analysis,
      seed: rec.seed,
    });
    return [{ rho: c.rho, delta: c.meanDelta ?? c.delta }];
  });
}

function coinFlipCount(seeds: readonly SeedResult[]): Omit<PairStudy['coinFlips'], 'tieDraws'> {
  const runs = seeds.flatMap((s) => s.replicas);
  return {
    runs: runs.length,
    components: runs.reduce((a, r) => a + r.coinFlips.length, 0),
    heroOrBloat: runs.reduce((a, r) => a + r.coinFlips.filter((i) => r.classes[i] !== 'Aligned').length, 0),
  };
}

/** The study's numbers; `resamples` per interval (default 10,000; fewer for a quick look in a notebook). */
export function stabilityStudy(input: StabilityInput, opts: { resamples?: number } = {}): StabilityStudy {
  const resamples = opts.resamples ?? RESAMPLES;
  const skipped: StabilityStudy['skipped'] = [];
  for (const r of input.runs) {
    if (r.analysis.status !== 'analysed') {
      const { kind, r: n } = replicaOf(r.config);
      skipped.push({
        task: r.task,
        seed: r.seed,
        replica: replicaName(kind, n),
        reason: r.analysis.reason ?? 'not analysed',
      });
    }
  }
  const analysedRuns = input.runs.filter((r) => r.analysis.status === 'analysed');
  const tasks = [...new Set(analysedRuns.map((r) => r.task))].sort() as TaskName[];
  const pairs: PairStudy[] = [];
  for (const task of tasks) {
    for (const pair of STABILITY_PAIRS) {
      if (!analysedRuns.some((r) => r.task === task && r.analysis.scores[pair.causal])) continue;
      pairs.push(
        pairStudy(
          task,
          pair,
          analysedRuns.filter((r) => r.task === task),
          input.kernelRuns.filter((r) => r.task === task && r.analysis.status === 'analysed'),
          pairs.length,
          resamples,
        ),
      );
    }
  }
  const comparisons: TaskComparison[] = [];
  for (const pair of STABILITY_PAIRS) {
    const ps = pairs.filter((p) => p.pair.causal === pair.causal);
    for (let i = 0; i < ps.length; i++)
      for (let j = i + 1; j < ps.length; j++) comparisons.push(compareTasks(ps[i], ps[j]));
  }
  return { kernelsLabel: input.kernelsLabel, otherKernels: input.otherKernels, pairs, comparisons, skipped };
}

const order = (r: ReplicaResult) => (r.kind === 'base' ? 0 : r.kind === 'init' ? 1 : 2) * 1e6 + r.r;

function pairStudy(
  task: TaskName,
  pair: MeasurePair,
  runs: RunRecord[],
  kernelRuns: RunRecord[],
  salt: number,
  resamples: number,
): PairStudy {
  const bySeed = new Map<number, RunRecord[]>();
  for (const r of runs) bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), r]);
  // A seed counts once its base run is there (the replicas are measured against it).
  const seeds: SeedResult[] = [...bySeed.entries()]
    .filter(([, rs]) => rs.some((r) => replicaOf(r.config).kind === 'base'))
    .sort((a, b) => a[0] - b[0])
    .map(([seed, rs]) => {
      const replicas = rs.map((r) => replicaResult(r, pair)).sort((a, b) => order(a) - order(b));
      const base = rs.find((r) => replicaOf(r.config).kind === 'base')!;
      const redraws = redrawsOf(base, pair);
      const k = kernelRuns.find((r) => r.seed === seed);
      return {
        seed,
        replicas,
        evalRhos: [replicas[0].rho, ...redraws.map((d) => d.rho)],
        evalDeltas: [replicas[0].delta, ...redraws.map((d) => d.delta)],
        kernels: k && k.analysis.scores[pair.causal] ? replicaResult(k, pair) : null,
      };
    });
  const ids = runs[0].analysis.components;
  const values = (
    keep: (r: ReplicaResult) => boolean,
    v: (r: ReplicaResult) => number,
    e: (s: SeedResult) => number[],
  ): SeedValues[] => seeds.map((s) => ({ replicas: s.replicas.filter(keep).map(v), evaluation: e(s) }));
  const rhoValues = (keep: (r: ReplicaResult) => boolean) =>
    values(
      keep,
      (r) => r.rho,
      (s) => s.evalRhos,
    );
  const rho = {
    pooled: decomposition(
      rhoValues(() => true),
      100 * salt + 1,
      resamples,
    ),
    init: decomposition(
      rhoValues((r) => r.kind !== 'data'),
      100 * salt + 2,
      resamples,
    ),
    data: decomposition(
      rhoValues((r) => r.kind !== 'init'),
      100 * salt + 3,
      resamples,
    ),
  };
  const share = (s: SeedResult, i: number, cls: string) =>
    s.replicas.filter((r) => r.classes[i] === cls).length / s.replicas.length;
  const components: ComponentStability[] = ids.map((id, i) => {
    const d = decompose(
      values(
        () => true,
        (r) => r.delta[i],
        (s) => s.evalDeltas.map((x) => x[i]),
      ),
    );
    const sd = (v: number) => (Number.isFinite(v) ? Math.sqrt(Math.max(0, v)) : NaN);
    return {
      id,
      pHero: mean(seeds.map((s) => share(s, i, HERO))),
      pBloat: mean(seeds.map((s) => share(s, i, BLOAT))),
      robustHero: seeds.filter((s) => share(s, i, HERO) >= ROBUST_SHARE).length,
      robustBloat: seeds.filter((s) => share(s, i, BLOAT) >= ROBUST_SHARE).length,
      baseHero: seeds.filter((s) => s.replicas[0].classes[i] === HERO).length,
      baseBloat: seeds.filter((s) => s.replicas[0].classes[i] === BLOAT).length,
      sdBetween: sd(d.between),
      sdWithin: sd(d.within),
      sdEvaluation: sd(d.evaluation),
    };
  });
  const deltaParts = ids.map((_, i) =>
    decompose(
      values(
        () => true,
        (r) => r.delta[i],
        (s) => s.evalDeltas.map((x) => x[i]),
      ),
    ),
  );
  const shareOf = (f: (d: ReturnType<typeof decompose>) => number) =>
    mean(deltaParts.map((d) => f(d) / (d.between + d.within)).filter(Number.isFinite));
  // Per seed: each component's robust / base class, for the layer claims (resampled over seeds).
  const nLayers = Math.max(...ids.map(layerOf)) + 1;
  const late = (id: string) => layerOf(id) >= nLayers / 2;
  const perSeed = (cls: string, robust: boolean) =>
    seeds.map((s) => ids.map((_, i) => (robust ? share(s, i, cls) >= ROBUST_SHARE : s.replicas[0].classes[i] === cls)));
  const layerClaim = (cls: string, robust: boolean, inLayers: (id: string) => boolean, saltK: number): LayerClaim => {
    const marks = perSeed(cls, robust);
    const count = (ms: boolean[][]) => {
      let members = 0;
      let inside = 0;
      for (const m of ms)
        m.forEach((x, i) => {
          if (!x) return;
          members++;
          if (inLayers(ids[i])) inside++;
        });
      return { members, inside };
    };
    const c = count(marks);
    // The seeds that hold members of the class are resampled (the others add nothing to the share); fewer than 3: no interval.
    const units: SeedValues[] = marks
      .map((_, k) => ({ replicas: [k], evaluation: [] }))
      .filter((u) => marks[u.replicas[0]].some(Boolean));
    const { iv, p } = nestedBootstrap(
      units,
      (us) => {
        const r = count(us.map((u) => marks[u.replicas[0]]));
        return r.members ? r.inside / r.members : NaN;
      },
      { seed: 100 * salt + saltK, nullValue: 0.5, resamples },
    );
    return { members: c.members, inLayers: c.inside, share: iv, p };
  };
  const gaps: SeedValues[] = seeds
    .map((s) => ({
      replicas: s.replicas.map((r) => r.pruneGap).filter((g): g is number => g !== null),
      evaluation: [],
    }))
    .filter((u) => u.replicas.length);
  const pr = nestedBootstrap(gaps, (us) => mean(us.map((u) => mean(u.replicas))), { seed: 100 * salt + 9, resamples });
  return {
    task,
    pair,
    seeds,
    replicasPerSeed: {
      min: Math.min(...seeds.map((s) => s.replicas.length)),
      max: Math.max(...seeds.map((s) => s.replicas.length)),
    },
    rho,
    components,
    counts: {
      robustHeroes: components.reduce((a, c) => a + c.robustHero, 0),
      robustBloats: components.reduce((a, c) => a + c.robustBloat, 0),
      baseHeroes: components.reduce((a, c) => a + c.baseHero, 0),
      baseBloats: components.reduce((a, c) => a + c.baseBloat, 0),
    },
    coinFlips: { ...coinFlipCount(seeds), tieDraws: runs[0].config.analysis.tieDraws },
    deltaShares: {
      between: shareOf((d) => d.between),
      chaos: shareOf((d) => d.chaos),
      evaluation: shareOf((d) => d.evaluation),
    },
    heroesLate: { robust: layerClaim(HERO, true, late, 4), base: layerClaim(HERO, false, late, 5) },
    bloatsEarly: {
      robust: layerClaim(BLOAT, true, (id) => !late(id), 6),
      base: layerClaim(BLOAT, false, (id) => !late(id), 7),
    },
    pruning: {
      gap: pr.iv,
      p: pr.p,
      seedsWithGap: gaps.length,
      robustSeeds: gaps.filter((u) => u.replicas.filter((g) => g > 0).length >= ROBUST_SHARE * u.replicas.length)
        .length,
    },
    kernels: seeds
      .filter((s) => s.kernels)
      .map((s) => {
        const rhos = s.replicas.map((r) => r.rho);
        return {
          seed: s.seed,
          rhoOther: s.kernels!.rho,
          rhoBase: s.replicas[0].rho,
          classFlips: s.kernels!.classes.filter((c, i) => c !== s.replicas[0].classes[i]).length,
          insideReplicas: s.kernels!.rho >= Math.min(...rhos) && s.kernels!.rho <= Math.max(...rhos),
        };
      }),
  };
}

function compareTasks(a: PairStudy, b: PairStudy): TaskComparison {
  // The unit is a seed: its mean rho over its runs (replicas nested in it), or its base run alone.
  const units = (p: PairStudy, baseOnly: boolean) =>
    p.seeds.map((s) => mean((baseOnly ? s.replicas.slice(0, 1) : s.replicas).map((r) => r.rho)));
  const few = Math.min(a.seeds.length, b.seeds.length) < MIN_INTERVAL_ITEMS;
  const shift = (x: number[], y: number[]) => {
    const t = shiftTest(x, y);
    return few ? { ...t, interval: none(t.interval.estimate) } : t; // no interval for fewer than 3 seeds (the runs are shown)
  };
  const nested = shift(units(a, false), units(b, false));
  const base = shift(units(a, true), units(b, true));
  // A unit's variance: the seed effect plus the replicas' (over m runs per seed), averaged over the two tasks.
  const parts = [a, b].map((p) => ({
    between: Math.max(0, p.rho.pooled.between.estimate),
    within: Math.max(0, p.rho.pooled.within.estimate),
  }));
  const m = Math.min(a.replicasPerSeed.min, b.replicasPerSeed.min);
  const unit = (reps: number) => mean(parts.map((q) => q.between + q.within / reps));
  return {
    pair: a.pair,
    a: a.task,
    b: b.task,
    nested: nested.interval,
    pNested: nested.test.p,
    baseOnly: base.interval,
    pBaseOnly: base.test.p,
    seedsNeeded: {
      single: seedsForPower(nested.interval.estimate, unit(1)),
      replicated: seedsForPower(nested.interval.estimate, unit(m)),
      replicas: m,
    },
    power: powerAt(nested.interval.estimate, unit(m), Math.min(a.seeds.length, b.seeds.length)),
    seedsOverInterval: {
      lo: seedsForPower(nested.interval.lo, unit(1)),
      hi: seedsForPower(nested.interval.hi, unit(1)),
    },
  };
}
