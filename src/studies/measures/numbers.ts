/**
 * The measures study's numbers (MEASURES.md, notebook 09), from the study's records (src/studies/measures/run.ts):
 * for each task and each pair (cheap measure, causal measure), Spearman's rho per run with a 95%
 * bootstrap interval over seeds, the overlap of the top 2 and top 5 components, Hero and Bloat
 * counts (Eq. 3 with the pair in (G, C)'s place) and where the Heroes sit; the causal measures
 * against each other; the reversal-vs-sorting difference of rho under every pair with an exact
 * permutation test; each measure's cost per run.
 */
import type { TaskName } from '../../tasks';
import type { RunRecord } from '../../records/format';
import { pairStat, PairStat, studyMeasureLists } from '../../report/pairs';
import { analysed, MeasurePair, tasksIn } from '../../report/records';
import { Interval, mean, PermutationTest, shiftTest } from '../../report/stats';

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
  checks: {
    task: TaskName;
    seed: number;
    sameOodLength: boolean;
    gMaxRelDiff: number;
    cDiffering: number;
    components: number;
    kernels: string;
    trainingKernels: string;
  }[];
}

/** Every number of the study from its records. */
export function measuresStudy(records: readonly RunRecord[], opts: { resamples?: number } = {}): MeasuresStudy {
  const tasks = tasksIn(records);
  const { cheap, causal } = studyMeasureLists(records);
  const resamples = opts.resamples ?? 10_000;
  const pairs = tasks.flatMap((task) =>
    cheap.flatMap((c) => causal.map((k) => pairStat(records, task, { cheap: c, causal: k }, resamples))),
  );
  const causalPairs = tasks.flatMap((task) =>
    causal.flatMap((a, i) =>
      causal.slice(i + 1).map((b) => pairStat(records, task, { cheap: a, causal: b }, resamples)),
    ),
  );
  const gaps: GapTest[] = [];
  if (tasks.length >= 2) {
    const [a, b] = tasks;
    for (const c of cheap) {
      for (const k of causal) {
        const ra = pairs
          .find((p) => p.task === a && p.pair.cheap === c && p.pair.causal === k)!
          .rhos.filter(Number.isFinite);
        const rb = pairs
          .find((p) => p.task === b && p.pair.cheap === c && p.pair.causal === k)!
          .rhos.filter(Number.isFinite);
        const t = shiftTest(ra, rb);
        gaps.push({ pair: { cheap: c, causal: k }, a, b, test: t.test, interval: t.interval });
      }
    }
  }
  const costs = tasks.flatMap((task) =>
    [...cheap, ...causal].map((m) => ({
      measure: m,
      task,
      seconds: mean(analysed(records, task).map((r) => (r.analysis.timingsMs[m] ?? NaN) / 1000)),
    })),
  );
  const totalSeconds = Object.fromEntries(
    tasks.map((t) => [t, mean(analysed(records, t).map((r) => r.timingsMs.analysis / 1000))]),
  );
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
export function findPair(
  list: readonly PairStat[],
  task: TaskName,
  cheap: string,
  causal: string,
): PairStat | undefined {
  return list.find((p) => p.task === task && p.pair.cheap === cheap && p.pair.causal === causal);
}

/** The share of a pair's Heroes that sit in the later half of the layers (NaN without Heroes). */
export const heroLateShare = (p: PairStat) => (p.heroes ? p.lateHeroes / p.heroes : NaN);
/** The share of a pair's Bloats that sit in the earlier half of the layers (NaN without Bloats). */
export const bloatEarlyShare = (p: PairStat) => (p.bloats ? p.earlyBloats / p.bloats : NaN);
