/**
 * Seeds trained stacked by the runner (src/runner/run-batch.ts) as a user starts them: `sweep
 * --seeds-per-job` in one process and with workers, `--index` over batches, and `run --seeds`
 * killed mid-training and restarted. Every record equals the one of a plain sweep (curves, stopping
 * checks, the whole analysis), says it was trained stacked, and a second sweep redoes nothing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadCheckpoint } from '../src/records/checkpoint';
import { readRecord, runPaths } from '../src/records/store';
import { RunRecord } from '../src/records/format';
import { RunLock } from '../src/io/lock';
import { runBatch } from '../src/runner/run-batch';
import { CLI, killWhenExists, setupBackend, TINY_ARGS, tinyCfg, tmp } from './helpers';

const env = { ...process.env, CI: 'true' };
const gcg = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
const GRID = ['--tasks', 'sort,reverse', '--seeds', '1,2,3', ...TINY_ARGS];

/** A record without what differs between two processes (times, provenance, the seal) and without the batch note. */
function comparable(r: RunRecord) {
  const { losses, evals, steps, stopReason, finalAcc } = r.training;
  return {
    losses,
    evals,
    steps,
    stopReason,
    finalAcc,
    config: r.config,
    analysis: { ...r.analysis, timingsMs: undefined },
  };
}

const RUNS = [
  ['sort', 1],
  ['sort', 2],
  ['sort', 3],
  ['reverse', 1],
  ['reverse', 2],
  ['reverse', 3],
] as const;

test('sweep --seeds-per-job: the same records as one run per job, in one process, with workers and by --index', async () => {
  await setupBackend();
  const plain = tmp('plain');
  assert.equal(gcg('sweep', '--results', plain, ...GRID).status, 0);
  const stacked = tmp('stacked');
  const s = gcg('sweep', '--results', stacked, '--seeds-per-job', '2', ...GRID);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /up to 2 seeds trained stacked per job/);
  assert.match(s.stdout, /sort seeds 1, 2: training stacked \(2 models in one pass\)/);
  const workers = tmp('workers');
  assert.equal(gcg('sweep', '--results', workers, '--seeds-per-job', '3', '--workers', '2', ...GRID).status, 0);
  assert.ok(fs.existsSync(path.join(workers, 'paper', 'reverse_seeds1_2_3.log')), "a batch's worker writes one log");
  const byIndex = tmp('index');
  const list = gcg('sweep', '--results', byIndex, '--seeds-per-job', '2', '--list', ...GRID);
  assert.match(list.stdout, /^4 jobs of up to 2 seeds trained stacked \(6 runs\); a Slurm array: sbatch --array=0-3/m);
  for (const i of ['0', '1', '2', '3'])
    assert.equal(gcg('sweep', '--results', byIndex, '--seeds-per-job', '2', '--index', i, ...GRID).status, 0);
  const bad = gcg('sweep', '--results', byIndex, '--seeds-per-job', '2', '--index', '4', ...GRID);
  assert.match(
    bad.stderr,
    /--index: got 4; allowed: an integer in \[0, 3\] \(this grid has 4 jobs: batches of up to 2 seeds of one size and task/,
  );
  assert.match(
    gcg('sweep', '--results', byIndex, '--seeds-per-job', '0', ...GRID).stderr,
    /--seeds-per-job: got "0"; allowed: one integer in \[1, 1000\]/,
  );

  for (const [task, seed] of RUNS) {
    const want = readRecord(runPaths(plain, 'paper', task, seed).results)!;
    assert.equal(want.training.batched, undefined);
    for (const dir of [stacked, workers, byIndex]) {
      const got = readRecord(runPaths(dir, 'paper', task, seed).results);
      assert.ok(got, `${dir} ${task} ${seed}`);
      assert.deepEqual(comparable(got), comparable(want), `${task} seed ${seed} in ${path.basename(dir)}`);
    }
  }
  assert.deepEqual(readRecord(runPaths(stacked, 'paper', 'sort', 2).results)!.training.batched, { seeds: [1, 2] });
  assert.equal(
    readRecord(runPaths(stacked, 'paper', 'sort', 3).results)!.training.batched,
    undefined,
    'a batch of one trains alone',
  );
  assert.deepEqual(readRecord(runPaths(workers, 'paper', 'reverse', 3).results)!.training.batched, {
    seeds: [1, 2, 3],
  });
  const again = gcg('sweep', '--results', stacked, '--seeds-per-job', '2', ...GRID);
  assert.match(again.stdout, /6 already finished, 0 to do/);
});

test('run --seeds killed (SIGKILL) mid-training resumes every seed from its training checkpoint, bit for bit', async () => {
  const set = [
    ...TINY_ARGS.filter(
      (s, i, a) => !/^train\.(maxSteps|evalEvery)=/.test(s) && !/^train\.(maxSteps|evalEvery)=/.test(a[i + 1] ?? ''),
    ),
    '--set',
    'train.maxSteps=400',
    '--set',
    'train.evalEvery=10',
    '--set',
    'train.targetAcc=1',
  ];
  const killed = tmp('seeds-kill');
  const args = [CLI, 'run', '--task', 'reverse', '--seeds', '4,5', '--results', killed, ...set];
  const partial = path.join(killed, 'paper', 'reverse_seed5.partial.ckpt');
  const child = spawn(process.execPath, args, { stdio: 'ignore', env });
  await killWhenExists(child, partial);
  assert.equal(fs.existsSync(path.join(killed, 'paper', 'reverse_seed4.ckpt')), false, 'killed before the end');
  const again = spawnSync(process.execPath, args, { encoding: 'utf8', env });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /reverse seed 5: resuming training at step \d+ from/);
  const whole = tmp('seeds-whole');
  assert.equal(
    spawnSync(process.execPath, [CLI, 'run', '--task', 'reverse', '--seeds', '4,5', '--results', whole, ...set], {
      encoding: 'utf8',
      env,
    }).status,
    0,
  );
  for (const seed of [4, 5]) {
    const [a, b] = [killed, whole].map((d) => readRecord(runPaths(d, 'paper', 'reverse', seed).results)!);
    assert.deepEqual(a.training.losses, b.training.losses, `seed ${seed} losses`);
    assert.equal(a.training.losses.length, 400);
    assert.equal(
      fs.existsSync(runPaths(killed, 'paper', 'reverse', seed).partial),
      false,
      'the training checkpoint is removed when done',
    );
    const [ma, mb] = [killed, whole].map((d) => loadCheckpoint(runPaths(d, 'paper', 'reverse', seed).checkpoint).model);
    const wa = ma.toArrays();
    const wb = mb.toArrays();
    for (const k of Object.keys(wa)) assert.deepEqual(wa[k].data, wb[k].data, `seed ${seed} ${k}`);
    ma.dispose();
    mb.dispose();
  }
});

test('sweep --seeds-per-job with workers: a worker with no batch left analyses the later seeds of a running batch from their checkpoints, each run reported once', async () => {
  const grid = ['--tasks', 'sort', '--seeds', '1,2,3,4', ...TINY_ARGS, '--set', 'analysis.gradBatches=1200']; // analyses of seconds each: the idle worker starts before the batch reaches its last seed
  const one = tmp('steal-one');
  assert.equal(gcg('sweep', '--results', one, '--seeds-per-job', '4', ...grid).status, 0);
  const two = tmp('steal-two');
  const r = gcg('sweep', '--results', two, '--seeds-per-job', '4', '--workers', '2', ...grid);
  assert.equal(r.status, 0, r.stderr);
  const seeds = [1, 2, 3, 4];
  // A seed the idle worker took has a log of its own: it analysed it from its checkpoint, or found
  // it finished or held (the batch's process got there while the worker's process was starting).
  const ownLog = seeds.filter((s) => fs.existsSync(runPaths(two, 'paper', 'sort', s).log));
  const logOf = (s: number) => fs.readFileSync(runPaths(two, 'paper', 'sort', s).log, 'utf8');
  for (const s of ownLog)
    assert.match(
      logOf(s),
      new RegExp(
        `sort seed ${s}: reusing trained checkpoint|already finished: .*sort_seed${s}\\.json|sort_seed${s}\\.lock is held by .*in progress elsewhere`,
      ),
    );
  const analysed = ownLog.filter((s) => /reusing trained checkpoint/.test(logOf(s)));
  assert.ok(
    analysed.length >= 1 && !analysed.includes(1),
    `the idle worker analysed the batch's later seeds (${analysed.join(', ') || 'none'})`,
  );
  for (const s of seeds) {
    assert.equal(
      r.stdout.split('\n').filter((l) => new RegExp(`^\\[\\d/4\\] sort seed ${s} `).test(l)).length,
      1,
      `seed ${s} reported once:\n${r.stdout}`,
    );
    const got = readRecord(runPaths(two, 'paper', 'sort', s).results)!;
    assert.deepEqual(comparable(got), comparable(readRecord(runPaths(one, 'paper', 'sort', s).results)!), `seed ${s}`);
    assert.deepEqual(got.training.batched, { seeds });
  }
});

test('a stacked batch reads back a seed another process finished after the training, and leaves one it holds to it, analysing neither', async () => {
  await setupBackend();
  const plain = tmp('batch-plain');
  assert.equal(gcg('sweep', '--results', plain, '--tasks', 'sort', '--seeds', '2', ...TINY_ARGS).status, 0);
  const dir = tmp('batch-shared');
  const at = (s: number) => runPaths(dir, 'paper', 'sort', s);
  let held: RunLock | null = null;
  const lines: string[] = [];
  const log = (l: string) => {
    lines.push(l);
    if (l !== 'sort seed 1: analysing') return;
    // Meanwhile another process finishes seed 2 from its checkpoint and takes seed 3.
    fs.copyFileSync(runPaths(plain, 'paper', 'sort', 2).results, at(2).results);
    held = RunLock.acquire(at(3).lock);
  };
  const [one, two, three] = runBatch({
    dir,
    preset: 'paper',
    task: 'sort',
    cfg: tinyCfg(),
    seeds: [1, 2, 3],
    oodLengths: [3],
    allowIdLengths: true,
    log,
  });
  try {
    assert.ok(one.record && !one.skipped);
    assert.ok(two.skipped);
    assert.deepEqual(two.record, readRecord(runPaths(plain, 'paper', 'sort', 2).results));
    assert.match(three.elsewhere ?? '', new RegExp(`pid ${process.pid}`));
    assert.ok(held, "the log reached seed 1's analysis");
    assert.deepEqual(
      lines.filter((l) => / analysing$/.test(l)),
      ['sort seed 1: analysing'],
    );
    assert.ok(
      fs.existsSync(at(3).checkpoint) && !fs.existsSync(at(3).results),
      "seed 3's checkpoint is left for the process that holds it",
    );
  } finally {
    (held as RunLock | null)?.release();
  }
});
