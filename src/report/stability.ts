/**
 * The stability study's numbers (STABILITY.md, notebook 11) from its records: how much of a run's
 * rho, Delta and classes is the seed, how much is training chaos (a replica's last-bit nudge of the
 * initial weights, or its reshuffled training batches: src/replica.ts) and how much is evaluation
 * sampling (the base run's redraws), for the paper's pair (G, C) and the per-position pair (G, Cpos).
 *
 * One inference method per claim, whose interval and test agree: the variance parts, the layer
 * claims and the pruning gap by a percentile bootstrap that resamples seeds and, within each
 * resampled seed, its replicas (and its evaluation redraws), 10,000 times, seeded, a test's p from
 * the same resamples (two-sided: twice the smaller share of resampled values on either side of the
 * null value); the task comparison by an exact permutation test over seeds (each seed's runs move
 * together) and the interval that inverts it. No interval below MIN_INTERVAL_ITEMS seeds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { classifyMeasures } from '../analysis/ranks';
import { ConfigError, PresetName, TaskName } from '../config';
import { REPLICA_FOLDER, replicaName, replicaOf, ReplicaKind } from '../replica';
import { familyMix, RejectedFile, RunRecord, scanRecords, trainedOn } from '../store';
import { Rng } from '../rng';
import { layerOf, MeasurePair, pairClassification } from './records';
import { bootstrapP, Interval, mean, MIN_INTERVAL_ITEMS, percentileInterval, seedsForPower, shiftTest } from './stats';

/** The pairs the study decomposes: the paper's, and the per-position mean ablation's (MEASURES.md). */
export const STABILITY_PAIRS: readonly MeasurePair[] = [
  { cheap: 'G', causal: 'C' },
  { cheap: 'G', causal: 'Cpos' },
];

/** A class is robust at a seed when at least this share of the seed's replicas give it. */
export const ROBUST_SHARE = 0.8;

const RESAMPLES = 10_000;

/** One analysed replica of one seed under one pair. */
export interface ReplicaResult {
  kind: ReplicaKind;
  r: number;
  rho: number;
  classes: string[];
  /** Each component's Delta (the mean over tie-break draws under ordinal-random). */
  delta: number[];
  /** Table 2 on this replica's own classes: accuracy drop pruning the Heroes minus pruning the Bloats (null without both). */
  pruneGap: number | null;
}

/** One seed of one task under one pair: its replicas (base first) and the base run's evaluation redraws. */
export interface SeedResult {
  seed: number;
  replicas: ReplicaResult[];
  /** rho of the base model on its own sequences, then on each redraw. */
  evalRhos: number[];
  /** Each component's Delta on the base model's own sequences, then on each redraw. */
  evalDeltas: number[][];
  /** The other kernel family's run of this seed (part a), when the kernels store has it. */
  kernels: ReplicaResult | null;
}

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
  chaosShare: Interval;
  evaluationShare: Interval;
}

/** Per component: how often it is a Hero / Bloat, and where its Delta's variance lies. */
export interface ComponentStability {
  id: string;
  /** Mean over seeds of the share of the seed's replicas that call it a Hero / a Bloat. */
  pHero: number;
  pBloat: number;
  /** Seeds at which it is a robust Hero / Bloat (>= ROBUST_SHARE of replicas), and at which the base run alone calls it one. */
  robustHero: number;
  robustBloat: number;
  baseHero: number;
  baseBloat: number;
  /** sd of its Delta: between seeds, between replicas of a seed, between evaluation redraws (method of moments; NaN where not estimable). */
  sdBetween: number;
  sdWithin: number;
  sdEvaluation: number;
}

/** A share of a class's members in the layers a paper claim names, with its seed-bootstrap interval and p against one half. */
export interface LayerClaim {
  members: number; // members pooled over seeds
  inLayers: number;
  share: Interval;
  p: number;
}

export interface PairStudy {
  task: TaskName;
  pair: MeasurePair;
  seeds: SeedResult[];
  replicasPerSeed: { min: number; max: number };
  /** Replicas pooled (init and data), then each kind alone (with the base run). */
  rho: { pooled: Decomposition; init: Decomposition; data: Decomposition };
  components: ComponentStability[];
  /** Robust and per-seed (base run) class counts, summed over seeds. */
  counts: { robustHeroes: number; robustBloats: number; baseHeroes: number; baseBloats: number };
  /** Mean over components of each part of Delta's variance. */
  deltaShares: { between: number; chaos: number; evaluation: number };
  /** The paper's layer claims under robust classes and under the base run's classes. */
  heroesLate: { robust: LayerClaim; base: LayerClaim };
  bloatsEarly: { robust: LayerClaim; base: LayerClaim };
  /** Table 2's asymmetry (pruning Heroes costs more than pruning Bloats): mean gap over seeds of the seed's mean over replicas, and seeds where it holds in >= ROBUST_SHARE of replicas. */
  pruning: { gap: Interval; p: number; robustSeeds: number; seedsWithGap: number };
  /** The kernels (part a): per seed, rho on the other kernel family and on this one (the base run), the components whose class differs, and whether the other family's rho lies within the range of this seed's replicas. */
  kernels: { seed: number; rhoOther: number; rhoBase: number; classFlips: number; insideReplicas: boolean }[];
}

export interface TaskComparison {
  pair: MeasurePair;
  a: TaskName;
  b: TaskName;
  /**
   * Mean over seeds of the seed's mean rho over its runs (replicas nested in seeds), a minus b: the
   * exact permutation test over seeds (a seed and its replicas move together) and the interval that
   * inverts it (stats.ts shiftTest).
   */
  nested: Interval;
  pNested: number;
  /** The same with the base run alone per seed (a plain sweep's design). */
  baseOnly: Interval;
  pBaseOnly: number;
  /** Seeds per task for 80% power at alpha 0.05 (two-sided) to detect the observed difference: one run per seed, and with this study's replicas per seed. */
  seedsNeeded: { single: number; replicated: number; replicas: number };
}

export interface StabilityStudy {
  kernelsLabel: string; // the study's kernel family (every replica's)
  otherKernels: string | null; // the kernels store's
  pairs: PairStudy[];
  comparisons: TaskComparison[];
  skipped: { task: TaskName; seed: number; replica: string; reason: string }[];
}

// ---------------------------------------------------------------- variance parts

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

// ---------------------------------------------------------------- the bootstrap

/** What is resampled of one seed: its replicas' values and its evaluation redraws' values. */
export interface SeedValues {
  replicas: number[];
  evaluation: number[];
}

/** The percentile interval and the two-sided p against `nullValue` of one set of resampled values. */
function summarize(estimate: number, vals: number[], nullValue: number): { iv: Interval; p: number } {
  return { iv: percentileInterval(estimate, vals, 0.95), p: bootstrapP(vals, nullValue) };
}

const none = (estimate: number): Interval => ({ estimate, lo: NaN, hi: NaN, level: 0.95, resamples: 0 });

/**
 * The nested bootstrap's draws of one task's seeds: its seeds with replacement, then within each
 * drawn seed its replicas and its evaluation values with replacement; `visit` sees each draw.
 */
function nestedDraws(seeds: readonly SeedValues[], seed: number, resamples: number, visit: (drawn: SeedValues[]) => void): void {
  const rng = new Rng(seed, 'nested-bootstrap');
  const pick = <T>(xs: readonly T[]): T[] => xs.map(() => xs[Math.floor(rng.next() * xs.length)]);
  for (let k = 0; k < resamples; k++) visit(pick(seeds).map((u) => ({ replicas: pick(u.replicas), evaluation: pick(u.evaluation) })));
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
export function decompose(seeds: readonly SeedValues[]): { between: number; within: number; evaluation: number; chaos: number } {
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
    return { between: d.between, within: d.within, evaluation: d.evaluation, chaos: d.chaos, betweenShare: d.between / total, chaosShare: d.chaos / total, evaluationShare: d.evaluation / total };
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
  const iv = (k: keyof Parts) => (seeds.length >= MIN_INTERVAL_ITEMS ? summarize(estimate[k], vals[k], 0).iv : none(estimate[k]));
  return { seeds: seeds.length, runs: seeds.reduce((a, s) => a + s.replicas.length, 0), ...(Object.fromEntries(keys.map((k) => [k, iv(k)])) as Record<keyof Parts, Interval>) };
}

// ---------------------------------------------------------------- from records

const HERO = 'HiddenHero';
const BLOAT = 'GradientBloat';

function replicaResult(rec: RunRecord, pair: MeasurePair): ReplicaResult {
  const c = pairClassification(rec, pair);
  const p = rec.analysis.pruning?.ood;
  const pruneGap = p && p.heroesPruned !== null && p.bloatsPruned !== null ? p.bloatsPruned - p.heroesPruned : null;
  return { ...replicaOf(rec.config), rho: c.rho, classes: c.classes, delta: c.meanDelta ?? c.delta, pruneGap };
}

/** The base run's rho and Delta on each redraw of its sequences under a pair (G from the redraw, the causal score from the redraw). */
function redrawsOf(rec: RunRecord, pair: MeasurePair): { rho: number; delta: number[] }[] {
  const ids = rec.analysis.components;
  return (rec.analysis.redraws ?? []).flatMap((d) => {
    const causal = pair.causal === 'C' ? d.C : d.scores?.[pair.causal];
    if (!causal) return [];
    const c = classifyMeasures({ G: d.G, [pair.causal]: causal }, ids, 'G', pair.causal, { ...rec.config.analysis, seed: rec.seed });
    return [{ rho: c.rho, delta: c.meanDelta ?? c.delta }];
  });
}

/** The runs of the study by task and seed: every analysed replica, the base run first, then by kind and number. */
export interface StabilityInput {
  runs: RunRecord[];
  /** The other kernel family's runs of the same seeds (part a): any results store, e.g. results/measures (stock-trained, with Cpos). */
  kernelRuns: RunRecord[];
  kernelsLabel: string;
  otherKernels: string | null;
}

/** The study's numbers; `resamples` per interval (default 10,000; fewer for a quick look in a notebook). */
export function stabilityStudy(input: StabilityInput, opts: { resamples?: number } = {}): StabilityStudy {
  const resamples = opts.resamples ?? RESAMPLES;
  const skipped: StabilityStudy['skipped'] = [];
  for (const r of input.runs) {
    if (r.analysis.status !== 'analysed') {
      const { kind, r: n } = replicaOf(r.config);
      skipped.push({ task: r.task, seed: r.seed, replica: replicaName(kind, n), reason: r.analysis.reason ?? 'not analysed' });
    }
  }
  const analysedRuns = input.runs.filter((r) => r.analysis.status === 'analysed');
  const tasks = [...new Set(analysedRuns.map((r) => r.task))].sort() as TaskName[];
  const pairs: PairStudy[] = [];
  for (const task of tasks) {
    for (const pair of STABILITY_PAIRS) {
      if (!analysedRuns.some((r) => r.task === task && r.analysis.scores[pair.causal])) continue;
      pairs.push(pairStudy(task, pair, analysedRuns.filter((r) => r.task === task), input.kernelRuns.filter((r) => r.task === task && r.analysis.status === 'analysed'), pairs.length, resamples));
    }
  }
  const comparisons: TaskComparison[] = [];
  for (const pair of STABILITY_PAIRS) {
    const ps = pairs.filter((p) => p.pair.causal === pair.causal);
    for (let i = 0; i < ps.length; i++) for (let j = i + 1; j < ps.length; j++) comparisons.push(compareTasks(ps[i], ps[j]));
  }
  return { kernelsLabel: input.kernelsLabel, otherKernels: input.otherKernels, pairs, comparisons, skipped };
}

const order = (r: ReplicaResult) => (r.kind === 'base' ? 0 : r.kind === 'init' ? 1 : 2) * 1e6 + r.r;

function pairStudy(task: TaskName, pair: MeasurePair, runs: RunRecord[], kernelRuns: RunRecord[], salt: number, resamples: number): PairStudy {
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
  const values = (keep: (r: ReplicaResult) => boolean, v: (r: ReplicaResult) => number, e: (s: SeedResult) => number[]): SeedValues[] =>
    seeds.map((s) => ({ replicas: s.replicas.filter(keep).map(v), evaluation: e(s) }));
  const rhoValues = (keep: (r: ReplicaResult) => boolean) => values(keep, (r) => r.rho, (s) => s.evalRhos);
  const rho = {
    pooled: decomposition(rhoValues(() => true), 100 * salt + 1, resamples),
    init: decomposition(rhoValues((r) => r.kind !== 'data'), 100 * salt + 2, resamples),
    data: decomposition(rhoValues((r) => r.kind !== 'init'), 100 * salt + 3, resamples),
  };
  const share = (s: SeedResult, i: number, cls: string) => s.replicas.filter((r) => r.classes[i] === cls).length / s.replicas.length;
  const components: ComponentStability[] = ids.map((id, i) => {
    const d = decompose(values(() => true, (r) => r.delta[i], (s) => s.evalDeltas.map((x) => x[i])));
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
  const deltaParts = ids.map((_, i) => decompose(values(() => true, (r) => r.delta[i], (s) => s.evalDeltas.map((x) => x[i]))));
  const shareOf = (f: (d: ReturnType<typeof decompose>) => number) => mean(deltaParts.map((d) => f(d) / (d.between + d.within)).filter(Number.isFinite));
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
      for (const m of ms) m.forEach((x, i) => {
        if (!x) return;
        members++;
        if (inLayers(ids[i])) inside++;
      });
      return { members, inside };
    };
    const c = count(marks);
    // The seeds that hold members of the class are resampled (the others add nothing to the share); fewer than 3: no interval.
    const units: SeedValues[] = marks.map((_, k) => ({ replicas: [k], evaluation: [] })).filter((u) => marks[u.replicas[0]].some(Boolean));
    const { iv, p } = nestedBootstrap(units, (us) => {
      const r = count(us.map((u) => marks[u.replicas[0]]));
      return r.members ? r.inside / r.members : NaN;
    }, { seed: 100 * salt + saltK, nullValue: 0.5, resamples });
    return { members: c.members, inLayers: c.inside, share: iv, p };
  };
  const gaps: SeedValues[] = seeds.map((s) => ({ replicas: s.replicas.map((r) => r.pruneGap).filter((g): g is number => g !== null), evaluation: [] })).filter((u) => u.replicas.length);
  const pr = nestedBootstrap(gaps, (us) => mean(us.map((u) => mean(u.replicas))), { seed: 100 * salt + 9, resamples });
  return {
    task,
    pair,
    seeds,
    replicasPerSeed: { min: Math.min(...seeds.map((s) => s.replicas.length)), max: Math.max(...seeds.map((s) => s.replicas.length)) },
    rho,
    components,
    counts: {
      robustHeroes: components.reduce((a, c) => a + c.robustHero, 0),
      robustBloats: components.reduce((a, c) => a + c.robustBloat, 0),
      baseHeroes: components.reduce((a, c) => a + c.baseHero, 0),
      baseBloats: components.reduce((a, c) => a + c.baseBloat, 0),
    },
    deltaShares: { between: shareOf((d) => d.between), chaos: shareOf((d) => d.chaos), evaluation: shareOf((d) => d.evaluation) },
    heroesLate: { robust: layerClaim(HERO, true, late, 4), base: layerClaim(HERO, false, late, 5) },
    bloatsEarly: { robust: layerClaim(BLOAT, true, (id) => !late(id), 6), base: layerClaim(BLOAT, false, (id) => !late(id), 7) },
    pruning: { gap: pr.iv, p: pr.p, seedsWithGap: gaps.length, robustSeeds: gaps.filter((u) => u.replicas.filter((g) => g > 0).length >= ROBUST_SHARE * u.replicas.length).length },
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
  const units = (p: PairStudy, baseOnly: boolean) => p.seeds.map((s) => mean((baseOnly ? s.replicas.slice(0, 1) : s.replicas).map((r) => r.rho)));
  const few = Math.min(a.seeds.length, b.seeds.length) < MIN_INTERVAL_ITEMS;
  const shift = (x: number[], y: number[]) => {
    const t = shiftTest(x, y);
    return few ? { ...t, interval: none(t.interval.estimate) } : t; // no interval for fewer than 3 seeds (the runs are shown)
  };
  const nested = shift(units(a, false), units(b, false));
  const base = shift(units(a, true), units(b, true));
  // A unit's variance: the seed effect plus the replicas' (over m runs per seed), averaged over the two tasks.
  const parts = [a, b].map((p) => ({ between: Math.max(0, p.rho.pooled.between.estimate), within: Math.max(0, p.rho.pooled.within.estimate) }));
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
    seedsNeeded: { single: seedsForPower(nested.interval.estimate, unit(1)), replicated: seedsForPower(nested.interval.estimate, unit(m)), replicas: m },
  };
}

// ---------------------------------------------------------------- the stores

/** Analysis settings a replica and the kernels store's run must share to be compared (all but which extra measures, variants and redraws). */
const COMPARED_ANALYSIS = (r: RunRecord) => JSON.stringify({ ...r.config.analysis, measures: undefined, variants: undefined, redraws: undefined });
const TRAINING = (r: RunRecord) => JSON.stringify({ model: r.config.model, data: r.config.data, train: { ...r.config.train, initReplica: 0, dataReplica: 0 } });

/**
 * The study's records from `<dir>/<replica>/<preset>/` (a record whose settings make it another
 * replica than its folder's is rejected), refused if they mix kernel families; and the kernels
 * store's records of the same seeds (part a), kept only when trained on the other family with the
 * base runs' settings.
 */
export function loadStability(dir: string, preset: PresetName, kernelsDir: string | null): { input: StabilityInput; rejected: RejectedFile[]; notes: string[] } {
  const rejected: RejectedFile[] = [];
  const notes: string[] = [];
  const folders = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => REPLICA_FOLDER.test(f) && fs.existsSync(path.join(dir, f, preset))).sort() : [];
  const runs: RunRecord[] = [];
  for (const f of folders) {
    const s = scanRecords(path.join(dir, f), preset);
    rejected.push(...s.rejected);
    for (const r of s.records) {
      const { kind, r: n } = replicaOf(r.config);
      if (replicaName(kind, n) !== f) rejected.push({ file: path.join(dir, f, preset, `${r.task}_seed${r.seed}.json`), reason: `its settings make it replica ${replicaName(kind, n)}, not ${f}` });
      else runs.push(r);
    }
  }
  const mix = familyMix(runs, (r) => replicaName(replicaOf(r.config).kind, replicaOf(r.config).r));
  if (mix) throw new ConfigError(`--study: ${JSON.stringify(dir)} mixes kernel families (${mix.words}): one study's replicas must share one family, or the chaos measured is the kernels'; allowed: a study run on one family (rerun the odd replicas into another folder)`);
  const family = runs.length ? trainedOn(runs[0]) : null;
  let kernelRuns: RunRecord[] = [];
  let otherKernels: string | null = null;
  if (kernelsDir) {
    const s = scanRecords(kernelsDir, preset);
    const bases = new Map(runs.filter((r) => replicaOf(r.config).kind === 'base').map((r) => [`${r.task}/${r.seed}`, r]));
    kernelRuns = s.records.filter((k) => {
      const base = bases.get(`${k.task}/${k.seed}`);
      if (!base) return false;
      if (trainedOn(k) === family) {
        notes.push(`${kernelsDir}: ${k.task} seed ${k.seed} was trained on ${family} kernels, the study's own family: not used for part (a)`);
        return false;
      }
      if (TRAINING(k) !== TRAINING(base) || COMPARED_ANALYSIS(k) !== COMPARED_ANALYSIS(base)) {
        notes.push(`${kernelsDir}: ${k.task} seed ${k.seed} was trained or analysed with other settings than the study's base run: not used for part (a)`);
        return false;
      }
      return true;
    });
    otherKernels = [...new Set(kernelRuns.map(trainedOn))].join(', ') || null;
  }
  return { input: { runs, kernelRuns, kernelsLabel: family ?? 'none', otherKernels }, rejected, notes };
}
