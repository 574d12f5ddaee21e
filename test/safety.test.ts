/**
 * Issue 14: no silent data loss, every bad input named, runs that never collide. A table of bad
 * inputs (CLI and configuration objects), one test per data-loss path, two sweeps sharing one
 * folder, and stale locks and temporary files.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadCheckpoint } from '../src/records/checkpoint';
import { ConfigError, DeepPartial, ExperimentConfig, PAPER_SEEDS } from '../src/settings/config';
import { getConfig } from '../src/settings/validate';
import { cleanStaleTemps, tempName } from '../src/io/files';
import { RunLock, RunLockedError } from '../src/io/lock';
import { reproductionReport } from '../src/studies/paper/report';
import { loadReproductionInput } from '../src/studies/paper/load';
import { inspectRecord, readRecord, runPaths, scanRecords } from '../src/records/store';
import {
  CLI,
  cli,
  fakeFinishedCheckpoint,
  killWhenExists,
  setupBackend,
  STACK,
  TINY,
  TINY_ARGS,
  tinyCfg,
  tmp,
} from './helpers';

const ROOT = path.join(__dirname, '..', '..');
const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('backend', async () => {
  await setupBackend();
});

// ---------------------------------------------------------------------------------------------
// Bad input: every case exits non-zero before any work, names the flag or setting and what is
// allowed, and prints no stack trace.

const BAD_CLI: [string[], RegExp][] = [
  [['fly'], /unknown command "fly"; allowed: train, demo/],
  [['train', 'extra', 'words'], /train: unexpected words "extra" "words"/],
  [['run', 'now'], /run: unexpected word "now"/],
  [['train', '--task', 'sorting'], /task: unknown task "sorting"; allowed: reverse, sort/],
  [['train', '--task', ''], /task: unknown task ""; allowed/],
  [['train', '--preset', 'author'], /preset: unknown preset "author"; allowed: paper, authors/],
  [['train', '--seed', 'abc'], /--seed: got "abc"; allowed: an integer in \[0, 4294967295\]/],
  [['train', '--seed', '-3'], /--seed: got "-3"; allowed: an integer in \[0, 4294967295\]/],
  [['train', '--seed', '1.5'], /--seed: got "1.5"; allowed/],
  [['train', '--seed', '4294967296'], /seed: got 4294967296; allowed: an integer in \[0, 4294967295\]/],
  [['train', '--seed'], /--seed: needs a value/],
  [['train', '--foo', '1'], /--foo: unknown option; train takes: --task, --seed/],
  [['train', '--workers', '2'], /--workers: not an option of train; train takes/],
  [['tables', '--replace'], /--replace: not an option of tables/],
  [['train', '--set', 'model.nLayers=0'], /config model\.nLayers: got "0"; allowed: an integer in \[1, 64\]/],
  [['train', '--set', 'model.nLayers=0x2'], /config model\.nLayers: got "0x2"; allowed: an integer/],
  [['train', '--set', 'model.nLayers=1e0'], /config model\.nLayers: got "1e0"; allowed: an integer/],
  [['train', '--set', 'model.nLayers=abc'], /config model\.nLayers: got "abc"; allowed/],
  [['train', '--set', 'model.nLayers=NaN'], /config model\.nLayers: got "NaN"; allowed/],
  [['train', '--set', 'model.nLayers=Infinity'], /config model\.nLayers: got "Infinity"; allowed/],
  [['train', '--set', 'model.nLayers='], /config model\.nLayers: got ""; allowed/],
  [['train', '--set', 'model.nLayers=2=3'], /config model\.nLayers: got "2=3"; allowed/],
  [['train', '--set', 'model.nLayers=2.5'], /config model\.nLayers: got "2\.5"; allowed: an integer/],
  [['train', '--set', 'train.lr=0'], /config train\.lr: got "0"; allowed: a number in \(0, 10\]/],
  [['train', '--set', 'train.lr=fast'], /config train\.lr: got "fast"; allowed: a number/],
  [['train', '--set', 'train.lr=0x10'], /config train\.lr: got "0x10"; allowed: a number/],
  [['train', '--set', 'train.targetAcc=0'], /config train\.targetAcc: got "0"; allowed: a number in \(0, 1\]/],
  [['train', '--set', 'train.targetAcc=1.5'], /config train\.targetAcc: got "1\.5"; allowed/],
  [['train', '--set', 'train.speed=2'], /config train\.speed: unknown key; allowed keys: model\.nLayers/],
  [['train', '--set', 'nLayers=2'], /config nLayers: unknown key/],
  [['train', '--set', 'model.nLayers'], /--set "model\.nLayers": expected key=value/],
  [['train', '--set', '=2'], /--set "=2": expected key=value/],
  [
    ['train', '--set', 'model.positions=sinusoidal'],
    /config model\.positions: got "sinusoidal"; allowed: one of "none", "learned"/,
  ],
  [['train', '--set', 'analysis.paired=yes'], /config analysis\.paired: got "yes"; allowed: true or false/],
  [
    ['train', '--set', 'model.dModel=130'],
    /config model\.dModel: 130 is not divisible by model\.nHeads=4; allowed: a multiple/,
  ],
  [
    ['train', '--set', 'data.minLen=8'],
    /config data\.maxLen: 7 is below data\.minLen=8; allowed: an integer >= data\.minLen/,
  ],
  [
    ['train', '--set', 'analysis.accLow=0', '--set', 'analysis.accHigh=0'],
    /config analysis\.accHigh: 0 is not above analysis\.accLow=0.*allowed: a number > analysis\.accLow/,
  ],
  [['train', '--set', 'analysis.accLow=0.8'], /config analysis\.accHigh: 0\.75 is not above analysis\.accLow=0\.8/],
  [
    ['train', '--set', 'train.stopLength=50'],
    /config train\.stopLength: got "50"; allowed: an integer in \[0, 99\]|config train\.stopLength: 50 is outside the training lengths/,
  ],
  [
    ['train', '--set', 'train.stopLength=9'],
    /config train\.stopLength: 9 is outside the training lengths data\.minLen\.\.data\.maxLen = 3\.\.7; allowed: 0 .* or an integer in \[3, 7\]/,
  ],
  [
    ['train', '--set', 'analysis.idLength=50'],
    /config analysis\.idLength: 50 is outside the training lengths .*allowed: an integer in \[3, 7\]/,
  ],
  [['train', '--set', 'analysis.idLength=2'], /config analysis\.idLength: 2 is outside the training lengths/],
  [
    ['train', '--set', 'model.positions=learned', '--set', 'data.maxLen=20'],
    /config model\.maxPositions: 24 rows cannot hold the 42 tokens.*allowed: an integer >= 42/,
  ],
  [
    ['train', '--set', 'model.positions=learned', '--set', 'model.maxPositions=10'],
    /config model\.maxPositions: 10 rows cannot hold the 24 tokens/,
  ],
  [
    ['train', '--set', 'train.batchSize=65536'],
    /config train\.batchSize: 65536 sequences .* need about .* GiB per training step.*allowed: at most 3 GiB: train\.batchSize <= \d+/,
  ],
  [['train', '--set', 'train.batchSize=2000'], /config train\.batchSize: 2000 sequences/],
  [
    ['train', '--set', 'analysis.gradBatchSize=4000'],
    /config analysis\.gradBatchSize: 4000 sequences .*allowed: at most 3 GiB: analysis\.gradBatchSize <= \d+/,
  ],
  [
    ['train', '--set', 'analysis.evalSamples=1000000'],
    /config analysis\.evalSamples: 1000000 sequences need about .* allowed: .*analysis\.evalSamples <= \d+/,
  ],
  [
    ['train', '--set', 'model.dModel=4096', '--set', 'model.dFF=16384'],
    /config model\.dModel: a model of 4 layers, d_model 4096, d_ff 16384 needs about .* GiB.*allowed: a model within/,
  ],
  [['sweep', '--workers', '2,5'], /--workers: got "2,5"; allowed: one integer in \[1, 64\]/],
  [['sweep', '--workers', '-1'], /--workers: got "-1"; allowed: one integer in \[1, 64\]/],
  [['sweep', '--workers', '0'], /--workers: got "0"; allowed: one integer in \[1, 64\]/],
  [['sweep', '--workers', 'many'], /--workers: got "many"/],
  [['sweep', '--seeds', '1,x'], /--seeds: got "1,x"; allowed: comma-separated integers/],
  [['sweep', '--seeds', '1,1'], /--seeds: got "1,1", which repeats a value/],
  [['sweep', '--seeds', '-5'], /--seeds: got "-5"; allowed/],
  [
    ['sweep', '--tasks', 'sort,copying'],
    /task: unknown task "copying"; allowed: reverse, sort, copy, runmax, histogram/,
  ],
  [['sweep', '--tasks', 'sort,sort'], /--tasks: got "sort,sort", which repeats a task/],
  [['sweep', '--sizes', 'huge'], /--sizes: unknown size "huge"; allowed: l2-d128, l4-d128/],
  [['sweep', '--sizes', 'l2-d128,l2-d128'], /--sizes: got "l2-d128,l2-d128", which repeats a size/],
  [['sweep', '--sizes', 'l2-d128', '--set', 'model.dModel=64'], /--set model.dModel=64: --sizes sets model.nLayers/],
  [['sweep', '--index', '-1'], /--index: got "-1"; allowed: one integer/],
  [['sweep', '--index', '20'], /--index: got 20; allowed: an integer in \[0, 19\] \(this grid has 20 jobs/],
  [['sweep', '--index', '3', '--workers', '2'], /--workers: got 2 with --index, which runs one job/],
  [['complexity-report', '--results', '/nonexistent-gcg'], /--results: "\/nonexistent-gcg" does not exist/],
  [
    ['run', '--ood-lengths', '3,4'],
    /--ood-lengths: got "3,4", but 3, 4 are not longer than the training lengths .* allowed: integers > 7 .*--allow-id-lengths/,
  ],
  [['run', '--ood-lengths', '8,8'], /--ood-lengths: got "8,8", which repeats a value/],
  [['run', '--ood-lengths', '0'], /--ood-lengths: got "0"; allowed: comma-separated integers in \[1, 99\]/],
  [['run', '--ood-lengths', 'eight'], /--ood-lengths: got "eight"/],
  [
    ['run', '--set', 'data.maxLen=9'],
    /--ood-lengths: got the default 8,9,10,11, but 8, 9 are not longer than the training lengths/,
  ],
  [
    ['run', '--set', 'model.positions=learned', '--ood-lengths', '12'],
    /--ood-lengths: got "12", but 12 need more than model\.maxPositions=24/,
  ],
  [['run', '--lock-stale', '-5'], /--lock-stale: got "-5"; allowed: minutes, a number in \(0, 10080\]/],
  [['run', '--lock-stale', 'never'], /--lock-stale: got "never"/],
  [
    ['tables', '--results', '/nonexistent-dir'],
    /--results: "\/nonexistent-dir" does not exist; allowed: a results folder/,
  ],
  [['figures', '--results', '/nonexistent-dir'], /--results: "\/nonexistent-dir" does not exist/],
  [
    ['reproduction', '--results', '/nonexistent-dir', '--report', path.join(os.tmpdir(), 'gcg-never.md')],
    /--results: "\/nonexistent-dir" does not exist/,
  ],
  [['analyze', '--results', '/nonexistent-dir'], /--results: "\/nonexistent-dir" does not exist/],
  [
    ['analyze', '--checkpoint', '/nonexistent.ckpt'],
    /--checkpoint: "\/nonexistent\.ckpt" does not exist; allowed: a \.ckpt file/,
  ],
  [['analyze', '--set', 'model.nLayers=1'], /analyze changes only analysis\.\* settings/],
  [
    ['train', '--out', '/proc/nope'],
    /--out: cannot write to "\/proc\/nope" \(.*\); allowed: a folder that can be created and written/,
  ],
  [
    ['train', '--out', '/etc/passwd/x'],
    /--out: cannot write to "\/etc\/passwd\/x" \(a part of the path is a file, not a folder\)/,
  ],
  [['run', '--results', '/proc/nope'], /--results: cannot write to "\/proc\/nope"/],
  [['reproduction', '--report', '/proc/nope/x.md'], /--report: cannot write to "\/proc\/nope"/],
  [['reproduction', '--report', os.tmpdir()], /--report: ".*" is a folder; allowed: a file path/],
  [['tables', '--csv', '/proc/nope/csv'], /--csv: cannot write to "\/proc\/nope\/csv"/],
  [['figures', '--fig-dir', '/proc/nope'], /--fig-dir: cannot write to "\/proc\/nope"/],
  [['config', '--set', 'model.nHeads=0'], /config model\.nHeads: got "0"; allowed: an integer in \[1, 64\]/],
];

test(`${BAD_CLI.length} bad command lines: non-zero exit, the flag or setting named with what is allowed, no stack trace, no work`, async () => {
  assert.ok(BAD_CLI.length >= 60);
  for (const [args, pattern] of BAD_CLI) {
    const r = await cli(...args);
    const what = `${args.join(' ')} -> exit ${r.code}\n${r.stderr}`;
    assert.equal(r.code, 2, what);
    assert.match(r.stderr, pattern, what);
    assert.match(r.stderr, /^error: /, what);
    assert.doesNotMatch(r.stderr, STACK, what);
    assert.doesNotMatch(r.stdout, /backend=/, `${what}\nno work started`);
  }
  assert.equal(fs.existsSync('/proc/nope'), false);
});

test('bad command lines in a real process: exit status 2, one line, no stack trace', () => {
  for (const args of [
    ['train', '--seed', '-3'],
    ['train', '--set', 'model.nLayers=abc'],
    ['reproduction', '--results', '/nonexistent-dir', '--report', '/proc/nope/x.md'],
  ]) {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, CI: 'true' },
    });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, STACK);
  }
});

const BAD_OBJECTS: [DeepPartial<ExperimentConfig> | Record<string, unknown>, RegExp][] = [
  [{ model: { nLayers: NaN } }, /config model\.nLayers: got NaN; allowed: an integer in \[1, 64\]/],
  [{ model: { nLayers: Infinity } }, /config model\.nLayers: got Infinity; allowed/],
  [{ model: { nLayers: '2' } }, /config model\.nLayers: got "2"; allowed: an integer/],
  [{ model: { nLayers: 2.5 } }, /config model\.nLayers: got 2\.5; allowed: an integer/],
  [{ model: { nLayers: null } }, /config model\.nLayers: got null; allowed/],
  [{ model: { layers: 2 } }, /config model\.layers: unknown key/],
  [{ modle: { nLayers: 2 } }, /config modle: unknown section; allowed: model, data, train, analysis/],
  [{ model: 2 }, /config model: expected an object of settings, got 2/],
  [{ train: { targetAcc: 0 } }, /config train\.targetAcc: got 0; allowed: a number in \(0, 1\]/],
  [
    { train: { stopLength: 50 } },
    /config train\.stopLength: got 50; allowed: an integer in \[0, 99\]|config train\.stopLength: 50 is outside/,
  ],
  [{ train: { stopLength: 2 } }, /config train\.stopLength: 2 is outside the training lengths/],
  [{ analysis: { idLength: 50 } }, /config analysis\.idLength: 50 is outside the training lengths/],
  [{ analysis: { accLow: 0, accHigh: 0 } }, /config analysis\.accHigh: 0 is not above analysis\.accLow=0/],
  [{ analysis: { accLow: 0.5, accHigh: 0.4 } }, /config analysis\.accHigh: 0\.4 is not above analysis\.accLow=0\.5/],
  [
    { model: { positions: 'learned' }, data: { maxLen: 20 } },
    /config model\.maxPositions: 24 rows cannot hold the 42 tokens/,
  ],
  [{ train: { batchSize: 65536 } }, /config train\.batchSize: 65536 sequences/],
  [{ analysis: { paired: 'true' } }, /config analysis\.paired: got "true"; allowed: true or false/],
  [
    { analysis: { rankRule: 'dense' } },
    /config analysis\.rankRule: got "dense"; allowed: one of "average", "ordinal-random", "ordinal-order"/,
  ],
];

test(`${BAD_OBJECTS.length} bad configuration objects (a notebook cell's): the same errors as the CLI`, () => {
  for (const [over, pattern] of BAD_OBJECTS) {
    assert.throws(
      () => getConfig('paper', over as DeepPartial<ExperimentConfig>),
      (e: Error) => e instanceof ConfigError && pattern.test(e.message),
      JSON.stringify(over),
    );
  }
  assert.throws(() => getConfig('author'), /preset: unknown preset "author"; allowed: paper, authors/);
  // The boundaries of the cross-field rules are allowed.
  assert.doesNotThrow(() =>
    getConfig('paper', { train: { stopLength: 7 }, analysis: { idLength: 3, accLow: 0.5, accHigh: 0.5000001 } }),
  );
  assert.doesNotThrow(() => getConfig('paper', { model: { positions: 'learned', maxPositions: 24 } }));
  assert.doesNotThrow(() => getConfig('paper', { train: { batchSize: 557 } }));
  assert.throws(() => getConfig('paper', { train: { batchSize: 558 } }), /train\.batchSize <= 557/);
});

// ---------------------------------------------------------------------------------------------
// Data loss, one test per path.

test('a finished checkpoint without results is not replaced by a run with other training settings unless --replace', async () => {
  const dir = tmp('ckpt-conflict');
  const paths = runPaths(dir, 'paper', 'sort', 7);
  fakeFinishedCheckpoint(paths.checkpoint, tinyCfg(['train.maxSteps=600']), 'sort', 7);
  const before = sha(paths.checkpoint);
  const r = await cli('run', '--task', 'sort', '--seed', '7', '--results', dir, ...TINY_ARGS);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /sort_seed7\.ckpt holds a model trained with other settings \(differs in train\.maxSteps: 600 there, 20 asked\); use another --results folder, or add --replace/,
  );
  assert.doesNotMatch(r.stdout, /backend=/, 'refused before any work');
  assert.equal(sha(paths.checkpoint), before);
  // The same for a training checkpoint (a run stopped mid-training), and for train --out.
  fs.renameSync(paths.checkpoint, paths.partial);
  const p = await cli('run', '--task', 'sort', '--seed', '7', '--results', dir, ...TINY_ARGS);
  assert.equal(p.code, 2);
  assert.match(p.stderr, /sort_seed7\.partial\.ckpt holds a model trained with other settings/);
  const out = tmp('train-conflict');
  fakeFinishedCheckpoint(path.join(out, 'paper', 'sort_seed7.ckpt'), tinyCfg(['train.maxSteps=600']), 'sort', 7);
  const t = await cli('train', '--task', 'sort', '--seed', '7', '--out', out, ...TINY.flatMap((s) => ['--set', s]));
  assert.equal(t.code, 2);
  assert.match(
    t.stderr,
    /sort_seed7\.ckpt holds a model trained with other settings .*use another --out folder, or add --replace/,
  );
  // --replace: the user asked for it.
  const ok = await cli('run', '--task', 'sort', '--seed', '7', '--results', dir, ...TINY_ARGS, '--replace');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /replacing a training checkpoint made with other settings/);
  assert.equal(readRecord(paths.results)!.training.steps, 20);
});

test('tables, figures and reproduction refuse a folder that does not exist or holds no finished run, and leave the report alone', async () => {
  const report = path.join(tmp('report'), 'R.md');
  fs.writeFileSync(report, 'the report\n');
  const empty = tmp('empty-results');
  for (const args of [
    ['reproduction', '--results', '/nonexistent-dir', '--report', report],
    ['reproduction', '--results', empty, '--report', report],
  ]) {
    const r = await cli(...args);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--results: /);
  }
  assert.equal(fs.readFileSync(report, 'utf8'), 'the report\n');
  for (const cmd of ['tables', 'figures']) {
    const s = await cli(
      ...(cmd === 'tables'
        ? ['tables', '--results', empty]
        : ['figures', '--results', empty, '--fig-dir', path.join(empty, 'f')]),
    );
    assert.equal(s.code, 2);
    assert.match(s.stderr, /--results: ".*" holds no finished run of preset paper/);
  }
});

test('the results store checks every file against its name and folder: damaged, copied and misplaced files are named and never counted', async () => {
  const dir = tmp('store');
  // The paper's 10 seeds a task (the store holds more: scripts/more-seeds.sh), so the counts below are fixed.
  fs.mkdirSync(path.join(dir, 'paper'), { recursive: true });
  for (const t of ['reverse', 'sort'])
    for (const seed of PAPER_SEEDS)
      fs.copyFileSync(
        path.join(ROOT, 'results', 'paper', `${t}_seed${seed}.json`),
        path.join(dir, 'paper', `${t}_seed${seed}.json`),
      );
  const p = (f: string) => path.join(dir, 'paper', f);
  const text = fs.readFileSync(p('reverse_seed123.json'), 'utf8');
  fs.writeFileSync(p('reverse_seed123.json'), text.slice(0, text.length / 2)); // truncated
  fs.writeFileSync(p('sort_seed123.json'), ''); // empty
  fs.copyFileSync(p('reverse_seed42.json'), p('reverse_seed999.json')); // copied under another seed
  fs.copyFileSync(path.join(ROOT, 'results', 'authors', 'sort_seed42.json'), p('sort_seed42.json')); // another preset's file
  const { records, rejected } = scanRecords(dir, 'paper');
  assert.equal(records.length, 17);
  assert.equal(records.filter((r) => r.task === 'reverse').length, 9, 'reverse 42 counts once, 123 not at all');
  const why = Object.fromEntries(rejected.map((r) => [path.basename(r.file), r.reason]));
  assert.deepEqual(Object.keys(why).sort(), [
    'reverse_seed123.json',
    'reverse_seed999.json',
    'sort_seed123.json',
    'sort_seed42.json',
  ]);
  assert.match(why['reverse_seed123.json'], /is not valid JSON \(truncated or edited\)/);
  assert.match(why['sort_seed123.json'], /is empty/);
  assert.match(why['reverse_seed999.json'], /holds seed 42 but is named for seed 999/);
  assert.match(why['sort_seed42.json'], /holds a run of preset "authors" but sits in the folder of preset "paper"/);
  // Named in a warning by the CLI, and in the report's provenance.
  const t = await cli('tables', '--results', dir);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /warning: not counted: .*reverse_seed999\.json holds seed 42 but is named for seed 999/);
  assert.match(t.stdout, /17 results for preset paper/);
  const input = loadReproductionInput(dir, undefined, dir);
  const md = reproductionReport({ ...input, resamples: 50 });
  assert.match(md, /\*\*Files not counted \(4\):\*\*/);
  assert.match(md, /- `paper\/reverse_seed999\.json` holds seed 42 but is named for seed 999/);
});

test('a sweep treats a mismatched results file as not done: the run is redone and the bad file kept aside', async () => {
  const dir = tmp('sweep-bad');
  const args = ['sweep', '--results', dir, '--tasks', 'sort', ...TINY_ARGS];
  assert.equal((await cli(...args, '--seeds', '3')).code, 0);
  const good = runPaths(dir, 'paper', 'sort', 3).results;
  const bad = runPaths(dir, 'paper', 'sort', 9).results;
  fs.copyFileSync(good, bad);
  const copied = sha(bad);
  assert.equal(inspectRecord(bad).status, 'bad');
  const r = await cli(...args, '--seeds', '3,9');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 runs, 1 already finished, 1 to do/);
  assert.match(
    r.stdout,
    /sort_seed9\.json holds seed 3 but is named for seed 9; moved aside to .*sort_seed9\.json\.rejected-/,
  );
  assert.equal(readRecord(bad)!.seed, 9);
  const aside = fs.readdirSync(path.dirname(bad)).filter((f) => f.startsWith('sort_seed9.json.rejected-'));
  assert.equal(aside.length, 1);
  assert.equal(sha(path.join(path.dirname(bad), aside[0])), copied, 'the bad file is kept, unchanged');
});

test('analyze --preset continues past a corrupt checkpoint, re-analyses the rest, lists every failure and exits non-zero', async () => {
  const dir = tmp('reanalyze');
  const cfg = tinyCfg();
  fakeFinishedCheckpoint(runPaths(dir, 'paper', 'reverse', 1).checkpoint, cfg, 'reverse', 1);
  fakeFinishedCheckpoint(runPaths(dir, 'paper', 'sort', 1).checkpoint, cfg, 'sort', 1);
  fakeFinishedCheckpoint(runPaths(dir, 'paper', 'sort', 2).checkpoint, cfg, 'sort', 2);
  const first = runPaths(dir, 'paper', 'reverse', 1).checkpoint;
  const buf = fs.readFileSync(first);
  fs.writeFileSync(first, buf.subarray(0, buf.length - 100)); // the first in name order is damaged
  fs.copyFileSync(runPaths(dir, 'paper', 'sort', 1).checkpoint, runPaths(dir, 'paper', 'sort', 5).checkpoint); // misnamed
  const r = await cli('analyze', '--results', dir, '--ood-lengths', '3', '--allow-id-lengths');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /re-analysed 2 runs/);
  assert.match(r.stderr, /FAILED: .*reverse_seed1\.ckpt: checkpoint .* failed its SHA-256 integrity check/);
  assert.match(
    r.stderr,
    /FAILED: .*sort_seed5\.ckpt: it holds preset paper, task sort, seed 1, not this run \(preset paper, task sort, seed 5\)/,
  );
  assert.match(r.stderr, /2 of 4 checkpoints could not be re-analysed/);
  assert.ok(readRecord(runPaths(dir, 'paper', 'sort', 1).results));
  assert.ok(readRecord(runPaths(dir, 'paper', 'sort', 2).results));
  assert.doesNotMatch(r.stderr, STACK);
});

test('output paths are checked before any work: a path under a file or under /proc fails at once, naming the flag', () => {
  const file = path.join(tmp('under-file'), 'a-file');
  fs.writeFileSync(file, 'x');
  const t0 = Date.now();
  for (const args of [
    ['train', '--out', path.join(file, 'out')],
    ['train', '--out', '/proc/nope'],
    ['run', '--results', '/proc/nope/r', ...TINY_ARGS],
  ]) {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, CI: 'true' },
    });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: --(out|results): cannot write to/);
    assert.doesNotMatch(r.stdout, /backend=|step \d+/, 'no training started');
  }
  assert.ok(Date.now() - t0 < 60_000, 'nothing hangs');
});

// ---------------------------------------------------------------------------------------------
// Locks and temporary files.

function deadPid(): number {
  const p = spawnSync(process.execPath, ['-e', '0']);
  return p.pid!;
}

test('run locks: one holder at a time; a dead holder on this host or a silent one elsewhere is taken over, a live one is not', () => {
  const dir = tmp('locks');
  const file = path.join(dir, 'sort_seed1.lock');
  const a = RunLock.acquire(file);
  assert.throws(
    () => RunLock.acquire(file),
    (e: Error) =>
      e instanceof RunLockedError && new RegExp(`held by host ${os.hostname()}, pid ${process.pid}`).test(e.message),
  );
  a.release();
  assert.equal(fs.existsSync(file), false);
  // Holder gone: same host, pid no longer running.
  const pid = deadPid();
  fs.writeFileSync(
    file,
    JSON.stringify({
      host: os.hostname(),
      pid,
      startedAt: '2026-01-01T00:00:00Z',
      heartbeatMs: 30000,
      staleMs: 600000,
    }),
  );
  const why: string[] = [];
  const b = RunLock.acquire(file, { onTakeover: (w) => why.push(w) });
  assert.match(why[0], new RegExp(`its holder \\(pid ${pid} on this host\\) no longer runs`));
  assert.ok(b.held());
  b.release();
  // Another machine: live while its heartbeat is fresh, stale after the stated timeout.
  const other = {
    host: 'another-machine',
    pid: 1,
    startedAt: '2026-01-01T00:00:00Z',
    heartbeatMs: 30000,
    staleMs: 10 * 60_000,
  };
  fs.writeFileSync(file, JSON.stringify(other));
  assert.throws(() => RunLock.acquire(file), /held by host another-machine, pid 1/);
  const old = new Date(Date.now() - 11 * 60_000);
  fs.utimesSync(file, old, old);
  const c = RunLock.acquire(file, { onTakeover: (w) => why.push(w) });
  assert.match(
    why[1],
    /took over .* from host another-machine, pid 1, .*: no heartbeat for 11\.0 min \(limit 10 min\)/,
  );
  c.release();
});

test('a held lock is kept fresh by its heartbeat while the holder computes', async () => {
  const file = path.join(tmp('heartbeat'), 'x.lock');
  const lock = RunLock.acquire(file, { heartbeatMs: 50 });
  const old = new Date(Date.now() - 3600_000);
  fs.utimesSync(file, old, old);
  const until = Date.now() + 2000;
  while (fs.statSync(file).mtimeMs < Date.now() - 60_000 && Date.now() < until)
    await new Promise((r) => setTimeout(r, 20));
  assert.ok(fs.statSync(file).mtimeMs > Date.now() - 60_000, 'the heartbeat touched the lock');
  lock.release();
});

test('run exits 3 when another live process holds the run, and a sweep leaves it to that process', async () => {
  const dir = tmp('locked-run');
  const paths = runPaths(dir, 'paper', 'sort', 1);
  fs.mkdirSync(path.dirname(paths.lock), { recursive: true });
  fs.writeFileSync(
    paths.lock,
    JSON.stringify({
      host: 'another-machine',
      pid: 77,
      startedAt: '2026-11-29T10:00:00Z',
      heartbeatMs: 30000,
      staleMs: 600000,
    }),
  );
  const r = spawnSync(process.execPath, [CLI, 'run', '--task', 'sort', '--seed', '1', '--results', dir, ...TINY_ARGS], {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /sort_seed1\.lock is held by host another-machine, pid 77, since 2026-11-29T10:00:00Z/);
  const s = await cli('sweep', '--results', dir, '--tasks', 'sort', '--seeds', '1', ...TINY_ARGS);
  assert.equal(s.code, 0);
  assert.match(s.stdout, /sort seed 1 in progress elsewhere \(host another-machine, pid 77/);
  assert.equal(fs.existsSync(paths.results), false);
});

test("temporary files of stopped writers are removed on the next start; a live writer's are kept", () => {
  const dir = tmp('temps');
  const dead = deadPid();
  const stale = [
    `sort_seed1.partial.ckpt.tmp-${os.hostname()}-${dead}-1700000000000`,
    `sort_seed1.json.tmp-${dead}-1700000000000`,
  ];
  const live = path.basename(tempName(path.join(dir, 'sort_seed2.json')));
  for (const f of [...stale, live, 'sort_seed1.json']) fs.writeFileSync(path.join(dir, f), 'x');
  assert.deepEqual(cleanStaleTemps(dir).sort(), stale.slice().sort());
  assert.deepEqual(fs.readdirSync(dir).sort(), [live, 'sort_seed1.json'].sort());
  // Another machine's: removed only once old.
  const far = path.join(dir, 'sort_seed3.json.tmp-another-machine-5-1700000000000');
  fs.writeFileSync(far, 'x');
  assert.deepEqual(cleanStaleTemps(dir), []);
  const old = new Date(Date.now() - 25 * 3600_000);
  fs.utimesSync(far, old, old);
  assert.deepEqual(cleanStaleTemps(dir), [path.basename(far)]);
});

test('two sweep processes sharing one results folder split the work: every run is trained exactly once', async () => {
  const dir = tmp('shared');
  // A temporary file a killed process left: the first start removes it.
  const leftover = path.join(dir, 'paper', `sort_seed2.partial.ckpt.tmp-${os.hostname()}-${deadPid()}-1700000000000`);
  fs.mkdirSync(path.dirname(leftover), { recursive: true });
  fs.writeFileSync(leftover, 'x'.repeat(1000));
  const args = [CLI, 'sweep', '--results', dir, '--tasks', 'sort,reverse', '--seeds', '1,2,3', ...TINY_ARGS];
  const runProc = () =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, args, { env: { ...process.env, CI: 'true' } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ code, out }));
    });
  const [a, b] = await Promise.all([runProc(), runProc()]);
  assert.equal(a.code, 0, a.out);
  assert.equal(b.code, 0, b.out);
  const all = a.out + b.out;
  for (const task of ['sort', 'reverse']) {
    for (const seed of [1, 2, 3]) {
      const trained = all.split('\n').filter((l) => l === `${task} seed ${seed}: training`).length;
      assert.equal(trained, 1, `${task} seed ${seed} trained ${trained} times\n${all}`);
      assert.ok(readRecord(runPaths(dir, 'paper', task, seed).results), `${task} ${seed} finished`);
    }
  }
  assert.equal(fs.existsSync(leftover), false, 'the stale temporary file was removed');
  assert.deepEqual(
    fs.readdirSync(path.join(dir, 'paper')).filter((f) => /\.lock|\.tmp-/.test(f)),
    [],
    'no lock or temporary file left',
  );
});

test('train killed (SIGKILL) mid-run resumes from its training checkpoint, bit for bit', async () => {
  const set = [
    ...TINY.filter((s) => !s.startsWith('train.maxSteps') && !s.startsWith('train.evalEvery')),
    'train.maxSteps=600',
    'train.evalEvery=10',
    'train.targetAcc=1',
  ].flatMap((s) => ['--set', s]);
  const killed = tmp('train-kill');
  const args = [CLI, 'train', '--task', 'reverse', '--seed', '4', '--out', killed, ...set];
  const partial = path.join(killed, 'paper', 'reverse_seed4.partial.ckpt');
  const child = spawn(process.execPath, args, { stdio: 'ignore', env: { ...process.env, CI: 'true' } });
  await killWhenExists(child, partial);
  assert.equal(fs.existsSync(path.join(killed, 'paper', 'reverse_seed4.ckpt')), false, 'killed before the end');
  const again = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /resuming training at step \d+ from/);
  assert.equal(fs.existsSync(partial), false, 'the training checkpoint is removed when done');
  const whole = tmp('train-whole');
  const ref = spawnSync(process.execPath, [CLI, 'train', '--task', 'reverse', '--seed', '4', '--out', whole, ...set], {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  assert.equal(ref.status, 0, ref.stderr);
  const rec = (d: string) => JSON.parse(fs.readFileSync(path.join(d, 'paper', 'reverse_seed4.train.json'), 'utf8'));
  assert.deepEqual(rec(killed).losses, rec(whole).losses);
  assert.equal(rec(killed).losses.length, 600);
  const [a, b] = [killed, whole].map((d) => loadCheckpoint(path.join(d, 'paper', 'reverse_seed4.ckpt')).model);
  const wa = a.toArrays();
  const wb = b.toArrays();
  for (const k of Object.keys(wa)) assert.deepEqual(wa[k].data, wb[k].data, k);
  a.dispose();
  b.dispose();
});
