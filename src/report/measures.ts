/**
 * The measures study's numbers (MEASURES.md, notebook 09), from the study's records (src/study.ts):
 * for each task and each pair (cheap measure, causal measure), Spearman's rho per run with a 95%
 * bootstrap interval over seeds, the overlap of the top 2 and top 5 components, Hero and Bloat
 * counts (Eq. 3 with the pair in (G, C)'s place) and where the Heroes sit; the causal measures
 * against each other; the reversal-vs-sorting difference of rho under every pair with an exact
 * permutation test; each measure's cost per run.
 */
import { measureInfo } from '../analysis/measure-info';
import { classifyMeasures } from '../analysis/ranks';
import type { TaskName } from '../config';
import type { RunRecord } from '../store';
import { analysed, lateShare, MeasurePair, tasksIn } from './records';
import { bootstrap, Interval, mean, PermutationTest, shiftTest } from './stats';

/** One pair on one task, over that task's runs (seeds). */
export interface PairStat {
  task: TaskName;
  pair: MeasurePair;
  seeds: number[];
  rhos: number[];
  /** Mean rho over seeds, with its 95% percentile bootstrap interval over seeds. */
  rho: Interval;
  /** Mean share of the cheap measure's top k components that are also the causal measure's top k (ties broken by component order). */
  top2: number;
  top5: number;
  /** Hero and Bloat counts summed over seeds (Eq. 3, the run's own rank rule and threshold). */
  heroes: number;
  bloats: number;
  /** Of those Heroes, how many sit in the later half of the layers (the paper: L2-L3). */
  lateHeroes: number;
  /** Of those Bloats, how many sit in the earlier half of the layers (the paper: L0-L1). */
  earlyBloats: number;
}

/** The difference of mean rho between two tasks under one pair: the exact two-sided permutation test over seeds and the 95% interval that inverts it (stats.ts shiftTest). */
export interface GapTest {
  pair: MeasurePair;
  a: TaskName;
  b: TaskName;
  test: PermutationTest;
  interval: Interval;
}

export interface MeasuresStudy {
  tasks: TaskName[];
  cheap: string[];
  causal: string[];
  runs: Record<string, number>;
  pairs: PairStat[];
  /** The causal measures against each other (cheap = the first of the two). */
  causalPairs: PairStat[];
  gaps: GapTest[];
  /** Mean seconds per run each measure took (a measure that shares another's passes shows only its own extra time). */
  costs: { measure: string; seconds: number; task: TaskName }[];
  /** Mean seconds of a whole record's analysis per task (every measure, the OOD pick and the means). */
  totalSeconds: Record<string, number>;
  /** How the remeasured G and C compare with the source records. */
  checks: { task: TaskName; seed: number; sameOodLength: boolean; gMaxRelDiff: number; cDiffering: number; components: number; kernels: string; trainingKernels: string }[];
}

/** The measures recorded in every record, in registry order, split by kind. */
export function studyMeasureLists(records: readonly RunRecord[]): { cheap: string[]; causal: string[] } {
  const names = Object.keys(records[0]?.analysis.scores ?? {}).filter((n) => records.every((r) => r.analysis.status !== 'analysed' || n in r.analysis.scores));
  const kindOf = (n: string) => {
    try {
      return measureInfo(n).kind;
    } catch {
      return 'unknown';
    }
  };
  return { cheap: names.filter((n) => kindOf(n) === 'cheap'), causal: names.filter((n) => kindOf(n) === 'causal') };
}

/** |top k of a ∩ top k of b| / k, each ranked by score (highest first), ties broken by component order. */
export function topOverlap(ids: readonly string[], a: Record<string, number>, b: Record<string, number>, k: number): number {
  const top = (s: Record<string, number>) => new Set([...ids].map((id, i) => ({ id, i, v: s[id] })).sort((x, y) => y.v - x.v || x.i - y.i).slice(0, k).map((x) => x.id));
  const ta = top(a);
  let n = 0;
  for (const id of top(b)) if (ta.has(id)) n++;
  return n / k;
}

/** One pair's statistics over a task's runs. */
export function pairStat(records: readonly RunRecord[], task: TaskName, pair: MeasurePair, resamples = 10_000): PairStat {
  const runs = analysed(records, task);
  const rhos: number[] = [];
  const top2: number[] = [];
  const top5: number[] = [];
  let heroes = 0;
  let bloats = 0;
  const classesPerSeed: { ids: string[]; classes: string[] }[] = [];
  for (const r of runs) {
    const a = r.analysis;
    const k = classifyMeasures(a.scores, a.components, pair.cheap, pair.causal, { ...r.config.analysis, seed: r.seed });
    rhos.push(k.rho);
    top2.push(topOverlap(a.components, a.scores[pair.cheap], a.scores[pair.causal], 2));
    top5.push(topOverlap(a.components, a.scores[pair.cheap], a.scores[pair.causal], 5));
    heroes += k.counts.heroes;
    bloats += k.counts.bloats;
    classesPerSeed.push({ ids: a.components, classes: k.classes });
  }
  const finiteRhos = rhos.filter(Number.isFinite);
  return {
    task,
    pair,
    seeds: runs.map((r) => r.seed),
    rhos,
    rho: bootstrap(finiteRhos, mean, { resamples, seed: 0 }),
    top2: mean(top2),
    top5: mean(top5),
    heroes,
    bloats,
    lateHeroes: lateShare(classesPerSeed, 'HiddenHero').late,
    earlyBloats: bloats - lateShare(classesPerSeed, 'GradientBloat').late,
  };
}

/** Every number of the study from its records. */
export function measuresStudy(records: readonly RunRecord[], opts: { resamples?: number } = {}): MeasuresStudy {
  const tasks = tasksIn(records);
  const { cheap, causal } = studyMeasureLists(records);
  const resamples = opts.resamples ?? 10_000;
  const pairs = tasks.flatMap((task) => cheap.flatMap((c) => causal.map((k) => pairStat(records, task, { cheap: c, causal: k }, resamples))));
  const causalPairs = tasks.flatMap((task) => causal.flatMap((a, i) => causal.slice(i + 1).map((b) => pairStat(records, task, { cheap: a, causal: b }, resamples))));
  const gaps: GapTest[] = [];
  if (tasks.length >= 2) {
    const [a, b] = tasks;
    for (const c of cheap) {
      for (const k of causal) {
        const ra = pairs.find((p) => p.task === a && p.pair.cheap === c && p.pair.causal === k)!.rhos.filter(Number.isFinite);
        const rb = pairs.find((p) => p.task === b && p.pair.cheap === c && p.pair.causal === k)!.rhos.filter(Number.isFinite);
        const t = shiftTest(ra, rb);
        gaps.push({ pair: { cheap: c, causal: k }, a, b, test: t.test, interval: t.interval });
      }
    }
  }
  const costs = tasks.flatMap((task) =>
    [...cheap, ...causal].map((m) => ({ measure: m, task, seconds: mean(analysed(records, task).map((r) => (r.analysis.timingsMs[m] ?? NaN) / 1000)) })),
  );
  const totalSeconds = Object.fromEntries(tasks.map((t) => [t, mean(analysed(records, t).map((r) => r.timingsMs.analysis / 1000))]));
  const checks = records
    .filter((r) => r.remeasured)
    .map((r) => ({
      task: r.task,
      seed: r.seed,
      sameOodLength: r.remeasured!.sameOodLength,
      gMaxRelDiff: r.remeasured!.gMaxRelDiff,
      cDiffering: r.remeasured!.cDiffering.length,
      components: r.analysis.components.length,
      kernels: r.provenance.kernels ?? 'stock',
      trainingKernels: r.remeasured!.trainingKernels,
    }));
  const runs = Object.fromEntries(tasks.map((t) => [t, analysed(records, t).length]));
  return { tasks, cheap, causal, runs, pairs, causalPairs, gaps, costs, totalSeconds, checks };
}

/** The pair's statistic on a task. */
export function findPair(list: readonly PairStat[], task: TaskName, cheap: string, causal: string): PairStat | undefined {
  return list.find((p) => p.task === task && p.pair.cheap === cheap && p.pair.causal === causal);
}

/** The share of a pair's Heroes that sit in the later half of the layers (NaN without Heroes). */
export const heroLateShare = (p: PairStat) => (p.heroes ? p.lateHeroes / p.heroes : NaN);
/** The share of a pair's Bloats that sit in the earlier half of the layers (NaN without Bloats). */
export const bloatEarlyShare = (p: PairStat) => (p.bloats ? p.earlyBloats / p.bloats : NaN);
