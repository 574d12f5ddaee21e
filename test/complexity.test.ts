/**
 * The complexity study's numbers on hand-made records: the trend test against an exact
 * enumeration, its within-cell bootstrap, a cell's steps / skips / components that matter / rho by
 * hand, the task order, the size axis, and reading several stores (sizes from the configuration,
 * the first store wins a duplicate).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { classifyMeasures, spearman } from '../src/analysis/ranks';
import { componentIds } from '../src/records/record-check';
import { ConfigError } from '../src/settings/config';
import { getConfig } from '../src/settings/validate';
import { complexityStudy, findCell, findTrend } from '../src/studies/complexity/numbers';
import { loadStores } from '../src/studies/complexity/load';
import { complexityReport } from '../src/studies/complexity/report';
import { complexityFigures } from '../src/studies/complexity/figures';
import { bootstrapP, trendTest } from '../src/report/stats';
import { RESULTS_FORMAT, RunRecord, trainedOn } from '../src/records/format';
import { MODEL_SIZES, ModelSize, SizeName } from '../src/settings/sizes';
import { TaskName } from '../src/tasks';

/** Every permutation of xs (for exact p-values by enumeration). */
function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/** The slope test by exact enumeration: residuals y - b x relabelled every way, |sum (x - mean x) e| at least the observed. */
function exactSlopeP(xs: number[], ys: number[], b: number): number {
  const xm = xs.reduce((a, x) => a + x, 0) / xs.length;
  const stat = (e: number[]) => Math.abs(xs.reduce((a, x, i) => a + (x - xm) * e[i], 0));
  const e = ys.map((y, i) => y - b * xs[i]);
  const all = permutations(e);
  return all.filter((p) => stat(p) >= stat(e) * (1 - 1e-12)).length / all.length;
}

test('trendTest: the least-squares slope over runs, its permutation test (matches exact enumeration), and the interval that inverts it', () => {
  const groups = [
    { x: 1, ys: [0.1, 0.35] },
    { x: 2, ys: [0.3] },
    { x: 5, ys: [0.4, 0.2, 0.5] },
  ];
  const xs = [1, 1, 2, 5, 5, 5];
  const ys = [0.1, 0.35, 0.3, 0.4, 0.2, 0.5];
  const t = trendTest(groups, { permutations: 40_000, seed: 3 });
  // By hand: slope = sum (x - xm)(y - ym) / sum (x - xm)^2.
  const xm = 19 / 6;
  const ym = 1.85 / 6;
  const byHand = xs.reduce((a, x, i) => a + (x - xm) * (ys[i] - ym), 0) / xs.reduce((a, x) => a + (x - xm) ** 2, 0);
  assert.ok(Math.abs(t.slope - byHand) < 1e-12, `${t.slope} vs ${byHand}`);
  assert.equal(t.runs, 6);
  assert.equal(t.groups, 3);
  const exact = exactSlopeP(xs, ys, 0);
  assert.ok(Math.abs(t.p - exact) < 0.01, `p ${t.p} vs exact ${exact}`);
  // The interval is the slopes the test does not reject: inside it (its middle) p > 0.05, well outside it p <= 0.05, by exact enumeration.
  const { lo, hi } = t.interval;
  assert.ok(lo <= t.slope && t.slope <= hi);
  assert.ok(exactSlopeP(xs, ys, (lo + hi) / 2) > 0.05);
  assert.ok(exactSlopeP(xs, ys, lo - 0.3 * (hi - lo)) <= 0.05 && exactSlopeP(xs, ys, hi + 0.3 * (hi - lo)) <= 0.05);
  // One method: the interval excludes 0 exactly when p < 0.05, whatever the data.
  const cases = [
    groups,
    [
      { x: 1, ys: [0.9, 0.8, 0.85] },
      { x: 2, ys: [0.5, 0.6] },
      { x: 3, ys: [0.1, 0.2, 0.15] },
    ],
    [
      { x: 1, ys: [0.2, 0.9] },
      { x: 2, ys: [0.5, 0.1, 0.8] },
      { x: 3, ys: [0.3, 0.7] },
    ],
  ];
  for (const [k, gs] of cases.entries()) {
    const r = trendTest(gs, { permutations: 4000, seed: k });
    assert.equal(
      r.interval.lo > 0 || r.interval.hi < 0,
      r.p < 0.05,
      `case ${k}: [${r.interval.lo}, ${r.interval.hi}] p ${r.p}`,
    );
  }
  assert.ok(trendTest(cases[1], { permutations: 4000 }).p < 0.05, 'a clear fall');
  // Runs exactly on a line: the slope, and an interval that is that slope alone.
  const line = trendTest(
    [
      { x: 1, ys: [0.5, 0.5] },
      { x: 2, ys: [0.1, 0.1, 0.1] },
      { x: 3, ys: [-0.3] },
    ],
    { permutations: 2000 },
  );
  assert.ok(Math.abs(line.slope + 0.4) < 1e-12);
  assert.ok(
    Math.abs(line.interval.lo + 0.4) < 1e-6 && Math.abs(line.interval.hi + 0.4) < 1e-6,
    `[${line.interval.lo}, ${line.interval.hi}]`,
  );
  assert.ok(line.p < 0.05);
  // Not finite values are left out; one x only: no trend.
  assert.equal(
    trendTest([
      { x: 1, ys: [0.1, NaN, 0.2] },
      { x: 2, ys: [0.3] },
    ]).runs,
    3,
  );
  assert.ok(Number.isNaN(trendTest([{ x: 1, ys: [0.1, 0.2, 0.3] }]).slope));
  // bootstrapP by hand (the other reports' one method): 2 of 8 values at or below 0, 7 at or above.
  assert.equal(bootstrapP([-0.2, 0, 0.1, 0.3, 0.4, 0.5, 0.6, 0.7]), 0.5);
  assert.equal(bootstrapP([-0.2, 0, 0.1, 0.3, 0.4, 0.5, 0.6, 0.7], 0, 'greater'), 0.25);
  assert.equal(bootstrapP([0.1, 0.2]), 0);
});

const IDS = ['L0.H0', 'L0.H1', 'L0.MLP', 'L1.H0', 'L1.H1', 'L1.MLP'];

/** A record of a 2-layer, 1-head model (6 components) with G given and C = G's order permuted by `order`; `model`: settings of a size of its own. */
function rec(
  task: TaskName,
  seed: number,
  opts: {
    size?: SizeName;
    model?: Partial<ModelSize>;
    steps: number;
    reached?: boolean;
    order?: number[];
    accuracies?: Record<number, number>;
    lowerC?: number[];
  },
): RunRecord {
  const cfg = getConfig('paper');
  if (opts.size) Object.assign(cfg.model, MODEL_SIZES[opts.size]);
  if (opts.model) Object.assign(cfg.model, opts.model);
  const G = Object.fromEntries(IDS.map((id, i) => [id, i + 1]));
  const order = opts.order ?? [0, 1, 2, 3, 4, 5];
  const C = Object.fromEntries(IDS.map((id, i) => [id, (order[i] + 1) / 10]));
  const lower = opts.lowerC ?? IDS.map(() => 0);
  const skipped = !!opts.accuracies;
  return {
    format: RESULTS_FORMAT,
    preset: 'paper',
    task,
    seed,
    config: cfg,
    provenance: { kernels: 'native' } as RunRecord['provenance'],
    training: {
      steps: opts.steps,
      reachedTarget: opts.reached ?? true,
      stopReason: 'target',
      finalAcc: 0.9,
      wallMs: 60_000,
      msPerStep: 1,
      losses: [],
      evals: [],
    },
    timingsMs: { train: 60_000, analysis: 120_000 },
    analysis: skipped
      ? {
          status: 'skipped',
          ood: { length: null, accuracies: opts.accuracies!, samples: 10, range: [0.2, 0.75] },
          components: IDS,
          scores: {},
          timingsMs: {},
        }
      : {
          status: 'analysed',
          ood: { length: 9, accuracies: { 8: 0.8, 9: 0.5 }, samples: 10, range: [0.2, 0.75] },
          components: IDS,
          baseline: 0.5,
          scores: { G, C },
          intervals: { C: Object.fromEntries(IDS.map((id, i) => [id, [lower[i], 1] as [number, number]])) },
          timingsMs: {},
        },
  } as RunRecord;
}

test('complexityStudy: a cell by hand (steps, skips, what matters, rho), tasks ordered by median steps, sizes by parameters', () => {
  const records = [
    // copy at the paper size: 100, 300 steps; C in G's order (rho 1); components with C's interval above 0.05 matter (a tenth of the baseline 0.5).
    rec('copy', 1, { steps: 100, lowerC: [0.06, 0.05, 0, 0.2, 0.3, 0.01] }),
    rec('copy', 2, { steps: 300 }),
    // sort: 900 and 15,000 (never reached); C reverses G (rho -1); one run skipped (all above the window), one straddling.
    rec('sort', 1, { steps: 900, order: [5, 4, 3, 2, 1, 0] }),
    rec('sort', 2, { steps: 15000, reached: false, order: [5, 4, 3, 2, 1, 0] }),
    rec('sort', 3, { steps: 700, accuracies: { 8: 0.9, 9: 0.8 } }),
    rec('sort', 4, { steps: 800, accuracies: { 8: 0.9, 9: 0.1 } }),
    // reverse: 400 steps, C swaps two (rho by spearman), at two sizes.
    rec('reverse', 1, { steps: 400, order: [1, 0, 2, 3, 4, 5] }),
    rec('reverse', 2, { steps: 400, order: [0, 1, 2, 3, 5, 4] }),
    rec('reverse', 1, { steps: 2000, size: 'l2-d128', order: [5, 4, 3, 2, 1, 0] }),
    rec('reverse', 2, { steps: 2400, size: 'l2-d128', order: [4, 5, 3, 2, 1, 0] }),
  ];
  const s = complexityStudy(records, { resamples: 200 });
  assert.deepEqual(s.taskOrder, ['copy', 'reverse', 'sort'], 'median steps 200 < 400 < 850');
  assert.deepEqual(s.sizes, ['l2-d128', 'l4-d128']);
  const copy = findCell(s, 'copy', 'l4-d128')!;
  assert.equal(copy.medianSteps, 200);
  assert.deepEqual(copy.mattering, [3 / 6, 0], 'L0.H0 (0.06), L1.H0, L1.H1 are above 0.05; 0.05 itself is not');
  assert.deepEqual(copy.gc.rhos, [1, 1]);
  const sort = findCell(s, 'sort', 'l4-d128')!;
  assert.equal(sort.medianSteps, (800 + 900) / 2, 'every run counts, skipped ones too');
  assert.equal(sort.reached, 3);
  assert.deepEqual(sort.skipped, { tooEasy: 1, tooHard: 0, straddle: 1 });
  assert.equal(sort.analysed, 2);
  assert.deepEqual(sort.gc.rhos, [-1, -1]);
  const rev = findCell(s, 'reverse', 'l4-d128')!;
  const swapped = spearman([1, 2, 3, 4, 5, 6], [2, 1, 3, 4, 5, 6]);
  assert.deepEqual(rev.gc.rhos, [swapped, swapped]);
  assert.equal(rev.params, 4 * (4 * 128 * 128 + 2 * 128 * 512));
  assert.equal(findCell(s, 'reverse', 'l2-d128')!.params, rev.params / 2);
  const gc = findTrend(s, { cheap: 'G', causal: 'C' })!;
  const ols = (xs: number[], ys: number[]) => {
    const xm = xs.reduce((a, x) => a + x, 0) / xs.length;
    const ym = ys.reduce((a, y) => a + y, 0) / ys.length;
    return xs.reduce((a, x, i) => a + (x - xm) * (ys[i] - ym), 0) / xs.reduce((a, x) => a + (x - xm) ** 2, 0);
  };
  assert.ok(
    Math.abs(
      gc.overTasks.slope - ols([200, 200, 400, 400, 850, 850].map(Math.log10), [1, 1, swapped, swapped, -1, -1]),
    ) < 1e-12,
    'rho per tenfold steps',
  );
  assert.deepEqual(
    gc.overSizes.map((o) => `${o.axis} ${o.task}`),
    ['depth reverse'],
    'only reversal has two sizes, both on the depth axis',
  );
  const small = spearman([1, 2, 3, 4, 5, 6], [5, 6, 4, 3, 2, 1]);
  assert.ok(
    Math.abs(gc.overSizes[0].test.slope - ols([1, 1, 2, 2], [-1, small, swapped, swapped])) < 1e-12,
    'rho per doubling of the layers (log2 of 2 and 4)',
  );
  const md = complexityReport(s);
  assert.match(
    md,
    /\*\*The answer\.\*\* Over 3 tasks at the paper's size, ordered by how many steps the paper's model needs to learn them, the agreement of G and C \(rho\) (falls|rises|does not fall significantly) as tasks get harder \(-?\d\.\d\d per tenfold training steps \[-?\d\.\d\d, -?\d\.\d\d\], p /,
  );
  assert.ok(md.indexOf('**The answer.**') < md.indexOf('## Conclusions'));
  assert.match(md, /Copying 200 < Reversal 400 < Sorting 850, by median steps/);
  assert.match(
    md,
    /\| Copying \| output the digits unchanged \| easier than reversal: each output reads one input at a fixed distance back \|/,
  );
  assert.match(
    md,
    /\| Sorting \| l4-d128 \| 20 \| 4 \| 3 \/ 4 \| 850 \[700–15000\] \| 2 \(1 above 0\.75 at every length; 1 jumping over the window\) \|/,
  );
  assert.match(md, /No OOD length in the window\*\*: 2 of 10 runs/);
  assert.match(
    md,
    /Note: Copying l4-d128 has 2 analysed runs, Reversal l4-d128 has 2 analysed runs, Sorting l4-d128 has 2 analysed runs; the slope leans on those runs\./,
    'a trend through a cell of fewer than 3 runs says so (sorting: 2 of 4)',
  );
  assert.match(md, /Note: Reversal l2-d128 has 2 analysed runs, Reversal l4-d128 has 2 analysed runs; the slope/);
  assert.match(
    md,
    /\| Sorting \| l4-d128 \|[^\n]*\| -1\.00 \(runs: -1\.00, -1\.00\) \|/,
    'two analysed runs: the runs, no interval',
  );
  assert.doesNotMatch(
    md,
    /Under all \d+ \(cheap, causal\) pairs/,
    'with (G, C) the only pair there is no tally of pairs',
  );
  // A scratch store with no run at the paper's size: said so, not an empty ordering.
  const scratch = complexityReport(
    complexityStudy(
      records.filter((r) => r.config.model.nLayers === 2),
      { resamples: 50 },
    ),
  );
  assert.match(scratch, /easiest first \(median steps\): none \(no task has runs at the paper's size, l4-d128\)\./);
  assert.doesNotMatch(scratch, /: \./);
  // Figures: a marker shape per size, log axes labelled with plain numbers.
  const figs = complexityFigures(s);
  const means = figs.complexity_sizes.data
    .filter((t) => t.name === 'Reversal l2-d128' || t.name === 'Reversal l4-d128')
    .map((t) => (t.marker as { symbol: string }).symbol);
  assert.deepEqual(means, ['circle', 'diamond']);
  assert.equal(figs.complexity_sizes.layout.xaxis2, undefined, 'no width cells: the depth panel alone');
  assert.deepEqual(
    (figs.complexity_tasks.layout.xaxis as { ticktext: string[] }).ticktext,
    ['200', '500', '1,000'],
    'median steps 200, 400, 850',
  );
});

test("complexityStudy: depth and width are separate size axes through the paper's model, each with its own trend; the report says when they go opposite ways", () => {
  const runs = (size: SizeName | undefined, order: number[], model?: Partial<ModelSize>) =>
    [1, 2, 3, 4].map((seed) => rec('reverse', seed, { size, model, steps: 400, order }));
  const rev = [1, 0, 2, 3, 4, 5]; // rho 0.94 (one swap)
  const records = [
    ...runs(undefined, rev), // l4-d128, the paper's model: on both axes
    ...runs('l2-d128', [5, 4, 3, 2, 1, 0]), // shallower: rho -1 (depth: rises)
    ...runs('l4-d64', [0, 1, 2, 3, 4, 5]), // narrower: rho 1 (width: falls)
    ...runs(undefined, [5, 4, 3, 2, 1, 0], { nLayers: 2, dModel: 64, dFF: 256 }), // shallower and narrower: on neither axis
    ...runs(undefined, [5, 4, 3, 2, 1, 0], { dFF: 256 }), // a narrower MLP alone: not the width axis (d_ff is 4 x d_model there)
  ];
  const s = complexityStudy(records, { resamples: 4000 });
  const gc = findTrend(s, { cheap: 'G', causal: 'C' })!;
  assert.deepEqual(
    gc.overSizes.map((o) => `${o.axis} ${o.task} ${o.test.runs}`),
    ['depth reverse 8', 'width reverse 8'],
    'the l2-d64 and narrow-MLP runs are in neither trend',
  );
  const one = spearman([1, 2, 3, 4, 5, 6], [2, 1, 3, 4, 5, 6]);
  const depth = gc.overSizes[0].test;
  const width = gc.overSizes[1].test;
  assert.ok(Math.abs(depth.slope - (one - -1)) < 1e-12, 'per doubling of the layers: 2 -> 4 is one doubling');
  assert.ok(Math.abs(width.slope - (one - 1)) < 1e-12, 'per doubling of d_model: 64 -> 128 is one doubling');
  assert.ok(depth.p < 0.05 && width.p < 0.05, `two separated groups of 4: p = 2/70 (${depth.p}, ${width.p})`);
  const md = complexityReport(s);
  assert.match(
    md,
    /Does it change with depth\?\*\* Reversal over l2-d128 \(2 layers\), l4-d128 \(4 layers\): rho \(G, C\) changes by 1\.94 per doubling of the layers [^\n]*Agreement \*\*rises\*\* with depth/,
  );
  assert.match(
    md,
    /Does it change with width\?\*\* Reversal over l4-d64 \(d_model 64\), l4-d128 \(d_model 128\): rho \(G, C\) changes by -0\.06 per doubling of d_model [^\n]*Agreement \*\*falls\*\* with width/,
  );
  assert.match(md, /Depth and width move it opposite ways\*\* for Reversal/);
  assert.match(
    md,
    /On neither size axis\*\* \(in the tables, in no size trend\): Reversal l2-d64-h4-ff256, Reversal l4-d128-h4-ff256\./,
  );
  assert.match(md, /\| trend over depth, Reversal \| trend over width, Reversal \|/);
  // Both significant the same way: no "opposite" sentence.
  const same = complexityReport(
    complexityStudy([...records.slice(0, 8), ...runs('l4-d64', [1, 0, 3, 2, 5, 4])], { resamples: 4000 }),
  );
  assert.match(same, /Agreement \*\*rises\*\* with width/);
  assert.doesNotMatch(same, /opposite ways/);
  // Opposite signs, but width not significant (d_model 64: rho 1, 1, 1, 0.89 against 0.94): no sentence either.
  const narrow = [
    ...runs('l4-d64', [0, 1, 2, 3, 4, 5]).slice(0, 3),
    rec('reverse', 4, { size: 'l4-d64', steps: 400, order: [1, 0, 3, 2, 4, 5] }),
  ];
  const weak = complexityStudy([...records.slice(0, 8), ...narrow], { resamples: 4000 });
  const weakWidth = findTrend(weak, { cheap: 'G', causal: 'C' })!.overSizes[1].test;
  assert.ok(weakWidth.slope < 0 && weakWidth.p >= 0.05, `${weakWidth.slope} p ${weakWidth.p}`);
  assert.doesNotMatch(complexityReport(weak), /opposite ways/);
  assert.doesNotMatch(md, /Note: /, 'every cell has 4 runs');
  assert.doesNotMatch(
    complexityReport(complexityStudy([...records.slice(0, 8), ...narrow.slice(0, 3)], { resamples: 200 })),
    /Note: /,
    '3 runs are enough',
  );
  // The figure: a panel per axis (layers, d_model); the paper's model in the legend once.
  const fig = complexityFigures(s).complexity_sizes;
  const means = fig.data.filter(
    (t) => t.showlegend !== false && t.mode === 'markers' && (t.x as number[]).length === 1,
  );
  assert.deepEqual(
    means.map((t) => `${t.name} ${t.xaxis} ${(t.x as number[])[0]}`),
    ['Reversal l2-d128 x 2', 'Reversal l4-d128 x 4', 'Reversal l4-d64 x2 64'],
  );
  assert.deepEqual((fig.layout.xaxis2 as { tickvals: number[] }).tickvals, [64, 128]);
});

// Records on disk are checked when read (src/records/record-check.ts): every component of the model, and Eq. 3 from G and C.
function writeRecord(dir: string, r: RunRecord): void {
  const ids = componentIds(r.config.model);
  const G = Object.fromEntries(ids.map((id, i) => [id, i + 1]));
  const C = Object.fromEntries(ids.map((id, i) => [id, (ids.length - i) / 10]));
  const analysis = {
    ...r.analysis,
    components: ids,
    scores: { G, C },
    intervals: {},
    classification: classifyMeasures({ G, C }, ids, 'G', 'C', { ...r.config.analysis, seed: r.seed }),
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${r.task}_seed${r.seed}.json`), JSON.stringify({ ...r, analysis }));
}

test('loadStores: <store>/<preset>/ and <store>/<size>/<preset>/; the size comes from the configuration; the first store wins a duplicate', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-stores-'));
  const write = writeRecord;
  const a = path.join(tmp, 'grid');
  const b = path.join(tmp, 'study');
  write(path.join(a, 'l2-d128', 'paper'), rec('reverse', 1, { steps: 10, size: 'l2-d128' }));
  write(path.join(a, 'l4-d128', 'paper'), rec('copy', 1, { steps: 20 }));
  write(path.join(b, 'paper'), { ...rec('copy', 1, { steps: 30 }) });
  write(path.join(b, 'paper'), rec('sort', 1, { steps: 40 }));
  write(path.join(b, 'authors'), { ...rec('sort', 2, { steps: 50 }), preset: 'authors' });
  const r = loadStores([a, b, path.join(tmp, 'missing')], 'paper');
  assert.deepEqual(r.records.map((x) => `${x.task} ${x.config.model.nLayers} ${x.training.steps}`).sort(), [
    'copy 4 20',
    'reverse 2 10',
    'sort 4 40',
  ]);
  assert.deepEqual(r.duplicates, [`${path.join(b, 'paper')}: copy l4-d128 seed 1`]);
  assert.deepEqual(r.folders, [
    path.join(a, 'l2-d128', 'paper'),
    path.join(a, 'l4-d128', 'paper'),
    path.join(b, 'paper'),
  ]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("one kernel family per study: trainedOn reads a remeasured record's source; loadStores refuses a mix (naming each family's cells), and the report says which", () => {
  const native = { backend: 'wasm', kernels: 'native' } as RunRecord['provenance'];
  const fused = { ...native, fused: ['LayerNorm', 'GELU', 'Adam'] } as RunRecord['provenance'];
  const remeasured = (trainingKernels: 'stock' | 'native', on?: string) => ({
    source: 'x.json',
    sourceCommit: null,
    trainingKernels,
    ...(on ? { trainedOn: on } : {}),
    checkpoint: 'reused' as const,
    sameOodLength: true,
    gMaxRelDiff: 0,
    cDiffering: [],
  });
  assert.equal(trainedOn({ provenance: native }), 'wasm native');
  assert.equal(trainedOn({ provenance: fused }), 'wasm native+fused');
  // The measures study's records say where they were measured (native) and, in remeasured, where the model was trained.
  assert.equal(
    trainedOn({ provenance: native, remeasured: remeasured('stock') }),
    'wasm stock',
    'older records: the source kernels, on wasm',
  );
  assert.equal(
    trainedOn({ provenance: native, remeasured: remeasured('native', 'wasm native+fused') }),
    'wasm native+fused',
  );
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-families-'));
  const study = path.join(tmp, 'complexity');
  const other = path.join(tmp, 'measures');
  for (const seed of [1, 2, 3]) {
    writeRecord(path.join(study, 'l4-d128', 'paper'), { ...rec('copy', seed, { steps: 20 }), provenance: native });
    writeRecord(path.join(study, 'l2-d128', 'paper'), {
      ...rec('reverse', seed, { steps: 30, size: 'l2-d128' }),
      provenance: native,
    });
    writeRecord(path.join(other, 'paper'), {
      ...rec('sort', seed, { steps: 40 }),
      provenance: native,
      remeasured: remeasured('stock'),
    });
  }
  assert.deepEqual(loadStores([study], 'paper').records.length, 6, 'one family: read');
  assert.throws(
    () => loadStores([study, other], 'paper'),
    (e: Error) =>
      e instanceof ConfigError &&
      e.message.includes(
        'trained on 2 kernel families (wasm native: 6 runs (copy l4-d128, reverse l2-d128); wasm stock: 3 runs (sort l4-d128))',
      ) &&
      e.message.includes('a new study: wasm stock, in stores of its own') &&
      !e.message.includes('--mix-kernels'),
  );
  // A study built in code from both (the CLI cannot read a mix) says so in bold.
  const mixed = [...loadStores([study], 'paper').records, ...loadStores([other], 'paper').records];
  assert.equal(mixed.length, 9);
  const s = complexityStudy(mixed, { resamples: 50 });
  assert.deepEqual(s.kernels, ['wasm native', 'wasm stock']);
  assert.equal(s.remeasured, 3);
  const md = complexityReport(s);
  assert.match(md, /\*\*The models were trained on 2 kernel families \(wasm native, wasm stock\): a trend/);
  assert.match(md, /the 3 records of the measures study carry their source run's training time/);
  const one = complexityReport(complexityStudy(loadStores([study], 'paper').records, { resamples: 50 }));
  assert.match(one, /Every model was trained on one kernel family \(wasm native\)/);
  assert.doesNotMatch(one, /records of the measures study/);
  fs.rmSync(tmp, { recursive: true, force: true });
});
