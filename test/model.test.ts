import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { tf } from '../src/kernels/tf';
import { tokensTensor } from '../src/model/eval';
import { paramSpecs, Transformer } from '../src/model/model';
import { linear } from '../src/model/ops';
import { componentPatch, hooks, listComponents, parseComponent } from '../src/model/hooks';
import { Rng } from '../src/base/rng';
import { BatchStream, DIGIT_VOCAB_SIZE, makeBatch, sampleExamples } from '../src/tasks';
import { adamState, makeOptimizer } from '../src/train/adam';
import { trainStep } from '../src/train/trainee';
import { maxAbsDiff, setupBackend, tinyConfig } from './helpers';

before(async () => {
  await setupBackend();
});

const cfg = tinyConfig().model; // L=2, H=2, d_model=16, d_head=8, d_ff=32
const batch = makeBatch(sampleExamples('sort', 5, new Rng(9), { minLen: 3, maxLen: 6 }));

test('components: L*H heads + L MLPs in layer order, named as in the paper', () => {
  assert.deepEqual(
    listComponents(cfg).map((c) => c.id),
    ['L0.H0', 'L0.H1', 'L0.MLP', 'L1.H0', 'L1.H1', 'L1.MLP'],
  );
  assert.equal(listComponents({ nLayers: 4, nHeads: 4 }).length, 20);
  assert.throws(() => parseComponent('L2.H0', cfg), /unknown component "L2.H0"/);
});

test('parameter count of the default model (4/4/128/512, vocab 104, no positions)', () => {
  const m = Transformer.init(tinyConfig({ model: { nLayers: 4, nHeads: 4, dModel: 128, dFF: 512 } }).model, 0);
  // per block: 4 (128x128 + 128) + 2 LN (2x128) + 128x512 + 512 + 512x128 + 128; embed 104x128; ln_f 256; out 128x104 + 104
  const perBlock = 4 * (128 * 128 + 128) + 4 * 128 + 128 * 512 + 512 + 512 * 128 + 128;
  assert.equal(m.paramCount(), 4 * perBlock + 104 * 128 + 256 + 128 * 104 + 104);
  m.dispose();
});

test('forward shapes: logits [batch, pos, vocab] and every hook point', () => {
  const m = Transformer.init(cfg, 1);
  tf.tidy(() => {
    const { logits, cache } = m.forward(tokensTensor(batch), { cache: 'all' });
    assert.deepEqual(logits.shape, [batch.B, batch.T, DIGIT_VOCAB_SIZE]);
    assert.deepEqual(cache[hooks.z(1)].shape, [batch.B, batch.T, 2, 8]);
    assert.deepEqual(cache[hooks.pattern(0)].shape, [batch.B, 2, batch.T, batch.T]);
    assert.deepEqual(cache[hooks.attnOut(0)].shape, [batch.B, batch.T, 16]);
    assert.deepEqual(cache[hooks.mlpOut(1)].shape, [batch.B, batch.T, 16]);
    assert.deepEqual(cache[hooks.embed].shape, [batch.B, batch.T, 16]);
    // causal: attention to later positions is zero
    const p = cache[hooks.pattern(1)].arraySync() as number[][][][];
    assert.ok(p[0][0][0][1] < 1e-12 && Math.abs(p[0][0][3].slice(0, 4).reduce((a, b) => a + b, 0) - 1) < 1e-5);
  });
  m.dispose();
});

test('learned positions change the output; "none" is position-free', () => {
  const withPos = Transformer.init({ ...cfg, positions: 'learned' }, 1);
  assert.ok(paramSpecs({ ...cfg, positions: 'learned' }).some((s) => s.name === 'pos.weight'));
  assert.ok(!paramSpecs(cfg).some((s) => s.name === 'pos.weight'));
  assert.throws(() => tf.tidy(() => withPos.forward(tf.zeros([1, 30], 'int32') as tf.Tensor2D).logits), /maxPositions/);
  withPos.dispose();
});

test('same seed, same initial weights; pytorch init bounds', () => {
  const a = Transformer.init(cfg, 5);
  const b = Transformer.init(cfg, 5);
  const c = Transformer.init(cfg, 6);
  const wa = a.toArrays()['blocks.0.mlp.2.weight'].data;
  assert.deepEqual(wa, b.toArrays()['blocks.0.mlp.2.weight'].data);
  assert.notDeepEqual(wa, c.toArrays()['blocks.0.mlp.2.weight'].data);
  const bound = 1 / Math.sqrt(32); // fan_in of mlp.2 is d_ff
  assert.ok(wa.every((v) => Math.abs(v) <= bound) && wa.some((v) => Math.abs(v) > 0.9 * bound));
  assert.deepEqual(Array.from(a.toArrays()['blocks.1.ln2.weight'].data), new Array(16).fill(1));
  for (const m of [a, b, c]) m.dispose();
});

/** A copy of `m`'s weights with `edit` applied to the named arrays. */
function edited(
  m: Transformer,
  edit: (w: Record<string, { shape: number[]; data: Float32Array }>) => void,
): Transformer {
  const w = m.toArrays();
  edit(w);
  return Transformer.fromArrays(m.cfg, w);
}

test('mean-ablating a head equals the same computation by hand (W_V columns 0, b_V slice = mean)', () => {
  const m = Transformer.init(cfg, 2);
  const dh = m.dHead;
  const mean = Float32Array.from({ length: dh }, (_, i) => 0.1 * (i - 3));
  const c = parseComponent('L1.H1', cfg);
  // By hand: if every value vector of the head is `mean`, every attention-weighted sum is `mean`
  // (softmax rows sum to 1), which is what replacing the head's output with its mean does.
  const byHand = edited(m, (w) => {
    const W = w['blocks.1.attn.W_v.weight']; // [in, out]
    for (let r = 0; r < 16; r++) for (let j = dh; j < 2 * dh; j++) W.data[r * 16 + j] = 0;
    for (let j = 0; j < dh; j++) w['blocks.1.attn.W_v.bias'].data[dh + j] = mean[j];
  });
  const [patched, manual, clean] = tf.tidy(() => {
    const toks = tokensTensor(batch);
    const v = tf.tensor1d(mean);
    return [
      m.forward(toks, { patches: [componentPatch(c, v)] }).logits.dataSync(),
      byHand.forward(toks).logits.dataSync(),
      m.forward(toks).logits.dataSync(),
    ];
  });
  assert.ok(maxAbsDiff(patched, manual) < 1e-4, `patched vs by hand: ${maxAbsDiff(patched, manual)}`);
  assert.ok(maxAbsDiff(patched, clean) > 1e-3, 'the ablation must change the output');
  m.dispose();
  byHand.dispose();
});

test('mean-ablating an MLP equals the same computation by hand (W2 = 0, b2 = mean)', () => {
  const m = Transformer.init(cfg, 3);
  const mean = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i));
  const byHand = edited(m, (w) => {
    w['blocks.0.mlp.2.weight'].data.fill(0);
    w['blocks.0.mlp.2.bias'].data.set(mean);
  });
  const [patched, manual] = tf.tidy(() => {
    const toks = tokensTensor(batch);
    return [
      m
        .forward(toks, { patches: [componentPatch(parseComponent('L0.MLP', cfg), tf.tensor1d(mean))] })
        .logits.dataSync(),
      byHand.forward(toks).logits.dataSync(),
    ];
  });
  assert.ok(maxAbsDiff(patched, manual) < 1e-4);
  m.dispose();
  byHand.dispose();
});

test('interventions are scoped to one call; caches see the patched value; full tensors and column slices work', () => {
  const m = Transformer.init(cfg, 4);
  tf.tidy(() => {
    const toks = tokensTensor(batch);
    const before = m.forward(toks).logits.dataSync();
    const zero = tf.zeros([8]);
    const { cache } = m.forward(toks, { patches: [{ hook: hooks.z(0), head: 1, value: zero }], cache: [hooks.z(0)] });
    const z = cache[hooks.z(0)].arraySync() as number[][][][];
    assert.ok(
      z.every((row) => row.every((pos) => pos[1].every((v) => v === 0))),
      'head 1 zeroed',
    );
    assert.ok(
      z[0][2][0].some((v) => v !== 0),
      'head 0 untouched',
    );
    const after = m.forward(toks).logits.dataSync();
    assert.deepEqual(after, before, 'no patch leaks into the next call');
    // A full [batch, pos, d_model] replacement of the MLP output with its own cached value is a no-op.
    const mlp = m.forward(toks, { cache: [hooks.mlpOut(1)] }).cache[hooks.mlpOut(1)];
    const same = m.forward(toks, { patches: [{ hook: hooks.mlpOut(1), value: mlp }] }).logits.dataSync();
    assert.ok(maxAbsDiff(same, before) < 1e-6);
    // Column slice (the authors' after-W_O variant) only touches those columns.
    const sliced = m.forward(toks, {
      patches: [{ hook: hooks.attnOut(0), cols: [8, 16], value: tf.zeros([8]) }],
      cache: [hooks.attnOut(0)],
    });
    const ao = sliced.cache[hooks.attnOut(0)].arraySync() as number[][][];
    assert.ok(ao[0][1].slice(8).every((v) => v === 0) && ao[0][1].slice(0, 8).some((v) => v !== 0));
  });
  assert.throws(
    () =>
      tf.tidy(
        () =>
          m.forward(tokensTensor(batch), { patches: [{ hook: 'blocks.9.hook_mlp_out', value: tf.zeros([16]) }] })
            .logits,
      ),
    /unknown hook point/,
  );
  assert.throws(
    () =>
      tf.tidy(
        () => m.forward(tokensTensor(batch), { patches: [{ hook: hooks.z(0), head: 5, value: tf.zeros([8]) }] }).logits,
      ),
    /head 5 out of range/,
  );
  m.dispose();
});

test('linear (hand-written gradient) equals x @ W + b with the stock gradients, both transpose branches', () => {
  const rng = new Rng(4);
  const rand = (shape: number[]) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()),
      shape,
    );
  for (const [rows, inDim, outDim] of [
    [40, 8, 24],
    [40, 24, 8],
  ]) {
    const [x, W, b, probe] = [rand([rows, inDim]), rand([inDim, outDim]), rand([outDim]), rand([rows, outDim])];
    const lossWith =
      (f: (x: tf.Tensor, W: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(f(xx, ww, bb), probe));
    const mine = tf.grads(lossWith(linear))([x, W, b]);
    const stock = tf.grads(lossWith((xx, ww, bb) => tf.add(tf.matMul(xx, ww), bb)))([x, W, b]);
    assert.ok(maxAbsDiff(linear(x, W, b).dataSync(), tf.add(tf.matMul(x, W), b).dataSync()) < 1e-5);
    mine.forEach((g, i) => {
      assert.deepEqual(g.shape, stock[i].shape);
      assert.ok(
        maxAbsDiff(g.dataSync(), stock[i].dataSync()) < 1e-4,
        `gradient ${['x', 'W', 'b'][i]} for ${rows}x${inDim}x${outDim}`,
      );
    });
  }
});

test('toArrays and the saved Adam state are copies: editing them leaves the model and the optimizer as they were (every backend)', () => {
  const model = Transformer.init(tinyConfig().model, 3);
  const name = 'blocks.1.attn.W_v.bias';
  const before = model.params[name].dataSync()[0];
  const arrays = model.toArrays();
  arrays[name].data[0] = 12345;
  assert.equal(model.params[name].dataSync()[0], before);
  assert.notEqual(model.toArrays()[name].data, arrays[name].data);
  const cfg = tinyConfig({ train: { batchSize: 8 } });
  const opt = makeOptimizer(cfg.train);
  const stream = new BatchStream('sort', { ...cfg.data, batchSize: 8 }, new Rng(1, 'copies'));
  trainStep(model, opt, stream.next(), Object.values(model.params));
  const state = adamState(opt, model)!;
  const m0 = state.m[name][0];
  state.m[name][0] = 999;
  assert.equal(adamState(opt, model)!.m[name][0], m0);
  opt.dispose();
  model.dispose();
});
