/**
 * The published numbers of Ye, "The Gradient-Causal Gap: Why Gradient Importance Fails on Complex
 * Tasks" (ICLR 2026 LIT workshop; the version this project was built against), typed in
 * from its text and tables, so the reproduction report can set ours beside them. These are the
 * reference values a reproduction is compared with; nothing here is computed.
 */
import type { TaskName } from '../tasks';

export interface PaperSeedRow {
  seed: number;
  oodLength: number;
  oodAcc: number; // fraction
  rho: number;
  heroes: number;
  bloats: number;
}

/** The paper's two tasks, in the order its Table 1 lists them. */

export const PAPER = {
  /** Table 1: mean ± population sd over 10 seeds, range, total Hero and Bloat occurrences. */
  table1: {
    reverse: { rhoMean: 0.726, rhoStd: 0.121, rhoMin: 0.47, rhoMax: 0.88, heroes: 7, bloats: 17 },
    sort: { rhoMean: 0.318, rhoStd: 0.241, rhoMin: -0.11, rhoMax: 0.73, heroes: 33, bloats: 36 },
  } as Record<
    TaskName,
    { rhoMean: number; rhoStd: number; rhoMin: number; rhoMax: number; heroes: number; bloats: number }
  >,
  /** Table 2: top-2 Heroes / Bloats pruned together, OOD accuracy (fractions). */
  table2: {
    sort: { seed: 456, baseline: 0.65, heroesPruned: 0.33, bloatsPruned: 0.685 },
    reverse: { seed: 2020, baseline: 0.355, heroesPruned: 0.005, bloatsPruned: 0.085 },
  } as Record<TaskName, { seed: number; baseline: number; heroesPruned: number; bloatsPruned: number }>,
  /** Table 3 (Sorting): the most frequent Heroes and Bloats, count out of 10 seeds. */
  table3: {
    heroes: { 'L3.H3': 7, 'L3.H0': 5, 'L3.H2': 5, 'L2.H1': 3, 'L2.H2': 3 } as Record<string, number>,
    bloats: { 'L1.H0': 6, 'L1.H1': 6, 'L1.H2': 6, 'L1.H3': 5, 'L0.H0': 3 } as Record<string, number>,
  },
  /** Tables 4 (Sorting) and 5 (Reversal): seed by seed. */
  seeds: {
    sort: [
      { seed: 42, oodLength: 9, oodAcc: 0.72, rho: 0.438, heroes: 2, bloats: 5 },
      { seed: 123, oodLength: 9, oodAcc: 0.68, rho: 0.364, heroes: 4, bloats: 3 },
      { seed: 456, oodLength: 9, oodAcc: 0.65, rho: -0.113, heroes: 7, bloats: 5 },
      { seed: 789, oodLength: 9, oodAcc: 0.75, rho: 0.191, heroes: 3, bloats: 4 },
      { seed: 1010, oodLength: 9, oodAcc: 0.67, rho: 0.6, heroes: 2, bloats: 1 },
      { seed: 2020, oodLength: 8, oodAcc: 0.73, rho: 0.098, heroes: 3, bloats: 4 },
      { seed: 3030, oodLength: 8, oodAcc: 0.68, rho: 0.726, heroes: 2, bloats: 1 },
      { seed: 4040, oodLength: 8, oodAcc: 0.64, rho: 0.368, heroes: 4, bloats: 3 },
      { seed: 5050, oodLength: 10, oodAcc: 0.59, rho: 0.082, heroes: 3, bloats: 6 },
      { seed: 6060, oodLength: 9, oodAcc: 0.69, rho: 0.423, heroes: 3, bloats: 4 },
    ],
    reverse: [
      { seed: 42, oodLength: 9, oodAcc: 0.66, rho: 0.883, heroes: 1, bloats: 1 },
      { seed: 123, oodLength: 9, oodAcc: 0.57, rho: 0.767, heroes: 0, bloats: 2 },
      { seed: 456, oodLength: 9, oodAcc: 0.4, rho: 0.678, heroes: 0, bloats: 2 },
      { seed: 789, oodLength: 9, oodAcc: 0.61, rho: 0.844, heroes: 0, bloats: 0 },
      { seed: 1010, oodLength: 9, oodAcc: 0.71, rho: 0.737, heroes: 1, bloats: 1 },
      { seed: 2020, oodLength: 9, oodAcc: 0.45, rho: 0.559, heroes: 2, bloats: 4 },
      { seed: 3030, oodLength: 9, oodAcc: 0.52, rho: 0.47, heroes: 0, bloats: 3 },
      { seed: 4040, oodLength: 9, oodAcc: 0.35, rho: 0.793, heroes: 1, bloats: 2 },
      { seed: 5050, oodLength: 8, oodAcc: 0.64, rho: 0.726, heroes: 2, bloats: 1 },
      { seed: 6060, oodLength: 9, oodAcc: 0.47, rho: 0.805, heroes: 0, bloats: 1 },
    ],
  } as Record<TaskName, PaperSeedRow[]>,
  /** Table 6 (Sorting): all Bloats pruned, in-distribution accuracy at length 5; drop = before - after (positive = worse). */
  table6: {
    rows: [
      { seed: 42, bloats: 4, before: 0.9, after: 0.96 },
      { seed: 123, bloats: 2, before: 0.94, after: 0.98 },
      { seed: 456, bloats: 3, before: 0.92, after: 0.86 },
      { seed: 789, bloats: 3, before: 0.91, after: 0.52 },
      { seed: 1010, bloats: 3, before: 0.93, after: 0.98 },
      { seed: 2020, bloats: 3, before: 0.87, after: 0.96 },
      { seed: 4040, bloats: 3, before: 0.97, after: 0.94 },
      { seed: 5050, bloats: 3, before: 0.9, after: 0.86 },
      { seed: 6060, bloats: 3, before: 0.94, after: 0.96 },
    ],
    meanDrop: 0.029, // sample sd 0.144
    sdDrop: 0.144,
  },
  /** Section 3.3: pruning the Heroes costs this much OOD accuracy (Table 2's sorting seed: 65.0 -> 33.0). */
  heroPruneDrop: 0.32,
  /** The task of that Hero cost, of Figures 2 and 3 and of Table 6: Sorting. */
  figureTask: 'sort' as TaskName,
  /** The seed-by-seed tables' titles (Tables 4 and 5). */
  seedTableTitles: { sort: 'Table 4: Sorting', reverse: 'Table 5: Reversal' } as Partial<Record<TaskName, string>>,
  /** Section 3.3: Bloat pruning is harmless when the ID change is above -5 points, and at worst a 39-point drop. */
  harmlessBound: 0.05,
  worstBloatDrop: 0.39,
  seedList: [42, 123, 456, 789, 1010, 2020, 3030, 4040, 5050, 6060],
};

/** Claims the paper states in prose, derived from its tables above (so that no paper number is typed twice). */
export const PAPER_DERIVED = {
  /** Section 3.1: mean rho falls from Reversal to Sorting by this much. */
  rhoDrop: PAPER.table1.reverse.rhoMean - PAPER.table1.sort.rhoMean,
  /** Table 4: sorting seeds with a negative rho, and the lowest rho. */
  negativeSortSeeds: PAPER.seeds.sort.filter((r) => r.rho < 0).length,
  lowestSortRho: Math.min(...PAPER.seeds.sort.map((r) => r.rho)),
  /** Table 6: seeds whose Bloat pruning is harmless (drop below harmlessBound), and those with a drop of 20 points or more. */
  harmlessSeeds: PAPER.table6.rows.filter((r) => r.before - r.after < PAPER.harmlessBound).length,
  severeSeeds: PAPER.table6.rows.filter((r) => r.before - r.after >= 0.2).length,
  table6Seeds: PAPER.table6.rows.length,
};
