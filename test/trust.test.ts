/**
 * Issue 25: nothing lost on a full disk, nothing trusted by its name. Every writer on a disk that
 * fills up (an injected short write, and a real small tmpfs where this machine lets us mount one),
 * checkpoints checked against the run that reads them, interrupted commands, records checked on
 * read, signals to a sweep, one store for one kind of kernels, locks, the notebook API's checks and
 * the messages the probe found wrong.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyzeModel } from '../src/analysis/pipeline';
import {
  loadCheckpoint,
  readCheckpointHeader,
  saveCheckpoint,
  saveTrainingCheckpoint,
} from '../src/records/checkpoint';
import { ConfigError } from '../src/settings/config';
import { getConfig } from '../src/settings/validate';
import { io, WriteBatch, WriteError, writeFileAtomic } from '../src/io/files';
import { RunLock, RunLockedError, staleReason } from '../src/io/lock';
import { Transformer } from '../src/model/model';
import { notebookSession, trainedRun } from '../src/faces/notebook';
import { recordHash, sealRecord } from '../src/records/record-check';
import { exportFigures } from '../src/report/export';
import { printTables } from '../src/report/frames';
import { allTables } from '../src/report/tables';
import { runOne } from '../src/runner/run';
import { inspectRecord, readRecord, RunConflictError, runPaths, scanRecords } from '../src/records/store';
import { trainRun } from '../src/runner/training';
import { CLI, cli, fakeFinishedCheckpoint, setupBackend, STACK, TINY, TINY_ARGS, tinyCfg, tmp } from './helpers';

test('backend', async () => {
  await setupBackend();
});

const filesIn = (dir: string) => fs.readdirSync(dir).sort();
const bytesOf = (dir: string) =>
  Object.fromEntries(filesIn(dir).map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]));

/**
 * The disk "fills up" after `room` more bytes: a write gets what fits (a short write, as on a
 * nearly full disk), the next one fails with ENOSPC. Returns the function that empties it again.
 */
function fillDisk(room: number): () => void {
  const saved = io.writeSync;
  let left = room;
  io.writeSync = (fd, buf, offset, length) => {
    if (left <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const n = Math.min(length, left);
    left -= n;
    return saved(fd, buf, offset, n);
  };
  return () => void (io.writeSync = saved);
}
function withFullDisk<T>(room: number, fn: () => T): T {
  const empty = fillDisk(room);
  try {
    return fn();
  } finally {
    empty();
  }
}
async function withFullDiskAsync<T>(room: number, fn: () => Promise<T>): Promise<T> {
  const empty = fillDisk(room);
  try {
    return await fn();
  } finally {
    empty();
  }
}
const FULL =
  /could not write .+: the disk is full \(ENOSPC; .*(free there|free space unknown)\), after \d+ of \d+ bytes; the file there before is unchanged/;

/** A tiny trained and analysed store (two sort seeds), made once. */
let storeDir: string | null = null;
async function tinyStore(): Promise<string> {
  if (storeDir) return storeDir;
  const dir = tmp('trust-store');
  for (const seed of [1, 2]) {
    const r = await cli('run', '--results', dir, '--task', 'sort', '--seed', String(seed), ...TINY_ARGS);
    assert.equal(r.code, 0, r.stderr);
  }
  storeDir = dir;
  return dir;
}
const copyStore = async (name: string) => {
  const dir = tmp(name);
  fs.cpSync(await tinyStore(), dir, { recursive: true });
  return dir;
};

// ---------------------------------------------------------------------------------------------
// 1. A full disk: every writer writes whole or not at all, and says so.

test('full disk: an atomic write that comes up short leaves the old file, no temporary file, and an error naming the file and the free space', () => {
  const dir = tmp('full-atomic');
  const file = path.join(dir, 'a.json');
  fs.writeFileSync(file, 'old content');
  assert.throws(
    () => withFullDisk(4096, () => writeFileAtomic(file, 'x'.repeat(8162))),
    (e: Error) => e instanceof WriteError && FULL.test(e.message) && e.message.includes(file),
  );
  assert.equal(fs.readFileSync(file, 'utf8'), 'old content');
  assert.deepEqual(filesIn(dir), ['a.json'], 'no temporary file is left');
  // A write that fits is whole, even when the system writes it in pieces.
  const saved = io.writeSync;
  io.writeSync = (fd, buf, offset, length) => saved(fd, buf, offset, Math.min(length, 1000));
  try {
    writeFileAtomic(file, 'y'.repeat(8162));
  } finally {
    io.writeSync = saved;
  }
  assert.equal(fs.readFileSync(file, 'utf8'), 'y'.repeat(8162));
});

test('full disk: checkpoints and training checkpoints are written whole or not at all', () => {
  const dir = tmp('full-ckpt');
  const cfg = tinyCfg();
  const file = path.join(dir, 'sort_seed1.ckpt');
  fakeFinishedCheckpoint(file, cfg, 'sort', 1);
  const before = fs.readFileSync(file);
  const model = Transformer.init(cfg.model, 7);
  assert.throws(
    () =>
      withFullDisk(2000, () =>
        saveCheckpoint(file, model, cfg, { task: 'sort', seed: 1, preset: 'paper', steps: 1, backend: 'wasm' }),
      ),
    FULL,
  );
  assert.deepEqual(fs.readFileSync(file), before);
  const partial = path.join(dir, 'sort_seed1.partial.ckpt');
  fs.copyFileSync(file, partial);
  const state = {
    step: 3,
    losses: [1, 2, 3],
    evals: [],
    stepMs: 1,
    wallMs: 1,
    dataRng: { seed: 1, stream: 'x', s: [1, 2, 3, 4] },
    evalRng: { seed: 1, stream: 'y', s: [1, 2, 3, 4] },
    adam: null,
  } as never;
  assert.throws(
    () =>
      withFullDisk(100, () =>
        saveTrainingCheckpoint(
          partial,
          model,
          cfg,
          { task: 'sort', seed: 1, preset: 'paper', steps: 3, backend: 'wasm' },
          state,
        ),
      ),
    FULL,
  );
  assert.deepEqual(fs.readFileSync(partial), before);
  assert.deepEqual(filesIn(dir), ['sort_seed1.ckpt', 'sort_seed1.partial.ckpt']);
  model.dispose();
});

test('full disk: a lock is created whole or not at all', () => {
  const dir = tmp('full-lock');
  const file = path.join(dir, 'sort_seed1.lock');
  assert.throws(
    () => withFullDisk(10, () => RunLock.acquire(file)),
    /could not write .*sort_seed1\.lock.*: the disk is full/,
  );
  assert.deepEqual(filesIn(dir), [], 'neither a partial lock nor a temporary file');
  RunLock.acquire(file).release();
});

test('full disk: analyze leaves every results file as it was and exits 1 naming the file; reports and CSVs too', async () => {
  const dir = await copyStore('full-analyze');
  const sub = path.join(dir, 'paper');
  const before = bytesOf(sub);
  const r = await withFullDiskAsync(3000, () =>
    cli('analyze', '--results', dir, '--set', 'analysis.rankRule=average', '--ood-lengths', '3', '--allow-id-lengths'),
  );
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /could not write .*sort_seed1\.json: the disk is full/);
  assert.doesNotMatch(r.stdout, /re-analysed/);
  assert.deepEqual(bytesOf(sub), before, 'no results file changed, no temporary file left');
  // The reproduction report.
  const report = path.join(tmp('full-report'), 'R.md');
  fs.writeFileSync(report, 'the old report');
  const rep = await withFullDiskAsync(8192, () => cli('reproduction', '--results', dir, '--report', report));
  assert.equal(rep.code, 1, rep.stdout);
  assert.match(rep.stderr, /could not write .*R\.md: the disk is full/);
  assert.doesNotMatch(rep.stdout, /wrote/);
  assert.equal(fs.readFileSync(report, 'utf8'), 'the old report');
  assert.deepEqual(filesIn(path.dirname(report)), ['R.md']);
  // Tables' CSVs: all or none.
  const csv = tmp('full-csv');
  const first = await cli('tables', '--results', dir, '--csv', csv);
  assert.equal(first.code, 0, first.stderr);
  const csvBefore = bytesOf(csv);
  const records = scanRecords(dir, 'paper').records.map((x) => ({ ...x, seed: x.seed + 100 }));
  assert.throws(() => withFullDisk(300, () => printTables(allTables(records), csv)), /the disk is full/);
  assert.deepEqual(bytesOf(csv), csvBefore, 'every CSV as it was, no temporary file');
});

test('full disk: a figure export replaces no figure unless all are written', async () => {
  const dir = tmp('full-figs');
  const fig = (t: string) => ({ data: [{ x: [1, 2], y: [3, 4], type: 'scatter' }], layout: { title: { text: t } } });
  await exportFigures({ a: fig('A'), b: fig('B'), c: fig('C') }, dir, { formats: [] });
  const before = bytesOf(dir);
  const html = fs.readFileSync(path.join(dir, 'a.html')).length;
  await assert.rejects(
    withFullDiskAsync(html + 10, () =>
      exportFigures({ a: fig('A2'), b: fig('B2'), c: fig('C2') }, dir, { formats: [] }),
    ),
    /could not write .*b\.html: the disk is full/,
  );
  assert.deepEqual(bytesOf(dir), before);
});

test('a write batch that fails half-way changes none of its files', () => {
  const dir = tmp('batch');
  for (const f of ['a', 'b', 'c']) fs.writeFileSync(path.join(dir, f), `old ${f}`);
  const batch = new WriteBatch().add(path.join(dir, 'a'), 'new a').add(path.join(dir, 'b'), 'new b');
  assert.throws(() => withFullDisk(3, () => batch.add(path.join(dir, 'c'), 'new c')), /could not write/);
  assert.deepEqual(bytesOf(dir), {
    a: Buffer.from('old a').toString('base64'),
    b: Buffer.from('old b').toString('base64'),
    c: Buffer.from('old c').toString('base64'),
  });
  const ok = new WriteBatch().add(path.join(dir, 'a'), 'new a').add(path.join(dir, 'b'), 'new b');
  assert.equal(fs.readFileSync(path.join(dir, 'a'), 'utf8'), 'old a', 'nothing is in place before the commit');
  ok.commit();
  assert.equal(fs.readFileSync(path.join(dir, 'b'), 'utf8'), 'new b');
  assert.deepEqual(filesIn(dir), ['a', 'b', 'c']);
});

test('a real full disk (a 64 KiB tmpfs): analyze and reproduction fail naming the file, and change nothing', async (t) => {
  const mnt = tmp('tmpfs');
  const mounted =
    process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=160k', 'tmpfs', mnt]).status === 0;
  if (!mounted) {
    t.skip('mounting a tmpfs needs root (the injected short writes above cover every writer)');
    return;
  }
  try {
    const dir = path.join(mnt, 'store');
    fs.cpSync(await tinyStore(), dir, { recursive: true, filter: (f) => !f.endsWith('.log') });
    // Fill the rest of the disk but for 6 KiB: less than a results file.
    const sizes = fs.readdirSync(path.join(dir, 'paper')).map((f) => fs.statSync(path.join(dir, 'paper', f)).size);
    assert.ok(Math.min(...sizes.filter((s) => s > 6000)) > 6000);
    const free = () => Number(fs.statfsSync(mnt).bavail) * Number(fs.statfsSync(mnt).bsize);
    fs.writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(Math.max(0, free() - 6 * 1024)));
    const before = bytesOf(path.join(dir, 'paper'));
    const r = await cli(
      'analyze',
      '--results',
      dir,
      '--set',
      'analysis.rankRule=average',
      '--ood-lengths',
      '3',
      '--allow-id-lengths',
    );
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /could not write .*\.json: the disk is full \(ENOSPC; \d.* free there\)/);
    assert.deepEqual(bytesOf(path.join(dir, 'paper')), before);
    const report = path.join(mnt, 'R.md');
    const rep = await cli('reproduction', '--results', dir, '--report', report);
    assert.equal(rep.code, 1);
    assert.match(rep.stderr, /could not write .*R\.md: the disk is full/);
    assert.equal(fs.existsSync(report), false);
    assert.deepEqual(fs.readdirSync(mnt).sort(), ['filler', 'store']);
  } finally {
    spawnSync('umount', [mnt]);
  }
});

// ---------------------------------------------------------------------------------------------
// 2. A checkpoint is checked against the run that reads it, never trusted by its file name.

test('a checkpoint renamed for another seed, task or preset is refused before any work; --replace keeps it aside and retrains', async () => {
  const dir = tmp('ckpt-identity');
  const cfg = tinyCfg();
  const p5 = runPaths(dir, 'paper', 'sort', 5);
  fakeFinishedCheckpoint(p5.checkpoint, cfg, 'sort', 6); // seed 6's model named for seed 5
  let r = await cli('run', '--results', dir, '--task', 'sort', '--seed', '5', ...TINY_ARGS);
  assert.equal(r.code, 2, r.stdout);
  assert.match(
    r.stderr,
    /sort_seed5\.ckpt holds preset paper, task sort, seed 6, not this run \(preset paper, task sort, seed 5\)/,
  );
  assert.equal(fs.existsSync(p5.results), false);
  fakeFinishedCheckpoint(p5.checkpoint, cfg, 'reverse', 5); // a reversal model named for sort
  r = await cli('run', '--results', dir, '--task', 'sort', '--seed', '5', ...TINY_ARGS);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /holds preset paper, task reverse, seed 5, not this run/);
  fakeFinishedCheckpoint(p5.checkpoint, cfg, 'sort', 5, 'authors'); // another preset's
  r = await cli('run', '--results', dir, '--task', 'sort', '--seed', '5', ...TINY_ARGS);
  assert.match(r.stderr, /holds preset authors, task sort, seed 5, not this run/);
  fs.rmSync(p5.checkpoint);
  // A training checkpoint of seed 6 named for seed 5 is not resumed.
  fakeFinishedCheckpoint(p5.partial, cfg, 'sort', 6);
  r = await cli('run', '--results', dir, '--task', 'sort', '--seed', '5', ...TINY_ARGS);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /sort_seed5\.partial\.ckpt holds preset paper, task sort, seed 6/);
  r = await cli('run', '--results', dir, '--task', 'sort', '--seed', '5', '--replace', ...TINY_ARGS);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /sort_seed5\.partial\.ckpt holds .* seed 6.*moved aside to .*rejected/);
  assert.equal(readCheckpointHeader(p5.checkpoint).header.meta.seed, 5);
  assert.equal(
    fs.readdirSync(path.join(dir, 'paper')).filter((f) => f.includes('.partial.ckpt.rejected-')).length,
    1,
    "the other run's file is kept",
  );
  // train: the same checks on its own file names.
  const out = tmp('train-identity');
  fakeFinishedCheckpoint(path.join(out, 'paper', 'sort_seed5.partial.ckpt'), cfg, 'sort', 6);
  const t = await cli('train', '--out', out, '--task', 'sort', '--seed', '5', ...TINY.flatMap((s) => ['--set', s]));
  assert.equal(t.code, 2);
  assert.match(t.stderr, /sort_seed5\.partial\.ckpt holds preset paper, task sort, seed 6/);
});

test("analyze refuses a checkpoint whose model is not its results file's (another size placed over it) and keeps that analysis", async () => {
  const dir = await copyStore('ckpt-size');
  const p = runPaths(dir, 'paper', 'sort', 1);
  const before = fs.readFileSync(p.results);
  fakeFinishedCheckpoint(p.checkpoint, tinyCfg(['model.dModel=32']), 'sort', 1);
  const r = await cli('analyze', '--results', dir, '--ood-lengths', '3', '--allow-id-lengths');
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /sort_seed1\.ckpt: it was trained with other settings than .*sort_seed1\.json \(model\.dModel: 16 in the results file, 32 in the checkpoint\)/,
  );
  assert.deepEqual(fs.readFileSync(p.results), before);
  // A size folder holds models of its size only.
  const sized = tmp('ckpt-sizefolder');
  fakeFinishedCheckpoint(runPaths(path.join(sized, 'l2-d128'), 'paper', 'sort', 1).checkpoint, tinyCfg(), 'sort', 1);
  const s = await cli('analyze', '--results', path.join(sized, 'l2-d128'), '--ood-lengths', '3', '--allow-id-lengths');
  assert.match(s.stderr, /it holds a model of size l1-d16-h2-ff32 but sits in the folder of size l2-d128/);
});

test("a notebook's trainedRun refuses a checkpoint that is not its record's model", async () => {
  const dir = await copyStore('nb-ckpt');
  const p = runPaths(dir, 'paper', 'sort', 1);
  fs.copyFileSync(runPaths(dir, 'paper', 'sort', 2).checkpoint, p.checkpoint);
  const rec = readRecord(p.results)!;
  assert.throws(
    () =>
      trainedRun({
        dir,
        preset: 'paper',
        task: 'sort',
        seed: 1,
        cfg: rec.config,
        oodLengths: [3],
        allowIdLengths: true,
      }),
    /sort_seed1\.ckpt holds preset paper, task sort, seed 2, not this run/,
  );
});

// ---------------------------------------------------------------------------------------------
// 3. Interrupted commands: all or nothing, locks released, mixed stores refused.

/** Starts the CLI as a real process; resolves once `pattern` appears in its output, with the process. */
function startUntil(
  args: string[],
  pattern: RegExp,
): Promise<{ child: ReturnType<typeof spawn>; out: () => string; done: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const done = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      text += d;
      if (pattern.test(text)) resolve({ child, out: () => text, done });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    done.then((c) => reject(new Error(`exited ${c} before ${pattern}: ${text}`)));
  });
}

test('SIGINT during train: exit 130, the state at that step saved, the lock released; the resumed run equals an uninterrupted one bit for bit', async () => {
  // Checks 200 steps apart, so that the signal lands between two of them however fast a step is here (~2 ms with the fused kernels).
  const set = [
    ...TINY.filter((s) => !/^train\.(maxSteps|evalEvery)/.test(s)),
    'train.maxSteps=800',
    'train.evalEvery=200',
    'train.targetAcc=1',
  ].flatMap((s) => ['--set', s]);
  const out = tmp('sigint-train');
  const args = ['train', '--task', 'reverse', '--seed', '3', '--out', out, ...set];
  const p = await startUntil(args, /step 200:/);
  await new Promise((r) => setTimeout(r, 50)); // past the stopping check's own training checkpoint (step 200)
  p.child.kill('SIGINT');
  assert.equal(await p.done, 130, p.out());
  const m = /stopped \(interrupted by SIGINT: training state at step (\d+) saved\); locks released/.exec(p.out());
  assert.ok(m, p.out());
  assert.ok(
    Number(m[1]) > 200 && Number(m[1]) < 800 && Number(m[1]) % 200 !== 0,
    `stopped between two stopping checks: step ${m[1]}`,
  );
  assert.deepEqual(
    filesIn(path.join(out, 'paper')),
    ['reverse_seed3.partial.ckpt'],
    'no lock and no temporary file left',
  );
  assert.equal(
    readCheckpointHeader(path.join(out, 'paper', 'reverse_seed3.partial.ckpt')).header.meta.steps,
    Number(m[1]),
  );
  const again = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`resuming training at step ${m[1]} from`));
  const whole = tmp('sigint-whole');
  const ref = spawnSync(process.execPath, [CLI, 'train', '--task', 'reverse', '--seed', '3', '--out', whole, ...set], {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  assert.equal(ref.status, 0, ref.stderr);
  const [a, b] = [out, whole].map((d) => loadCheckpoint(path.join(d, 'paper', 'reverse_seed3.ckpt')));
  assert.deepEqual(a.meta.training, {
    ...(b.meta.training as object),
    wallMs: (a.meta.training as { wallMs: number }).wallMs,
    msPerStep: (a.meta.training as { msPerStep: number }).msPerStep,
  });
  const [wa, wb] = [a.model.toArrays(), b.model.toArrays()];
  for (const k of Object.keys(wa)) assert.deepEqual(wa[k].data, wb[k].data, k);
  a.model.dispose();
  b.model.dispose();
});

test('SIGINT during analyze: no results file is replaced (the re-analysis is all or nothing), no lock or temporary file is left', async () => {
  const dir = await copyStore('sigint-analyze');
  const sub = path.join(dir, 'paper');
  const before = bytesOf(sub);
  // Slow enough to be caught half-way: many tie draws and large evaluation sets.
  const p = await startUntil(
    [
      'analyze',
      '--results',
      dir,
      '--set',
      'analysis.rankRule=average',
      '--set',
      'analysis.evalSamples=4000',
      '--set',
      'analysis.gradBatches=200',
      '--ood-lengths',
      '3',
      '--allow-id-lengths',
    ],
    /sort_seed2\.ckpt: analysing/,
  );
  p.child.kill('SIGINT');
  assert.equal(await p.done, 130, p.out());
  assert.match(p.out(), /stopped \(interrupted by SIGINT\); locks released/);
  assert.deepEqual(bytesOf(sub), before);
});

test('tables, figures and reproduction refuse a folder whose records were made with different settings, naming them', async () => {
  const dir = await copyStore('mixed');
  const other = await copyStore('mixed-other');
  const r = await cli(
    'analyze',
    '--results',
    other,
    '--set',
    'analysis.rankRule=average',
    '--ood-lengths',
    '3',
    '--allow-id-lengths',
  );
  assert.equal(r.code, 0, r.stderr);
  fs.copyFileSync(runPaths(other, 'paper', 'sort', 2).results, runPaths(dir, 'paper', 'sort', 2).results); // a re-analysis that stopped after one file
  for (const args of [
    ['tables', '--results', dir],
    ['figures', '--results', dir, '--fig-dir', tmp('mixed-figs')],
    ['reproduction', '--results', dir, '--report', path.join(tmp('mixed-rep'), 'R.md')],
  ]) {
    const t = await cli(...args);
    assert.equal(t.code, 2, args.join(' '));
    assert.match(
      t.stderr,
      /mixes records made with different settings \(analysis\.rankRule: "ordinal-random" in 1 records \(sort_seed1\.json\), "average" in 1 \(sort_seed2\.json\)\)/,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// 4. Records are checked on read: shape, ranges, and Eq. 3 recomputed from their own G and C.

test('records that contradict themselves are named and not counted: rho out of range or not a number, G edited in a sealed record, classification missing', async () => {
  const dir = await copyStore('records');
  const file = runPaths(dir, 'paper', 'sort', 1).results;
  const orig = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(typeof orig.sha256, 'string', 'new records are sealed');
  assert.equal(orig.sha256, recordHash(orig));
  const edit = (f: (r: Record<string, any>) => void, reseal = true) => {
    const r = structuredClone(orig);
    f(r);
    if (reseal) r.sha256 = recordHash(r); // a hand edit that even fixes the seal
    fs.writeFileSync(file, JSON.stringify(r));
    return inspectRecord(file);
  };
  const cases: [string, (r: Record<string, any>) => void, RegExp, boolean?][] = [
    ['rho = 5', (r) => (r.analysis.classification.rho = 5), /has rho = 5: Spearman's rho lies in \[-1, 1\]/],
    ['rho = "abc"', (r) => (r.analysis.classification.rho = 'abc'), /has rho = "abc"/],
    [
      'rho = 0.123',
      (r) => (r.analysis.classification.rho = 0.123),
      /has classification\.rho that its own G and C do not give/,
    ],
    [
      'G x 100, seal kept',
      (r) => {
        for (const k of Object.keys(r.analysis.scores.G)) r.analysis.scores.G[k] *= 100;
      },
      /was edited after it was written \(its sha256 seal does not match/,
      false,
    ],
    [
      'a class changed',
      (r) =>
        (r.analysis.classification.classes[0] =
          r.analysis.classification.classes[0] === 'Aligned' ? 'HiddenHero' : 'Aligned'),
      /classification\.classes that its own G and C do not give/,
    ],
    ['no classification', (r) => delete r.analysis.classification, /has no classification/],
    [
      'a component missing',
      (r) => delete r.analysis.scores.C['L0.H1'],
      /has C of L0\.H1 = undefined, not a finite number/,
    ],
    ['negative G', (r) => (r.analysis.scores.G['L0.H0'] = -1), /a gradient norm is never negative/],
    ['accuracy 1.5', (r) => (r.analysis.ood.accuracies['3'] = 1.5), /OOD accuracy 1\.5 at length 3, outside \[0, 1\]/],
    [
      'seed 1.5',
      (r) => (r.seed = 1.5),
      /holds seed 1\.5 but is named for seed 1|seed 1\.5, not a non-negative integer/,
    ],
    ['lr = -1', (r) => (r.config.train.lr = -1), /holds an invalid configuration \(config train\.lr: got -1/],
  ];
  for (const [what, f, pattern, reseal] of cases) {
    const c = edit(f, reseal ?? true);
    assert.equal(c.status, 'bad', what);
    assert.match((c as { reason: string }).reason, pattern, what);
  }
  // tables names the file and does not crash on a record without its classification.
  edit((r) => delete r.analysis.classification);
  const t = await cli('tables', '--results', dir);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /not counted: .*sort_seed1\.json has no classification/);
  assert.match(t.stdout, /1 results for preset paper/);
  // An unsealed record (written before seals) is still counted when it is consistent.
  const { sha256: _, ...unsealed } = orig;
  fs.writeFileSync(file, JSON.stringify(unsealed));
  assert.equal(inspectRecord(file).status, 'ok');
  // Every committed record passes (they were made before seals: recomputed Eq. 3 equals theirs).
  const root = path.join(__dirname, '..', '..', 'results');
  const all = ['paper', 'authors'].flatMap((p) => scanRecords(root, p).rejected);
  assert.deepEqual(all, []);
});

// ---------------------------------------------------------------------------------------------
// 5. Signals to a sweep reach its workers.

test('SIGTERM to a sweep with workers stops every worker cleanly and releases their locks; the next sweep resumes', async () => {
  const dir = tmp('sweep-term');
  const set = [
    ...TINY.filter((s) => !/^train\.(maxSteps|evalEvery)/.test(s)),
    'train.maxSteps=3000',
    'train.evalEvery=50',
    'train.targetAcc=1',
  ].flatMap((s) => ['--set', s]);
  const args = [
    'sweep',
    '--results',
    dir,
    '--tasks',
    'sort',
    '--seeds',
    '1,2',
    '--workers',
    '2',
    '--ood-lengths',
    '3',
    '--allow-id-lengths',
    ...set,
  ];
  const p = await startUntil(args, /2 worker\(s\)/);
  // Wait until both workers train (their logs say so), then stop the sweep.
  const logs = [1, 2].map((s) => runPaths(dir, 'paper', 'sort', s).log);
  for (let i = 0; i < 600 && !logs.every((l) => fs.existsSync(l) && /step 50\b/.test(fs.readFileSync(l, 'utf8'))); i++)
    await new Promise((r) => setTimeout(r, 50));
  p.child.kill('SIGTERM');
  assert.equal(await p.done, 143, p.out());
  assert.match(p.out(), /SIGTERM: stopping 2 worker\(s\) and waiting for them/);
  const left = filesIn(path.join(dir, 'paper'));
  assert.deepEqual(
    left.filter((f) => f.endsWith('.lock') || f.includes('.tmp-')),
    [],
    left.join(' '),
  );
  assert.equal(left.filter((f) => f.endsWith('.partial.ckpt')).length, 2, 'each worker saved its training state');
  const pids = spawnSync('pgrep', ['-f', `--results ${dir}`], { encoding: 'utf8' }).stdout.trim();
  assert.equal(pids, '', 'no worker is left running');
  const again = spawnSync(
    process.execPath,
    [CLI, 'sweep', '--results', dir, '--tasks', 'sort', '--seeds', '1,2', '--list', ...set],
    { encoding: 'utf8' },
  );
  assert.doesNotMatch(again.stdout, /in progress/);
  assert.match(again.stdout, /partly done/);
});

// ---------------------------------------------------------------------------------------------
// 6. One store, one kind of kernels.

test("a results folder holds one kind of kernels: a run on another backend's, or into a folder of the retired native family, is refused before any work", async () => {
  const dir = tmp('kernels');
  const cfg = tinyCfg();
  const run = (d: string, seed: number) =>
    runOne({ dir: d, preset: 'paper', task: 'sort', seed, cfg, oodLengths: [3], allowIdLengths: true });
  run(dir, 1);
  const made = readRecord(runPaths(dir, 'paper', 'sort', 1).results)!;
  assert.equal(made.provenance.kernels, 'stock');
  const now = made.provenance.backend === 'wasm' ? 'wasm stock' : made.provenance.backend;
  /** A folder holding seed 1's record as if made on `prov`. */
  const folderOf = (name: string, prov: Record<string, unknown>) => {
    const d = tmp(name);
    fs.mkdirSync(path.join(d, 'paper'));
    const rec = JSON.parse(fs.readFileSync(runPaths(dir, 'paper', 'sort', 1).results, 'utf8'));
    Object.assign(rec.provenance, prov);
    fs.writeFileSync(runPaths(d, 'paper', 'sort', 1).results, JSON.stringify(sealRecord(rec)));
    return d;
  };
  // The native kernel family retired in issue 42, with and without its fused kernels: no setting makes this version run it.
  for (const [label, prov] of [
    ['wasm native\\+fused', { backend: 'wasm', kernels: 'native', fused: ['LayerNorm', 'GELU', 'Adam'] }],
    ['wasm native', { backend: 'wasm', kernels: 'native', fused: null }],
  ] as const) {
    const d = folderOf('kernels-retired', prov);
    assert.throws(
      () => run(d, 2),
      (e: Error) =>
        e instanceof RunConflictError &&
        new RegExp(
          `holds work made on ${label} \\(sort_seed1\\.json\\), and this process runs on ${now}: .*the native kernel family was retired in issue 42 and this version does not run it: use another --results folder$`,
        ).test(e.message),
    );
    assert.deepEqual(filesIn(path.join(d, 'paper')), ['sort_seed1.json'], 'no lock, no work left');
  }
  // Another backend's work: the fix names it.
  const other = made.provenance.backend === 'cpu' ? 'wasm' : 'cpu';
  const otherLabel = other === 'wasm' ? 'wasm stock' : 'cpu';
  assert.throws(
    () => run(folderOf('kernels-backend', { backend: other }), 2),
    new RegExp(
      `holds work made on ${otherLabel} \\(sort_seed1\\.json\\), and this process runs on ${now}: .*use another --results folder, or run on ${otherLabel} \\(GCG_BACKEND=${other}\\)`,
    ),
  );
  // The same for a sweep, before any run starts; --mix-kernels is gone.
  const retired = folderOf('kernels-sweep', { kernels: 'native', backend: 'wasm' });
  const s = await cli('sweep', '--results', retired, '--tasks', 'sort', '--seeds', '3', ...TINY_ARGS);
  assert.equal(s.code, 2);
  assert.match(s.stderr, /holds work made on wasm native .*retired in issue 42/);
  const mix = await cli(
    'sweep',
    '--results',
    retired,
    '--mix-kernels',
    '--tasks',
    'sort',
    '--seeds',
    '3',
    ...TINY_ARGS,
  );
  assert.equal(mix.code, 2);
  assert.match(mix.stderr, /--mix-kernels/);
  assert.deepEqual(filesIn(path.join(retired, 'paper')), ['sort_seed1.json'], 'no work started');
  // A sweep over sizes keeps its whole store on one kind: a size folder it does not write to counts too (a study's report reads them all).
  const store = tmp('kernels-sizes');
  fs.mkdirSync(path.join(store, 'l2-d128', 'paper'), { recursive: true });
  fs.copyFileSync(
    runPaths(retired, 'paper', 'sort', 1).results,
    runPaths(path.join(store, 'l2-d128'), 'paper', 'sort', 1).results,
  );
  const sizes = await cli(
    'sweep',
    '--results',
    store,
    '--sizes',
    'l4-d64',
    '--tasks',
    'sort',
    '--seeds',
    '3',
    ...TINY.filter((x) => !x.startsWith('model.')).flatMap((x) => ['--set', x]),
    '--ood-lengths',
    '3',
    '--allow-id-lengths',
  );
  assert.equal(sizes.code, 2, sizes.stdout + sizes.stderr);
  assert.match(sizes.stderr, /l2-d128.paper holds work made on wasm native \(sort_seed1\.json\)/);
  const l4 = path.join(store, 'l4-d64', 'paper');
  assert.deepEqual(fs.existsSync(l4) ? filesIn(l4) : [], [], 'no work started');
});

// ---------------------------------------------------------------------------------------------
// 7. Locks: the reader's own staleness setting; a lock's content is not trusted.

test("locks: the taker's --lock-stale decides; garbage or extreme staleMs in a lock changes nothing; a folder in its place is named", () => {
  const dir = tmp('locks');
  const file = path.join(dir, 'sort_seed1.lock');
  const holder = (staleMs: unknown) =>
    JSON.stringify({ host: 'another-host', pid: 4242, startedAt: 'x', heartbeatMs: 30000, staleMs });
  const age = (minutes: number) => {
    const t = new Date(Date.now() - minutes * 60_000);
    fs.utimesSync(file, t, t);
  };
  fs.writeFileSync(file, holder(600_000));
  age(2);
  assert.throws(
    () => RunLock.acquire(file),
    RunLockedError,
    'a 2-minute-old lock is live under the default 10 minutes',
  );
  const taken = RunLock.acquire(file, { staleMinutes: 1 });
  taken.release();
  for (const bad of [1e15, 'abc', -1]) {
    fs.writeFileSync(file, holder(bad));
    age(11);
    assert.ok(staleReason(file), `staleMs ${bad}: stale after the reader's 10 minutes`);
    age(2);
    assert.equal(staleReason(file), null, `staleMs ${bad}: live within the reader's 10 minutes`);
  }
  fs.writeFileSync(file, 'garbage');
  age(2);
  assert.throws(() => RunLock.acquire(file), RunLockedError, 'an unreadable lock is left alone while it is fresh');
  age(11);
  assert.match(staleReason(file)!, /an unreadable lock file, untouched for 11\.0 min \(limit 10 min\)/);
  RunLock.acquire(file).release();
  fs.mkdirSync(file);
  assert.throws(
    () => RunLock.acquire(file),
    /sort_seed1\.lock is a folder, where a run's lock file belongs: move it away/,
  );
});

// ---------------------------------------------------------------------------------------------
// 8. The notebook API checks what the command line checks.

test('the notebook API refuses what the command line refuses: seeds, a config edited after getConfig, analysis options, measure names', async () => {
  for (const seed of [-1, 1.5, 'abc', NaN, 2 ** 40]) {
    await assert.rejects(
      notebookSession({ preset: 'paper', task: 'sort', seed: seed as number }),
      (e: Error) =>
        e instanceof ConfigError && /seed: got .*; allowed: an integer in \[0, 4294967295\]/.test(e.message),
      String(seed),
    );
  }
  await assert.rejects(
    notebookSession({ preset: 'paper', task: 'sorting' as never, seed: 1 }),
    /task: unknown task "sorting"/,
  );
  const cfg = tinyCfg();
  cfg.train.lr = -1; // edited after validation
  assert.throws(
    () => trainRun({ task: 'sort', seed: 1, cfg }),
    /config train\.lr: got -1; allowed: a number in \(0, 10\]/,
  );
  const cfg2 = tinyCfg();
  (cfg2.train as unknown as Record<string, unknown>).batchSize = '64';
  assert.throws(
    () => trainRun({ task: 'sort', seed: 1, cfg: cfg2 }),
    /config train\.batchSize: got "64"; allowed: an integer/,
  );
  assert.throws(
    () => trainRun({ task: 'sort', seed: 1, cfg: { model: { nLayers: 2 } } as never }),
    /config model\.nHeads: got undefined|config data: missing/,
  );
  const model = Transformer.init(tinyCfg().model, 1);
  const a = tinyCfg().analysis;
  assert.throws(
    () => analyzeModel({ model, task: 'sort', seed: 1, cfg: a, oodLengths: [0] }),
    /oodLengths: got "0"; allowed: comma-separated integers in \[1, 99\]/,
  );
  assert.throws(
    () => analyzeModel({ model, task: 'sort', seed: 1, cfg: { ...a, accLow: 'x' as never } }),
    /config analysis\.accLow: got "x"/,
  );
  assert.throws(
    () => analyzeModel({ model, task: 'sort', seed: 1, cfg: { ...a, evalSamples: -5 } }),
    /config analysis\.evalSamples: got -5/,
  );
  model.dispose();
  assert.throws(
    () => getConfig('paper', { analysis: { measures: ['nope'] } }),
    /config analysis\.measures: unknown measure "nope"; registered: G, /,
  );
});

// ---------------------------------------------------------------------------------------------
// 9. Messages and limits.

test('messages: a flag missing its value, a file that is no checkpoint, a looping folder, memory of large vocabularies and models', async () => {
  let r = await cli('train', '--seed', '--out', 'X');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--seed: needs a value \(it is followed by "--out", another option\)/);
  r = await cli('run', '--replace=3');
  assert.match(r.stderr, /--replace: takes no value/);
  r = await cli('analyze', '--checkpoint', path.join(__dirname, '..', '..', 'README.md'));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--checkpoint: .*README\.md: is not a gradient-causal-gap checkpoint/);
  const loop = tmp('loop');
  fs.symlinkSync('paper', path.join(loop, 'paper')); // paper -> paper
  for (const args of [
    ['tables', '--results', loop],
    ['run', '--results', loop, ...TINY_ARGS],
    ['sweep', '--results', loop, '--seeds', '1', ...TINY_ARGS],
  ]) {
    r = await cli(...args);
    assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /--results: (".*paper" cannot be read \(a symbolic link that loops\)|cannot write to ".*paper" \(a symbolic link in the path loops\))/,
      args[0],
    );
    assert.doesNotMatch(r.stderr, STACK);
  }
  assert.throws(
    () => getConfig('paper', { model: { vocabSize: 65536 }, train: { batchSize: 128 } }),
    /config train\.batchSize: 128 sequences .* \(model\.vocabSize=65536 alone takes 8\.0 GiB of it\); allowed: .*train\.batchSize <= 40 .*a smaller model\.vocabSize/,
  );
  assert.doesNotThrow(() =>
    getConfig('paper', { model: { vocabSize: 65536 }, train: { batchSize: 40 }, analysis: { gradBatchSize: 26 } }),
  );
  assert.throws(
    () => getConfig('paper', { model: { dModel: 4096, nHeads: 1, nLayers: 1 } }),
    /config analysis\.gradBatchSize: .*every trained model carries the analysis settings .*allowed: .*analysis\.gradBatchSize <= 54 for this model \(set it along with the model\)/,
  );
  assert.throws(
    () => getConfig('paper', { model: { dModel: 4096 } }),
    /config model\.dModel: a model of 4 layers, d_model 4096/,
  );
});

test('gcg verify checks a whole store as the readers do, and --seal seals a record written before seals to the same bytes a sealed write gives', async () => {
  const dir = await copyStore('verify');
  let r = await cli('verify', '--results', dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /verified 2 results files and 2 checkpoints in 1 folders under .*: 0 problem\(s\)$/);
  const file = runPaths(dir, 'paper', 'sort', 1).results;
  const sealed = fs.readFileSync(file, 'utf8');
  const { sha256: _, ...unsealed } = JSON.parse(sealed);
  fs.writeFileSync(file, JSON.stringify(unsealed, null, 1));
  r = await cli('verify', '--results', dir);
  assert.match(r.stdout, /0 problem\(s\); 1 valid records carry no seal \(--seal adds it\)/);
  r = await cli('verify', '--results', dir, '--seal');
  assert.match(r.stdout, /sealed 1 records/);
  assert.equal(fs.readFileSync(file, 'utf8'), sealed);
  fs.copyFileSync(runPaths(dir, 'paper', 'sort', 2).checkpoint, runPaths(dir, 'paper', 'sort', 1).checkpoint);
  r = await cli('verify', '--results', dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /PROBLEM: .*sort_seed1\.ckpt: holds preset paper, task sort, seed 2, not this run/);
});
