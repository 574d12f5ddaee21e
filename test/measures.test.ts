/**
 * The activation-based importance measures (src/analysis/measures/) against what they approximate,
 * on a tiny model: attribution patching is the exact loss change to first order (the ratio tends
 * to 1 as the step shrinks), integrated gradients sum to the exact loss change of mean ablation
 * (completeness, within 1%), the mask gradient equals a finite difference in the mask, the
 * gradient norm over a component's weights equals a hand computation, and the Taylor score equals
 * a finite difference in a scale on the component's weights.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ImportanceContext } from '../src/analysis/context';
import { getMeasure } from '../src/analysis/registry';
import { componentOutput, componentWeights, integratedGradient } from '../src/analysis/measures';
import { activationGrads, runWithCache } from '../src/model/activations';
import '../src/analysis/pipeline';
import { tf } from '../src/kernels/tf';
import { batchLoss, tokensTensor } from '../src/model/eval';
import { Transformer } from '../src/model/model';
import { Component, componentHook, componentPatch, hooks } from '../src/model/hooks';
import { trainRun } from '../src/runner/training';
import { setupBackend, tinyConfig } from './helpers';

const cfg = tinyConfig({
  model: { dModel: 32, dFF: 64, positions: 'learned' },
  data: { minLen: 2, maxLen: 3 },
  train: { batchSize: 32, evalEvery: 50, evalSamples: 128, maxSteps: 150 },
  analysis: { gradBatches: 1, gradBatchSize: 24, meanBatches: 2, idLength: 3, igSteps: 32 },
});
let model: Transformer;
let ctx: ImportanceContext;

before(async () => {
  await setupBackend();
  model = trainRun({ task: 'reverse', seed: 2, cfg, progress: false }).model; // partly trained: ablations move the loss
  ctx = new ImportanceContext({ model, task: 'reverse', length: 3, cfg: cfg.analysis, seed: 2 });
});

/** The loss on Eq. 1's (first) batch with component c's output a replaced by a + t (mu - a). */
function lossToward(c: Component, t: number): number {
  const batch = ctx.gradBatches()[0];
  const mu = tf.tensor1d(ctx.means()[c.id]);
  const patches = t === 0 ? [] : [componentPatch(c, (a) => tf.add(a, tf.mul(tf.sub(mu, a), t)))];
  const loss = tf.tidy(() => batchLoss(model, batch, patches).dataSync()[0]);
  mu.dispose();
  return loss;
}

test('attribution patching is the exact loss change to first order: the ratio tends to 1 as the step shrinks', () => {
  const ap = getMeasure('attributionPatching').compute(ctx);
  let checked = 0;
  for (const c of ctx.components) {
    // Below this the loss change at a small step drowns in float32 rounding of the loss (~1e-6).
    if (Math.abs(ap[c.id]) < 5e-3) continue;
    const base = lossToward(c, 0);
    const gap = (eps: number) => Math.abs((lossToward(c, eps) - base) / (eps * ap[c.id]) - 1);
    const gaps = [1, 0.3, 0.03].map(gap);
    assert.ok(gaps[2] < 0.05, `${c.id}: |exact / first-order - 1| at step 0.03 = ${gaps[2]}`);
    assert.ok(
      gaps[2] < gaps[1] && gaps[1] < gaps[0],
      `${c.id}: shrinks with the step (${gaps.map((g) => g.toFixed(4)).join(' > ')})`,
    );
    checked++;
  }
  assert.ok(checked >= 3, `${checked} components with a resolvable loss change`);
});

test('integrated gradients sum to the exact loss change of mean ablation (completeness, within 1%)', () => {
  const ig = getMeasure('integratedGradients').compute(ctx);
  let checked = 0;
  for (const c of ctx.components) {
    const exact = lossToward(c, 1) - lossToward(c, 0);
    if (Math.abs(exact) < 1e-3) continue;
    assert.ok(Math.abs(ig[c.id] - exact) <= 0.01 * Math.abs(exact), `${c.id}: IG ${ig[c.id]}, exact ${exact}`);
    checked++;
  }
  assert.ok(checked >= 3, `${checked} components with a resolvable loss change`);
});

test('the mask gradient equals a central finite difference in the mask m at m = 1', () => {
  const mg = getMeasure('maskGradient').compute(ctx);
  const batch = ctx.gradBatches()[0];
  const h = 1e-2;
  for (const c of ctx.components) {
    const lossAt = (m: number) =>
      tf.tidy(() => batchLoss(model, batch, [componentPatch(c, (a) => tf.mul(a, m))]).dataSync()[0]);
    const fd = Math.abs((lossAt(1 + h) - lossAt(1 - h)) / (2 * h));
    assert.ok(
      Math.abs(mg[c.id] - fd) <= 0.02 * fd + 2e-4,
      `${c.id}: mask gradient ${mg[c.id]}, finite difference ${fd}`,
    );
  }
});

/** The loss on Eq. 1's first batch with component c's weights scaled by s (restored after). */
function lossWithWeightsScaled(c: Component, s: number): number {
  const batch = ctx.gradBatches()[0];
  const saved: [tf.Variable, tf.Tensor][] = [];
  for (const w of componentWeights(c, model.dHead)) {
    const v = model.params[w.param];
    const [R, C] = v.shape;
    const [r0, r1] = w.rows ?? [0, R];
    const [c0, c1] = w.cols ?? [0, C];
    const mask = tf.tidy(() =>
      tf.pad(tf.ones([r1 - r0, c1 - c0]), [
        [r0, R - r1],
        [c0, C - c1],
      ]),
    );
    saved.push([v, tf.clone(v)]);
    v.assign(tf.tidy(() => tf.mul(v, tf.add(1, tf.mul(mask, s - 1)))));
    mask.dispose();
  }
  const loss = tf.tidy(() => batchLoss(model, batch).dataSync()[0]);
  for (const [v, t] of saved.reverse()) {
    v.assign(t);
    t.dispose();
  }
  return loss;
}

test("the gradient norm over all of a component's weights equals the hand computation (plain tf.variableGrads, sums in JS)", () => {
  const norms = getMeasure('weightGradNorm').compute(ctx);
  const batch = ctx.gradBatches()[0];
  const names = Object.keys(model.params).filter((n) => /\.(attn\.W_[qkvo]|mlp\.[02])\.weight$/.test(n));
  const { value, grads } = tf.variableGrads(
    () => batchLoss(model, batch),
    names.map((n) => model.params[n]),
  );
  for (const c of ctx.components) {
    let sq = 0;
    for (const w of componentWeights(c, model.dHead)) {
      const g = grads[model.params[w.param].name];
      const [R, C] = g.shape;
      const d = g.dataSync();
      for (let r = w.rows?.[0] ?? 0; r < (w.rows?.[1] ?? R); r++)
        for (let k = w.cols?.[0] ?? 0; k < (w.cols?.[1] ?? C); k++) sq += d[r * C + k] ** 2;
    }
    assert.ok(
      Math.abs(norms[c.id] - Math.sqrt(sq)) <= 1e-5 * Math.sqrt(sq),
      `${c.id}: ${norms[c.id]} vs ${Math.sqrt(sq)}`,
    );
  }
  assert.equal(
    componentWeights(ctx.components[0], model.dHead).length,
    4,
    'a head owns W_Q, W_K, W_V columns and W_O rows',
  );
  value.dispose();
  Object.values(grads).forEach((g) => g.dispose());
});

test("the Taylor score |sum w . dL/dw| equals a central finite difference in a scale on the component's weights", () => {
  const taylor = getMeasure('taylor').compute(ctx);
  const plainLoss = () => tf.tidy(() => batchLoss(model, ctx.gradBatches()[0]).dataSync()[0]);
  const before = plainLoss();
  const h = 1e-2;
  for (const c of ctx.components) {
    const fd = Math.abs((lossWithWeightsScaled(c, 1 + h) - lossWithWeightsScaled(c, 1 - h)) / (2 * h));
    assert.ok(
      Math.abs(taylor[c.id] - fd) <= 0.02 * fd + 2e-4,
      `${c.id}: Taylor ${taylor[c.id]}, finite difference ${fd}`,
    );
  }
  assert.equal(plainLoss(), before, 'every weight restored exactly');
});

test("the measures say which side they take: cheap (G's place) or causal (C's place)", () => {
  assert.deepEqual(
    ['G', 'weightGradNorm', 'taylor', 'maskGradient', 'attributionPatching', 'integratedGradients'].map(
      (m) => getMeasure(m).kind,
    ),
    ['cheap', 'cheap', 'cheap', 'cheap', 'cheap', 'cheap'],
  );
  assert.deepEqual(
    ['C', 'C-CE', 'Cpos', 'Cpos-CE', 'Czero', 'Czero-CE', 'Cresample', 'Cresample-CE'].map((m) => getMeasure(m).kind),
    Array(8).fill('causal'),
  );
});

test('the gradient measures share one pass: with the others each gives its bits alone, and after the first the others run no kernel', async () => {
  const names = ['weightGradNorm', 'taylor', 'maskGradient', 'attributionPatching'];
  const settings = (measures: string[]) => ctx.withConfig({ ...cfg.analysis, gradBatches: 3, measures });
  const alone = names.map((n) => getMeasure(n).compute(settings([n])));
  const together = settings(names);
  assert.deepEqual(getMeasure(names[0]).compute(together), alone[0]);
  for (let i = 1; i < names.length; i++) {
    let got: Record<string, number> = {};
    const prof = await tf.profile(() => void (got = getMeasure(names[i]).compute(together)));
    assert.equal(prof.kernels.length, 0, `${names[i]} reads the shared pass`);
    assert.deepEqual(got, alone[i], names[i]);
  }
  assert.ok(alone.every((s) => Object.values(s).every((v) => Number.isFinite(v) && v !== 0)));
});

test("integrated gradients start each step at the component's block: the bits of every step through the whole model", () => {
  const batch = ctx.gradBatches()[0];
  const k = 4;
  for (const c of model.components().filter((x) => x.layer === 1)) {
    const hook = componentHook(c);
    const mu = tf.tensor1d(ctx.means()[c.id]);
    const { logits, cache } = runWithCache(model, tokensTensor(batch), { hooks: [hook, hooks.residPre(c.layer)] });
    // By hand: each step's gradient from a pass through every block (activationGrads from the embedding).
    const delta = tf.sub(mu, componentOutput(c, cache.get(hook)));
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const g = activationGrads(
        model,
        batch,
        [hook],
        [componentPatch(c, (x) => tf.add(x, tf.mul(tf.sub(mu, x), (j + 0.5) / k)))],
      ).grads[hook];
      sum += tf.tidy(() => tf.sum(tf.mul(delta, componentOutput(c, g))).dataSync()[0]);
      g.dispose();
    }
    const got = integratedGradient(model, batch, cache, c, mu, k);
    assert.equal(got, sum / k, c.id);
    assert.notEqual(got, 0);
    for (const t of [mu, logits, delta]) t.dispose();
    cache.dispose();
  }
});
