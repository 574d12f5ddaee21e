/**
 * STABILITY.md: the stability study written out from its numbers (stability.ts): how much of rho,
 * of each component's Delta and of its class is the seed, training chaos and evaluation sampling;
 * which components are Heroes and Bloats robustly; which of the paper's claims survive; and the
 * reversal-vs-sorting test with replicas nested in seeds. Every number is computed from records.
 */
import { getTask } from '../../tasks';
import { retiredFamilyNote } from '../../records/format';
import { f2, f3, ivs, pct, table } from '../../report/markdown';
import { replicaName } from '../../settings/replica';
import { ROBUST_SHARE } from './numbers';
import { LayerClaim, PairStudy, StabilityStudy, TaskComparison } from './types';
import { Decomposition } from './variance';
import { Interval, MIN_INTERVAL_ITEMS } from '../../report/stats';

const label = (t: string) => getTask(t).label;
const pairName = (p: PairStudy | TaskComparison) => `(${p.pair.cheap}, ${p.pair.causal})`;
const pv = (p: number) => (!Number.isFinite(p) ? '–' : p < 0.001 ? '<0.001' : p.toFixed(3));
const sd = (v: number) => (Number.isFinite(v) ? Math.sqrt(Math.max(0, v)) : NaN);
/** A variance as an sd with its interval (the interval's ends as sds; a negative moment estimate reads as 0). */
const sdCell = (iv: Interval) =>
  `${f3(sd(iv.estimate))} ${Number.isFinite(iv.lo) ? `[${f3(sd(iv.lo))}, ${f3(sd(iv.hi))}]` : ''}`.trim();
const shareCell = (iv: Interval) =>
  `${pct(iv.estimate)} ${Number.isFinite(iv.lo) ? `[${pct(iv.lo)}, ${pct(iv.hi)}]` : ''}`.trim();
const seedsWord = (n: number) => `${n} seed${n === 1 ? '' : 's'}`;
const need = (n: number) => (!Number.isFinite(n) ? 'no difference to detect' : n > 10_000 ? '> 10,000' : String(n));

function decompositionRows(p: PairStudy): (string | number)[][] {
  const row = (what: string, d: Decomposition) => [
    label(p.task),
    pairName(p),
    what,
    `${d.seeds} / ${d.runs}`,
    sdCell(d.between),
    sdCell(d.within),
    sdCell(d.chaos),
    sdCell(d.evaluation),
    shareCell(d.betweenShare),
    shareCell(d.chaosShare),
    shareCell(d.evaluationShare),
  ];
  return [
    row('init and data replicas', p.rho.pooled),
    row('init replicas', p.rho.init),
    row('data replicas', p.rho.data),
  ];
}

function perSeedRows(p: PairStudy): (string | number)[][] {
  const names = [...new Set(p.seeds.flatMap((s) => s.replicas.map((r) => replicaName(r.kind, r.r))))];
  return p.seeds.map((s) => {
    const by = new Map(s.replicas.map((r) => [replicaName(r.kind, r.r), r.rho]));
    const rhos = s.replicas.map((r) => r.rho);
    return [
      s.seed,
      s.kernels ? f3(s.kernels.rho) : '–',
      ...names.map((n) => f3(by.get(n))),
      `${f3(Math.min(...rhos))} to ${f3(Math.max(...rhos))}`,
      s.evalRhos.length > 1 ? s.evalRhos.slice(1).map(f3).join(', ') : '–',
    ];
  });
}

function claimCell(c: LayerClaim): string {
  if (!c.members) return 'none';
  return `${c.inLayers} of ${c.members}: ${pct(c.share.estimate)} ${Number.isFinite(c.share.lo) ? `[${pct(c.share.lo)}, ${pct(c.share.hi)}], p ${pv(c.p)}` : '(no interval: members at fewer than 3 seeds)'}`;
}

/** Survives: the share's interval lies above one half (p < 0.05 from the same resamples). */
const survives = (c: LayerClaim) =>
  c.members && Number.isFinite(c.share.lo)
    ? c.share.lo > 0.5
      ? 'holds'
      : c.share.hi < 0.5
        ? 'reversed'
        : 'not shown'
    : 'not testable';

function componentRows(p: PairStudy): (string | number)[][] {
  const S = p.seeds.length;
  return p.components
    .map((c) => [
      c.id,
      pct(c.pHero),
      `${c.robustHero} / ${c.baseHero}`,
      pct(c.pBloat),
      `${c.robustBloat} / ${c.baseBloat}`,
      f2(c.sdBetween),
      f2(c.sdWithin),
      f2(c.sdEvaluation),
    ])
    .concat([
      [
        `all (${S} seeds)`,
        '',
        `${p.counts.robustHeroes} / ${p.counts.baseHeroes}`,
        '',
        `${p.counts.robustBloats} / ${p.counts.baseBloats}`,
        '',
        '',
        '',
      ],
    ]);
}

function answer(s: StabilityStudy): string[] {
  const out: string[] = [];
  for (const p of s.pairs.filter((q) => q.pair.causal === 'C')) {
    const d = p.rho.pooled;
    out.push(
      `${label(p.task)} (${seedsWord(d.seeds)}, ${d.runs} runs): of the variance of rho (G, C) between runs, ${shareCell(d.betweenShare)} is between seeds (an upper bound: a seed's replicas share its evaluation sequences, so the evaluation noise they share counts as seed variance; were all of it shared, ${shareCell(d.betweenShareLow)}), ${shareCell(d.chaosShare)} is training chaos and ${shareCell(d.evaluationShare)} evaluation sampling; ` +
        `a seed's replicas differ in rho by sd ${sdCell(d.within)}, seeds by sd ${sdCell(d.between)}. Robust Heroes / Bloats (in >= ${pct(ROBUST_SHARE)} of a seed's replicas), summed over seeds: ${p.counts.robustHeroes} / ${p.counts.robustBloats}, against ${p.counts.baseHeroes} / ${p.counts.baseBloats} from the seeds' own runs.`,
    );
  }
  for (const c of s.comparisons) {
    out.push(
      `${label(c.a)} minus ${label(c.b)} in mean rho ${pairName(c)}: ${f3(c.nested.estimate)} ${ivs(c.nested)}, p ${pv(c.pNested)} with replicas nested in seeds (the seeds' own runs alone: ${f3(c.baseOnly.estimate)} ${ivs(c.baseOnly)}, p ${pv(c.pBaseOnly)}); this design had ${Number.isFinite(c.power) ? `${(100 * c.power).toFixed(0)}%` : '–'} power to detect a difference of the observed size${c.power < 0.8 ? ', so its p is uninformative, not evidence of no gap' : ''}; 80% power with one run a seed would take ${need(c.seedsNeeded.single)} seeds a task were the observed difference the true one${Number.isFinite(c.nested.lo) ? ` (${need(Math.min(c.seedsOverInterval.lo, c.seedsOverInterval.hi))} to ${need(Math.max(c.seedsOverInterval.lo, c.seedsOverInterval.hi))} were it either end of its interval)` : ''}.`,
    );
  }
  return out;
}

export function stabilityReport(
  s: StabilityStudy,
  opts: { figures?: string[]; source: string; kernelsSource: string | null },
): string {
  const out: string[] = [];
  const seedsOf = (task: string) => s.pairs.find((p) => p.task === task)?.seeds.map((x) => x.seed) ?? [];
  const tasks = [...new Set(s.pairs.map((p) => p.task))];
  const reps = s.pairs.length ? s.pairs[0].replicasPerSeed : { min: 0, max: 0 };
  out.push("# The stability study: how much of a run's result is chaos?", '');
  out.push(
    `Generated by \`gcg stability-report\` from the study's records (\`${opts.source}\`): ${tasks.map((t) => `${label(t)} seeds ${seedsOf(t).join(', ')}`).join('; ')}, each seed's own run (base) and replicas that differ from it by one recorded perturbation, all trained and analysed on ${s.kernelsLabel} kernels: ` +
      `the initial weights moved one unit in the last place, each up or down at random (\`init<r>\`, train.initReplica), or the training batches drawn from another stream with the initial weights unchanged (\`data<r>\`, train.dataReplica); runs per seed (the base run and its replicas): ${reps.min === reps.max ? reps.min : `${reps.min}-${reps.max}`}. ` +
      `The base run's evaluation is redrawn (analysis.redraws: G, the means, C and Cpos on fresh sequences), which measures evaluation sampling. ` +
      (opts.kernelsSource
        ? `The kernels (part a): the same seeds trained on ${s.otherKernels ?? 'another family'} kernels, from \`${opts.kernelsSource}\`. `
        : '') +
      'Do not edit by hand; `gcg stability` then `gcg stability-report` regenerate it (README, "The stability study").',
    '',
    `**One method per claim, its interval and test agreeing.** Variance parts, shares, the layer claims and the pruning gap: 95% percentile bootstrap intervals that resample seeds and, within each resampled seed, its replicas and its evaluation redraws (10,000 resamples, seeded), a test's p from the same resamples (two-sided: twice the smaller share on either side of the null value), so an interval excludes the null value when, and (to within one resample) only when, p < 0.05; with 5 seeds these are rough (a bootstrap over 5 seeds cannot leave their range). Reversal against Sorting: an exact permutation test over seeds (a seed and its replicas move together) and the interval that inverts it (the shifts it does not reject at 0.05). No interval is given for fewer than ${MIN_INTERVAL_ITEMS} seeds. ` +
      "Variance parts are method-of-moments estimates of a one-way random-effects model (seed effect, replicas within seeds); training chaos is the within-seed variance minus the evaluation variance; a moment estimate below 0 (sampling) is set to 0, and the evaluation part to at most the within-seed variance, so the three shares add up to 100% of between-seed plus within-seed variance. A seed's replicas are scored on the seed's own evaluation sequences (the same random streams), so their spread carries less evaluation noise than a redraw does: the training-chaos part is a lower bound, and the evaluation part an upper bound.",
    '',
  );
  if (!s.pairs.length) return [...out, 'No analysed run yet.', ''].join('\n');
  out.push('**The answer.**', '', ...answer(s).map((l) => `- ${l}`), '');

  out.push(
    '## rho of every run',
    '',
    'Per seed: rho on the other kernel family (part a), the base run, each replica, their range, and the base model on redrawn evaluation sequences.',
    '',
  );
  for (const p of s.pairs) {
    const names = [...new Set(p.seeds.flatMap((x) => x.replicas.map((r) => replicaName(r.kind, r.r))))];
    out.push(
      `### ${label(p.task)}, ${pairName(p)}`,
      '',
      table(['seed', 'other kernels', ...names, 'range over replicas', 'base, redrawn'], perSeedRows(p)),
      '',
    );
  }

  out.push(
    '## Where the variance of rho lies',
    '',
    'sd of rho between seeds, between replicas of a seed (chaos plus evaluation), of training chaos alone and of evaluation sampling [95% interval], and their shares of the total; "seeds / runs" behind each row. The init and data rows use the base run and that kind of replica only.',
    '',
  );
  out.push(
    table(
      [
        'task',
        'pair',
        'replicas',
        'seeds / runs',
        'between seeds',
        'within a seed',
        'training chaos',
        'evaluation',
        'share: seeds',
        'share: chaos',
        'share: evaluation',
      ],
      s.pairs.flatMap(decompositionRows),
    ),
    '',
  );
  out.push("Each component's Delta, split the same way, mean share over components:", '');
  out.push(
    table(
      ['task', 'pair', 'seeds', 'training chaos', 'evaluation'],
      s.pairs.map((p) => [
        label(p.task),
        pairName(p),
        pct(p.deltaShares.between),
        pct(p.deltaShares.chaos),
        pct(p.deltaShares.evaluation),
      ]),
    ),
    '',
  );

  out.push(
    '## Which components are Heroes and Bloats robustly',
    '',
    `P(Hero), P(Bloat): the share of a seed's runs (base and replicas) that give the class, averaged over seeds; robust / per-run: the seeds at which it is the class in at least ${pct(ROBUST_SHARE)} of the runs, beside the seeds at which the base run alone gives it (what a one-run-per-seed study reports). sd of its Delta between seeds, within a seed and between evaluation redraws.`,
    '',
  );
  const flips = s.pairs.filter((p) => p.coinFlips.components > 0);
  if (flips.length)
    out.push(
      `Tie rule: a component's class in a run is its most frequent class over the run's ${flips[0].coinFlips.tieDraws} seeded tie-break draws (ordinal ranks, ties broken at random). Where a tie group straddles the threshold, a component's two likeliest classes can be exactly equally likely; the draws then class it by a coin flip (an exact tie in the draws' counts alone goes to Aligned). Such components, over every run: ${flips
        .map(
          (p) =>
            `${label(p.task)} ${pairName(p)} ${p.coinFlips.components} in ${p.coinFlips.runs} runs, ${p.coinFlips.heroOrBloat} of them made Hero or Bloat`,
        )
        .join('; ')}. They enter P(Hero) and P(Bloat) as the draws classed them.`,
      '',
    );
  for (const p of s.pairs) {
    out.push(
      `### ${label(p.task)}, ${pairName(p)}`,
      '',
      table(
        [
          'component',
          'P(Hero)',
          'Hero: robust / per-run',
          'P(Bloat)',
          'Bloat: robust / per-run',
          'sd Delta: seeds',
          'within',
          'evaluation',
        ],
        componentRows(p),
      ),
      '',
    );
  }

  out.push("## The paper's per-component claims, with robust classes", '');
  out.push(
    `Share of the class in the layers the paper names (later half: L2-L3 of 4; earlier half: L0-L1), pooled over seeds [95% interval, the seeds holding members resampled; none when fewer than 3 seeds hold any], p against one half; "holds" when the interval lies above one half. Pruning: Table 2 on each run's own classes, the exact-match drop from pruning its two most extreme Heroes minus that from pruning its two most extreme Bloats (positive: the paper's asymmetry), mean over seeds of each seed's mean over its runs, and the seeds at which it is positive in at least ${pct(ROBUST_SHARE)} of the runs.`,
    '',
  );
  out.push(
    table(
      [
        'task',
        'pair',
        'Heroes in L2-L3: robust',
        'per-run',
        'verdict (robust)',
        'Bloats in L0-L1: robust',
        'per-run',
        'verdict (robust)',
        'pruning gap',
        'p',
        'robust seeds',
      ],
      s.pairs.map((p) => [
        label(p.task),
        pairName(p),
        claimCell(p.heroesLate.robust),
        claimCell(p.heroesLate.base),
        survives(p.heroesLate.robust),
        claimCell(p.bloatsEarly.robust),
        claimCell(p.bloatsEarly.base),
        survives(p.bloatsEarly.robust),
        `${pct(p.pruning.gap.estimate)} ${Number.isFinite(p.pruning.gap.lo) ? `[${pct(p.pruning.gap.lo)}, ${pct(p.pruning.gap.hi)}]` : ''}`.trim(),
        pv(p.pruning.p),
        `${p.pruning.robustSeeds} of ${p.pruning.seedsWithGap}`,
      ]),
    ),
    '',
  );

  out.push("## Does training chaos change the paper's verdict? Reversal against Sorting", '');
  out.push(
    "The difference in mean rho between the tasks, each seed weighted once (its mean over its runs): the exact permutation test over seeds and its inverted interval; beside it the same on the seeds' own runs alone (a plain sweep's design). Seeds needed per task for 80% power (two-sided, 0.05, normal approximation with the variance parts above) to detect the observed difference, with one run per seed and with this study's runs per seed; the observed difference is only a guess at the true one, so beside them the seeds one run each would need were the true difference either end of the interval, and the power this study's own design (its seeds, its runs per seed) had at the observed difference: a p from a design of low power is uninformative, not evidence of no gap.",
    '',
  );
  out.push(
    table(
      [
        'pair',
        'difference',
        'nested: 95% interval',
        'p',
        'base runs alone',
        'p',
        'seeds for 80% power: one run each',
        'with replicas',
        'one run each, at the interval ends',
        "this design's power",
      ],
      s.comparisons.map((c) => [
        `${label(c.a)} - ${label(c.b)} ${pairName(c)}`,
        f3(c.nested.estimate),
        ivs(c.nested),
        pv(c.pNested),
        `${f3(c.baseOnly.estimate)} ${ivs(c.baseOnly)}`,
        pv(c.pBaseOnly),
        need(c.seedsNeeded.single),
        `${need(c.seedsNeeded.replicated)} (${c.seedsNeeded.replicas} runs per seed)`,
        Number.isFinite(c.nested.lo)
          ? `${need(c.seedsOverInterval.lo)} (at ${f3(c.nested.lo)}) to ${need(c.seedsOverInterval.hi)} (at ${f3(c.nested.hi)})`
          : '–',
        Number.isFinite(c.power) ? `${(100 * c.power).toFixed(0)}%` : '–',
      ]),
    ),
    '',
  );

  const kernels = s.pairs.filter((p) => p.kernels.length);
  if (kernels.length) {
    out.push(
      '## The kernels (part a)',
      '',
      `The same seed trained on ${s.otherKernels} kernels against this study's base run on ${s.kernelsLabel}: rho on each, the components whose class differs, and whether the other family's rho lies within the range of the seed's replicas (then the kernels move rho no more than a last-bit nudge or a reshuffle does).`,
      '',
    );
    out.push(
      table(
        [
          'task',
          'pair',
          'seed',
          `rho, ${s.otherKernels}`,
          `rho, ${s.kernelsLabel}`,
          'classes that differ',
          "inside the replicas' range",
        ],
        kernels.flatMap((p) =>
          p.kernels.map((k) => [
            label(p.task),
            pairName(p),
            k.seed,
            f3(k.rhoOther),
            f3(k.rhoBase),
            k.classFlips,
            k.insideReplicas ? 'yes' : 'no',
          ]),
        ),
      ),
      '',
    );
  }
  if (s.skipped.length) {
    out.push(
      '## Runs not analysed',
      '',
      'A run with no OOD length in the window is recorded as skipped (as in every sweep) and left out above:',
      '',
    );
    out.push(
      table(
        ['task', 'seed', 'replica', 'why'],
        s.skipped.map((k) => [label(k.task), k.seed, k.replica, k.reason]),
      ),
      '',
    );
  }
  if (opts.figures?.length)
    out.push('## Figures', '', ...opts.figures.filter((f) => f.endsWith('.png')).map((f) => `![${f}](${f})`), '');
  out.push(
    '## Reproduce',
    '',
    '```',
    'npm run build',
    'node dist/src/cli.js stability --workers 2            # results/stability/<replica>/paper/ (resumable; --list, --index, Slurm: GCG_COMMAND=stability)',
    'node dist/src/cli.js stability-report                 # this file and figures/stability/',
    '```',
    '',
    `${retiredFamilyNote(s.kernelsLabel) ?? 'Runs on the stock kernels are bit for bit the same on every machine.'} The notebook \`notebooks/11-stability.ipynb\` reads the same records.`,
    '',
  );
  return out.join('\n');
}
