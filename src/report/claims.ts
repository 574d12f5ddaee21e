/**
 * A claim of the paper checked on our records: one row (where it is checked, the paper's number,
 * ours with its interval, the runs behind it, the runs 80% power would need, a verdict, the report
 * section), as every report's claims table and docs/findings.md show it; and the one test of the
 * paper's headline, the task gap in rho (G, C), that every report uses.
 */
import type { RunRecord } from '../records/format';
import type { TaskName } from '../tasks';
import { f3 } from './markdown';
import { mean, powerAt, seedsForPower, shiftTest, ShiftTest } from './stats';

export type Verdict = 'holds' | 'not seen' | 'reversed' | 'too few runs';

export interface Claim {
  /** The claim's group, for the answer's bullets. */
  group: string;
  /** The preset or task it is checked on, for the answer. */
  where: string;
  /** The preset (or protocol) it is checked on ('paper preset'). */
  preset: string;
  claim: string;
  /** The paper's number (v1 or the v3 abstract; '–' where it gives none). */
  v3: string;
  ours: string;
  runs: string;
  /** Runs 80% power would need ('–' where no interval gives it). */
  power: string;
  verdict: Verdict | string;
  /** The report (and section) it comes from, e.g. 'REPRODUCTION.md' or '#joint-ablation' within its own report. */
  section: string;
}

/** The verdict on "the value is above `level`" from its interval: holds, reversed (below), not seen, or too few runs (no interval). */
export function verdictAbove(iv: { lo: number; hi: number }, level = 0): Verdict {
  if (!Number.isFinite(iv.lo)) return 'too few runs';
  return iv.lo > level ? 'holds' : iv.hi < level ? 'reversed' : 'not seen';
}

/** A p value as the tables print it. */
export const pv = (p: number) => (!Number.isFinite(p) ? '–' : p < 0.001 ? '<0.001' : p.toFixed(3));

/** The seed of the task gap's permutation test (Monte Carlo past 200,000 relabellings), the same in every report. */
export const TASK_GAP_SEED = 43;

/** Sample variance. */
export const variance = (xs: readonly number[]) => xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1);

/** The paper's headline on one store: mean rho (G, C) of reversal minus sorting over seeds, by one test and the interval that inverts it. */
export interface TaskGap {
  reverse: number[];
  sort: number[];
  gap: ShiftTest;
  /** Seeds per task for 80% power to detect the observed gap (two-sided alpha 0.05, normal approximation, pooled variance). */
  seedsNeeded: number;
  /** The power this store's seeds had to detect the observed gap. */
  power: number;
}

/** rho (G, C) of each analysed run of `task` in a store. */
export function rhosOf(records: readonly RunRecord[], task: TaskName): number[] {
  return records
    .filter((r) => r.task === task && r.analysis.status === 'analysed')
    .map((r) => r.analysis.classification!.rho)
    .filter(Number.isFinite);
}

/** The task gap of one store (null below 2 analysed runs a task). */
export function taskGap(records: readonly RunRecord[]): TaskGap | null {
  const [a, b] = [rhosOf(records, 'reverse'), rhosOf(records, 'sort')];
  if (a.length < 2 || b.length < 2) return null;
  const gap = shiftTest(a, b, { seed: TASK_GAP_SEED });
  const v = (variance(a) + variance(b)) / 2;
  return {
    reverse: a,
    sort: b,
    gap,
    seedsNeeded: seedsForPower(gap.test.observed, v),
    power: powerAt(gap.test.observed, v, Math.min(a.length, b.length)),
  };
}

/** The task gap of each store as a claim row ('rho collapses from reversal to sorting'). */
export function rhoGapClaims(stores: { label: string; records: readonly RunRecord[] }[]): Claim[] {
  return stores.flatMap(({ label: name, records }) => {
    const t = taskGap(records);
    if (!t) return [];
    const { lo, hi } = t.gap.interval;
    const verdict = verdictAbove(t.gap.interval);
    return [
      {
        group: 'rho collapses from reversal to sorting',
        where: name,
        preset: name,
        claim: `rho collapses from reversal to sorting (${name})`,
        v3: '0.72 -> 0.27',
        ours: `${f3(mean(t.reverse))} -> ${f3(mean(t.sort))}; gap ${f3(t.gap.test.observed)} [${f3(lo)}, ${f3(hi)}], p ${pv(t.gap.test.p)}${verdict === 'not seen' ? `; a gap up to ${f3(hi)} is not ruled out` : ''}`,
        runs: `${t.reverse.length} + ${t.sort.length}`,
        power: `${t.seedsNeeded} a task (power now ${Math.round(100 * t.power)}%)`,
        verdict,
        section: 'REPRODUCTION.md',
      },
    ];
  });
}

/**
 * One claim's verdict over the places it is checked (its rows): 'holds' (every row with enough runs),
 * 'reversed' (every one), 'holds on one preset' (every row of one preset holds, none of the other's),
 * 'holds under A and B; not seen under C' (the same split over more than two presets or protocols),
 * 'holds in k of n' (some hold, none reversed), 'not seen', or 'mixed' (some hold, some reversed).
 */
export function overallVerdict(rows: readonly Pick<Claim, 'verdict' | 'preset'>[]): string {
  const tested = rows.filter((r) => r.verdict !== 'too few runs');
  const holds = tested.filter((r) => r.verdict === 'holds');
  const reversed = tested.filter((r) => r.verdict === 'reversed');
  if (!tested.length) return 'too few runs';
  if (holds.length === tested.length) return 'holds';
  if (reversed.length === tested.length) return 'reversed';
  if (holds.length && reversed.length) return 'mixed';
  if (!holds.length) return reversed.length ? `reversed in ${reversed.length} of ${tested.length}` : 'not seen';
  const presets = [...new Set(tested.map((r) => r.preset))];
  const holding = presets.filter((p) => tested.every((r) => r.preset !== p || r.verdict === 'holds'));
  const none = presets.filter((p) => !holds.some((r) => r.preset === p));
  if (presets.length === 2 && holding.length === 1 && none.length === 1)
    return `holds on one preset (the ${holding[0]})`;
  if (holding.length && none.length && holding.length + none.length === presets.length)
    return `holds under ${holding.join(' and ')}; not seen under ${none.join(' and ')}`;
  return `holds in ${holds.length} of ${tested.length}`;
}
