/** The claims of the paper's v3 abstract, each checked on one preset and task: REDUNDANCY.md's answer and its table. */
import type { RunRecord } from '../../records/format';
import { f2 } from '../../report/markdown';
import { Claim, overallVerdict, pv, rhoGapClaims } from '../../report/claims';
import { getTask, TaskName } from '../../tasks';
import { MeanClaim, RedundancyStudy, SetSummary, verdict } from './numbers';

export { pv, overallVerdict };
export type { Claim };

const label = (t: TaskName) => getTask(t).label;
/** Accuracy points with an interval: "12.3 [4.5, 20.1]". */
export const pts = (c: MeanClaim) => {
  const { estimate, lo, hi } = c.test.interval;
  return `${(100 * estimate).toFixed(1)}${Number.isFinite(lo) ? ` [${(100 * lo).toFixed(1)}, ${(100 * hi).toFixed(1)}]` : ''}`;
};
export const num = (c: MeanClaim, f = f2) => {
  const { estimate, lo, hi } = c.test.interval;
  return `${f(estimate)}${Number.isFinite(lo) ? ` [${f(lo)}, ${f(hi)}]` : ''}`;
};
export const power = (c: MeanClaim) => (Number.isFinite(c.power) ? String(c.power) : '–');
export const ratioText = (x: SetSummary) => {
  const { estimate, lo, hi } = x.ratio.interval;
  return `joint / predicted ${f2(estimate)}${Number.isFinite(lo) ? ` [${f2(lo)}, ${f2(hi)}]` : ''}`;
};

export function claims(s: RedundancyStudy, stores: { label: string; records: readonly RunRecord[] }[]): Claim[] {
  const out: Claim[] = rhoGapClaims(stores);
  for (const p of s.profiles)
    out.push({
      group: 'G over-values early layers and under-values late ones (the layer profile)',
      where: `${p.label}, ${label(p.task)}`,
      preset: p.label,
      claim: `G over-values early layers, under-values late ones: slope of mean Delta on layer < 0 (${p.label}, ${label(p.task)})`,
      v3: '–',
      ours: `${num(p.slope)}, p ${pv(p.slope.test.p)}`,
      runs: String(p.n),
      power: power(p.slope),
      verdict: verdict(p.slope, -1),
      section: '#the-layer-profile',
    });
  for (const r of s.replicas)
    out.push({
      group: 'G over-values early layers and under-values late ones (the layer profile)',
      where: `stability replicas (paper preset, retired kernel family), ${label(r.task)}`,
      preset: 'paper preset',
      claim: `the same, replicas nested in seeds (${label(r.task)}); every replica's slope of one sign in ${r.agree} of ${r.seeds.length} seeds`,
      v3: '–',
      ours: `${num(r.nested)}, p ${pv(r.nested.test.p)}; one sign over every replica in ${r.agree} of ${r.seeds.length} seeds`,
      runs: String(r.seeds.reduce((a, x) => a + x.slopes.length, 0)),
      power: `${power(r.nested)} seeds`,
      verdict: verdict(r.nested, -1),
      section: '#the-layer-profile',
    });
  // Heroes' and Bloats' joint claims only where the classes were named from C scored as here (report.ts says why).
  for (const { label: cell, preset: p } of s.cells.filter((c) => !c.classesScoredOtherwise)) {
    const preset = `${p} preset`;
    const bloats = s.sets.find((x) => x.cell === cell && x.name === 'Bloats');
    const heroes = s.sets.find((x) => x.cell === cell && x.name === 'Heroes');
    if (bloats)
      out.push({
        group: 'joint Bloat ablation does more damage than the single effects predict',
        where: `${cell}, exact match`,
        preset,
        claim: `joint Bloat ablation does more damage than the Bloats' single effects predict (${cell})`,
        v3: '14x',
        ours: `${ratioText(bloats)}; excess ${pts(bloats.excess)} points, p ${pv(bloats.excess.test.p)}; beyond random sets of its size ${pts(bloats.beyondSize)}`,
        runs: String(bloats.n),
        power: power(bloats.excess),
        verdict: verdict(bloats.excess, 1),
        section: '#joint-ablation',
      });
    if (bloats)
      out.push({
        group: 'joint Bloat ablation does more damage than the single effects predict',
        where: `${cell}, cross-entropy`,
        preset,
        claim: `the same on cross-entropy (${cell})`,
        v3: '–',
        ours: `excess ${num(bloats.excessCe)} nats, p ${pv(bloats.excessCe.test.p)}; beyond random sets of its size ${num(bloats.beyondSizeCe)}`,
        runs: String(bloats.n),
        power: power(bloats.excessCe),
        verdict: verdict(bloats.excessCe, 1),
        section: '#joint-ablation',
      });
    if (heroes)
      out.push({
        group: 'ablating the Hidden Heroes together destroys OOD accuracy',
        where: cell,
        preset,
        claim: `ablating the Hidden Heroes together destroys OOD accuracy (${cell})`,
        v3: '-36.4% +/- 22.8%',
        ours: `${pts(heroes.joint)} points of exact match lost, ${pts(heroes.relative)}% of the baseline (mean size ${f2(heroes.meanSize)})`,
        runs: String(heroes.n),
        power: power(heroes.joint),
        verdict: verdict(heroes.joint, 1),
        section: '#joint-ablation',
      });
  }
  for (const sh of s.shapley)
    out.push({
      group: "G tracks Shapley importance better than single-component C (the paper's explanation)",
      where: sh.cell,
      preset: `${s.cells.find((c) => c.label === sh.cell)!.preset} preset`,
      claim: `G tracks Shapley importance better than single-component C (${sh.cell}; the paper's explanation)`,
      v3: '(implied)',
      ours: `rho(G, Shapley) - rho(G, C) ${num(sh.diff)}, p ${pv(sh.diff.test.p)}`,
      runs: String(sh.n),
      power: power(sh.diff),
      verdict: verdict(sh.diff, 1),
      section: '#does-redundancy-explain-the-gap',
    });
  return out;
}

/** The answer: one bullet per claim, its verdict over every place it is checked, then on each preset and task. */
export function answer(s: RedundancyStudy, cl: Claim[]): string {
  if (!s.cells.length && !cl.length) return 'No redundancy records yet: run `gcg redundancy` (see the cost section).';
  const groups = [...new Set(cl.map((c) => c.group))];
  return groups
    .map((g) => {
      const rows = cl.filter((c) => c.group === g);
      return `- **${g[0].toUpperCase()}${g.slice(1)}: ${overallVerdict(rows)}.** ${rows.map((c) => `${c.where} ${c.verdict} (${c.ours}; ${c.runs} runs)`).join('; ')}.`;
    })
    .join('\n');
}
