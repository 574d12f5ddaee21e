/** The CLI as a user runs it: help, config errors before any work, a tiny training run end to end. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadCheckpoint } from '../src/records/checkpoint';
import { CONFIG_RULES } from '../src/settings/rules';
import { setupBackend } from './helpers';

const CLI = path.join(__dirname, '..', 'src', 'cli.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });

test('--help lists the commands and settings', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /train\s+Train one \(task, seed\)/);
  assert.match(r.stdout, /model\.nLayers/);
  // Every setting with its meaning, what is allowed, and its defaults (generated from the configuration rules).
  assert.match(r.stdout, /model\.nLayers +transformer blocks L \(paper: 4\)\n +an integer in \[1, 64\]; default 4\n/);
  assert.match(
    r.stdout,
    /analysis\.headAblation .*\n +one of "before-WO", "after-WO-slice"; default "before-WO", authors preset "after-WO-slice"/,
  );
  assert.equal(r.stdout.split('Settings (--set')[1].match(/; default /g)!.length, Object.keys(CONFIG_RULES).length);
});

test('each command has its own help; help and argument errors answer without loading TensorFlow; mistypes get a suggestion', () => {
  const r = run('run', '--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Usage: gcg run \[options\]/);
  assert.match(r.stdout, /Train \+ analyse one \(task, seed\)/);
  assert.match(r.stdout, /--results DIR/);
  assert.doesNotMatch(
    r.stdout,
    /--fig-dir|--csv|Settings \(--set/,
    'only its own options; the settings are in gcg --help',
  );
  assert.ok(r.stdout.split('\n').length < 40, 'a page, not the whole help');
  assert.doesNotMatch(run('backend', '--help').stdout, /Options/);
  // The entry point loads no TensorFlow: help and argument errors are instant.
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(CLI)}); console.log(Object.keys(require.cache).filter((k) => /tfjs|tensorflow/.test(k)).length)`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(probe.stdout.trim(), '0', probe.stderr);
  const typo = run('swep');
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /unknown command "swep" \(did you mean sweep\?\)/);
  const key = run('run', '--set', 'model.nLayer=2');
  assert.equal(key.status, 2);
  assert.match(key.stderr, /config model\.nLayer: unknown key \(did you mean model\.nLayers\?\)/);
  assert.doesNotMatch(run('run', '--set', 'zzz.qqq=1').stderr, /did you mean/, 'no suggestion when nothing is near');
});

test('bad input is rejected before any work, naming the setting and what is allowed', () => {
  const cases: [string[], RegExp][] = [
    [['train', '--task', 'sorting'], /task: unknown task "sorting"; allowed: reverse, sort/],
    [['train', '--preset', 'author'], /preset: unknown preset "author"; allowed: paper, authors/],
    [['train', '--set', 'model.nLayers=0'], /config model\.nLayers: got "0"; allowed: an integer in \[1, 64\]/],
    [['train', '--set', 'train.speed=2'], /config train\.speed: unknown key/],
    [['train', '--seed', 'abc'], /--seed: got "abc"/],
    [['fly'], /unknown command "fly"/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stdout, /backend=/, 'no work started');
  }
});

test('train writes a checkpoint and a JSON record with config, preset, seed, backend and versions', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-cli-'));
  const r = run(
    'train',
    '--task',
    'reverse',
    '--seed',
    '3',
    '--preset',
    'authors',
    '--out',
    out,
    '--set',
    'model.nLayers=1',
    '--set',
    'model.dModel=16',
    '--set',
    'model.dFF=32',
    '--set',
    'train.maxSteps=20',
    '--set',
    'train.evalEvery=10',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /backend=(tensorflow|wasm|cpu)/);
  const rec = JSON.parse(fs.readFileSync(path.join(out, 'authors', 'reverse_seed3.train.json'), 'utf8'));
  assert.equal(rec.preset, 'authors');
  assert.equal(rec.task, 'reverse');
  assert.equal(rec.seed, 3);
  assert.equal(rec.steps, 20);
  assert.equal(rec.losses.length, 20);
  assert.equal(rec.evals.length, 2);
  assert.equal(rec.config.data.layout, 'separate');
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(rec.provenance.backend));
  assert.equal(rec.provenance.versions['tfjs-core'], '4.22.0');
  await setupBackend();
  const file = path.join(out, 'authors', 'reverse_seed3.ckpt');
  const ck = loadCheckpoint(file);
  assert.equal(ck.meta.steps, 20);
  assert.equal(ck.config.model.nLayers, 1);
  ck.model.dispose();
  // 20 steps never reach the target: analysing it says so, before and after the numbers.
  const a = run(
    'analyze',
    '--checkpoint',
    file,
    '--set',
    'analysis.oodPickSamples=8',
    '--set',
    'analysis.accLow=0',
    '--set',
    'analysis.accHigh=1',
    '--set',
    'analysis.gradBatches=1',
    '--set',
    'analysis.gradBatchSize=4',
    '--set',
    'analysis.meanBatches=1',
    '--set',
    'analysis.evalSamples=8',
    '--set',
    'analysis.idSamples=4',
    '--set',
    'analysis.tieDraws=2',
    '--set',
    'analysis.variants=false',
    '--set',
    'analysis.redraws=0',
  );
  assert.equal(a.status, 0, a.stderr);
  assert.match(
    a.stderr,
    /warning: this model never reached the training target \(train\.targetAcc=0\.9\): it stopped at step 20 \(maxSteps\) with training-distribution exact match \d+\.\d%/,
  );
  assert.match(
    a.stderr,
    /the paper analyses trained models only, so read rho and the classes below as those of an unfinished model/,
    'said before the numbers',
  );
  assert.match(a.stderr, /the numbers above are of an unfinished model/, 'and again after them');
});

test('demo: one seed trained and analysed, G and C per component, rho, the classes, Figure 1, and where everything is', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-demo-'));
  const tiny = [
    'model.nLayers=1',
    'model.nHeads=2',
    'model.dModel=16',
    'model.dFF=32',
    'data.minLen=2',
    'data.maxLen=3',
    'train.maxSteps=40',
    'train.evalEvery=20',
    'analysis.gradBatches=1',
    'analysis.gradBatchSize=8',
    'analysis.meanBatches=1',
    'analysis.evalSamples=32',
    'analysis.oodPickSamples=32',
    'analysis.idSamples=16',
    'analysis.idLength=3',
    'analysis.tieDraws=10',
    'analysis.accLow=0',
    'analysis.accHigh=1',
  ];
  const r = run('demo', '--out', out, '--ood-lengths', '3', '--allow-id-lengths', ...tiny.flatMap((s) => ['--set', s]));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /demo: the paper's analysis of one model, end to end: preset paper, reverse, seed 42/);
  const table = r.stdout.split('\n').filter((l) => /^ {2}L0\.(H0|H1|MLP) /.test(l));
  assert.equal(table.length, 3, 'a row per component');
  assert.match(r.stdout, /component +G +C +rank G +rank C +Delta +class/);
  assert.match(r.stdout, /rho = (-?\d\.\d{3}|undefined)/);
  assert.match(r.stdout, /Hidden Heroes \(Delta <= -6.*\): /);
  assert.match(r.stdout, /Gradient Bloats \(Delta >= 6.*\): /);
  const results = path.join(out, 'demo', 'paper', 'reverse_seed42.json');
  assert.match(r.stdout, new RegExp(`results .*: ${results.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  assert.ok(fs.existsSync(results));
  assert.ok(fs.existsSync(path.join(out, 'demo', 'figures', 'figure1_reverse_seed42.html')));
  // Run again: it reads what it wrote.
  const again = run(
    'demo',
    '--out',
    out,
    '--ood-lengths',
    '3',
    '--allow-id-lengths',
    ...tiny.flatMap((s) => ['--set', s]),
  );
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stdout, /reverse seed 42: training/);
});
