/**
 * Parity with an independent PyTorch implementation (test/fixtures/parity-tiny.json, made by it):
 * loading PyTorch-layout weights must reproduce its logits,
 * loss, exact match, per-component gradient norms (Eq. 1's per-batch term), mean outputs and the
 * loss after each mean ablation.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { tf } from '../src/kernels/tf';
import { accuracy, batchLoss, exactMatch, tokensTensor } from '../src/model/eval';
import { componentGradNorms } from '../src/model/grads';
import { Transformer } from '../src/model/model';
import { componentHook, componentPatch } from '../src/model/hooks';
import { fromTorchStateDict, toTorchStateDict } from '../src/model/torch-io';
import { makeBatch } from '../src/tasks';
import { setupBackend, tinyConfig } from './helpers';

const fx = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'parity-tiny.json'), 'utf8'),
);
const cfg = tinyConfig({
  model: { nLayers: fx.config.layers, nHeads: fx.config.heads, dModel: fx.config.d_model, dFF: fx.config.d_ff },
}).model;
const examples = (fx.batch.input as number[][]).map((inp, i) => ({
  x: inp.slice(1, -1),
  y: (fx.batch.target[i] as number[]).slice(0, -1),
}));
const batch = makeBatch(examples);
let model: Transformer;

const close = (got: number, want: number, tol: number, what: string) =>
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: got ${got}, expected ${want}`);

before(async () => {
  await setupBackend();
  model = fromTorchStateDict(cfg, fx.weights);
});

test('fixture batch is in our token format', () => {
  assert.deepEqual(Array.from(batch.tokens), (fx.batch.decoder_input as number[][]).flat());
});

test('logits of the first sequence', () => {
  const logits = tf.tidy(() => model.forward(tokensTensor(batch)).logits.arraySync()[0]);
  const want = fx.expected.logits_first_sequence as number[][];
  want.forEach((row, t) => row.forEach((v, j) => close(logits[t][j], v, 1e-4, `logit[${t}][${j}]`)));
});

test('loss and exact match', () => {
  close(
    tf.tidy(() => batchLoss(model, batch).dataSync()[0]),
    fx.expected.loss,
    1e-5,
    'loss',
  );
  assert.equal(accuracy(exactMatch(model, examples)), fx.expected.exact_match);
});

test('per-component gradient Frobenius norms (W_V head slices, second MLP weight)', () => {
  const { norms, loss } = componentGradNorms(model, batch);
  close(loss, fx.expected.loss, 1e-5, 'loss');
  for (const [id, want] of Object.entries(fx.expected.grad_frobenius as Record<string, number>))
    close(norms[id], want, 1e-4, `grad norm ${id}`);
});

test('mean outputs (head before W_O, MLP output; over batch and positions) and loss after each mean ablation', () => {
  const means: Record<string, number[]> = { ...fx.expected.head_output_means, ...fx.expected.mlp_output_means };
  for (const c of model.components()) {
    const got = tf.tidy(() => {
      const act = model.forward(tokensTensor(batch), { cache: [componentHook(c)] }).cache[componentHook(c)];
      const own = c.kind === 'head' ? tf.squeeze(tf.slice(act, [0, 0, c.head!, 0], [-1, -1, 1, -1]), [2]) : act;
      return Array.from(tf.mean(own, [0, 1]).dataSync());
    });
    got.forEach((v, i) => close(v, means[c.id][i], 1e-4, `mean ${c.id}[${i}]`));
    const ablated = tf.tidy(() => batchLoss(model, batch, [componentPatch(c, tf.tensor1d(means[c.id]))]).dataSync()[0]);
    close(ablated, fx.expected.loss_after_mean_ablation[c.id], 1e-5, `loss after ablating ${c.id}`);
  }
});

test('PyTorch layout round trip', () => {
  const back = toTorchStateDict(model);
  const w = fx.weights['blocks.1.attn.W_v.weight'];
  assert.deepEqual(back['blocks.1.attn.W_v.weight'].shape, w.shape);
  back['blocks.1.attn.W_v.weight'].data.forEach((v: number, i: number) => close(v, w.data[i], 1e-7, 'W_v'));
});
