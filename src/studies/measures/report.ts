/**
 * MEASURES.md: the measures study written out from its numbers (measures.ts): which importance
 * measure tracks causal importance, under which ablation, and which of the paper's conclusions
 * hold under which choices. Every number in it is computed from the study's records.
 */
import { allMeasureInfo, measureInfo } from '../../analysis/measure-info';
import { getTask, TaskName } from '../../tasks';
import { f2, f3, ivs, pct, table } from '../../report/markdown';
import { bloatEarlyShare, findPair, GapTest, heroLateShare, MeasuresStudy } from './numbers';
import { PairStat } from '../../report/pairs';
import { extremePair } from './figures';
import { PAPER_PAIR } from '../../report/records';
import { mean, seedsForPower } from '../../report/stats';

const cell = (p: PairStat | undefined) => (p ? `${f2(p.rho.estimate)} ${ivs(p.rho, f2)}` : '–');
const pv = (p: number) => (p < 0.001 ? '<0.001' : p.toFixed(3));
const label = (t: string) => getTask(t).label;
/** A measure's own seconds per run; a cross-entropy measure with none reads the passes of the exact-match measure of its ablation, and says so. */
function costCell(m: string, secs: number | undefined): string {
  const info = measureInfo(m);
  const reads =
    info.score === 'ce' ? allMeasureInfo().find((x) => x.ablation === info.ablation && x.score === 'acc') : undefined;
  return secs !== undefined && secs < 0.005 && reads ? `0 (reads \`${reads.name}\`'s passes)` : f2(secs);
}

/** Seeds per task that would detect the pair's observed task difference at 80% power, from the seeds' spread on each task. */
function powerLine(s: MeasuresStudy, g: GapTest): string {
  const rhos = (t: TaskName) => findPair(s.pairs, t, g.pair.cheap, g.pair.causal)?.rhos.filter(Number.isFinite) ?? [];
  const variance = (xs: number[]) => xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1);
  const n = seedsForPower(g.test.observed, (variance(rhos(g.a)) + variance(rhos(g.b))) / 2);
  return `detecting a difference this size at 80% power (two-sided, 0.05; normal approximation with the seeds' spread) would take ${Number.isFinite(n) ? `about ${n}` : 'any number of'} seeds per task (${s.runs[g.a]} and ${s.runs[g.b]} here)`;
}

/** The conclusions of the paper, each checked under every pair. */
function verdicts(s: MeasuresStudy): string[] {
  const out: string[] = [];
  const nPairs = s.cheap.length * s.causal.length;
  const positive = s.pairs.filter((p) => p.rho.lo > 0);
  const perTask = s.tasks
    .map((t) => `${label(t)} ${positive.filter((p) => p.task === t).length} of ${nPairs}`)
    .join(', ');
  out.push(
    `- **"Gradient importance and causal importance are positively related."** The mean rho's 95% interval lies above 0 for ${perTask} pairs (cheap x causal).`,
  );
  const gc = s.tasks
    .map((t) => findPair(s.pairs, t, PAPER_PAIR.cheap, PAPER_PAIR.causal))
    .filter((p): p is PairStat => !!p);
  if (gc.length)
    out.push(
      `  The paper's own pair (G, C): ${gc.map((p) => `${label(p.task)} ${f2(p.rho.estimate)} ${ivs(p.rho, f2)}`).join('; ')}.`,
    );
  if (s.gaps.length) {
    const [a, b] = [s.gaps[0].a, s.gaps[0].b];
    const sig = (g: GapTest) => g.test.p < 0.05;
    const same = s.gaps.filter((g) => sig(g) && g.test.observed > 0);
    const reversed = s.gaps.filter((g) => sig(g) && g.test.observed < 0);
    const gcGap = s.gaps.find((g) => g.pair.cheap === PAPER_PAIR.cheap && g.pair.causal === PAPER_PAIR.causal);
    out.push(
      `- **"The gap widens with task complexity"** (rho lower on ${label(b)} than on ${label(a)}): of ${s.gaps.length} pairs, ${same.length} show a higher mean rho on ${label(a)} at p < 0.05 (exact two-sided permutation test over seeds), ${reversed.length} the opposite, ${s.gaps.length - same.length - reversed.length} no difference at that level.` +
        (gcGap
          ? ` Under the paper's pair (G, C): difference ${f3(gcGap.test.observed)} ${ivs(gcGap.interval)}, p = ${pv(gcGap.test.p)}; ${powerLine(s, gcGap)}.`
          : ''),
    );
    const list = (gs: GapTest[]) =>
      gs.length <= 8
        ? gs.map((g) => `(${g.pair.cheap}, ${g.pair.causal})`).join(', ')
        : `${gs.length} pairs, each in "${label(a)} vs ${label(b)} under every pair" below`;
    if (same.length) out.push(`  Holds under: ${list(same)}.`);
    if (reversed.length) out.push(`  Reversed under: ${list(reversed)}.`);
  }
  const heroPairs = s.tasks
    .map((t) => `${label(t)} ${s.pairs.filter((p) => p.task === t && p.heroes > 0).length} of ${nPairs}`)
    .join(', ');
  out.push(`- **"Hidden Heroes exist"** (Delta <= -threshold in at least one seed): ${heroPairs} pairs.`);
  const late = s.pairs.filter((p) => p.heroes >= 3 && heroLateShare(p) > 0.5);
  const withHeroes = s.pairs.filter((p) => p.heroes >= 3);
  out.push(
    `- **"Hidden Heroes cluster in later layers"** (the paper: L2-L3): more than half of the Heroes are in the later half of the layers for ${late.length} of the ${withHeroes.length} (pair, task) cells with at least 3 Heroes.`,
  );
  const early = s.pairs.filter((p) => p.bloats >= 3 && bloatEarlyShare(p) > 0.5);
  const withBloats = s.pairs.filter((p) => p.bloats >= 3);
  out.push(
    `- **"Gradient Bloats cluster in early layers"** (the paper: L0-L1): more than half of the Bloats are in the earlier half for ${early.length} of the ${withBloats.length} cells with at least 3 Bloats.`,
  );
  if (s.causalPairs.length) {
    const perTask = s.tasks.map((t) => {
      const cc = s.causalPairs.filter((p) => p.task === t);
      const gcp = findPair(s.pairs, t, PAPER_PAIR.cheap, PAPER_PAIR.causal);
      const lo = cc.reduce((m, p) => (p.rho.estimate < m.rho.estimate ? p : m), cc[0]);
      const below = gcp ? cc.filter((p) => p.rho.estimate <= gcp.rho.estimate).length : 0;
      return `${label(t)}: mean rho between causal measures from ${f2(lo.rho.estimate)} (${lo.pair.cheap} vs ${lo.pair.causal}) to ${f2(Math.max(...cc.map((p) => p.rho.estimate)))}, and ${below} of ${cc.length} causal pairs agree no better than G agrees with C (${f2(gcp?.rho.estimate ?? NaN)})`;
    });
    out.push(`- **Do the ablations agree among themselves?** ${perTask.join('; ')}.`);
  }
  return out;
}

/**
 * The study's answer in a few sentences a reader of the paper understands, every number from the
 * study: which way the paper's complexity claim goes across pairs, the measure that tracks causal
 * importance best, and what the per-position ablation does to (G, C).
 */
export function measuresAnswer(s: MeasuresStudy): string {
  const out: string[] = [];
  if (s.gaps.length) {
    const { a, b } = s.gaps[0];
    const sig = s.gaps.filter((g) => g.test.p < 0.05);
    const same = sig.filter((g) => g.test.observed > 0).length;
    const other = sig.filter((g) => g.test.observed < 0).length;
    const way =
      other > s.gaps.length / 2
        ? 'runs the other way under most of'
        : other > same
          ? 'runs the other way more often than not across'
          : same > s.gaps.length / 2
            ? 'holds under most of'
            : same > other
              ? 'holds more often than not across'
              : 'is undecided across';
    out.push(
      `The paper's claim that gradient and causal importance agree less on the complex task (${label(b)}) than on the simple one (${label(a)}) ${way} the ${s.gaps.length} (cheap, causal) measure pairs here: ${other} agree better on ${label(b)} at p < 0.05, ${same} on ${label(a)}, ${s.gaps.length - same - other} show no difference at that level.`,
    );
  }
  const best = extremePair(s, 'best');
  const bestRho = s.tasks
    .map((t) => `${f2(findPair(s.pairs, t, best.cheap, best.causal)?.rho.estimate)} on ${label(t)}`)
    .join(', ');
  const gcRho = s.tasks
    .map((t) => `${f2(findPair(s.pairs, t, PAPER_PAIR.cheap, PAPER_PAIR.causal)?.rho.estimate)}`)
    .join(' and ');
  out.push(
    `The cheap measure that tracks a causal one best is ${best.cheap} (mean rho with ${best.causal} ${bestRho}); the paper's G reaches ${gcRho} with C.`,
  );
  const pos = s.causal.find((c) => measureInfo(c).ablation === 'positionMean' && measureInfo(c).score === 'acc');
  if (pos) {
    const gp = s.tasks.map((t) => ({ t, p: findPair(s.pairs, t, PAPER_PAIR.cheap, pos) })).filter((x) => x.p);
    out.push(
      `The choice of ablation matters as much as the choice of measure: with C's mean taken per position (${pos}) instead of pooled over positions, G's agreement is ${gp.map((x) => `${f2(x.p!.rho.estimate)} ${ivs(x.p!.rho, f2)} on ${label(x.t)}`).join(' and ')}.`,
    );
  }
  return out.join(' ');
}

export function measuresReport(s: MeasuresStudy, opts: { figures?: string[]; source?: string } = {}): string {
  const parts: string[] = [];
  const runs = s.tasks.map((t) => `${s.runs[t]} ${label(t)}`).join(' and ');
  parts.push(`# The measures study: which importance measure tracks causal importance, under which ablation?

Generated by \`gcg measures-report\` from the study's records${opts.source ? ` (\`${opts.source}\`)` : ''}: ${runs} runs of the paper preset, each model the one the committed run analysed (reused checkpoint, or retrained from its record: training is bit for bit), every measure on that run's own OOD length and data. Do not edit by hand; \`gcg measures\` then \`gcg measures-report\` regenerate it (README, "The measures study").

The paper compares one cheap measure, G (Eq. 1), with one causal measure, C (Eq. 2: exact-match drop under mean ablation, pooled over batch and positions). Here ${s.cheap.length} cheap measures meet ${s.causal.length} causal ones. rho is Spearman's rank correlation over the 20 components of a run; each cell gives its mean over seeds and a 95% percentile bootstrap interval over seeds (10,000 resamples, seeded). The task comparison is one method too: an exact permutation test over seeds and the interval that inverts it.`);

  parts.push(`**The answer.** ${measuresAnswer(s)}`);
  parts.push(`## Conclusions\n\n${verdicts(s).join('\n')}`);

  parts.push(
    `## The measures\n\n${table(
      ['measure', 'kind', 'what it is', ...s.tasks.map((t) => `seconds per run, ${label(t)}`)],
      [
        ...[...s.cheap, ...s.causal].map((m) => [
          `\`${m}\``,
          measureInfo(m).kind,
          measureInfo(m).description,
          ...s.tasks.map((t) => costCell(m, s.costs.find((c) => c.measure === m && c.task === t)?.seconds)),
        ]),
        [
          'all',
          '',
          'the whole run: every measure, the OOD pick and the means',
          ...s.tasks.map((t) => f2(s.totalSeconds[t])),
        ],
      ],
    )}\n\nCosts are the wall seconds each record took, averaged over its task's runs (the records' provenance names the machine's cores, the backend and the kernels; other processes sharing the cores inflate all measures alike, so compare measures with each other). Measures that share passes show only their own extra time: C carries mean ablation's passes and C-CE reads the same ones; each ablation's exact-match measure carries the passes its cross-entropy measure reads; the gradient measures scored on one shared forward and backward pass per batch (weightGradNorm, taylor, maskGradient, attributionPatching) show its time under the first of them computed and about 0 under the others; G's time includes Eq. 1's gradient passes.`,
  );

  for (const t of s.tasks) {
    parts.push(
      `## ${label(t)}: agreement, cheap x causal (mean rho [95% interval])\n\n${table(
        ['cheap \\ causal', ...s.causal.map((c) => `\`${c}\``)],
        s.cheap.map((c) => [`\`${c}\``, ...s.causal.map((k) => cell(findPair(s.pairs, t, c, k)))]),
      )}\n\nTop-2 / top-5 overlap (share of the cheap measure's top k that are the causal measure's top k; ties by component order):\n\n${table(
        ['cheap \\ causal', ...s.causal.map((c) => `\`${c}\``)],
        s.cheap.map((c) => [
          `\`${c}\``,
          ...s.causal.map((k) => ((p) => (p ? `${pct(p.top2)} / ${pct(p.top5)}` : '–'))(findPair(s.pairs, t, c, k))),
        ]),
      )}\n\nHidden Heroes / Gradient Bloats summed over seeds (Eq. 3 with the pair in (G, C)'s place; in brackets: Heroes in the later half of the layers, Bloats in the earlier half):\n\n${table(
        ['cheap \\ causal', ...s.causal.map((c) => `\`${c}\``)],
        s.cheap.map((c) => [
          `\`${c}\``,
          ...s.causal.map((k) =>
            ((p) => (p ? `${p.heroes} / ${p.bloats} (${p.lateHeroes} / ${p.earlyBloats})` : '–'))(
              findPair(s.pairs, t, c, k),
            ),
          ),
        ]),
      )}`,
    );
    const cc = s.causalPairs.filter((p) => p.task === t);
    if (cc.length) {
      parts.push(
        `### ${label(t)}: the causal measures against each other (mean rho [95% interval])\n\n${table(
          ['', ...s.causal.map((c) => `\`${c}\``)],
          s.causal.map((a) => [
            `\`${a}\``,
            ...s.causal.map((b) =>
              a === b ? '1' : cell(findPair(s.causalPairs, t, a, b) ?? findPair(s.causalPairs, t, b, a)),
            ),
          ]),
        )}`,
      );
    }
  }

  if (s.gaps.length) {
    const { a, b } = s.gaps[0];
    parts.push(
      `## ${label(a)} vs ${label(b)} under every pair\n\nmean rho on ${label(a)} minus mean rho on ${label(b)} [95% interval], and the exact two-sided permutation test over seeds (every split of the ${s.runs[a] + s.runs[b]} runs into groups of ${s.runs[a]} and ${s.runs[b]}); the interval is the set of shifts of ${label(a)}'s rhos that the same test does not reject at 0.05, so it excludes 0 exactly when p < 0.05:\n\n${table(
        ['cheap \\ causal', ...s.causal.map((c) => `\`${c}\``)],
        s.cheap.map((c) => [
          `\`${c}\``,
          ...s.causal.map((k) =>
            ((g) => (g ? `${f2(g.test.observed)} ${ivs(g.interval, f2)} (p ${pv(g.test.p)})` : '–'))(
              s.gaps.find((g) => g.pair.cheap === c && g.pair.causal === k),
            ),
          ),
        ]),
      )}`,
    );
  }

  if (s.checks.length) {
    const maxG = Math.max(...s.checks.map((c) => c.gMaxRelDiff));
    const cDiff = s.checks.reduce((n, c) => n + c.cDiffering, 0);
    const kernels = [...new Set(s.checks.map((c) => `trained on ${c.trainingKernels}, measured on ${c.kernels}`))].join(
      '; ',
    );
    parts.push(
      `## Checks against the committed runs\n\nEvery model was ${kernels} kernels. Remeasured G is within ${maxG.toExponential(1)} (relative to the largest G) of the committed records' G in every run; C differs in ${cDiff} of ${s.checks.reduce((n, c) => n + c.components, 0)} component values; the OOD length is the committed one in ${s.checks.filter((c) => c.sameOodLength).length} of ${s.checks.length} runs.${cDiff ? ' (C is a count of flipped sequences out of the evaluation set; a rounding-level change of the logits can flip a sequence near a tie.)' : ''}`,
    );
  }

  if (opts.figures?.length) parts.push(`## Figures\n\n${opts.figures.map((f) => `- [${f}](${f})`).join('\n')}`);
  return parts.join('\n\n') + '\n';
}
