import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { tf } from '../src/kernels/tf';
import {
  CheckpointError,
  loadCheckpoint,
  saveCheckpoint,
  saveTrainingCheckpoint,
  trainStateOf,
} from '../src/records/checkpoint';
import { provenance } from '../src/records/provenance';
import { runOne } from '../src/runner/run';
import { runPaths } from '../src/records/store';
import { TrainState } from '../src/train/train';
import { trainRun } from '../src/runner/training';
import { tokensTensor } from '../src/model/eval';
import { Transformer } from '../src/model/model';
import { Rng } from '../src/base/rng';
import { makeBatch, sampleExamples } from '../src/tasks';
import { setupBackend, tinyConfig } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-ckpt-'));
const cfg = tinyConfig({ model: { positions: 'learned' } });
const meta = { task: 'sort', seed: 7, preset: 'paper', steps: 123, backend: 'test' };

before(async () => {
  await setupBackend();
});

test('round trip is exact: weights, config, metadata, outputs', () => {
  const m = Transformer.init(cfg.model, 7);
  const file = path.join(dir, 'a.ckpt');
  saveCheckpoint(file, m, cfg, meta);
  assert.deepEqual(fs.readdirSync(dir), ['a.ckpt'], 'no temporary files left behind');
  const { model, config, meta: got } = loadCheckpoint(file);
  assert.deepEqual(config, cfg);
  assert.deepEqual(got, meta);
  const a = m.toArrays();
  const b = model.toArrays();
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
  for (const k of Object.keys(a)) assert.deepEqual(b[k].data, a[k].data, k);
  const batch = makeBatch(sampleExamples('sort', 4, new Rng(1), 4));
  const [la, lb] = tf.tidy(() => [
    m.forward(tokensTensor(batch)).logits.dataSync(),
    model.forward(tokensTensor(batch)).logits.dataSync(),
  ]);
  assert.deepEqual(lb, la);
  m.dispose();
  model.dispose();
});

test('a truncated, edited or foreign file gets a clear error', () => {
  const m = Transformer.init(cfg.model, 7);
  const file = path.join(dir, 'b.ckpt');
  saveCheckpoint(file, m, cfg, meta);
  m.dispose();
  const good = fs.readFileSync(file);
  const expectError = (bytes: Buffer, pattern: RegExp) => {
    const f = path.join(dir, 'bad.ckpt');
    fs.writeFileSync(f, bytes);
    assert.throws(
      () => loadCheckpoint(f),
      (e: unknown) => e instanceof CheckpointError && pattern.test(e.message) && e.message.includes(f),
    );
  };
  expectError(good.subarray(0, good.length - 100), /integrity check|truncated/);
  expectError(good.subarray(0, 20), /truncated|too short/);
  const headerEdit = Buffer.from(good);
  const at = headerEdit.indexOf(Buffer.from('"seed":7'));
  headerEdit.write('"seed":8', at);
  expectError(headerEdit, /integrity check/);
  const weightEdit = Buffer.from(good);
  weightEdit[weightEdit.length - 40] ^= 0xff;
  expectError(weightEdit, /integrity check/);
  expectError(
    Buffer.from('{"not": "a checkpoint"} plus enough bytes to pass the length check....'),
    /not a gradient-causal-gap checkpoint/,
  );
  assert.throws(() => loadCheckpoint(path.join(dir, 'missing.ckpt')), /cannot be read/);
});

test('a training run stopped at a checkpoint and resumed from the file ends bit for bit where an uninterrupted run ends', () => {
  const tcfg = tinyConfig({ train: { maxSteps: 40, evalEvery: 10, evalSamples: 32, targetAcc: 1, batchSize: 16 } });
  const full = trainRun({ task: 'sort', seed: 3, cfg: tcfg, progress: false });
  const file = path.join(dir, 'partial.ckpt');
  let saved = 0;
  // Stop after the second checkpoint (step 20), keeping only what the file holds.
  const first = trainRun({
    task: 'sort',
    seed: 3,
    cfg: tcfg,
    progress: false,
    onCheckpoint: (m, st) => {
      saveTrainingCheckpoint(file, m, tcfg, meta, st);
      saved = st.step;
    },
    onStep: (i) => (i.step === 25 ? 'stop' : undefined),
  });
  first.model.dispose();
  assert.equal(saved, 20);
  const ck = loadCheckpoint(file);
  const state: TrainState = trainStateOf(file, ck);
  assert.equal(state.step, 20);
  assert.equal(state.losses.length, 20);
  const resumed = trainRun({ task: 'sort', seed: 3, cfg: tcfg, progress: false, model: ck.model, resume: state });
  assert.equal(resumed.steps, full.steps);
  assert.deepEqual(resumed.losses, full.losses);
  assert.deepEqual(resumed.evals, full.evals);
  const a = full.model.toArrays();
  const b = resumed.model.toArrays();
  for (const k of Object.keys(a)) assert.deepEqual(b[k].data, a[k].data, k);
  full.model.dispose();
  resumed.model.dispose();
  assert.throws(() => trainStateOf('x', { ...ck, meta: { ...meta } }), /holds no training state/);
});

test('a run stopped by onStep carries its state: resumed in memory, it ends bit for bit where an uninterrupted run ends', () => {
  const tcfg = tinyConfig({ train: { maxSteps: 40, evalEvery: 10, evalSamples: 32, targetAcc: 1, batchSize: 16 } });
  const full = trainRun({ task: 'sort', seed: 3, cfg: tcfg, progress: false });
  assert.equal(full.stopReason, 'maxSteps');
  let model: Transformer | undefined;
  let state: TrainState | undefined;
  // Stops between checks (7, 23), at a check (20: the check is made first) and at the last step (40: the run ends
  // there as it would, no state): the page's Stop button, or its slices.
  const stops = [7, 20, 23, 40];
  for (const at of stops) {
    const r = trainRun({
      task: 'sort',
      seed: 3,
      cfg: tcfg,
      progress: false,
      model,
      resume: state,
      onStep: (i) => (i.step === at ? 'stop' : undefined),
    });
    model = r.model;
    if (at === 40) {
      assert.equal(r.stopReason, 'maxSteps');
      assert.equal(r.state, undefined);
      assert.equal(r.steps, full.steps);
      assert.deepEqual(r.losses, full.losses);
      assert.deepEqual(r.evals, full.evals);
      break;
    }
    assert.equal(r.stopReason, 'stopped');
    assert.equal(r.state!.step, at);
    assert.equal(r.state!.losses.length, at);
    assert.deepEqual(
      r.state!.evals,
      full.evals.filter((e) => e.step <= at),
    );
    state = r.state;
  }
  const a = full.model.toArrays();
  const b = model!.toArrays();
  for (const k of Object.keys(a)) assert.deepEqual(b[k].data, a[k].data, k);
  full.model.dispose();
  model!.dispose();
});

test('runOne resumes a run killed mid-training from its training checkpoint, and removes it when done', () => {
  const tcfg = tinyConfig({
    train: { maxSteps: 30, evalEvery: 10, evalSamples: 32, targetAcc: 1, batchSize: 16 },
    analysis: {
      accLow: 0,
      accHigh: 1,
      oodPickSamples: 16,
      gradBatches: 1,
      gradBatchSize: 8,
      meanBatches: 1,
      evalSamples: 16,
      idSamples: 16,
      tieDraws: 4,
      variants: false,
      redraws: 0,
    },
  });
  const rdir = path.join(dir, 'results');
  const paths = runPaths(rdir, 'paper', 'sort', 4);
  // What a worker killed after step 20 leaves behind: a training checkpoint at step 20.
  trainRun({
    task: 'sort',
    seed: 4,
    cfg: tcfg,
    progress: false,
    onCheckpoint: (m, st) =>
      saveTrainingCheckpoint(
        paths.partial,
        m,
        tcfg,
        { ...meta, seed: 4, backend: provenance().backend, kernels: provenance().kernels, provenance: provenance() },
        st,
      ),
    onStep: (i) => (i.step === 21 ? 'stop' : undefined),
  }).model.dispose();
  const lines: string[] = [];
  const { record } = runOne({
    dir: rdir,
    preset: 'paper',
    task: 'sort',
    seed: 4,
    cfg: tcfg,
    oodLengths: [8],
    log: (l) => lines.push(l),
  });
  assert.ok(
    lines.some((l) => /resuming training at step 20/.test(l)),
    lines.join('\n'),
  );
  assert.equal(fs.existsSync(paths.partial), false);
  const full = trainRun({ task: 'sort', seed: 4, cfg: tcfg, progress: false });
  assert.deepEqual(record.training.losses, full.losses);
  full.model.dispose();
});
