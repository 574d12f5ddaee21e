/**
 * The complexity study's numbers (COMPLEXITY.md, notebook 10): the paper's thesis, "the gap widens
 * with task complexity", tested over more than two tasks and over model sizes. From the records of
 * any number of stores (a sweep over sizes writes `<store>/<size>/<preset>/`, a plain sweep or the
 * measures study `<store>/<preset>/`); each record's cell is its task and its model's size, read
 * from its configuration, so the report needs no merge step.
 *
 * Task complexity is measured, not assumed: the median number of training steps the paper's model
 * needs to reach train.targetAcc (a run that never reaches it counts as train.maxSteps), beside the
 * share of components that matter (removing one loses at least a tenth of the baseline's exact
 * match, at the low end of C's 95% interval). The trend tests are
 * slopes of each run's rho on log10 of its cell's complexity, or on log2 of its depth or of its
 * width (two axes through the paper's model, each with its own trend: one slope over the parameters
 * would mix depth and width, which can move rho opposite ways), each with its permutation test and
 * the interval that inverts it (stats.ts trendTest).
 */
import { ConfigError } from '../../settings/config';
import { TaskName } from '../../tasks';
import { familyMix, RunRecord, trainingFamilies } from '../../records/format';
import { componentCount, MODEL_SIZES, sizeOf } from '../../settings/sizes';
import { pairStat, PairStat, studyMeasureLists } from '../../report/pairs';
import { analysed, MeasurePair, PAPER_PAIR } from '../../report/records';
import { bootstrap, Interval, mean, quantileSorted, trendTest, TrendTest } from '../../report/stats';

/** A component matters when removing it (mean ablation, C) loses at least this share of the baseline's exact match, at the low end of C's 95% interval. */
export const MATTERS = 0.1;

/** The size the task axis is measured at: the paper's model. */
export const REFERENCE_SIZE = 'l4-d128';

/**
 * The size axes, both through the paper's model (REFERENCE_SIZE): depth is the number of layers at
 * its width; width is d_model (the MLP 4 x as wide, as in every registered size) at its depth and
 * heads. x is log2 of the axis's setting, so a slope is the change in rho per doubling of it.
 */
export const SIZE_AXES = {
  depth: { setting: 'nLayers', per: 'doubling of the layers' },
  width: { setting: 'dModel', per: 'doubling of d_model' },
} as const;
export type SizeAxis = keyof typeof SIZE_AXES;
export const SIZE_AXIS_NAMES = Object.keys(SIZE_AXES) as SizeAxis[];

/** Whether a model lies on a size axis: it differs from the paper's model in that axis's setting at most (width: d_ff moves with d_model). */
export function onAxis(m: Pick<Cell, 'nLayers' | 'nHeads' | 'dModel' | 'dFF'>, axis: SizeAxis): boolean {
  const ref = MODEL_SIZES[REFERENCE_SIZE];
  if (axis === 'depth') return m.dModel === ref.dModel && m.dFF === ref.dFF && m.nHeads === ref.nHeads;
  return m.nLayers === ref.nLayers && m.nHeads === ref.nHeads && m.dFF * ref.dModel === ref.dFF * m.dModel;
}

/** A task's cells on a size axis, smallest first (none when fewer than two sizes: no trend). */
export function axisCells(cells: readonly Cell[], task: string, axis: SizeAxis): Cell[] {
  const on = cells
    .filter((c) => c.task === task && onAxis(c, axis))
    .sort((a, b) => a[SIZE_AXES[axis].setting] - b[SIZE_AXES[axis].setting]);
  return on.length >= 2 ? on : [];
}

const cellName = (r: RunRecord) => `${r.task} ${sizeOf(r.config.model)}`;

/** Refuses records whose models were trained on more than one kernel family, naming each family's cells. */
export function checkOneFamily(records: readonly RunRecord[]): void {
  const mix = familyMix(records, cellName);
  if (!mix) return;
  throw new ConfigError(
    `--results: the models were trained on ${mix.families} kernel families (${mix.words}); the same seed trains to a different model on each, so one study must not mix them: ` +
      'allowed: stores of one family (the committed complexity study: wasm native, the family retired in issue 42; a new study: wasm stock, in stores of its own)',
  );
}

/** One (task, size) cell. */
export interface Cell {
  task: TaskName;
  size: string;
  nLayers: number;
  nHeads: number;
  dModel: number;
  dFF: number;
  /** Non-embedding parameters (grow with depth and with width; the tables' order of sizes). */
  params: number;
  components: number;
  seeds: number[];
  /** Runs that reached train.targetAcc, and the steps each run trained (maxSteps where it did not reach it). */
  reached: number;
  steps: number[];
  maxSteps: number;
  /** Median of `steps`: the cell's complexity. */
  medianSteps: number;
  /** Runs with no OOD length in [accLow, accHigh], by where their accuracies were. */
  skipped: { tooEasy: number; tooHard: number; straddle: number };
  analysed: number;
  oodLengths: number[];
  /** Per analysed run with intervals: the share of components that matter (MATTERS: C's interval above a tenth of the baseline). */
  mattering: number[];
  /** (G, C) on this cell. */
  gc: PairStat;
  /** Seconds per run: training and analysis (as recorded; a measures-study record's training is its source's). */
  trainSeconds: number[];
  analysisSeconds: number[];
}

export interface PairTrend {
  pair: MeasurePair;
  /** Over tasks at the reference size: x = log10 of the task's median steps (the slope: change in rho per tenfold steps). */
  overTasks: TrendTest;
  /** Over each size axis, per task with at least two sizes on it: x = log2 of the axis's setting (the slope: change in rho per doubling). */
  overSizes: { axis: SizeAxis; task: TaskName; test: TrendTest }[];
}

export interface ComplexityStudy {
  cells: Cell[];
  /** Tasks at the reference size, easiest (fewest median steps) first. */
  taskOrder: TaskName[];
  sizes: string[];
  cheap: string[];
  causal: string[];
  /** Every measure pair on every cell (cheap x causal, then causal x causal). */
  pairs: (PairStat & { size: string })[];
  trends: PairTrend[];
  /** Sum over the records of recorded training and analysis time, hours. */
  computeHours: { train: number; analysis: number };
  /** The kernel families the models were trained on (records/format.ts trainedOn): one (loadStores refuses a mix; a study built in code may hold more). */
  kernels: string[];
  /** Records of the measures study among them (their provenance is the measuring run's; their training time the source run's). */
  remeasured: number;
  runs: number;
}

const nonEmbeddingParams = (m: RunRecord['config']['model']) =>
  m.nLayers * (4 * m.dModel * m.dModel + 2 * m.dModel * m.dFF);

export function median(xs: readonly number[]): number {
  return quantileSorted(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
}

/** Where a skipped run's OOD accuracies were: every candidate above the window, every one below, or some each side. */
function skipKind(r: RunRecord): keyof Cell['skipped'] {
  const acc = Object.values(r.analysis.ood.accuracies);
  const { accLow, accHigh } = r.config.analysis;
  if (acc.every((a) => a > accHigh)) return 'tooEasy';
  if (acc.every((a) => a < accLow)) return 'tooHard';
  return 'straddle';
}

function cellOf(records: readonly RunRecord[], task: TaskName, size: string, resamples: number): Cell {
  const rs = records.filter((r) => r.task === task && sizeOf(r.config.model) === size).sort((a, b) => a.seed - b.seed);
  const m = rs[0].config.model;
  const maxSteps = Math.max(...rs.map((r) => r.config.train.maxSteps));
  const steps = rs.map((r) => r.training.steps);
  const skipped = { tooEasy: 0, tooHard: 0, straddle: 0 };
  for (const r of rs) if (r.analysis.status !== 'analysed') skipped[skipKind(r)]++;
  const done = analysed(rs, task);
  const mattering = done
    .filter((r) => r.analysis.intervals?.C)
    .map((r) =>
      mean(
        r.analysis.components.map((id) => (r.analysis.intervals!.C[id][0] > MATTERS * r.analysis.baseline! ? 1 : 0)),
      ),
    );
  return {
    task,
    size,
    nLayers: m.nLayers,
    nHeads: m.nHeads,
    dModel: m.dModel,
    dFF: m.dFF,
    params: nonEmbeddingParams(m),
    components: componentCount(m),
    seeds: rs.map((r) => r.seed),
    reached: rs.filter((r) => r.training.reachedTarget).length,
    steps,
    maxSteps,
    medianSteps: median(steps),
    skipped,
    analysed: done.length,
    oodLengths: done.map((r) => r.analysis.ood.length!),
    mattering,
    gc: pairStat(rs, task, PAPER_PAIR, resamples),
    trainSeconds: rs.map((r) => (r.remeasured ? r.training.wallMs : r.timingsMs.train) / 1000),
    analysisSeconds: rs.map((r) => r.timingsMs.analysis / 1000),
  };
}

/** Every number of the study. `resamples`: bootstrap draws per interval, and relabellings per trend test (fewer for a quick look). */
export function complexityStudy(records: readonly RunRecord[], opts: { resamples?: number } = {}): ComplexityStudy {
  const resamples = opts.resamples ?? 10_000;
  const keys = [...new Set(records.map((r) => `${r.task}\t${sizeOf(r.config.model)}`))];
  const cells = keys.map((k) => cellOf(records, k.split('\t')[0] as TaskName, k.split('\t')[1], resamples));
  const sizes = [...new Set(cells.map((c) => c.size))].sort((a, b) => {
    const ca = cells.find((c) => c.size === a)!;
    const cb = cells.find((c) => c.size === b)!;
    return ca.params - cb.params || a.localeCompare(b);
  });
  const ref = cells.filter((c) => c.size === REFERENCE_SIZE);
  const taskOrder = ref
    .sort((a, b) => a.medianSteps - b.medianSteps || a.task.localeCompare(b.task))
    .map((c) => c.task);
  const done = records.filter((r) => r.analysis.status === 'analysed');
  const { cheap, causal } = studyMeasureLists(done);
  const list: MeasurePair[] = [
    ...cheap.flatMap((c) => causal.map((k) => ({ cheap: c, causal: k }))),
    ...causal.flatMap((a, i) => causal.slice(i + 1).map((b) => ({ cheap: a, causal: b }))),
  ];
  const pairs = cells.flatMap((cell) => {
    const rs = records.filter((r) => sizeOf(r.config.model) === cell.size);
    // (G, C) is the cell's own statistic: not computed twice.
    return list.map((pair) => ({
      ...(pair.cheap === PAPER_PAIR.cheap && pair.causal === PAPER_PAIR.causal
        ? cell.gc
        : pairStat(rs, cell.task, pair, resamples)),
      size: cell.size,
    }));
  });
  const find = (task: string, size: string, pair: MeasurePair) =>
    pairs.find(
      (p) => p.task === task && p.size === size && p.pair.cheap === pair.cheap && p.pair.causal === pair.causal,
    );
  const trends = list.map((pair) => {
    const overTasks = trendTest(
      taskOrder.map((t) => ({
        x: Math.log10(cells.find((c) => c.task === t && c.size === REFERENCE_SIZE)!.medianSteps),
        ys: find(t, REFERENCE_SIZE, pair)?.rhos ?? [],
      })),
      { permutations: resamples, seed: 1 },
    );
    const overSizes = SIZE_AXIS_NAMES.flatMap((axis) =>
      [...new Set(cells.map((c) => c.task))]
        .filter((t) => axisCells(cells, t, axis).length)
        .map((task) => ({
          axis,
          task,
          test: trendTest(
            axisCells(cells, task, axis).map((c) => ({
              x: Math.log2(c[SIZE_AXES[axis].setting]),
              ys: find(task, c.size, pair)?.rhos ?? [],
            })),
            { permutations: resamples, seed: 2 },
          ),
        })),
    );
    return { pair, overTasks, overSizes };
  });
  const hours = (f: (r: RunRecord) => number) => records.reduce((s, r) => s + f(r), 0) / 3_600_000;
  return {
    cells,
    taskOrder,
    sizes,
    cheap,
    causal,
    pairs,
    trends,
    computeHours: {
      train: hours((r) => (r.remeasured ? r.training.wallMs : r.timingsMs.train)),
      analysis: hours((r) => r.timingsMs.analysis),
    },
    kernels: trainingFamilies(records, cellName).map((f) => f.family),
    remeasured: records.filter((r) => r.remeasured).length,
    runs: records.length,
  };
}

/** The cell of a task and size. */
export function findCell(s: ComplexityStudy, task: string, size: string): Cell | undefined {
  return s.cells.find((c) => c.task === task && c.size === size);
}

/** A pair's trend over one size axis for one task. */
export function sizeTrend(t: PairTrend, axis: SizeAxis, task: string): TrendTest | undefined {
  return t.overSizes.find((o) => o.axis === axis && o.task === task)?.test;
}

/** The trend of a pair. */
export function findTrend(s: ComplexityStudy, pair: MeasurePair): PairTrend | undefined {
  return s.trends.find((t) => t.pair.cheap === pair.cheap && t.pair.causal === pair.causal);
}

/** Mean share of components that matter, with its bootstrap interval over seeds. */
export function matteringInterval(c: Cell, resamples = 10_000): Interval {
  return bootstrap(c.mattering, mean, { resamples, seed: 0 });
}
