/**
 * Sweeps as a user runs them: a real child process killed mid-sweep and restarted completes with
 * every results file valid and finished runs untouched; worker processes give the same results as
 * one process.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadRecords, readRecord, runPaths } from '../src/records/store';

const CLI = path.join(__dirname, '..', 'src', 'cli.js');
const TINY = [
  'model.nLayers=1',
  'model.nHeads=2',
  'model.dModel=16',
  'model.dFF=32',
  'data.minLen=2',
  'data.maxLen=3',
  'train.maxSteps=60',
  'train.evalEvery=30',
  'train.batchSize=16',
  'train.evalSamples=32',
  'analysis.gradBatches=2',
  'analysis.gradBatchSize=16',
  'analysis.meanBatches=2',
  'analysis.evalSamples=64',
  'analysis.oodPickSamples=64',
  'analysis.idSamples=64',
  'analysis.idLength=3',
  'analysis.tieDraws=50',
  'analysis.accLow=0',
  'analysis.accHigh=1',
].flatMap((s) => ['--set', s]);
const sweepArgs = (dir: string, extra: string[]) => [
  CLI,
  'sweep',
  '--results',
  dir,
  '--ood-lengths',
  '3,4',
  '--allow-id-lengths',
  ...TINY,
  ...extra,
];
/**
 * A tiny configuration that learns enough for a real analysis: 2 layers, d_model 32, learned
 * positions, sequences of 2-3 digits, 300 steps. Its "OOD" candidates are 2 and 3 (the first with
 * accuracy >= 5%): a tiny model trained this briefly does not generalise to longer sequences.
 */
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
].flatMap((s) => ['--set', s]);

test('a sweep killed mid-run (SIGKILL) and restarted completes with every results file valid', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-sweep-'));
  const args = [
    CLI,
    'sweep',
    '--results',
    dir,
    '--ood-lengths',
    '2,3',
    '--allow-id-lengths',
    ...LEARNING,
    '--tasks',
    'sort,reverse',
    '--seeds',
    '1,2',
  ];
  const first = runPaths(dir, 'paper', 'sort', 1).results;
  const child = spawn(process.execPath, args, { stdio: 'ignore', env: { ...process.env, CI: 'true' } });
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (fs.existsSync(first)) {
        clearInterval(poll);
        child.kill('SIGKILL');
        resolve();
      } else if (Date.now() - started > 120_000) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error('first run never finished'));
      }
    }, 20);
  });
  await new Promise((r) => child.on('close', r));
  assert.ok(readRecord(first), 'the finished run is valid');
  const others = [
    ['sort', 2],
    ['reverse', 1],
    ['reverse', 2],
  ] as const;
  assert.ok(
    others.some(([t, s]) => !readRecord(runPaths(dir, 'paper', t, s).results)),
    'killed before the sweep finished',
  );
  const firstMtime = fs.statSync(first).mtimeMs;
  const again = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /4 runs, \d already finished/);
  assert.equal(fs.statSync(first).mtimeMs, firstMtime, 'a finished run is not redone');
  const recs = loadRecords(dir, 'paper');
  assert.deepEqual(
    recs.map((r) => `${r.task}:${r.seed}`),
    ['reverse:1', 'reverse:2', 'sort:1', 'sort:2'],
  );
  for (const r of recs) {
    assert.equal(r.analysis.status, 'analysed');
    assert.equal(r.training.steps, 300);
    assert.equal(Object.keys(r.analysis.scores.G).length, 6);
    assert.ok(['tensorflow', 'wasm', 'cpu'].includes(r.provenance.backend));
  }
  assert.deepEqual(
    fs.readdirSync(path.join(dir, 'paper')).filter((f) => f.includes('.tmp-')),
    [],
    'no temporary files left',
  );

  // The tables it prints, from this tiny sweep (2 seeds, both tasks, every run analysed).
  const csvDir = path.join(dir, 'csv');
  const t = spawnSync(process.execPath, [CLI, 'tables', '--results', dir, '--csv', csvDir], { encoding: 'utf8' });
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /Table 1: gradient-causal alignment/);
  const csv = fs
    .readFileSync(path.join(csvDir, 'table1.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const col = (name: string) => csv[0].indexOf(name);
  for (const [label, task] of [
    ['Reversal', 'reverse'],
    ['Sorting', 'sort'],
  ] as const) {
    const row = csv.find((r) => r[0] === label)!;
    const rhos = recs.filter((r) => r.task === task).map((r) => r.analysis.classification!.rho);
    const finite = rhos.filter((x) => x !== null && Number.isFinite(x)) as number[];
    assert.equal(Number(row[col('seeds')]), 2, label);
    assert.ok(finite.length > 0, `${label}: at least one run with a defined rho`);
    assert.ok(
      Math.abs(Number(row[col('rhoMean')]) - finite.reduce((a, b) => a + b, 0) / finite.length) < 1e-3,
      `${label} mean rho`,
    );
    const heroes = recs
      .filter((r) => r.task === task)
      .reduce((a, r) => a + r.analysis.classification!.counts.heroes, 0);
    assert.equal(Number(row[col('heroes')]), heroes, `${label} heroes`);
  }
  // Re-running with another configuration into the same folder is refused, and nothing is overwritten.
  const other = spawnSync(
    process.execPath,
    args.map((a) => (a === 'train.maxSteps=300' ? 'train.maxSteps=200' : a)),
    { encoding: 'utf8', env: { ...process.env, CI: 'true' } },
  );
  assert.equal(other.status, 2);
  assert.match(other.stderr, /different configuration \(differs in train\.maxSteps: 300 there, 200 asked\)/);
  assert.equal(fs.statSync(first).mtimeMs, firstMtime);
  // Re-analysis of the trained models (no retraining) under another analysis setting rewrites the results.
  const re = spawnSync(
    process.execPath,
    [
      CLI,
      'analyze',
      '--results',
      dir,
      '--ood-lengths',
      '2,3',
      '--allow-id-lengths',
      '--set',
      'analysis.rankRule=average',
    ],
    { encoding: 'utf8', env: { ...process.env, CI: 'true' } },
  );
  assert.equal(re.status, 0, re.stderr);
  assert.match(re.stdout, /re-analysed 4 runs/);
  const after = loadRecords(dir, 'paper');
  after.forEach((r, i) => {
    assert.equal(r.config.analysis.rankRule, 'average');
    assert.equal(r.analysis.classification!.classFreq, undefined, 'average ranks have no draws');
    assert.deepEqual(r.analysis.scores.G, recs[i].analysis.scores.G, 'same model, same G');
    assert.deepEqual(r.training, recs[i].training);
  });
  const bad = spawnSync(process.execPath, [CLI, 'analyze', '--results', dir, '--set', 'model.nLayers=1'], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /analyze changes only analysis\.\* settings/);
  for (const k of [2, 3, 4, 5, 6])
    assert.ok(fs.existsSync(path.join(csvDir, `table${k}.csv`)) || k === 3, `table${k}.csv`);
});

test('two worker processes give the same results as one process', () => {
  const one = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-sweep1-'));
  const two = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-sweep2-'));
  for (const [dir, workers] of [
    [one, '1'],
    [two, '2'],
  ]) {
    const r = spawnSync(process.execPath, sweepArgs(dir, ['--tasks', 'sort', '--seeds', '3,4', '--workers', workers]), {
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
    });
    assert.equal(r.status, 0, r.stderr);
  }
  const strip = (dir: string) =>
    loadRecords(dir).map((r) => ({
      seed: r.seed,
      losses: r.training.losses,
      ood: r.analysis.ood,
      scores: r.analysis.scores,
      cls: r.analysis.classification,
      pruning: r.analysis.pruning,
    }));
  assert.deepEqual(strip(two), strip(one));
  assert.equal(strip(one).length, 2);
  // Each worker's output is kept beside its results.
  const log = fs.readFileSync(path.join(two, 'paper', 'sort_seed3.log'), 'utf8');
  assert.match(log, /sort seed 3: training/);
  assert.match(log, /sort seed 3: analysing/);
});
