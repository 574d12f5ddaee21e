/**
 * The paper's (v1) claims on one preset's records: each computed once, here, for REPRODUCTION.md's
 * claims section (report.ts words them) and for the rows of docs/findings.md (paperClaims).
 */
import type { AnalysisConfig } from '../../settings/config';
import type { RunRecord } from '../../records/format';
import { Claim, taskGap, TaskGap, verdictAbove } from '../../report/claims';
import { f3, pct, pts } from '../../report/markdown';
import { PAPER, PAPER_DERIVED } from '../../report/paper';
import { analysed, classesOfVariant, finite, lateShare, ownVariant, rhoOf } from '../../report/records';
import { bootstrap, inside, Interval, mean } from '../../report/stats';
import { table2, table6 } from '../../report/tables';

export const RANK_RULES: [AnalysisConfig['rankRule'], string][] = [
  ['average', "average ranks (authors' code)"],
  ['ordinal-random', "ordinal, ties broken at random (each component's most frequent class over the seeded draws)"],
  ['ordinal-order', 'ordinal, ties broken by component order (L0 first)'],
];

/** Where Heroes and Bloats sit in Sorting under one rank rule: counts in the late half (L2-L3) with bootstrap intervals over seeds. */
export interface LayerShares {
  rule: AnalysisConfig['rankRule'];
  heroes: { late: number; total: number; iv: Interval };
  /** Bloats: `early` of `total` in L0-L1, `iv` the early share's interval. */
  bloats: { early: number; total: number; iv: Interval };
}

/** One preset's claims' numbers (null where its records cannot give one). */
export interface PaperClaimNumbers {
  gap: TaskGap | null;
  /** Sorting rho values (analysed, finite). */
  sortRhos: number[];
  layers: LayerShares[];
  /** The preset's own rank rule. */
  ownRule: AnalysisConfig['rankRule'] | null;
  /** Pruning the top two Heroes: OOD exact-match points lost per sorting seed, and their mean's interval. */
  heroPrune: { drops: number[]; iv: Interval } | null;
  /** Pruning all Bloats: in-distribution drop per sorting seed; the harmless share's interval; seeds with 20+ points. */
  bloatPrune: { drops: number[]; harmless: number; severe: number; share: Interval } | null;
}

/** The numbers of the paper's claims on one preset's records; B bootstrap resamples (seeds 9-12, as REPRODUCTION.md has always used). */
export function paperClaimNumbers(rs: readonly RunRecord[], B: number): PaperClaimNumbers {
  const sortRs = analysed(rs as RunRecord[], 'sort');
  const layers: LayerShares[] = [];
  for (const [rule] of RANK_RULES) {
    const per = sortRs
      .map((r) => {
        const v = ownVariant(r);
        const cls =
          rule === r.config.analysis.rankRule
            ? r.analysis.classification!.classes
            : v
              ? classesOfVariant(r, v, rule, r.config.analysis.inclusive)
              : undefined;
        return cls ? { ids: r.analysis.components, classes: cls } : null;
      })
      .filter((x): x is { ids: string[]; classes: string[] } => x !== null);
    if (!per.length || per.length < sortRs.length) continue;
    const h = lateShare(per, 'HiddenHero');
    const b = lateShare(per, 'GradientBloat');
    const hIv = bootstrap(
      per,
      (x) => {
        const s = lateShare(x as typeof per, 'HiddenHero');
        return s.total ? s.late / s.total : NaN;
      },
      { resamples: B, seed: 9 },
    );
    const bIv = bootstrap(
      per,
      (x) => {
        const s = lateShare(x as typeof per, 'GradientBloat');
        return s.total ? 1 - s.late / s.total : NaN;
      },
      { resamples: B, seed: 10 },
    );
    layers.push({
      rule,
      heroes: { late: h.late, total: h.total, iv: hIv },
      bloats: { early: b.total - b.late, total: b.total, iv: bIv },
    });
  }
  const hd = table2(sortRs)
    .filter((r) => r.heroesPruned !== null)
    .map((r) => r.baseline - r.heroesPruned!);
  const drops = table6(sortRs)
    .filter((r) => typeof r.seed === 'number' && r.drop !== null)
    .map((r) => r.drop!);
  return {
    gap: taskGap(rs),
    sortRhos: finite(sortRs.map(rhoOf)),
    layers,
    ownRule: sortRs[0]?.config.analysis.rankRule ?? null,
    heroPrune: hd.length ? { drops: hd, iv: bootstrap(hd, mean, { resamples: B, seed: 11 }) } : null,
    bloatPrune: drops.length
      ? {
          drops,
          harmless: drops.filter((d) => d < PAPER.harmlessBound).length,
          severe: drops.filter((d) => d >= 0.2).length,
          share: bootstrap(drops, (x) => x.filter((d) => d < PAPER.harmlessBound).length / x.length, {
            resamples: B,
            seed: 12,
          }),
        }
      : null,
  };
}

/** The paper's claims on one preset as findings rows (docs/findings.md), from the same numbers as REPRODUCTION.md's claims. */
export function paperClaims(preset: string, n: PaperClaimNumbers): Claim[] {
  const out: Claim[] = [];
  const where = `${preset} preset`;
  const section = 'REPRODUCTION.md#the-papers-claims-tested-on-our-data';
  if (n.sortRhos.length) {
    const neg = n.sortRhos.filter((x) => x < 0).length;
    out.push({
      group: 'rho can turn negative in sorting',
      where,
      preset: where,
      claim: `rho (G, C) below 0 in some sorting seeds (${where})`,
      v3: `${PAPER_DERIVED.negativeSortSeeds} of ${PAPER.seeds.sort.length} seeds, lowest ${f3(PAPER_DERIVED.lowestSortRho)}`,
      ours: `${neg} of ${n.sortRhos.length} seeds, lowest ${f3(Math.min(...n.sortRhos))}`,
      runs: String(n.sortRhos.length),
      power: '–',
      verdict: neg > 0 ? 'holds' : 'not seen',
      section,
    });
  }
  const own = n.layers.find((l) => l.rule === n.ownRule);
  if (own) {
    const h = verdictAbove(own.heroes.iv, 0.5);
    const b = verdictAbove(own.bloats.iv, 0.5);
    out.push({
      group: 'Heroes cluster late, Bloats early (sorting)',
      where,
      preset: where,
      claim: `Heroes in L2-L3 and Bloats in L0-L1 above the no-pattern 50% (${where}, its rank rule ${own.rule})`,
      v3: 'Figure 2',
      ours: `Heroes late ${pct(own.heroes.total ? own.heroes.late / own.heroes.total : NaN)} [${pct(own.heroes.iv.lo)}, ${pct(own.heroes.iv.hi)}] (${own.heroes.total}); Bloats early ${pct(own.bloats.total ? own.bloats.early / own.bloats.total : NaN)} [${pct(own.bloats.iv.lo)}, ${pct(own.bloats.iv.hi)}] (${own.bloats.total})`,
      runs: String(n.sortRhos.length),
      power: '–',
      verdict: h === b ? h : h === 'holds' || b === 'holds' ? 'holds for one of the two' : 'not seen',
      section,
    });
  }
  if (n.heroPrune) {
    const iv = n.heroPrune.iv;
    const v = verdictAbove(iv, 0);
    out.push({
      group: 'pruning the top two Heroes costs OOD accuracy (sorting)',
      where,
      preset: where,
      claim: `pruning the top two Heroes costs ~${Math.round(100 * PAPER.heroPruneDrop)} points of OOD exact match (${where})`,
      v3: `${Math.round(100 * PAPER.heroPruneDrop)} points`,
      ours: `${pts(iv.estimate)} [${pts(iv.lo)}, ${pts(iv.hi)}] points; the paper's ${Math.round(100 * PAPER.heroPruneDrop)} ${inside(PAPER.heroPruneDrop, iv) ? 'inside' : 'outside'} the interval`,
      runs: String(n.heroPrune.drops.length),
      power: '–',
      verdict: v,
      section,
    });
  }
  if (n.bloatPrune) {
    const b = n.bloatPrune;
    const most = verdictAbove(b.share, 0.5);
    out.push({
      group: 'pruning all Bloats is harmless in most seeds, catastrophic in some (sorting)',
      where,
      preset: where,
      claim: `pruning all Bloats costs under ${Math.round(100 * PAPER.harmlessBound)} points in distribution in most seeds, 20+ in some (${where})`,
      v3: `${PAPER_DERIVED.harmlessSeeds} of ${PAPER_DERIVED.table6Seeds} harmless, one ${Math.round(100 * PAPER.worstBloatDrop)}-point drop`,
      ours: `harmless in ${b.harmless} of ${b.drops.length}, share ${pct(b.share.estimate)} [${pct(b.share.lo)}, ${pct(b.share.hi)}]; 20+ points in ${b.severe}, largest ${pts(Math.max(...b.drops))}`,
      runs: String(b.drops.length),
      power: '–',
      verdict:
        most === 'holds' && b.severe > 0 ? 'holds' : most === 'holds' ? 'holds for "most", no catastrophic seed' : most,
      section,
    });
  }
  return out;
}
