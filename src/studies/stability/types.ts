/** The stability study's results, as the report and figures read them: per replica, per seed, per pair of measures, per task comparison. */
import { TaskName } from '../../tasks';
import { ReplicaKind } from '../../settings/replica';
import { RunRecord } from '../../records/format';
import { MeasurePair } from '../../report/records';
import { Interval } from '../../report/stats';
import { Decomposition } from './variance';

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
  /** Components whose two likeliest classes are exactly equally likely (ordinal-random: the draws' coin flip classes them). */
  coinFlips: number[];
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
  /** Over every run (base and replicas): components classed by a coin flip (two classes exactly equally likely), and how many of them the draws made a Hero or Bloat. */
  coinFlips: { runs: number; components: number; heroOrBloat: number; tieDraws: number };
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
  /** The power this design had (its seeds per task, its runs per seed) to detect the observed difference, as seedsNeeded reckons it. */
  power: number;
  /** Seeds per task for 80% power, one run each, were the true difference either end of the nested interval (the observed one is a guess). */
  seedsOverInterval: { lo: number; hi: number };
}

export interface StabilityStudy {
  kernelsLabel: string; // the study's kernel family (every replica's)
  otherKernels: string | null; // the kernels store's
  pairs: PairStudy[];
  comparisons: TaskComparison[];
  skipped: { task: TaskName; seed: number; replica: string; reason: string }[];
}

/** The runs of the study by task and seed: every analysed replica, the base run first, then by kind and number. */
export interface StabilityInput {
  runs: RunRecord[];
  /** The other kernel family's runs of the same seeds (part a): any results store, e.g. results/measures (stock-trained, with Cpos). */
  kernelRuns: RunRecord[];
  kernelsLabel: string;
  otherKernels: string | null;
}
