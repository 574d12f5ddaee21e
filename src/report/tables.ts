/**
 * The paper's Tables 1-6, computed from the results store (plain records, no models).
 * Rows are plain objects (testable); `toDataFrame` wraps them for danfo printing and CSV.
 *
 * Table 1's +/- is a population standard deviation (n), Table 6's a sample one (n - 1), as in the
 * paper (PROTOCOL.md).
 */
import type { RunRecord } from '../records/format';
import { getTask, PAPER_TASKS, TaskName } from '../tasks';
import { PAPER } from './paper';
import { analysed, rhoOf, tasksIn } from './records';
import { mean } from './stats';

/** Population (ddof 0) or sample (ddof 1) standard deviation. */
export function stddev(xs: readonly number[], ddof: 0 | 1): number {
  if (xs.length - ddof <= 0) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - ddof));
}

const idsOf = (r: RunRecord, cls: string) =>
  r.analysis.components.filter((_, i) => r.analysis.classification!.classes[i] === cls);

export interface Table1Row {
  task: string;
  seeds: number; // analysed seeds
  skipped: number; // seeds with no valid OOD length
  rhoMean: number;
  rhoStd: number; // population std
  rhoMin: number;
  rhoMax: number;
  heroes: number; // total over seeds
  bloats: number;
  expectedHeroes: number | null; // random tie-breaks: expected totals
  expectedBloats: number | null;
}

export function table1(records: readonly RunRecord[]): Table1Row[] {
  return tasksIn(records).map((task) => {
    const rs = analysed(records, task);
    const rhos = rs.map(rhoOf).filter((x) => x !== null && Number.isFinite(x)) as number[];
    const exp = (k: 'expectedHeroes' | 'expectedBloats') =>
      rs.every((r) => r.analysis.classification!.counts[k] !== undefined) && rs.length
        ? rs.reduce((a, r) => a + r.analysis.classification!.counts[k]!, 0)
        : null;
    return {
      task: getTask(task).label,
      seeds: rs.length,
      skipped: records.filter((r) => r.task === task && r.analysis.status === 'skipped').length,
      rhoMean: rhos.length ? mean(rhos) : NaN,
      rhoStd: stddev(rhos, 0),
      rhoMin: rhos.length ? Math.min(...rhos) : NaN,
      rhoMax: rhos.length ? Math.max(...rhos) : NaN,
      heroes: rs.reduce((a, r) => a + r.analysis.classification!.counts.heroes, 0),
      bloats: rs.reduce((a, r) => a + r.analysis.classification!.counts.bloats, 0),
      expectedHeroes: exp('expectedHeroes'),
      expectedBloats: exp('expectedBloats'),
    };
  });
}

export interface Table2Row {
  task: string;
  seed: number;
  chosen: boolean; // the authors' rule: the seed with the most Heroes + Bloats (first such seed)
  heroes: string;
  bloats: string;
  baseline: number;
  heroesPruned: number | null;
  bloatsPruned: number | null;
}

export function table2(records: readonly RunRecord[]): Table2Row[] {
  return tasksIn(records).flatMap((task) => {
    const rs = analysed(records, task).filter((r) => r.analysis.pruning);
    const score = (r: RunRecord) => r.analysis.classification!.counts.heroes + r.analysis.classification!.counts.bloats;
    const best = rs.reduce<RunRecord | null>((b, r) => (!b || score(r) > score(b) ? r : b), null);
    return rs.map((r) => ({
      task: getTask(task).label,
      seed: r.seed,
      chosen: r === best,
      heroes: r.analysis.pruning!.heroes.join(' '),
      bloats: r.analysis.pruning!.bloats.join(' '),
      baseline: r.analysis.pruning!.ood.baseline,
      heroesPruned: r.analysis.pruning!.ood.heroesPruned,
      bloatsPruned: r.analysis.pruning!.ood.bloatsPruned,
    }));
  });
}

export interface Table3Row {
  task: string;
  class: 'Hidden Hero' | 'Gradient Bloat';
  component: string;
  count: number;
  seeds: number;
}

/** How often each component is a Hero / Bloat across analysed seeds, most frequent first (ties: component order). */
export function table3(records: readonly RunRecord[]): Table3Row[] {
  const rows: Table3Row[] = [];
  for (const task of tasksIn(records)) {
    const rs = analysed(records, task);
    if (!rs.length) continue;
    for (const [cls, label] of [
      ['HiddenHero', 'Hidden Hero'],
      ['GradientBloat', 'Gradient Bloat'],
    ] as const) {
      const comps = rs[0].analysis.components;
      const counts = comps.map((c) => ({ c, n: rs.filter((r) => idsOf(r, cls).includes(c)).length }));
      counts
        .filter((x) => x.n > 0)
        .sort((a, b) => b.n - a.n || comps.indexOf(a.c) - comps.indexOf(b.c))
        .forEach((x) =>
          rows.push({ task: getTask(task).label, class: label, component: x.c, count: x.n, seeds: rs.length }),
        );
    }
  }
  return rows;
}

export interface SeedRow {
  task: string;
  seed: number;
  status: string;
  steps: number;
  oodLength: number | null;
  oodAcc: number | null;
  rho: number | null;
  heroes: number | null;
  bloats: number | null;
}

/** Tables 4 (Sorting) and 5 (Reversal), and the same for any other task: one row per seed, skipped seeds included. */
export function seedTable(records: readonly RunRecord[], task: TaskName): SeedRow[] {
  return records
    .filter((r) => r.task === task)
    .sort((a, b) => a.seed - b.seed)
    .map((r) => {
      const a = r.analysis;
      const ok = a.status === 'analysed';
      return {
        task: getTask(task).label,
        seed: r.seed,
        status: a.status,
        steps: r.training.steps,
        oodLength: a.ood.length,
        oodAcc: a.ood.length === null ? null : a.ood.accuracies[a.ood.length],
        rho: ok ? rhoOf(r) : null,
        heroes: ok ? a.classification!.counts.heroes : null,
        bloats: ok ? a.classification!.counts.bloats : null,
      };
    });
}

export interface Table6Row {
  task: string;
  seed: number | 'mean ± sd';
  bloats: string;
  idBefore: number | null;
  idAfter: number | null;
  drop: number | null; // before - after, as in the paper (positive: pruning hurt)
  dropSd?: number; // sample standard deviation (summary row)
}

/** Pruning every Bloat: in-distribution accuracy before and after, per seed, then mean ± sample sd of the drop (before - after). */
export function table6(records: readonly RunRecord[], task: TaskName = PAPER.figureTask): Table6Row[] {
  const rs = analysed(records, task).filter((r) => r.analysis.pruning);
  const rows: Table6Row[] = rs.map((r) => {
    const p = r.analysis.pruning!.allBloats;
    return {
      task: getTask(task).label,
      seed: r.seed,
      bloats: p.ids.join(' ') || '-',
      idBefore: p.idBefore,
      idAfter: p.idAfter,
      drop: p.idAfter === null ? null : p.idBefore - p.idAfter,
    };
  });
  const drops = rows.map((r) => r.drop).filter((d): d is number => d !== null);
  if (drops.length)
    rows.push({
      task: getTask(task).label,
      seed: 'mean ± sd',
      bloats: `${drops.length} seeds with Bloats`,
      idBefore: null,
      idAfter: null,
      drop: mean(drops),
      dropSd: stddev(drops, 1),
    });
  return rows;
}

export interface AllTables {
  table1: Table1Row[];
  table2: Table2Row[];
  table3: Table3Row[];
  table4: SeedRow[];
  table5: SeedRow[];
  table6: Table6Row[];
  /** Tables 4 and 5's seed-by-seed rows for every other task the records hold (registry order). */
  seedTables: { task: TaskName; rows: SeedRow[] }[];
}

export function allTables(records: readonly RunRecord[]): AllTables {
  return {
    table1: table1(records),
    table2: table2(records),
    table3: table3(records),
    table4: seedTable(records, 'sort'),
    table5: seedTable(records, 'reverse'),
    table6: table6(records, 'sort'),
    seedTables: tasksIn(records)
      .filter((t) => !PAPER_TASKS.includes(t))
      .map((task) => ({ task, rows: seedTable(records, task) })),
  };
}

/** Rounds numbers for display (accuracies stay fractions; rho to 3 decimals). */
export function roundRow<T extends object>(row: T, digits = 3): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(row))
    out[k] =
      typeof v === 'number' ? (Number.isFinite(v) ? Number(v.toFixed(digits)) : null) : (v as string | boolean | null);
  return out;
}

/** Every measure a run recorded, per component (columns in the order they were recorded: G, C, then any others). */
export function measureTable(r: RunRecord): Record<string, string | number>[] {
  const names = Object.keys(r.analysis.scores);
  return r.analysis.components.map((id) => ({
    component: id,
    ...Object.fromEntries(names.map((m) => [m, r.analysis.scores[m][id]])),
  }));
}
