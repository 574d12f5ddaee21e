/**
 * docs/findings.md: the reader's answer in one screen. Each claim of the paper (v1, and the v3
 * abstract) in one row: the paper's number, ours with its 95% interval, the runs behind it, the
 * runs 80% power would need, the verdict over every place it is checked, and the report section
 * that shows the work. Every number comes from the function its own report uses (the task gap:
 * report/claims.ts; v1: paper/claims.ts; stability: stability/numbers.ts; v3: redundancy/claims.ts).
 */
import type { RunRecord } from '../../records/format';
import { Claim, overallVerdict, pv, TASK_GAP_SEED, rhoGapClaims, verdictAbove } from '../../report/claims';
import { f3, table } from '../../report/markdown';
import { shiftTest } from '../../report/stats';
import type { PresetName } from '../../settings/config';
import { PAPER } from '../../report/paper';
import { paperClaimNumbers, paperClaims } from '../paper/claims';
import { claims as redundancyClaims } from '../redundancy/claims';
import type { RedundancyStudy } from '../redundancy/numbers';
import type { StabilityStudy } from '../stability/types';

export interface FindingsInput {
  /** Each preset's results store (its analysed and skipped runs). */
  stores: { label: string; preset: PresetName; records: RunRecord[] }[];
  /** The stability study's numbers (null where it has no records). */
  stability: StabilityStudy | null;
  /** The redundancy study's numbers (null where it has no records), and the stores its claims read. */
  redundancy: RedundancyStudy | null;
  redundancyStores: { label: string; records: RunRecord[] }[];
  /** Bootstrap resamples (default 10,000, as the reports). */
  resamples?: number;
}

const GAP_GROUP = 'rho collapses from reversal to sorting';

/** The authors' analysis protocol (unpaired, heads after W_O, 100 sequences) on a store's models: rho of each run from its protocol variant. */
function authorsScoringRhos(records: readonly RunRecord[], task: string): number[] {
  return records
    .filter((r) => r.task === task && r.analysis.status === 'analysed')
    .map(
      (r) =>
        r.analysis.variants?.find((v) => v.headAblation === 'after-WO-slice' && !v.paired && v.evalSamples === 100)
          ?.rho,
    )
    .filter((x): x is number => x !== undefined && Number.isFinite(x));
}

/** The task gap under the other protocols: the paper preset's models scored the authors' way; the stability study's replicas nested in seeds. */
function otherGapClaims(input: FindingsInput): Claim[] {
  const out: Claim[] = [];
  const paper = input.stores.find((s) => s.preset === 'paper');
  if (paper) {
    const [a, b] = [authorsScoringRhos(paper.records, 'reverse'), authorsScoringRhos(paper.records, 'sort')];
    if (a.length >= 2 && b.length >= 2) {
      const g = shiftTest(a, b, { seed: TASK_GAP_SEED });
      const { lo, hi } = g.interval;
      const verdict = verdictAbove(g.interval);
      out.push({
        group: GAP_GROUP,
        where: "paper preset's models scored the authors' way (unpaired, after W_O, 100 sequences)",
        preset: "the authors' scoring",
        claim: '',
        v3: '0.72 -> 0.27',
        ours: `gap ${f3(g.test.observed)} [${f3(lo)}, ${f3(hi)}], p ${pv(g.test.p)}`,
        runs: `${a.length} + ${b.length}`,
        power: '–',
        verdict,
        section: 'REPRODUCTION.md#which-analysis-protocol-reproduces-the-papers-table-1',
      });
    }
  }
  const c = input.stability?.comparisons.find(
    (x) => x.pair.cheap === 'G' && x.pair.causal === 'C' && x.a === 'reverse' && x.b === 'sort',
  );
  if (c) {
    const { estimate, lo, hi } = c.nested;
    const verdict = verdictAbove(c.nested);
    const seeds = input.stability!.pairs.find((p) => p.task === 'reverse' && p.pair.causal === 'C')?.seeds.length;
    out.push({
      group: GAP_GROUP,
      where: `stability protocol (paper preset, replicas nested in ${seeds ?? '?'} seeds a task; retired kernel family)`,
      preset: 'paper preset',
      claim: '',
      v3: '0.72 -> 0.27',
      ours: `gap ${f3(estimate)} [${f3(lo)}, ${f3(hi)}], p ${pv(c.pNested)}${verdict === 'not seen' ? `; a gap up to ${f3(hi)} is not ruled out` : ''}`,
      runs: `${seeds ?? '?'} seeds a task`,
      power: `${c.seedsNeeded.single} a task (power now ${Math.round(100 * c.power)}%)`,
      verdict,
      section: 'STABILITY.md#does-training-chaos-change-the-papers-verdict-reversal-against-sorting',
    });
  }
  return out;
}

/** Every claim row, grouped in the paper's order: the task gap, the v1 claims, the v3 abstract's. */
export function findingsClaims(input: FindingsInput): Claim[] {
  const B = input.resamples ?? 10_000;
  const gap = [...rhoGapClaims(input.stores), ...otherGapClaims(input)].map((c) => ({
    ...c,
    v3: `v1 ${f3(PAPER.table1.reverse.rhoMean)} -> ${f3(PAPER.table1.sort.rhoMean)}; v3 ${c.v3}`,
  }));
  const v1 = input.stores.flatMap((s) =>
    paperClaims(s.preset, paperClaimNumbers(s.records, B)).map((c) => ({ ...c, v3: `v1 ${c.v3}` })),
  );
  const v3 = input.redundancy
    ? redundancyClaims(input.redundancy, input.redundancyStores)
        .filter((c) => c.group !== GAP_GROUP)
        .map((c) => ({
          ...c,
          v3: c.v3 === '–' ? c.v3 : `v3 ${c.v3}`,
          section: c.section.startsWith('#') ? `REDUNDANCY.md${c.section}` : c.section,
        }))
    : [];
  return [...gap, ...v1, ...v3];
}

/** The whole page; `up` is the project root relative to the page's folder ('..' for docs/; links to the reports go through it). */
export function findingsReport(input: FindingsInput, up: string): string {
  const rows = findingsClaims(input);
  const link = (section: string) => {
    const [file, anchor] = section.split('#');
    return `[${file}${anchor ? ` · ${anchor.replace(/-/g, ' ')}` : ''}](${up ? `${up}/` : ''}${section})`;
  };
  const groups = [...new Set(rows.map((r) => r.group))];
  const body = groups.map((g) => {
    const rs = rows.filter((r) => r.group === g);
    const cell = (f: (r: Claim) => string) => rs.map(f).join('<br>');
    return [
      `**${g[0].toUpperCase()}${g.slice(1)}**`,
      rs[0].v3,
      cell((r) => `${r.where}: ${r.ours}`),
      cell((r) => r.runs),
      cell((r) => r.power),
      `**${overallVerdict(rs)}**<br>${cell((r) => r.verdict)}`,
      [...new Set(rs.map((r) => link(r.section)))].join('<br>'),
    ];
  });
  const counts = input.stores
    .map((s) => {
      const n = (t: string) => s.records.filter((r) => r.task === t && r.analysis.status === 'analysed').length;
      return `${s.label}: Reversal ${n('reverse')}, Sorting ${n('sort')} analysed seeds`;
    })
    .join('; ');
  return [
    "# Findings: the paper's claims, and ours",
    '',
    'Generated by `node dist/src/cli.js findings` from the committed records (the results stores of both presets, the stability study, the redundancy study). Do not edit by hand: rebuild it. Each row computes its numbers with the function its report uses, so it says what the report says.',
    '',
    `Runs behind it: ${counts}. Intervals are 95%: the task gap's inverts a two-sided permutation test over seeds (p from the same test); the others are percentile bootstraps over seeds (REPRODUCTION.md, STABILITY.md and REDUNDANCY.md say how each is made); no interval below 3 runs. "Runs for 80% power" is the runs a task (or, for a mean over seeds, the seeds) that would detect the observed effect with 80% power at the 5% level; it assumes the observed effect is the true one. Verdicts: **holds** (the interval excludes no effect, in the claim's direction), **not seen** (it includes no effect), **reversed** (it excludes it, the other way); over several places: holds on one preset, holds in k of n, mixed.`,
    '',
    table(['claim', "paper's number", 'ours [95% interval]', 'runs', 'runs for 80% power', 'verdict', 'report'], body),
    '',
    "The paper's numbers: v1 is the paper's text (REPRODUCTION.md quotes its tables); v3 is the abstract of its newer version (arXiv 2602.01442 v3). The paper preset follows the paper's text, the authors preset the authors' published code (PROTOCOL.md); STABILITY.md asks how much of each run's Heroes and Bloats is the seed and how much training chaos.",
  ].join('\n');
}
