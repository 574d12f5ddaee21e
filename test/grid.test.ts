/**
 * Sweeps over model sizes and Slurm job arrays without Slurm: the index -> (size, task, seed)
 * mapping, the size settings, `sweep --list` and `--index` through the CLI, the array script run
 * as Slurm would run it, and two array tasks on one run at once (the per-run lock decides).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { getConfig } from '../src/settings/validate';
import { parseOverrides } from '../src/settings/rules';
import { RunLock } from '../src/io/lock';
import { readRecord, runPaths } from '../src/records/store';
import { componentCount, MODEL_SIZES, sizedSettings, sizeOf, sizeOverrides, SIZES } from '../src/settings/sizes';
import { sweepJob, sweepJobs } from '../src/runner/sweep';

const root = path.join(__dirname, '..', '..');
const CLI = path.join(__dirname, '..', 'src', 'cli.js');
/** Tiny data and analysis on the sizes' real models (2 layers, d_model 128): a run takes seconds. */
const SMALL = [
  'data.minLen=2',
  'data.maxLen=3',
  'train.maxSteps=20',
  'train.evalEvery=10',
  'train.batchSize=16',
  'train.evalSamples=32',
  'analysis.gradBatches=1',
  'analysis.gradBatchSize=16',
  'analysis.meanBatches=1',
  'analysis.evalSamples=32',
  'analysis.oodPickSamples=32',
  'analysis.idSamples=16',
  'analysis.idLength=3',
  'analysis.tieDraws=10',
  'analysis.accLow=0',
  'analysis.accHigh=1',
  'analysis.variants=false',
  'analysis.redraws=0',
];
const gridArgs = (dir: string) => [
  '--results',
  dir,
  '--sizes',
  'l2-d128,l4-d64',
  '--tasks',
  'reverse,copy',
  '--seeds',
  '7,8,9',
  '--ood-lengths',
  '3',
  '--allow-id-lengths',
  ...SMALL.flatMap((s) => ['--set', s]),
];
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true', ...env } });

test('the grid: index = (size, task, seed) with sizes outermost and seeds innermost; each size its own folder and model', () => {
  const jobs = sweepJobs({
    dir: 'R',
    preset: 'paper',
    tasks: ['reverse', 'copy'],
    seeds: [7, 8, 9],
    sizes: ['l2-d128', 'l4-d64'],
    overrides: ['train.lr=0.002'],
  });
  assert.equal(jobs.length, 12);
  const hand = [];
  for (const size of ['l2-d128', 'l4-d64'])
    for (const task of ['reverse', 'copy']) for (const seed of [7, 8, 9]) hand.push(`${size} ${task} ${seed}`);
  assert.deepEqual(
    jobs.map((j) => `${j.size} ${j.task} ${j.seed}`),
    hand,
  );
  assert.deepEqual(
    jobs.map((j) => j.index),
    [...Array(12).keys()],
  );
  const j = sweepJob(jobs, 10); // 10 = 1 * 6 + 1 * 3 + 1: second size, second task, second seed
  assert.deepEqual([j.size, j.task, j.seed, j.dir], ['l4-d64', 'copy', 8, path.join('R', 'l4-d64')]);
  assert.equal(j.cfg.model.dModel, 64);
  assert.equal(j.cfg.model.dFF, 256);
  assert.equal(j.cfg.model.nLayers, 4);
  assert.equal(j.cfg.train.lr, 0.002, "the user's other settings apply to every size");
  assert.equal(jobs[0].cfg.model.nLayers, 2);
  assert.deepEqual(j.overrides, [
    'train.lr=0.002',
    'model.nLayers=4',
    'model.nHeads=4',
    'model.dModel=64',
    'model.dFF=256',
  ]);
  assert.throws(() => sweepJob(jobs, 12), /--index: got 12; allowed: an integer in \[0, 11\] \(this grid has 12 jobs/);
  assert.throws(() => sweepJob(jobs, -1), /--index: got -1/);
  // Without sizes: the settings' own model, into the folder itself.
  const plain = sweepJobs({ dir: 'R', preset: 'paper', tasks: ['sort'], seeds: [1, 2] });
  assert.deepEqual(
    plain.map((x) => [x.index, x.size, x.dir, x.seed]),
    [
      [0, null, 'R', 1],
      [1, null, 'R', 2],
    ],
  );
  assert.deepEqual(plain[0].cfg, getConfig('paper'));
  // A notebook's object and the command line's assignments are one sweep: the same jobs, the same worker settings.
  const asObject = sweepJobs({
    dir: 'R',
    preset: 'paper',
    tasks: ['reverse', 'copy'],
    seeds: [7, 8, 9],
    sizes: ['l2-d128', 'l4-d64'],
    overrides: { train: { lr: 0.002 } },
  });
  assert.deepEqual(
    asObject.map((x) => x.cfg),
    jobs.map((x) => x.cfg),
  );
  assert.deepEqual(asObject[10].overrides, ['model.dModel=64', 'model.dFF=256', 'train.lr=0.002']);
  assert.deepEqual(
    getConfig('paper', parseOverrides(asObject[10].overrides)),
    j.cfg,
    "a worker given the job's assignments resolves the same configuration",
  );
  // Sweeps take overrides only: a configuration beside them could disagree with what workers run.
  assert.throws(
    () => sweepJobs({ dir: 'R', preset: 'paper', tasks: ['sort'], seeds: [1], cfg: getConfig('paper') } as never),
    /sweep: takes overrides only/,
  );
  assert.throws(
    () =>
      sweepJobs({
        dir: 'R',
        preset: 'paper',
        tasks: ['sort'],
        seeds: [1],
        sizes: ['l2-d128'],
        overrides: { model: { nLayers: 3 } },
      }),
    /config model.nLayers: the size l2-d128 sets/,
  );
});

test('sizes: the paper model is l4-d128; --set may not also set the size; a record names its size from its configuration', () => {
  const paper = getConfig('paper').model;
  assert.equal(sizeOf(paper), 'l4-d128');
  assert.deepEqual(MODEL_SIZES['l4-d128'], {
    nLayers: paper.nLayers,
    nHeads: paper.nHeads,
    dModel: paper.dModel,
    dFF: paper.dFF,
  });
  for (const s of SIZES) {
    assert.match(s, /^[a-z0-9-]+$/, 'a size is a folder name');
    const m = MODEL_SIZES[s];
    assert.equal(sizeOf(m), s);
    assert.equal(m.dFF, 4 * m.dModel);
    assert.equal(new RegExp(`^l${m.nLayers}-d${m.dModel}$`).test(s), true, `${s} names its depth and width`);
  }
  assert.equal(sizeOf({ nLayers: 3, nHeads: 2, dModel: 32, dFF: 64 }), 'l3-d32-h2-ff64');
  assert.equal(sizeOf({ ...paper, dFF: 511 }), 'l4-d128-h4-ff511', 'every size setting must match');
  assert.deepEqual(sizeOverrides('l6-d128'), [
    'model.nLayers=6',
    'model.nHeads=4',
    'model.dModel=128',
    'model.dFF=512',
  ]);
  assert.throws(
    () => sizedSettings(['train.lr=0.1', 'model.dFF=64'], 'l2-d128'),
    /--set model.dFF=64: --sizes sets model.nLayers, model.nHeads, model.dModel, model.dFF/,
  );
  assert.deepEqual(sizedSettings(['model.positions=learned'], 'l2-d128').slice(0, 2), [
    'model.positions=learned',
    'model.nLayers=2',
  ]);
  assert.equal(componentCount(paper), 20);
  assert.equal(componentCount(MODEL_SIZES['l6-d128']), 30);
});

test('sweep --list numbers the jobs; --index runs exactly that job into <results>/<size>/<preset>/; bad input is refused first', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-grid-'));
  const list = cli(['sweep', ...gridArgs(dir), '--list']);
  assert.equal(list.status, 0, list.stderr);
  const lines = list.stdout.trim().split('\n');
  assert.match(lines[0], /^12 jobs .*sbatch --array=0-11 scripts\/slurm\/sweep.sbatch/);
  assert.match(lines[2 + 4], /^ +4 +l2-d128 +copy +8 +to do$/);
  assert.equal(fs.readdirSync(dir).length, 0, '--list does no work');

  const r = cli(['sweep', ...gridArgs(dir), '--index', '10']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /job 10 of 12 \(l4-d64 copy seed 8\)/);
  const rec = readRecord(runPaths(path.join(dir, 'l4-d64'), 'paper', 'copy', 8).results);
  assert.ok(rec, 'the job wrote its record');
  assert.equal(rec.config.model.dModel, 64);
  assert.equal(rec.analysis.components.length, 20);
  assert.deepEqual(fs.readdirSync(dir), ['l4-d64'], 'no other job ran');
  assert.deepEqual(
    fs.readdirSync(path.join(dir, 'l4-d64', 'paper')).filter((f) => f.endsWith('.json')),
    ['copy_seed8.json'],
  );
  const again = cli(['sweep', ...gridArgs(dir), '--list']);
  assert.match(again.stdout.split('\n')[2 + 10], /^ +10 +l4-d64 +copy +8 +finished$/);
  const rerun = cli(['sweep', ...gridArgs(dir), '--index', '10']);
  assert.match(rerun.stdout, /1 already finished, 0 to do/);

  for (const [args, message] of [
    [['--index', '12'], /--index: got 12; allowed: an integer in \[0, 11\]/],
    [['--index', 'x'], /--index: got "x"; allowed: one integer/],
    [['--index', '1', '--workers', '2'], /--workers: got 2 with --index/],
    [['--sizes', 'huge', '--list'], /--sizes: unknown size "huge"; allowed: l2-d128/],
    [['--set', 'model.nLayers=3', '--index', '0'], /--set model.nLayers=3: --sizes sets/],
  ] as const) {
    const bad = cli(['sweep', ...gridArgs(dir), ...args]);
    assert.equal(bad.status, 2, `${args.join(' ')}: ${bad.stdout}${bad.stderr}`);
    assert.match(bad.stderr, message);
  }
  assert.equal(fs.existsSync(path.join(dir, 'l2-d128')), false, 'refused input did no work');
  fs.rmSync(dir, { recursive: true, force: true });
});

test("the Slurm array script runs its array task's job; two tasks on one run at once: the lock lets one work, the other leaves it", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-slurm-'));
  const script = path.join(root, 'scripts', 'slurm', 'sweep.sbatch');
  const env = { ...process.env, CI: 'true', SLURM_SUBMIT_DIR: root, SLURM_ARRAY_JOB_ID: '77' };
  // Without an array task id the script refuses, naming what to do.
  const none = spawnSync('bash', [script, ...gridArgs(dir)], {
    encoding: 'utf8',
    env: { ...env, SLURM_ARRAY_TASK_ID: '' },
  });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /SLURM_ARRAY_TASK_ID is not set: submit with sbatch --array/);

  // A run held by a live process (this one): the array task leaves it, exits 0, writes nothing.
  const held = runPaths(path.join(dir, 'l2-d128'), 'paper', 'reverse', 8);
  fs.mkdirSync(path.dirname(held.lock), { recursive: true });
  const lock = RunLock.acquire(held.lock);
  const left = spawnSync('bash', [script, ...gridArgs(dir)], {
    encoding: 'utf8',
    env: { ...env, SLURM_ARRAY_TASK_ID: '1' },
  });
  lock.release();
  assert.equal(left.status, 0, left.stderr);
  assert.match(left.stdout, /array task 1 of job 77/);
  assert.match(left.stdout, /l2-d128 reverse seed 8 in progress elsewhere \(host .*pid \d+/);
  assert.equal(fs.existsSync(held.results), false);

  // Two array tasks with the same index at once (a resubmitted array overlapping the first).
  const start = () =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('bash', [script, ...gridArgs(dir)], { env: { ...env, SLURM_ARRAY_TASK_ID: '1' } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ code, out }));
    });
  const both = await Promise.all([start(), start()]);
  assert.deepEqual(
    both.map((b) => b.code),
    [0, 0],
    both.map((b) => b.out).join('\n---\n'),
  );
  const trained = both.filter((b) => /reverse seed 8: training/.test(b.out)).length;
  assert.equal(trained, 1, `exactly one task trained the run:\n${both.map((b) => b.out).join('\n---\n')}`);
  assert.ok(
    both.some((b) => /in progress elsewhere|already finished|finished by another process/.test(b.out)),
    'the other left it to the first',
  );
  const rec = readRecord(held.results);
  assert.ok(rec && rec.config.model.nLayers === 2 && rec.seed === 8);
  fs.rmSync(dir, { recursive: true, force: true });
});
