/**
 * REDUNDANCY.md: the redundancy study written out from its numbers (numbers.ts), opening with the
 * answer: each claim of the paper's v3 abstract beside this project's number, its interval, the
 * runs behind it and a verdict. Every number is computed from the records (the study's, and the
 * results stores' for the layer profile and the rho gap).
 */
import type { RunRecord } from '../../records/format';
import { f2, f3, table } from '../../report/markdown';
import { mean, shiftTest } from '../../report/stats';
import { getTask, TaskName } from '../../tasks';
import { MeanClaim, RedundancyStudy, SetSummary, verdict, Verdict } from './numbers';

const label = (t: TaskName) => getTask(t).label;
const pv = (p: number) => (!Number.isFinite(p) ? '–' : p < 0.001 ? '<0.001' : p.toFixed(3));
/** Accuracy points with an interval: "12.3 [4.5, 20.1]". */
const pts = (c: MeanClaim) => {
  const { estimate, lo, hi } = c.test.interval;
  return `${(100 * estimate).toFixed(1)}${Number.isFinite(lo) ? ` [${(100 * lo).toFixed(1)}, ${(100 * hi).toFixed(1)}]` : ''}`;
};
const num = (c: MeanClaim, f = f2) => {
  const { estimate, lo, hi } = c.test.interval;
  return `${f(estimate)}${Number.isFinite(lo) ? ` [${f(lo)}, ${f(hi)}]` : ''}`;
};
const power = (c: MeanClaim) => (Number.isFinite(c.power) ? String(c.power) : '–');

interface Claim {
  claim: string;
  v3: string;
  ours: string;
  runs: string;
  verdict: Verdict | string;
  section: string;
}

function rhoGapClaims(stores: { label: string; records: readonly RunRecord[] }[]): Claim[] {
  return stores.map(({ label: name, records }) => {
    const rho = (t: TaskName) =>
      records
        .filter((r) => r.task === t && r.analysis.status === 'analysed')
        .map((r) => r.analysis.classification!.rho);
    const [a, b] = [rho('reverse'), rho('sort')];
    const g = shiftTest(a, b, { seed: 43 });
    const { lo, hi } = g.interval;
    return {
      claim: `rho collapses from reversal to sorting (${name})`,
      v3: '0.72 -> 0.27',
      ours: `${f3(mean(a))} -> ${f3(mean(b))}; gap ${f3(g.test.observed)} [${f3(lo)}, ${f3(hi)}], p ${pv(g.test.p)}`,
      runs: `${a.length} + ${b.length}`,
      verdict: lo > 0 ? 'holds' : hi < 0 ? 'reversed' : 'not seen',
      section: '#the-layer-profile',
    };
  });
}

function claims(s: RedundancyStudy, stores: { label: string; records: readonly RunRecord[] }[]): Claim[] {
  const out: Claim[] = rhoGapClaims(stores);
  for (const p of s.profiles)
    out.push({
      claim: `G over-values early layers, under-values late ones: slope of mean Delta on layer < 0 (${p.label}, ${label(p.task)})`,
      v3: '–',
      ours: `${num(p.slope)}, p ${pv(p.slope.test.p)}`,
      runs: String(p.n),
      verdict: verdict(p.slope, -1),
      section: '#the-layer-profile',
    });
  for (const task of s.tasks) {
    const bloats = s.sets.find((x) => x.task === task && x.name === 'Bloats');
    const heroes = s.sets.find((x) => x.task === task && x.name === 'Heroes');
    if (bloats)
      out.push({
        claim: `joint Bloat ablation does more damage than the Bloats' single effects predict (${label(task)})`,
        v3: '14x',
        ours: `${ratioText(bloats)}; excess ${pts(bloats.excess)} points, p ${pv(bloats.excess.test.p)}; beyond random sets of its size ${pts(bloats.beyondSize)}`,
        runs: String(bloats.n),
        verdict: verdict(bloats.excess, 1),
        section: '#joint-ablation',
      });
    if (bloats)
      out.push({
        claim: `the same on cross-entropy (${label(task)})`,
        v3: '–',
        ours: `excess ${num(bloats.excessCe)} nats, p ${pv(bloats.excessCe.test.p)}; beyond random sets of its size ${num(bloats.beyondSizeCe)}`,
        runs: String(bloats.n),
        verdict: verdict(bloats.excessCe, 1),
        section: '#joint-ablation',
      });
    if (heroes)
      out.push({
        claim: `ablating the Hidden Heroes together destroys OOD accuracy (${label(task)})`,
        v3: '-36.4% +/- 22.8%',
        ours: `${pts(heroes.joint)} points of exact match lost`,
        runs: String(heroes.n),
        verdict: verdict(heroes.joint, 1),
        section: '#joint-ablation',
      });
  }
  for (const sh of s.shapley)
    out.push({
      claim: `G tracks Shapley importance better than single-component C (${label(sh.task)}; the paper's explanation)`,
      v3: '(implied)',
      ours: `rho(G, Shapley) - rho(G, C) ${num(sh.diff)}, p ${pv(sh.diff.test.p)}`,
      runs: String(sh.n),
      verdict: verdict(sh.diff, 1),
      section: '#does-redundancy-explain-the-gap',
    });
  return out;
}

const ratioText = (x: SetSummary) => {
  const { estimate, lo, hi } = x.ratio.interval;
  return `joint / predicted ${f2(estimate)}${Number.isFinite(lo) ? ` [${f2(lo)}, ${f2(hi)}]` : ''}`;
};

/** The named sets on the cross-entropy increase (nats; no ceiling). */
function setTableCe(s: RedundancyStudy, task: TaskName): string {
  const rows = s.sets.filter((x) => x.task === task);
  return table(
    [
      'set',
      'seeds',
      'joint CE increase',
      'excess over the sum of single increases',
      'p',
      'beyond random, same size',
      'p',
    ],
    rows.map((r) => [
      r.name,
      r.n,
      num(r.jointCe),
      num(r.excessCe),
      pv(r.excessCe.test.p),
      num(r.beyondSizeCe),
      pv(r.beyondSizeCe.test.p),
    ]),
  );
}

function setTable(s: RedundancyStudy, task: TaskName): string {
  const rows = s.sets.filter((x) => x.task === task);
  return table(
    [
      'set',
      'seeds',
      'size',
      'joint drop',
      'predicted (sum of C)',
      'excess',
      'p',
      'beyond random, same size',
      'p',
      'beyond random, same make-up',
      'null draws at or above',
      'joint / predicted',
      'seeds for 80% power',
    ],
    rows.map((r) => [
      r.name,
      r.n,
      f2(r.meanSize),
      pts(r.joint),
      pts(r.predicted),
      pts(r.excess),
      pv(r.excess.test.p),
      pts(r.beyondSize),
      pv(r.beyondSize.test.p),
      r.beyondMakeup ? pts(r.beyondMakeup) : '–',
      `${(100 * r.nullShare).toFixed(0)}%`,
      ratioText(r).replace('joint / predicted ', ''),
      power(r.excess),
    ]),
  );
}

export function redundancyReport(
  s: RedundancyStudy,
  stores: { label: string; records: readonly RunRecord[] }[],
  figures: string[],
  source: string,
): string {
  const fig = (name: string) =>
    figures.find((f) => f.includes(`/${name}.`) && f.endsWith('.png')) ?? figures.find((f) => f.includes(`/${name}.`));
  const img = (name: string, alt: string) => (fig(name) ? `\n![${alt}](${fig(name)})\n` : '');
  const cl = claims(s, stores);
  const lines: string[] = [];
  const runs = s.tasks.map((t) => `${label(t)} ${s.runs[t]}`).join(', ');
  lines.push(
    "# Redundancy: joint ablation, pairs, Shapley values and the layer profile (the paper's v3 claims)",
    '',
    `*Generated by \`gcg redundancy-report\` from ${source} (preset ${s.presets.join(', ') || '–'}: ${runs || 'no records yet'} seeds) and the results stores; every number below is computed from those records. Intervals are 95% percentile bootstraps over seeds, each with the test of the same resamples; none is given for fewer than 3 seeds.*`,
    '',
    '## The answer',
    '',
    answer(s, cl),
    '',
    table(
      ['claim (v3 abstract)', 'v3', 'this project', 'runs', 'verdict'],
      cl.map((c) => [`[${c.claim}](${c.section})`, c.v3, c.ours, c.runs, `**${c.verdict}**`]),
    ),
    '',
    "How v3's statistic is read: \"joint Bloat ablation causes 14x greater damage than individual results predict\" is taken as the damage of ablating a model's Bloats together (its exact-match drop, Eq. 2's metric and mean ablation) over the sum of their single drops (their C). A Bloat's C is near 0 by definition (a low C rank), so a seed's own ratio is unstable (a sum of C near 0 makes any joint damage a large multiple); the table gives the ratio of the seeds' mean joint drop to their mean predicted drop, and the excess (joint - predicted) in accuracy points, whose test decides the verdict. The v3 text itself is not in this project (only its abstract is quoted in issue 43), so its exact estimator may differ.",
    '',
    '## Joint ablation',
    '',
    "Each model's named sets are ablated together (each member replaced by its mean output at the run's OOD length, on the run's fixed evaluation set, as C): its Heroes, its Bloats (Eq. 3's classes of the source record; a seed without any has no such set), each layer's four heads, and each layer's five components. Beside each set: its additive prediction (the sum of its members' single C), the excess (joint - predicted; above 0: the members cover for each other, so removing them together costs more than one at a time — redundancy), and the excess beyond random sets of the same size (and, for Heroes and Bloats, of the same layer make-up: as many heads and MLPs from each layer) drawn per model as the null. \"Null draws at or above\" is the share of a model's random sets of the set's size whose excess is at least the set's, averaged over seeds. Exact match has a ceiling: a set cannot lose more than the model's baseline accuracy, so a set whose members' single drops add up past the baseline must show a negative excess on it (most layers' sets here); random sets of the same size meet the same ceiling, and the cross-entropy increase beside it has none.",
    '',
  );
  for (const t of s.tasks)
    lines.push(
      `### ${label(t)} (${s.runs[t]} seeds)`,
      '',
      'Exact match (accuracy points):',
      '',
      setTable(s, t),
      '',
      'Cross-entropy increase (nats per target token):',
      '',
      setTableCe(s, t),
      '',
    );
  lines.push(img('redundancy_sets', "the named sets' excess over their additive prediction"));
  lines.push('## Pairwise interactions', '');
  lines.push(
    'For every pair of the 20 components, C(i, j) - C(i) - C(j) on exact match: below 0 the pair together costs less than the two alone (they do the same work in different ways, or one only matters through the other), above 0 more (each covers for the other). A pair counts as non-zero when its interval over seeds excludes 0.',
    '',
    table(
      ['task', 'seeds', 'pairs', 'interval below 0', 'interval above 0', 'largest mean interaction between layers'],
      s.pairs.map((p) => {
        const top = [...p.byLayer].sort(
          (x, y) => Math.abs(y.claim.test.interval.estimate) - Math.abs(x.claim.test.interval.estimate),
        )[0];
        return [
          label(p.task),
          p.n,
          p.pairs,
          `${p.negative} (${((100 * p.negative) / p.pairs).toFixed(0)}%)`,
          `${p.positive} (${((100 * p.positive) / p.pairs).toFixed(0)}%)`,
          top ? `L${top.a}-L${top.b}: ${pts(top.claim)} points` : '–',
        ];
      }),
    ),
    '',
    'Mean interaction of the pairs between two layers (points; per seed the mean over those pairs, then over seeds):',
    '',
  );
  for (const p of s.pairs) {
    const layers = [...new Set(p.byLayer.map((x) => x.a))];
    lines.push(
      `${label(p.task)}:`,
      '',
      table(
        ['', ...layers.map((l) => `L${l}`)],
        layers.map((a) => [
          `L${a}`,
          ...layers.map((b) => {
            const c = p.byLayer.find((x) => x.a === Math.min(a, b) && x.b === Math.max(a, b))!;
            return pts(c.claim);
          }),
        ]),
      ),
      '',
    );
  }
  lines.push(img('redundancy_pairs', 'pairwise interaction matrices'));
  lines.push('## Does redundancy explain the gap?', '');
  lines.push(
    `An importance that counts redundancy: each component's Shapley value of the ablation effect (its marginal damage averaged over the orders in which the components could be removed), estimated from ${s.settings?.permutations ?? '–'} sampled permutations per model (the Monte Carlo standard error of one value is given; it is from the permutations alone, on top of the evaluation's own noise). If the paper's explanation holds, G should agree with Shapley importance better than with single-component C.`,
    '',
    table(
      [
        'task',
        'seeds',
        'rho(G, C)',
        'rho(G, Shapley)',
        'difference',
        'p',
        'rho(C, Shapley)',
        'MC error of a value',
        'mean |Shapley - C|',
        'seeds for 80% power',
      ],
      s.shapley.map((r) => [
        label(r.task),
        r.n,
        num(r.rhoGC),
        num(r.rhoGS),
        num(r.diff),
        pv(r.diff.test.p),
        num(r.rhoCS),
        `${(100 * r.meanSe).toFixed(2)} points`,
        `${(100 * r.meanGap).toFixed(2)} points`,
        power(r.diff),
      ]),
    ),
    img('redundancy_shapley', 'rho of G with C and with Shapley values'),
  );
  lines.push('## The layer profile', '');
  lines.push(
    "Per layer: the mean Delta = Rank(G) - Rank(C) of its components (average ranks, ties shared: the ordinal rank rule's tie-breaks by component order would make early Bloats by themselves), and its share of the model's total G and of its total C; then, per seed, the least-squares slope of mean Delta on layer index. v3's claim (early layers over-valued by G, late ones under-valued) is a negative slope. From every analysed run of each results store; the stability replicas say whether a seed's slope keeps its sign under training chaos.",
    '',
  );
  for (const p of s.profiles)
    lines.push(
      `${p.label}, ${label(p.task)} (${p.n} seeds): slope ${num(p.slope)}, p ${pv(p.slope.test.p)}, seeds for 80% power ${power(p.slope)}`,
      '',
      table(
        ['layer', 'mean Delta', 'share of G', 'share of C'],
        p.layers.map((l) => [`L${l.layer}`, num(l.delta), num(l.gShare), num(l.cShare)]),
      ),
      '',
    );
  for (const r of s.replicas)
    lines.push(
      `Stability replicas, ${label(r.task)}: ${r.agree} of ${r.seeds.length} seeds have every replica's slope of one sign (${r.seeds.map((x) => `seed ${x.seed}: ${x.slopes.filter((v) => v < 0).length} of ${x.slopes.length} negative`).join('; ')}); the mean over seeds of each seed's mean slope ${num(r.nested)}, p ${pv(r.nested.test.p)}.`,
      '',
    );
  lines.push(img('redundancy_layers', 'layer profile'));
  lines.push('## What these records are, and what they cost', '');
  lines.push(
    `Settings: ${s.settings ? `${s.settings.nullDraws} random sets per size and per make-up, ${s.settings.permutations} permutations` : '–'}; made at commit ${s.commits.join(', ') || '–'} on ${s.machines.join('; ') || '–'}. Mean seconds per model: ${s.timings.map((t) => `${t.phase} ${t.seconds.toFixed(0)}`).join(', ')} (set-passes.ts shares each prefix of the forward pass between sets; \`npm run bench\` times the pairs and the null on one model).`,
    '',
    `Not yet in these records: ${missing(s)}.`,
    '',
  );
  return lines.join('\n');
}

function missing(s: RedundancyStudy): string {
  const out: string[] = [];
  if (!s.presets.includes('authors'))
    out.push(
      "the authors' preset's joint ablation, pairs and Shapley values (its layer profile and rho gap are above)",
    );
  if (!s.presets.includes('paper')) out.push("the paper preset's");
  out.push(
    "joint ablation on the stability replicas (those models were trained on the retired kernel family and cannot be retrained bit for bit: issue 45's remade replicas will carry it)",
  );
  return out.join('; ');
}

function answer(s: RedundancyStudy, cl: Claim[]): string {
  if (!s.tasks.length) return 'No redundancy records yet: run `gcg redundancy` (see the cost section).';
  const count = (v: string) => cl.filter((c) => c.verdict === v).length;
  return `Of the ${cl.length} claims below, ${count('holds')} hold, ${count('not seen')} are not seen, ${count('reversed')} are reversed${count('too few runs') ? `, ${count('too few runs')} have too few runs` : ''}; each row says which preset and task it is.`;
}
