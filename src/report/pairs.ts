/**
 * One pair of measures (cheap, causal) on one task over that task's runs: Spearman's rho per run with
 * a 95% bootstrap interval over seeds, the overlap of the top 2 and top 5 components, Hero and Bloat
 * counts (Eq. 3 with the pair in (G, C)'s place) and where they sit. Shared by the studies that
 * compare measures (measures, complexity).
 */
import { measureInfo } from '../analysis/measure-info';
import { classifyMeasures } from '../analysis/ranks';
import type { TaskName } from '../tasks';
import type { RunRecord } from '../records/format';
import { analysed, lateShare, MeasurePair } from './records';
import { bootstrap, Interval, mean } from './stats';

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

/** The measures recorded in every record, in registry order, split by kind. */
export function studyMeasureLists(records: readonly RunRecord[]): { cheap: string[]; causal: string[] } {
  const names = Object.keys(records[0]?.analysis.scores ?? {}).filter((n) =>
    records.every((r) => r.analysis.status !== 'analysed' || n in r.analysis.scores),
  );
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
export function topOverlap(
  ids: readonly string[],
  a: Record<string, number>,
  b: Record<string, number>,
  k: number,
): number {
  const top = (s: Record<string, number>) =>
    new Set(
      [...ids]
        .map((id, i) => ({ id, i, v: s[id] }))
        .sort((x, y) => y.v - x.v || x.i - y.i)
        .slice(0, k)
        .map((x) => x.id),
    );
  const ta = top(a);
  let n = 0;
  for (const id of top(b)) if (ta.has(id)) n++;
  return n / k;
}

/** One pair's statistics over a task's runs. */
export function pairStat(
  records: readonly RunRecord[],
  task: TaskName,
  pair: MeasurePair,
  resamples = 10_000,
): PairStat {
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
