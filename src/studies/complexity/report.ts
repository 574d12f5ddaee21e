/**
 * COMPLEXITY.md: the complexity study written out from its numbers (complexity.ts): does the
 * agreement of gradient and causal importance fall as tasks get harder or models bigger? Every
 * number in it is computed from the records of the stores it names.
 */
import { getTask } from '../../tasks';
import { retiredFamilyNote } from '../../records/format';
import {
  axisCells,
  Cell,
  ComplexityStudy,
  findCell,
  findTrend,
  MATTERS,
  matteringInterval,
  median,
  onAxis,
  REFERENCE_SIZE,
  SIZE_AXES,
  SIZE_AXIS_NAMES,
  SizeAxis,
  sizeTrend,
} from './numbers';
import { f2, ivs, table } from '../../report/markdown';
import { MeasurePair, PAPER_PAIR } from '../../report/records';
import { Interval, MIN_INTERVAL_ITEMS, runsForPower, TrendTest } from '../../report/stats';

const label = (t: string) => getTask(t).label;
const pv = (p: number) => (!Number.isFinite(p) ? '–' : p < 0.001 ? '<0.001' : p.toFixed(3));
const trendCell = (t: TrendTest | undefined) =>
  t && Number.isFinite(t.slope) ? `${f2(t.slope)} ${ivs(t.interval, f2)}, p ${pv(t.p)}` : '–';
/** A slope in words: its value per unit of x, its interval and p. */
const trendPhrase = (t: TrendTest, per: string) =>
  Number.isFinite(t.slope) ? `${f2(t.slope)} per ${per} ${ivs(t.interval, f2)}, p ${pv(t.p)}` : '–';
const TENFOLD = 'tenfold training steps';
/** A cell's setting on a size axis, in words. */
const axisValue = (axis: SizeAxis, c: { nLayers: number; dModel: number }) =>
  axis === 'depth' ? `${c.nLayers} layers` : `d_model ${c.dModel}`;
const pairName = (p: MeasurePair) => `(${p.cheap}, ${p.causal})`;
/** A mean with its interval, or, from fewer than MIN_INTERVAL_ITEMS runs, with the runs themselves (no interval). */
const withRuns = (iv: Interval, runs: readonly number[]) => {
  const xs = runs.filter(Number.isFinite);
  return xs.length >= MIN_INTERVAL_ITEMS || !xs.length
    ? `${f2(iv.estimate)} ${ivs(iv, f2)}`
    : `${f2(iv.estimate)} (runs: ${xs.map(f2).join(', ')})`;
};
const sig = (t: TrendTest) => Number.isFinite(t.p) && t.p < 0.05;
/** Cells of a trend with fewer than MIN_INTERVAL_ITEMS analysed runs, said plainly: the slope leans on their few runs. */
const thinNote = (cells: readonly Cell[]) => {
  const thin = cells
    .map((c) => ({ c, n: c.gc.rhos.filter(Number.isFinite).length }))
    .filter(({ n }) => n < MIN_INTERVAL_ITEMS);
  if (!thin.length) return '';
  return ` Note: ${thin.map(({ c, n }) => `${label(c.task)} ${c.size} has ${n} analysed run${n === 1 ? '' : 's'}`).join(', ')}; the slope leans on ${thin.length === 1 && thin[0].n === 1 ? 'that run' : 'those runs'}.`;
};
/** How many runs a slope of this size needs for 80% power, from its interval (stats.ts runsForPower). */
const powerNote = (t: TrendTest) => {
  const n = runsForPower(t.interval, t.runs);
  return Number.isFinite(n)
    ? `A slope this size would be detected at 80% power (two-sided, 0.05) with about ${n} runs spread as these are (${t.runs} here; normal approximation from the interval's width).`
    : '';
};

/** How many pairs' trends fall (the paper's direction), rise, or show nothing at p < 0.05. */
function tally(tests: { pair: MeasurePair; test: TrendTest }[]): {
  falls: MeasurePair[];
  rises: MeasurePair[];
  none: number;
  total: number;
} {
  const ok = tests.filter((t) => Number.isFinite(t.test.slope));
  return {
    falls: ok.filter((t) => sig(t.test) && t.test.slope < 0).map((t) => t.pair),
    rises: ok.filter((t) => sig(t.test) && t.test.slope > 0).map((t) => t.pair),
    none: ok.filter((t) => !sig(t.test)).length,
    total: ok.length,
  };
}

/** The tasks easiest first with their median steps, `<` between different medians and `=` between equal ones. */
function ordering(s: ComplexityStudy): string {
  const tasks = s.taskOrder.filter((t) => findCell(s, t, REFERENCE_SIZE));
  if (!tasks.length) return `none (no task has runs at the paper's size, ${REFERENCE_SIZE})`;
  const steps = (t: string) => findCell(s, t, REFERENCE_SIZE)!.medianSteps;
  return tasks
    .map((t, i) => `${i ? (steps(t) === steps(tasks[i - 1]) ? ' = ' : ' < ') : ''}${label(t)} ${Math.round(steps(t))}`)
    .join('');
}

/** How the other (cheap, causal) pairs' trends go, or nothing when no other pair was recorded. */
function tallyLine(k: ReturnType<typeof tally>, over: string): string[] {
  if (k.total <= 1) return [];
  const list = (ps: MeasurePair[]) =>
    !ps.length ? '' : ps.length <= 8 ? ` (${ps.map(pairName).join(', ')})` : ' (each in "Every measure pair" below)';
  return [
    `  Under all ${k.total} (cheap, causal) pairs: falls with ${over} under ${k.falls.length}${list(k.falls)}, rises under ${k.rises.length}${list(k.rises)}, no trend at p < 0.05 under ${k.none}.`,
  ];
}

function verdicts(s: ComplexityStudy): string[] {
  const out: string[] = [];
  const gc = findTrend(s, PAPER_PAIR);
  const cheapPairs = s.trends.filter((t) => s.cheap.includes(t.pair.cheap));
  if (gc && s.taskOrder.length >= 3) {
    const t = gc.overTasks;
    out.push(
      `- **"The gap widens with task complexity"**, over ${s.taskOrder.length} tasks at the paper's size (${ordering(s)}, by median steps to the target): under (G, C) rho changes by ${trendPhrase(t, TENFOLD)} (the slope over ${t.runs} runs; negative = the paper's direction). ${sig(t) ? (t.slope < 0 ? '**Holds** at p < 0.05.' : '**Reversed** at p < 0.05.') : '**No trend** at p < 0.05.'} ${powerNote(t)}${thinNote(s.taskOrder.map((task) => findCell(s, task, REFERENCE_SIZE)!))}`,
    );
    out.push(...tallyLine(tally(cheapPairs.map((x) => ({ pair: x.pair, test: x.overTasks }))), 'complexity'));
  } else
    out.push(
      `- **Task complexity**: fewer than three tasks at the paper's size (${REFERENCE_SIZE}) have runs: no trend test yet.`,
    );
  const sizeTrends = gc?.overSizes ?? [];
  if (gc && sizeTrends.length) {
    for (const { axis, task, test } of sizeTrends) {
      const on = axisCells(s.cells, task, axis);
      out.push(
        `- **Does it change with ${axis}?** ${label(task)} over ${on.map((c) => `${c.size} (${axisValue(axis, c)})`).join(', ')}: rho (G, C) changes by ${trendPhrase(test, SIZE_AXES[axis].per)}. ${sig(test) ? (test.slope < 0 ? `Agreement **falls** with ${axis} at p < 0.05.` : `Agreement **rises** with ${axis} at p < 0.05.`) : 'No trend at p < 0.05.'} ${powerNote(test)}${thinNote(on)}`,
      );
      out.push(...tallyLine(tally(cheapPairs.map((x) => ({ pair: x.pair, test: sizeTrend(x, axis, task)! }))), axis));
    }
    const opposite = [...new Set(sizeTrends.map((t) => t.task))].filter((task) => {
      const [d, w] = SIZE_AXIS_NAMES.map((axis) => sizeTrend(gc, axis, task));
      return d && w && sig(d) && sig(w) && Math.sign(d.slope) !== Math.sign(w.slope);
    });
    if (opposite.length)
      out.push(
        `- **Depth and width move it opposite ways** for ${opposite.map(label).join(' and ')} (both at p < 0.05): "bigger models" has no single direction here, which is why the two axes have separate trends.`,
      );
    const offAxes = s.cells.filter((c) => !SIZE_AXIS_NAMES.some((axis) => onAxis(c, axis)));
    if (offAxes.length)
      out.push(
        `- **On neither size axis** (in the tables, in no size trend): ${offAxes.map((c) => `${label(c.task)} ${c.size}`).join(', ')}.`,
      );
  } else out.push('- **Model size**: no task has runs at two sizes on one axis (depth or width) yet: no trend test.');
  const conflicts = indicatorConflicts(s);
  if (conflicts.length) {
    const share = (t: string) => f2(matteringInterval(findCell(s, t, REFERENCE_SIZE)!).estimate);
    const steps = (t: string) => Math.round(findCell(s, t, REFERENCE_SIZE)!.medianSteps);
    out.push(
      `- **The two complexity indicators disagree** on ${conflicts.length} pair${conflicts.length > 1 ? 's' : ''} of tasks: ${conflicts.map(({ harder, easier }) => `${label(harder)} needs more steps than ${label(easier)} (${steps(harder)} vs ${steps(easier)}) but a smaller share of its components matters (${share(harder)} vs ${share(easier)})`).join('; ')}. The trend tests order tasks by steps only; ordered by the share that matters, the task order (and so the trend) would differ.`,
    );
  }
  const skipped = s.cells.reduce((n, c) => n + c.skipped.tooEasy + c.skipped.tooHard + c.skipped.straddle, 0);
  const total = s.cells.reduce((n, c) => n + c.seeds.length, 0);
  out.push(
    `- **No OOD length in the window**: ${skipped} of ${total} runs (by cell below). Such a run is recorded with its accuracy at every candidate length and status "skipped"; it has no G, C or rho and is left out of every mean and test here (counted, never dropped silently).`,
  );
  return out;
}

/** Pairs of tasks (at the paper's size) that the two complexity indicators order differently: more steps but a smaller share that matters, or the reverse. */
function indicatorConflicts(s: ComplexityStudy): { harder: string; easier: string }[] {
  const cells = s.taskOrder
    .map((t) => findCell(s, t, REFERENCE_SIZE))
    .filter((c): c is NonNullable<typeof c> => !!c && c.mattering.length > 0);
  const out: { harder: string; easier: string }[] = [];
  for (const [i, a] of cells.entries()) {
    for (const b of cells.slice(i + 1)) {
      // taskOrder is by median steps: b needs at least as many as a.
      if (b.medianSteps > a.medianSteps && matteringInterval(b).estimate < matteringInterval(a).estimate)
        out.push({ harder: b.task, easier: a.task });
    }
  }
  return out;
}

/** The study's answer in a sentence or two a reader of the paper understands, every number from the study. */
export function complexityAnswer(s: ComplexityStudy): string {
  const gc = findTrend(s, PAPER_PAIR);
  if (!gc || s.taskOrder.length < 3)
    return `Not yet: fewer than three tasks at the paper's size (${REFERENCE_SIZE}) have runs, so there is no trend to test.`;
  const t = gc.overTasks;
  const verb = !sig(t) ? 'does not fall significantly' : t.slope < 0 ? 'falls' : 'rises';
  const out = [
    `Over ${s.taskOrder.length} tasks at the paper's size, ordered by how many steps the paper's model needs to learn them, the agreement of G and C (rho) ${verb} as tasks get harder (${trendPhrase(t, TENFOLD)}, ${t.runs} runs)${!sig(t) && t.slope < 0 ? ": the paper's direction, but not distinguishable from no trend with these runs" : ''}.`,
  ];
  for (const axis of SIZE_AXIS_NAMES) {
    const trends = gc.overSizes.filter((o) => o.axis === axis);
    if (trends.length)
      out.push(
        `Against ${axis} (per ${SIZE_AXES[axis].per}): ${trends.map(({ task, test }) => `${label(task)} ${trendCell(test)}`).join('; ')}${trends.every(({ test }) => !sig(test)) ? ': no change at p < 0.05' : ''}.`,
      );
  }
  return out.join(' ');
}

/** Which kernels the models were trained on: one family (loadStores refuses a mix), or the mix said plainly. */
function kernelsSentence(s: ComplexityStudy): string {
  if (s.kernels.length <= 1) {
    const retired = retiredFamilyNote(s.kernels[0] ?? '');
    return `Every model was trained on one kernel family (${s.kernels[0] ?? '–'}), so the trends compare tasks and sizes, not kernels (the same seed trains to a different model on another family: STABILITY.md).${retired ? ` ${retired}` : ''}`;
  }
  return `**The models were trained on ${s.kernels.length} kernel families (${s.kernels.join(', ')}): a trend across cells of different families mixes the kernels' effect into it.**`;
}

export function complexityReport(s: ComplexityStudy, opts: { figures?: string[]; sources?: string[] } = {}): string {
  const parts: string[] = [];
  const tasks = [...new Set(s.cells.map((c) => c.task))];
  parts.push(`# The complexity study: does the gap widen with task complexity and model size?

Generated by \`gcg complexity-report\` from ${s.runs} run records${opts.sources?.length ? ` in ${opts.sources.map((x) => `\`${x}\``).join(', ')}` : ''}: ${tasks.length} tasks, ${s.sizes.length} model size${s.sizes.length === 1 ? '' : 's'} (${s.sizes.join(', ')}; \`l4-d128\` is the paper's model). Do not edit by hand: rerun the sweeps (\`scripts/complexity.sh\`; they skip finished runs) and \`gcg complexity-report\` (README, "The complexity study").

The paper's thesis is that the gap between gradient importance and causal importance widens with task complexity, tested there on two tasks. Here complexity is measured, not assumed: a task's complexity is the median number of training steps the paper's model needs to reach ${Math.round(100 * 0.9)}% training-distribution exact match (train.targetAcc; a run that never gets there counts as train.maxSteps), shown beside the share of components that matter (removing one by mean ablation loses at least ${Math.round(100 * MATTERS)}% of the baseline's exact match, at the low end of C's 95% interval). A trend is the least-squares slope of each run's rho on log10 of its cell's complexity (the change in rho per tenfold training steps) or on log2 of its model's depth (layers at the paper's width) or width (d_model at the paper's depth; two axes, each with its own trend, as depth and width need not move rho the same way), per doubling, with one method for its test and its interval: the permutation test of a regression slope (the residuals of rho after the slope relabelled over the runs, 10,000 times, seeded), p at slope 0 (no trend), and the 95% interval of every slope that test does not reject, so an interval excludes 0 exactly when p < 0.05. Every rho cell gives the mean over seeds with a 95% percentile bootstrap interval over seeds; with 3-10 seeds these intervals are rough, and a cell of fewer than 3 runs shows its runs instead of an interval. ${kernelsSentence(s)}`);

  parts.push(`**The answer.** ${complexityAnswer(s)}`);
  parts.push(`## Conclusions\n\n${verdicts(s).join('\n')}`);

  const ordered = [...s.taskOrder, ...tasks.filter((t) => !s.taskOrder.includes(t))];
  parts.push(
    `## The tasks\n\n${table(
      ['task', 'the model outputs', 'why it is here'],
      ordered.map((t) => [label(t), getTask(t).description, getTask(t).why ?? '–']),
    )}\n\nEach is one file in \`src/tasks/\` (its target function tested on hand-written cases in \`test/tasks.test.ts\`). Same format as the paper's: \`START x1..xN SEP\`, then N output digits and END; trained on N = 3..7, OOD lengths 8..11.`,
  );

  const cellRows = s.cells
    .slice()
    .sort((a, b) => a.params - b.params || s.taskOrder.indexOf(a.task) - s.taskOrder.indexOf(b.task))
    .map((c) => {
      const iv = matteringInterval(c);
      const skipped = c.skipped.tooEasy + c.skipped.tooHard + c.skipped.straddle;
      const why = [
        c.skipped.tooEasy && `${c.skipped.tooEasy} above ${f2(0.75)} at every length`,
        c.skipped.tooHard && `${c.skipped.tooHard} below ${f2(0.2)} at every length`,
        c.skipped.straddle && `${c.skipped.straddle} jumping over the window`,
      ]
        .filter(Boolean)
        .join('; ');
      return [
        label(c.task),
        c.size,
        c.components,
        c.seeds.length,
        `${c.reached} / ${c.seeds.length}`,
        `${Math.round(c.medianSteps)} [${Math.min(...c.steps)}–${Math.max(...c.steps)}]`,
        skipped ? `${skipped} (${why})` : '0',
        c.oodLengths.length
          ? `${median(c.oodLengths)} [${Math.min(...c.oodLengths)}–${Math.max(...c.oodLengths)}]`
          : '–',
        c.mattering.length ? withRuns(iv, c.mattering) : '–',
        withRuns(c.gc.rho, c.gc.rhos),
        `${f2(median(c.trainSeconds) / 60)} / ${f2(median(c.analysisSeconds) / 60)}`,
      ];
    });
  parts.push(
    `## The cells: task x size\n\n${table(
      [
        'task',
        'size',
        'components',
        'runs',
        'reached target',
        'steps: median [range]',
        'no OOD length',
        'OOD length: median [range]',
        'share that matters',
        'rho (G, C)',
        'minutes: train / analysis (median)',
      ],
      cellRows,
    )}\n\nTasks at the paper's size, easiest first (median steps): ${ordering(s)}.`,
  );

  if (s.sizes.length > 1) {
    parts.push(
      `## rho (G, C) by task and size (mean [95% interval], runs)\n\n${table(
        ['task', ...s.sizes],
        ordered.map((t) => [
          label(t),
          ...s.sizes.map((z) =>
            ((c) => (c ? `${withRuns(c.gc.rho, c.gc.rhos)} (${c.gc.rhos.filter(Number.isFinite).length})` : '–'))(
              findCell(s, t, z),
            ),
          ),
        ]),
      )}`,
    );
  }

  const sizeCols = (s.trends[0]?.overSizes ?? []).map(({ axis, task }) => ({ axis, task }));
  parts.push(
    `## Every measure pair: trend over task complexity${sizeCols.length ? ', depth and width' : ''}\n\nThe slope of the pair's per-run rho on log10 of complexity (tasks at ${REFERENCE_SIZE}, by median steps: change per tenfold steps)${sizeCols.length ? ' and on log2 of the depth or the width (per task: change per doubling of the layers, of d_model)' : ''} [95% interval inverting the permutation test], p. Negative: agreement falls as the task gets harder (the paper's thesis) or the model deeper or wider.\n\n${table(
      [
        'pair',
        ...s.taskOrder.map((t) => `mean rho, ${label(t)}`),
        'trend over tasks',
        ...sizeCols.map(({ axis, task }) => `trend over ${axis}, ${label(task)}`),
      ],
      s.trends.map((tr) => [
        pairName(tr.pair),
        ...s.taskOrder.map((t) =>
          f2(
            s.pairs.find(
              (p) =>
                p.task === t &&
                p.size === REFERENCE_SIZE &&
                p.pair.cheap === tr.pair.cheap &&
                p.pair.causal === tr.pair.causal,
            )?.rho.estimate,
          ),
        ),
        trendCell(tr.overTasks),
        ...sizeCols.map(({ axis, task }) => trendCell(sizeTrend(tr, axis, task))),
      ]),
    )}\n\nThe last ${(s.causal.length * (s.causal.length - 1)) / 2} rows pair causal measures with each other: whether the ablations agree among themselves, and whether that too changes with complexity.`,
  );

  parts.push(
    `## Compute\n\n${f2(s.computeHours.train)} hours of training and ${f2(s.computeHours.analysis)} hours of analysis, as recorded in the ${s.runs} records (wall time on the machines in their provenance${s.remeasured ? `; the ${s.remeasured} records of the measures study carry their source run's training time` : ''}). \`scripts/complexity.sh\` runs the sweeps behind it (on one machine or as Slurm job arrays).`,
  );

  if (opts.figures?.length) parts.push(`## Figures\n\n${opts.figures.map((f) => `- [${f}](${f})`).join('\n')}`);
  return parts.join('\n\n') + '\n';
}
