/**
 * Training and evaluation on tiny models: learning, determinism, no tensor leaks, divergence,
 * and batched teacher-forced exact match against real greedy decoding.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { tf } from '../src/kernels/tf';
import { accuracy, exactMatch, greedyExactMatch, sampleAccuracy } from '../src/model/eval';
import { Transformer } from '../src/model/model';
import { Rng } from '../src/base/rng';
import { sampleExamples } from '../src/tasks';
import { TrainingDivergedError } from '../src/train/train';
import { stoppingCheckLength, trainRun } from '../src/runner/training';
import { setupBackend, tinyConfig } from './helpers';

before(async () => {
  await setupBackend();
});

// Tiny reversal: 2 layers, 2 heads, d_model 32, learned positions, sequences of 2-3 digits.
const tinyReverse = (train: Partial<ReturnType<typeof tinyConfig>['train']> = {}) =>
  tinyConfig({
    model: { dModel: 32, dFF: 64, positions: 'learned' },
    data: { minLen: 2, maxLen: 3 },
    train: { batchSize: 32, evalEvery: 50, evalSamples: 256, maxSteps: 600, ...train },
    analysis: { idLength: 3 }, // the in-distribution length must be a training length
  });

test('a tiny model learns tiny reversal to >= 90% within 600 steps', () => {
  const r = trainRun({ task: 'reverse', seed: 1, cfg: tinyReverse(), progress: false });
  assert.equal(
    r.stopReason,
    'target',
    `stopped by ${r.stopReason} after ${r.steps} steps, last checks ${JSON.stringify(r.evals.slice(-3))}`,
  );
  assert.ok(r.steps <= 600);
  const fresh = sampleAccuracy(r.model, 'reverse', new Rng(99), 512, { minLen: 2, maxLen: 3 });
  assert.ok(fresh >= 0.85, `held-out accuracy ${fresh}`);
  assert.ok(r.losses[r.losses.length - 1] < r.losses[0] / 4, 'loss fell');
  r.model.dispose();
});

test('batched teacher-forced exact match equals greedy decoding sequence by sequence', () => {
  // A partly trained model (accuracy strictly between 10% and 90%), mixed lengths in one batch.
  const r = trainRun({
    task: 'reverse',
    seed: 1,
    cfg: tinyReverse({ maxSteps: 270, targetAcc: 1, evalEvery: 1000 }),
    progress: false,
  });
  const examples = sampleExamples('reverse', 150, new Rng(7), { minLen: 2, maxLen: 3 });
  const batched = exactMatch(r.model, examples, { batchSize: 64 });
  const greedy = examples.map((ex) => greedyExactMatch(r.model, ex));
  const acc = accuracy(greedy);
  assert.ok(acc > 0.1 && acc < 0.9, `accuracy ${acc} should be strictly between 10% and 90%`);
  assert.deepEqual(batched, greedy);
  r.model.dispose();
});

test('same seed gives identical losses; another seed does not', () => {
  const cfg = tinyConfig({ train: { maxSteps: 25, evalEvery: 10, evalSamples: 32, batchSize: 16 } });
  const a = trainRun({ task: 'sort', seed: 3, cfg, progress: false });
  const b = trainRun({ task: 'sort', seed: 3, cfg, progress: false });
  const c = trainRun({ task: 'sort', seed: 4, cfg, progress: false });
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.evals, b.evals);
  assert.notDeepEqual(a.losses, c.losses);
  for (const r of [a, b, c]) r.model.dispose();
});

test("the authors' separate-padding layout trains too, and differs from contiguous", () => {
  const base = { train: { maxSteps: 40, evalEvery: 100, batchSize: 16 } };
  const a = trainRun({
    task: 'sort',
    seed: 3,
    cfg: tinyConfig({ ...base, data: { layout: 'separate' } }),
    progress: false,
  });
  const b = trainRun({ task: 'sort', seed: 3, cfg: tinyConfig(base), progress: false });
  // Both start from the same weights at the same loss scale (ln 104 = 4.64 for a fresh model) and
  // learn; the PAD tokens between SEP and y make every step's loss differ.
  for (const r of [a, b]) {
    assert.ok(
      r.losses.every(Number.isFinite) && Math.abs(r.losses[0] - Math.log(104)) < 0.5,
      `first loss ${r.losses[0]}`,
    );
    const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(avg(r.losses.slice(-5)) < avg(r.losses.slice(0, 5)) - 0.3, `loss fell: ${r.losses}`);
  }
  for (let i = 0; i < 5; i++) assert.notEqual(a.losses[i], b.losses[i], `step ${i}`);
  a.model.dispose();
  b.model.dispose();
});

test('live tensors do not grow over 200 training steps (with stopping checks)', () => {
  const cfg = tinyConfig({ train: { maxSteps: 200, evalEvery: 50, evalSamples: 64, batchSize: 16, targetAcc: 1 } });
  const counts: number[] = [];
  const before = tf.memory().numTensors;
  const r = trainRun({
    task: 'sort',
    seed: 5,
    cfg,
    progress: false,
    onStep: ({ step }) => {
      if (step === 20 || step === 200) counts.push(tf.memory().numTensors);
    },
  });
  assert.equal(r.steps, 200);
  assert.equal(counts.length, 2);
  assert.equal(counts[1], counts[0], `tensors at step 20: ${counts[0]}, at step 200: ${counts[1]}`);
  r.model.dispose();
  assert.equal(tf.memory().numTensors, before, 'disposing the model releases everything training made');
});

test('a non-finite loss stops training with a clear error carrying the curves', () => {
  const cfg = tinyConfig({ train: { maxSteps: 50 } });
  const model = Transformer.init(cfg.model, 1);
  const w = model.params['blocks.0.mlp.2.weight'];
  w.assign(tf.fill(w.shape, NaN));
  assert.throws(
    () => trainRun({ task: 'sort', seed: 1, cfg, model, progress: false }),
    (e: unknown) =>
      e instanceof TrainingDivergedError && e.step === 1 && e.losses.length === 1 && /diverged.*step 1/.test(e.message),
  );
  model.dispose();
});

test("train.stopLength: the stopping rule at one length (the authors' last section uses 7), else the training range", () => {
  assert.deepEqual(stoppingCheckLength(tinyConfig()), { minLen: 3, maxLen: 7 });
  assert.equal(stoppingCheckLength(tinyConfig({ train: { stopLength: 7 } })), 7);
});

test('onStep can stop a run', () => {
  const cfg = tinyConfig({ train: { maxSteps: 100 } });
  const r = trainRun({
    task: 'sort',
    seed: 1,
    cfg,
    progress: false,
    onStep: ({ step }) => (step === 7 ? 'stop' : undefined),
  });
  assert.equal(r.steps, 7);
  assert.equal(r.stopReason, 'stopped');
  r.model.dispose();
});
