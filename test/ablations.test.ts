/**
 * The causal measures (src/analysis/measures/ablations.ts) against hand computations on a tiny,
 * partly trained model: every sequence evaluated alone (its own batch of one), patches built by
 * hand, per-position means summed in JS. Resample ablation with a fixed source equals patching
 * that source's activation by hand; per-position mean ablation equals the hand-made means patched
 * in; C from per-sequence scores equals Eq. 2 as meanAblation computes it; the intervals are the
 * normal interval of the paired differences.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { runWithCache } from '../src/model/activations';
import { ImportanceContext } from '../src/analysis/context';
import { meanAblation } from '../src/analysis/measures/ablations';
import { getMeasure } from '../src/analysis/registry';
import { ablationEffects, componentOutput, pairedInterval, resampleEffects } from '../src/analysis/measures';
import { analyzeModel } from '../src/analysis/pipeline';
import { tf } from '../src/kernels/tf';
import { ConfigError } from '../src/settings/config';
import { getConfig } from '../src/settings/validate';
import { parseOverrides } from '../src/settings/rules';
import { batchLoss, exactMatch, sequenceScoresFromLogits, tokensTensor } from '../src/model/eval';
import { Transformer } from '../src/model/model';
import { Patch } from '../src/model/patches';
import { Component, componentHook, componentPatch } from '../src/model/hooks';
import { Rng } from '../src/base/rng';
import { Example, makeBatch, sampleExamples } from '../src/tasks';
import { ABLATION_CFG, ablationFixture, setupBackend } from './helpers';

const cfg = ABLATION_CFG;
let N: number;
let model: Transformer;
let ctx: ImportanceContext;
let evalSet: Example[];

before(async () => {
  await setupBackend();
  ({ N, model, ctx, evalSet } = ablationFixture());
});

/** Each sequence on its own: exact match and cross-entropy under `patchesOf(i)`. */
function byHand(patchesOf: (i: number) => Patch[]): { correct: boolean[]; loss: number[] } {
  const correct: boolean[] = [];
  const loss: number[] = [];
  evalSet.forEach((ex, i) => {
    const patches = patchesOf(i);
    correct.push(exactMatch(model, [ex], { patches })[0]);
    loss.push(tf.tidy(() => batchLoss(model, makeBatch([ex], 'contiguous'), patches).dataSync()[0]));
  });
  return { correct, loss };
}

const accOf = (s: { correct: boolean[] }) => s.correct.filter(Boolean).length / s.correct.length;
const meanOf = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

/** Asserts an effect equals the hand computation: exact match exactly, cross-entropy to float32 rounding. */
function assertEffect(
  c: Component,
  e: { acc: number; ce: number },
  base: ReturnType<typeof byHand>,
  abl: ReturnType<typeof byHand>,
) {
  assert.ok(
    Math.abs(e.acc - (accOf(base) - accOf(abl))) < 1e-12,
    `${c.id}: exact-match drop ${e.acc} vs by hand ${accOf(base) - accOf(abl)}`,
  );
  const ce = meanOf(abl.loss) - meanOf(base.loss);
  assert.ok(
    Math.abs(e.ce - ce) <= 1e-5 + 1e-4 * Math.abs(ce),
    `${c.id}: cross-entropy increase ${e.ce} vs by hand ${ce}`,
  );
}

test("a sequence's cross-entropy is its own batch loss; the mean over equal-length sequences is the batch loss", () => {
  const batch = makeBatch(evalSet.slice(0, 8), 'contiguous');
  const logits = tf.tidy(() => model.forward(tokensTensor(batch)).logits);
  const s = sequenceScoresFromLogits(logits, batch);
  logits.dispose();
  evalSet.slice(0, 8).forEach((ex, i) => {
    const alone = tf.tidy(() => batchLoss(model, makeBatch([ex], 'contiguous')).dataSync()[0]);
    assert.ok(Math.abs(s.loss[i] - alone) < 1e-5, `sequence ${i}: ${s.loss[i]} vs ${alone}`);
  });
  const whole = tf.tidy(() => batchLoss(model, batch).dataSync()[0]);
  assert.ok(Math.abs(meanOf([...s.loss]) - whole) < 1e-5);
  assert.deepEqual(s.correct, exactMatch(model, evalSet.slice(0, 8)));
});

test('per-position means equal a hand computation on the same sequences', () => {
  const pm = ctx.positionMeans();
  const rng = new Rng(2, 'means');
  const T = 2 * N + 2;
  const sums = new Map<string, Float64Array>();
  let count = 0;
  for (let b = 0; b < cfg.analysis.meanBatches; b++) {
    const batch = makeBatch(sampleExamples('reverse', cfg.analysis.gradBatchSize, rng, N));
    assert.equal(batch.T, T);
    const { logits, cache } = runWithCache(model, tokensTensor(batch));
    for (const c of ctx.components) {
      const a = tf.tidy(() => componentOutput(c, cache.get(componentHook(c))).dataSync()); // [batch, pos, d]
      const w = a.length / (batch.B * T);
      const s = sums.get(c.id) ?? new Float64Array(T * w);
      for (let i = 0; i < batch.B; i++) for (let j = 0; j < T * w; j++) s[j] += a[i * T * w + j];
      sums.set(c.id, s);
    }
    count += batch.B;
    logits.dispose();
    cache.dispose();
  }
  for (const c of ctx.components) {
    const hand = sums.get(c.id)!;
    assert.equal(pm[c.id].length, hand.length, c.id);
    for (let j = 0; j < hand.length; j++)
      assert.ok(Math.abs(pm[c.id][j] - hand[j] / count) < 1e-5, `${c.id}[${j}]: ${pm[c.id][j]} vs ${hand[j] / count}`);
  }
  // Pooled over positions they give the pooled mean (the paper's mu).
  const c = ctx.components[0];
  const w = model.dHead;
  for (let k = 0; k < w; k++) {
    let s = 0;
    for (let t = 0; t < T; t++) s += pm[c.id][t * w + k];
    assert.ok(Math.abs(s / T - ctx.means()[c.id][k]) < 1e-5);
  }
});

test('per-position mean ablation equals the hand-made per-position means patched in, sequence by sequence', () => {
  const e = ablationEffects(ctx, 'positionMean');
  const base = byHand(() => []);
  const T = 2 * N + 2;
  for (const c of ctx.components) {
    const w = c.kind === 'head' ? model.dHead : model.cfg.dModel;
    const value = tf.tensor2d(ctx.positionMeans()[c.id], [T, w]);
    assertEffect(
      c,
      e[c.id],
      base,
      byHand(() => [componentPatch(c, value)]),
    );
    value.dispose();
  }
  assert.deepEqual(getMeasure('Cpos').compute(ctx), Object.fromEntries(ctx.components.map((c) => [c.id, e[c.id].acc])));
  assert.deepEqual(
    getMeasure('Cpos-CE').compute(ctx),
    Object.fromEntries(ctx.components.map((c) => [c.id, e[c.id].ce])),
  );
  assert.ok(
    ctx.components.some((c) => e[c.id].acc !== 0),
    `some ablation flips a sequence (${ctx.components.map((c) => e[c.id].acc.toFixed(3)).join(' ')}; baseline ${accOf(base)})`,
  );
});

test("resample ablation with a fixed source equals patching that source sequence's activation by hand", () => {
  const src = sampleExamples('reverse', evalSet.length, new Rng(7, 'source'), N);
  const e = resampleEffects(ctx, [src]);
  const base = byHand(() => []);
  for (const c of ctx.components) {
    const abl = byHand((i) => {
      const { logits, cache } = runWithCache(model, tokensTensor(makeBatch([src[i]], 'contiguous')));
      const a = tf.tidy(() => tf.clone(componentOutput(c, cache.get(componentHook(c))))); // [1, pos, d]
      logits.dispose();
      cache.dispose();
      return [componentPatch(c, a)];
    });
    assertEffect(c, e[c.id], base, abl);
  }
  // Two draws: each sequence's effect averaged over them.
  const src2 = sampleExamples('reverse', evalSet.length, new Rng(8, 'source'), N);
  const two = resampleEffects(ctx, [src, src2]);
  const second = resampleEffects(ctx, [src2]);
  for (const c of ctx.components) {
    assert.ok(Math.abs(two[c.id].acc - (e[c.id].acc + second[c.id].acc) / 2) < 1e-12, c.id);
    assert.ok(Math.abs(two[c.id].ce - (e[c.id].ce + second[c.id].ce) / 2) < 1e-9, c.id);
  }
  // The same source twice: the same effects and intervals as once (per-sequence differences averaged, not summed).
  const twice = resampleEffects(ctx, [src, src]);
  for (const c of ctx.components) {
    assert.ok(Math.abs(twice[c.id].ce - e[c.id].ce) < 1e-9 && Math.abs(twice[c.id].acc - e[c.id].acc) < 1e-12, c.id);
    for (const k of ['accCI', 'ceCI'] as const)
      for (const j of [0, 1]) assert.ok(Math.abs(twice[c.id][k][j] - e[c.id][k][j]) < 1e-9, `${c.id} ${k}`);
  }
  assert.throws(() => resampleEffects(ctx, [src.slice(1)]), /39 source sequences for 40 evaluation sequences/);
});

test('zero ablation (exact match and cross-entropy) equals a zero patch by hand', () => {
  const base = byHand(() => []);
  for (const c of ctx.components.slice(0, 3)) {
    const w = c.kind === 'head' ? model.dHead : model.cfg.dModel;
    const zero = tf.zeros([w]);
    assertEffect(
      c,
      { acc: getMeasure('Czero').compute(ctx)[c.id], ce: getMeasure('Czero-CE').compute(ctx)[c.id] },
      base,
      byHand(() => [componentPatch(c, zero)]),
    );
    zero.dispose();
  }
});

test("C from per-sequence scores is Eq. 2 as meanAblation computes it (bit for bit), with an interval; the authors' protocol keeps meanAblation and has none", () => {
  const C = getMeasure('C');
  assert.deepEqual(C.compute(ctx), meanAblation(ctx));
  const iv = C.intervals!(ctx)!;
  for (const c of ctx.components) assert.ok(iv[c.id][0] <= C.compute(ctx)[c.id] && C.compute(ctx)[c.id] <= iv[c.id][1]);
  const authors = ctx.withConfig({ ...ctx.cfg, headAblation: 'after-WO-slice' });
  assert.deepEqual(C.compute(authors), meanAblation(authors));
  assert.equal(C.intervals!(authors), null);
  const meanCE = ablationEffects(ctx, 'mean');
  assert.deepEqual(
    getMeasure('C-CE').compute(ctx),
    Object.fromEntries(ctx.components.map((c) => [c.id, meanCE[c.id].ce])),
  );
});

test('the interval is the normal interval of the paired per-sequence differences', () => {
  // d = 1, 0, 0, 1, -1: mean 0.2, sample sd sqrt(2.8 / 4); half width 1.96 sd / sqrt(5).
  const half = (1.959963984540054 * Math.sqrt(0.7)) / Math.sqrt(5);
  const [lo, hi] = pairedInterval(0.2, [1, 0, 0, 1, -1]);
  assert.ok(Math.abs(lo - (0.2 - half)) < 1e-12 && Math.abs(hi - (0.2 + half)) < 1e-12, `${lo}, ${hi}`);
  assert.deepEqual(pairedInterval(0.5, [0.5]), [NaN, NaN]);
  assert.deepEqual(pairedInterval(0, [0, 0, 0]), [0, 0]);
});

test('the measure set is a setting: parsed from --set, checked against the registry before any work', () => {
  assert.deepEqual(parseOverrides(['analysis.measures=Cpos,taylor']), { analysis: { measures: ['Cpos', 'taylor'] } });
  assert.deepEqual(parseOverrides(['analysis.measures=']), { analysis: { measures: [] } });
  assert.throws(
    () => parseOverrides(['analysis.measures=Cpos,Cpos']),
    /config analysis.measures: got "Cpos,Cpos"; allowed: a list of distinct names/,
  );
  assert.throws(() => getConfig('paper', { analysis: { measures: ['a b'] } }), ConfigError);
  const bad = { ...cfg.analysis, measures: ['Cpos', 'nope'] };
  assert.throws(
    () => analyzeModel({ model, task: 'reverse', seed: 2, cfg: bad, oodLengths: [N] }),
    /config analysis.measures: unknown measure "nope"; registered: G, .*Cresample-CE/,
  );
});
