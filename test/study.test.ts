/**
 * The measures study end to end on tiny runs: `gcg measures` remeasures a results store's runs
 * (reusing a checkpoint, or retraining a missing one bit for bit), agrees with the records' G and C
 * exactly on the same kernels, skips finished work, leaves a locked run to its holder; and the
 * report's statistics against hand computations (top-k overlap, Spearman per run, the exact
 * permutation test of the task difference).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { spearman } from '../src/analysis/ranks';
import { RunLock } from '../src/io/lock';
import { measuresStudy } from '../src/studies/measures/numbers';
import { pairStat, topOverlap } from '../src/report/pairs';
import { measuresReport } from '../src/studies/measures/report';
import { loadRecords, runPaths } from '../src/records/store';
import { kernelsLabel, RunRecord, trainedOn } from '../src/records/format';
import { studyMeasures } from '../src/studies/measures/run';
import { setupBackend } from './helpers';
import { redundancyNumbers } from '../src/studies/redundancy/numbers';
import { loadRedundancyRecords } from '../src/studies/redundancy/load';
import { claims } from '../src/studies/redundancy/claims';

const CLI = path.join(__dirname, '..', 'src', 'cli.js');
const LEARNING = [
  'model.nLayers=2',
  'model.nHeads=2',
  'model.dModel=32',
  'model.dFF=64',
  'model.positions=learned',
  'data.minLen=2',
  'data.maxLen=3',
  'train.maxSteps=300',
  'train.evalEvery=50',
  'train.batchSize=32',
  'train.evalSamples=128',
  'analysis.gradBatches=2',
  'analysis.gradBatchSize=32',
  'analysis.meanBatches=2',
  'analysis.evalSamples=128',
  'analysis.oodPickSamples=128',
  'analysis.idSamples=128',
  'analysis.idLength=2',
  'analysis.tieDraws=100',
  'analysis.accLow=0.05',
  'analysis.accHigh=1',
  'analysis.variants=false',
  'analysis.redraws=0',
  'analysis.igBatches=1',
  'analysis.igSteps=2',
  'analysis.resampleDraws=2',
].flatMap((s) => ['--set', s]);
const cli = (args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });

let store: string;
before(async () => {
  await setupBackend();
  store = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-study-'));
  const r = cli([
    'sweep',
    '--results',
    store,
    '--ood-lengths',
    '2,3',
    '--allow-id-lengths',
    ...LEARNING,
    '--tasks',
    'sort,reverse',
    '--seeds',
    '1,2',
  ]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
});

test("gcg measures remeasures every run: G and C equal the records', a missing checkpoint is retrained to the same model, finished runs are skipped, a locked one is left", () => {
  const out = path.join(store, 'measures');
  fs.rmSync(runPaths(store, 'paper', 'reverse', 2).checkpoint); // retrained from its record
  fs.mkdirSync(path.join(out, 'paper'), { recursive: true });
  const held = RunLock.acquire(runPaths(out, 'paper', 'sort', 2).lock); // another process is on it
  const untrained = cli([
    'measures',
    '--results',
    store,
    '--out',
    path.join(store, 'measures-cpos'),
    '--no-retrain',
    '--measures',
    'Cpos',
  ]);
  assert.match(
    untrained.stdout,
    /3 measured, 0 already done, 0 in progress elsewhere, 1 left untrained \(--no-retrain\), 0 failed/,
  );
  const first = cli(['measures', '--results', store, '--out', out]);
  held.release();
  assert.equal(first.status, 0, first.stderr + first.stdout);
  assert.match(
    first.stdout,
    /3 measured, 0 already done, 1 in progress elsewhere, 0 left untrained \(--no-retrain\), 0 failed/,
  );
  assert.match(first.stdout, /reverse seed 2: .* is not there: retraining with the record's settings/);
  const second = cli(['measures', '--results', store, '--out', out]);
  assert.match(second.stdout, /1 measured, 3 already done, 0 in progress elsewhere/);
  const sources = loadRecords(store, 'paper');
  const records = loadRecords(out, 'paper');
  assert.equal(records.length, 4);
  for (const r of records) {
    const src = sources.find((s) => s.task === r.task && s.seed === r.seed)!;
    assert.deepEqual(r.analysis.scores.G, src.analysis.scores.G, `${r.task} ${r.seed}: G as recorded`);
    assert.deepEqual(r.analysis.scores.C, src.analysis.scores.C, `${r.task} ${r.seed}: C as recorded`);
    assert.equal(r.remeasured!.gMaxRelDiff, 0);
    assert.deepEqual(r.remeasured!.cDiffering, []);
    assert.ok(r.remeasured!.sameOodLength);
    assert.equal(r.remeasured!.checkpoint, r.task === 'reverse' && r.seed === 2 ? 'retrained' : 'reused');
    assert.equal(r.remeasured!.trainedOn, kernelsLabel(src.provenance), "the source run's kernels in words");
    assert.equal(trainedOn(r), kernelsLabel(src.provenance));
    assert.deepEqual(Object.keys(r.analysis.scores), ['G', 'C', ...studyMeasures()]);
    for (const m of ['C', ...studyMeasures().filter((m) => m.startsWith('C'))])
      assert.ok(r.analysis.intervals![m], `${m} has intervals`);
    assert.deepEqual(r.config.analysis.measures, studyMeasures());
  }
  assert.equal(cli(['measures', '--results', store, '--out', out, '--measures', 'Cpos,nope']).status, 2);
  assert.match(
    cli(['measures', '--results', store, '--out', out, '--measures', 'Cpos,nope']).stderr,
    /--measures: unknown measure "nope"; registered: G, /,
  );
  const report = cli([
    'measures-report',
    '--study',
    out,
    '--report',
    path.join(store, 'M.md'),
    '--fig-dir',
    path.join(store, 'figs'),
  ]);
  assert.equal(report.status, 0, report.stderr);
  const md = fs.readFileSync(path.join(store, 'M.md'), 'utf8');
  const s = measuresStudy(records, { resamples: 200 });
  assert.match(md, /## Sorting: agreement, cheap x causal/);
  assert.ok(
    md.includes(
      `| \`G\` | ${s.pairs.find((p) => p.task === 'reverse' && p.pair.cheap === 'G' && p.pair.causal === 'C')!.rho.estimate.toFixed(2)}`,
    ),
    'the G-C cell comes from the records',
  );
  assert.ok(fs.existsSync(path.join(store, 'figs', 'measures_agreement.html')));
});

test("gcg redundancy: each run's single effects equal its record's C, every pair and set, finished runs skipped; bad settings refused; the report from its records", () => {
  const out = path.join(store, 'redundancy');
  const bad = cli(['redundancy', '--results', store, '--out', out, '--permutations', '0']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--permutations: got "0"; allowed: one integer in \[1, 100000\]/);
  assert.ok(!fs.existsSync(out), 'nothing made before the settings are checked');
  const twice = cli(['redundancy', '--results', store, '--out', out, '--tasks', 'sort,sort']);
  assert.equal(twice.status, 2);
  assert.match(twice.stderr, /--tasks: got "sort,sort", which repeats a task/);
  const sortOnly = cli([
    'redundancy',
    '--results',
    store,
    '--out',
    out,
    '--tasks',
    'sort',
    '--seeds',
    '2',
    '--draws',
    '6',
    '--permutations',
    '3',
  ]);
  assert.equal(sortOnly.status, 0, sortOnly.stderr + sortOnly.stdout);
  assert.match(sortOnly.stdout, /1 done, 0 already done/);
  assert.deepEqual(
    fs
      .readdirSync(path.join(out, 'paper'))
      .filter((f) => f.endsWith('.json'))
      .sort(),
    ['sort_seed2.json'],
  );
  const first = cli(['redundancy', '--results', store, '--out', out, '--draws', '6', '--permutations', '3']);
  assert.equal(first.status, 0, first.stderr + first.stdout);
  assert.match(first.stdout, /3 done, 1 already done, 0 in progress elsewhere, 0 failed/);
  assert.match(first.stdout, /single effects differ from the record's C in 0 of 6/);
  const again = cli(['redundancy', '--results', store, '--out', out, '--draws', '6', '--permutations', '3']);
  assert.match(again.stdout, /0 done, 4 already done/);
  const before = fs.readFileSync(runPaths(out, 'paper', 'sort', 1).results, 'utf8');
  const other = cli(['redundancy', '--results', store, '--out', out, '--draws', '7', '--permutations', '3']);
  assert.equal(other.status, 2, other.stderr + other.stdout);
  assert.match(other.stderr, /--out: 4 record\(s\) there were made with other settings .*nothing was replaced/);
  assert.equal(fs.readFileSync(runPaths(out, 'paper', 'sort', 1).results, 'utf8'), before, 'the record is kept');
  const { records, rejected } = loadRedundancyRecords(out);
  assert.deepEqual(rejected, []);
  assert.equal(records.length, 4);
  const sources = loadRecords(store, 'paper');
  for (const r of records) {
    const src = sources.find((x) => x.task === r.task && x.seed === r.seed)!;
    assert.deepEqual(r.cDiffering, []);
    for (const id of r.components) assert.equal(r.result.single[id].acc, src.analysis.scores.C[id]);
    assert.equal(r.result.pairs.length, 15);
    assert.ok(r.result.sets.some((x) => x.name === 'L1 all'));
    for (const d of Object.values(r.result.null)) assert.equal(d.joint.length, 6);
    assert.equal(r.provenance.kernels, src.provenance.kernels);
    assert.equal(r.source.file, runPaths(store, 'paper', r.task, r.seed).results);
  }
  // The authors' preset scores C unpaired, heads after W_O: the study scores its models the paper's way all the same.
  const authors = path.join(store, 'authors-store');
  const a = cli([
    'run',
    '--preset',
    'authors',
    '--task',
    'sort',
    '--seed',
    '1',
    '--results',
    authors,
    '--ood-lengths',
    '2,3',
    '--allow-id-lengths',
    ...LEARNING,
    '--set',
    'train.lr=0.01', // the authors' layout learns more slowly
  ]);
  assert.equal(a.status, 0, a.stderr + a.stdout);
  const ar = cli([
    'redundancy',
    '--preset',
    'authors',
    '--results',
    authors,
    '--out',
    out,
    '--draws',
    '6',
    '--permutations',
    '3',
  ]);
  assert.equal(ar.status, 0, ar.stderr + ar.stdout);
  assert.match(ar.stdout, /1 done.*0 failed/);
  assert.match(ar.stdout, /single effects scored otherwise than the record's C/);
  const [authorsRec] = loadRedundancyRecords(out).records.filter((r) => r.preset === 'authors');
  assert.equal(authorsRec.cDiffering, 'protocol');
  assert.deepEqual(authorsRec.scoring, { paired: true, headAblation: 'before-WO', evalSamples: 128 });
  assert.equal(authorsRec.config.analysis.paired, false, "the source's own configuration is kept as it was");
  const report = cli([
    'redundancy-report',
    '--results',
    store,
    '--study',
    out,
    '--report',
    path.join(store, 'R.md'),
    '--fig-dir',
    path.join(store, 'rfigs'),
  ]);
  assert.equal(report.status, 0, report.stderr);
  const md = fs.readFileSync(path.join(store, 'R.md'), 'utf8');
  const s = redundancyNumbers([...records, authorsRec], [{ label: 'paper preset', records: sources }], []);
  assert.deepEqual(
    s.cells.map((c) => `${c.label}: ${c.runs}`),
    ['Reversal, paper preset: 2', 'Sorting, paper preset: 2', 'Sorting, authors preset: 1'],
    'each preset its own cells, never pooled',
  );
  const gc = s.shapley.find((x) => x.cell === 'Sorting, paper preset')!.rhoGC.test.interval.estimate;
  assert.match(md, /^# Redundancy/);
  assert.ok(md.includes(`| Sorting, paper preset | 2 | ${gc.toFixed(2)}`), 'the Shapley table comes from the records');
  assert.match(md, /### Sorting, authors preset \(1 seeds\)\n\nThese models' Heroes and Bloats are their records' own/);
  assert.deepEqual(
    s.cells.map((c) => c.classesScoredOtherwise),
    [false, false, true],
  );
  const sets = claims(s, []).filter(
    (c) => c.group.startsWith('joint Bloat') || c.group.startsWith('ablating the Hidden'),
  );
  assert.ok(
    sets.every((c) => c.preset === 'paper preset'),
    'set claims only where the classes were scored as here',
  );
  assert.ok(fs.existsSync(path.join(store, 'rfigs', 'redundancy_pairs.html')));
});

test("top-k overlap, Spearman per run and the task difference's exact permutation test, by hand", () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  assert.equal(topOverlap(ids, { a: 5, b: 4, c: 3, d: 2, e: 1 }, { a: 1, b: 5, c: 4, d: 3, e: 2 }, 2), 0.5); // {a, b} vs {b, c}
  assert.equal(topOverlap(ids, { a: 1, b: 1, c: 1, d: 0, e: 0 }, { a: 0, b: 0, c: 2, d: 1, e: 1 }, 2), 0); // ties by component order: {a, b} vs {c, d}
  // Synthetic records: 3 seeds per task, scores chosen so that rho is 1 on one task and -1 on the other.
  const comps = ['L0.H0', 'L0.MLP', 'L1.H0', 'L1.MLP'];
  const rec = (task: 'reverse' | 'sort', seed: number, flip: boolean): RunRecord =>
    ({
      task,
      seed,
      preset: 'paper',
      config: { analysis: { rankRule: 'average', threshold: 1, inclusive: true, tieDraws: 1 } },
      provenance: {},
      timingsMs: { train: 0, analysis: 3000 },
      analysis: {
        status: 'analysed',
        components: comps,
        timingsMs: { G: 1000 * seed, C: 500 },
        scores: {
          G: Object.fromEntries(comps.map((c, i) => [c, i + seed])),
          C: Object.fromEntries(comps.map((c, i) => [c, flip ? -i : i])),
        },
      },
    }) as unknown as RunRecord;
  const records = [1, 2, 3].flatMap((s) => [rec('reverse', s, false), rec('sort', s, true)]);
  const p = pairStat(records, 'sort', { cheap: 'G', causal: 'C' }, 500);
  for (const r of p.rhos) assert.ok(Math.abs(r + 1) < 1e-12, `rho ${r}`);
  assert.equal(p.rhos[0], spearman([1, 2, 3, 4], [0, -1, -2, -3]));
  assert.equal(p.top2, 0);
  assert.equal(p.heroes + p.bloats, 12, 'every component moves 1 or 3 ranks: all classed at threshold 1');
  const s = measuresStudy(records, { resamples: 500 });
  const gap = s.gaps[0];
  assert.ok(Math.abs(gap.test.observed - 2) < 1e-12);
  assert.equal(gap.test.p, 2 / 20, 'two of the C(6, 3) = 20 splits are as extreme (two-sided)');
  assert.ok(gap.test.exact);
  // 3 seeds against 3: no shift is rejected at 0.05 (the smallest two-sided p is 2/20), so the interval that inverts the test is unbounded.
  assert.deepEqual([gap.interval.lo, gap.interval.hi], [-Infinity, Infinity]);
  assert.deepEqual(
    s.costs.filter((c) => c.measure === 'G').map((c) => c.seconds),
    [2, 2],
  );
  assert.deepEqual(s.totalSeconds, { reverse: 3, sort: 3 });
  const md = measuresReport(s);
  assert.match(md, /of 1 pairs, 0 show a higher mean rho on Reversal at p < 0.05/);
  // The report opens with its answer, from the same numbers: rho 1 on Reversal, -1 on Sorting, p = 0.1 (no difference at 0.05).
  assert.match(
    md,
    /\n\*\*The answer\.\*\* The paper's claim that gradient and causal importance agree less on the complex task \(Sorting\) than on the simple one \(Reversal\) is undecided across the 1 \(cheap, causal\) measure pairs here: 0 agree better on Sorting at p < 0.05, 0 on Reversal, 1 show no difference/,
  );
  assert.match(
    md,
    /The cheap measure that tracks a causal one best is G \(mean rho with C 1\.00 on Reversal, -1\.00 on Sorting\)/,
  );
  assert.ok(md.indexOf('**The answer.**') < md.indexOf('## Conclusions'));
});
