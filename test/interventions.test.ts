/**
 * Interventions that compute: patches as functions of the activation (scale, add, replace with
 * another run's activation), scoped to one call; a run's activations at every hook point
 * (ActivationCache); the loss gradient with respect to any hook points' activations in one
 * backward pass, against central finite differences.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { activationGrads, runWithCache } from '../src/model/activations';
import { tf } from '../src/kernels/tf';
import { batchLoss, tokensTensor } from '../src/model/eval';
import { Transformer } from '../src/model/model';
import { Patch } from '../src/model/patches';
import { hooks } from '../src/model/hooks';
import { Rng } from '../src/base/rng';
import { makeBatch, sampleExamples } from '../src/tasks';
import { setupBackend, tinyConfig } from './helpers';

let model: Transformer;
const cfg = tinyConfig();

before(async () => {
  await setupBackend();
  model = Transformer.init(cfg.model, 7);
});

const batchOf = (seed: number, n = 6, len = 4) => makeBatch(sampleExamples('sort', n, new Rng(seed), len));
const logitsOf = (batch: ReturnType<typeof batchOf>, patches: Patch[] = []) =>
  tf.tidy(() => model.forward(tokensTensor(batch), { patches }).logits.dataSync().slice());

test('a patch may be a function of the activation: scaling a head by 0 is zero ablation, adding is adding, bit for bit', () => {
  const b = batchOf(1);
  const zero = tf.zeros([model.dHead]);
  const asConstant = logitsOf(b, [{ hook: hooks.z(1), head: 0, value: zero }]);
  const asFunction = logitsOf(b, [{ hook: hooks.z(1), head: 0, value: (a) => tf.mul(a, 0) }]);
  assert.deepEqual(asFunction, asConstant);
  const plain = logitsOf(b);
  assert.notDeepEqual(asConstant, plain);
  // Adding d to L0's MLP output through a function equals replacing it by (its value + d) as a tensor.
  const d = tf.fill([cfg.model.dModel], 0.3);
  const { cache, logits } = runWithCache(model, tokensTensor(b), { hooks: [hooks.mlpOut(0)] });
  const added = logitsOf(b, [{ hook: hooks.mlpOut(0), value: (a) => tf.add(a, d) }]);
  const replaced = logitsOf(b, [{ hook: hooks.mlpOut(0), value: tf.add(cache.get(hooks.mlpOut(0)), d) }]);
  assert.deepEqual(added, replaced);
  // Patches last one call: the next call is the plain model again.
  assert.deepEqual(logitsOf(b), plain);
  assert.deepEqual(Array.from(logits.dataSync()), Array.from(plain));
  cache.dispose();
  logits.dispose();
  zero.dispose();
  d.dispose();
  assert.throws(
    () => logitsOf(b, [{ hook: hooks.mlpOut(0), value: (a) => tf.sum(a, -1) }]),
    /patch blocks\.0\.hook_mlp_out: the patch function must return a tensor of the activation's shape \[6,10,16\], got \[6,10\]/,
  );
});

test("replacing an activation by another run's (activation patching) carries that run's computation downstream", () => {
  const [a, b] = [batchOf(2), batchOf(3)];
  const other = runWithCache(model, tokensTensor(b), { hooks: [hooks.residFinal, hooks.z(1)] });
  // The final residual stream determines the logits: patching it in gives the other run's logits exactly.
  const patched = logitsOf(a, [
    { hook: hooks.residFinal, value: (x) => tf.add(tf.mul(x, 0), other.cache.get(hooks.residFinal)) },
  ]);
  assert.deepEqual(Array.from(patched), Array.from(other.logits.dataSync()));
  // One head's z from the other run changes the output, and only from that layer on.
  const headPatched = runWithCache(model, tokensTensor(a), {
    patches: [
      {
        hook: hooks.z(1),
        head: 1,
        value: tf
          .slice(other.cache.get(hooks.z(1)), [0, 0, 1, 0], [6, 10, 1, model.dHead])
          .reshape([6, 10, model.dHead]),
      },
    ],
  });
  const plain = runWithCache(model, tokensTensor(a));
  assert.deepEqual(
    Array.from(headPatched.cache.get(hooks.mlpOut(0)).dataSync()),
    Array.from(plain.cache.get(hooks.mlpOut(0)).dataSync()),
  );
  assert.notDeepEqual(
    Array.from(headPatched.cache.get(hooks.mlpOut(1)).dataSync()),
    Array.from(plain.cache.get(hooks.mlpOut(1)).dataSync()),
  );
  for (const r of [other, headPatched, plain]) {
    r.cache.dispose();
    r.logits.dispose();
  }
});

test('ActivationCache: every hook point of one run, the values the forward pass used, released by dispose', () => {
  const b = batchOf(4);
  const before = tf.memory().numTensors;
  const tokens = tokensTensor(b);
  const { logits, cache } = runWithCache(model, tokens);
  assert.deepEqual(cache.hooks(), model.hookPoints());
  assert.equal(cache.hooks().length, 2 + 5 * cfg.model.nLayers);
  assert.deepEqual(cache.get(hooks.z(0)).shape, [6, 10, cfg.model.nHeads, model.dHead]);
  assert.deepEqual(cache.get(hooks.pattern(1)).shape, [6, cfg.model.nHeads, 10, 10]);
  const direct = tf.tidy(() =>
    model
      .forward(tokens, { cache: [hooks.attnOut(1)] })
      .cache[hooks.attnOut(1)].dataSync()
      .slice(),
  );
  assert.deepEqual(Array.from(cache.get(hooks.attnOut(1)).dataSync()), Array.from(direct));
  assert.throws(
    () => cache.get('blocks.9.hook_mlp_out'),
    /ActivationCache: no activation at "blocks\.9\.hook_mlp_out"; cached: hook_embed, blocks\.0\.hook_resid_pre/,
  );
  cache.dispose();
  logits.dispose();
  tokens.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensor outlives dispose()');
});

test('the loss gradient w.r.t. activations at several hook points, in one backward pass, matches central finite differences', () => {
  const b = batchOf(5);
  const points = [hooks.embed, hooks.z(0), hooks.pattern(1), hooks.mlpOut(1)];
  const before = tf.memory().numTensors;
  const { loss, grads } = activationGrads(model, b, points);
  assert.ok(Math.abs(loss - tf.tidy(() => batchLoss(model, b).dataSync()[0])) < 1e-6);
  const rng = new Rng(11, 'fd');
  for (const h of points) {
    const g = grads[h];
    const dir = tf.tensor(
      Array.from({ length: g.size }, () => rng.next() * 2 - 1),
      g.shape,
    );
    const eps = 1e-2;
    const lossAt = (s: number) =>
      tf.tidy(() => batchLoss(model, b, [{ hook: h, value: (a) => tf.add(a, tf.mul(dir, s)) }]).dataSync()[0]);
    const fd = (lossAt(eps) - lossAt(-eps)) / (2 * eps);
    const analytic = tf.tidy(() => tf.sum(tf.mul(g, dir)).dataSync()[0]);
    assert.ok(
      Math.abs(fd - analytic) <= 2e-2 * Math.abs(analytic) + 1e-4,
      `${h}: finite difference ${fd}, gradient . direction ${analytic}`,
    );
    dir.dispose();
    // Alone, the same gradient.
    const alone = activationGrads(model, b, [h]);
    assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(alone.grads[h], g))).dataSync()[0]) < 1e-6, h);
    alone.grads[h].dispose();
  }
  Object.values(grads).forEach((g) => g.dispose());
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  assert.throws(
    () => activationGrads(model, b, ['blocks.0.hook_nope']),
    /unknown hook point "blocks\.0\.hook_nope"; allowed: hook_embed, /,
  );
});

test('several patches at one hook point apply in the order given, each to what the previous made', () => {
  const b = batchOf(6);
  const z = (patches: Patch[]) =>
    tf.tidy(() =>
      model
        .forward(tokensTensor(b), { patches, cache: [hooks.z(0)] })
        .cache[hooks.z(0)].dataSync()
        .slice(),
    );
  const zero = tf.zeros([model.dHead]);
  const headThenAdd = z([
    { hook: hooks.z(0), head: 1, value: zero },
    { hook: hooks.z(0), value: (a) => tf.add(a, 1) },
  ]);
  const addThenHead = z([
    { hook: hooks.z(0), value: (a) => tf.add(a, 1) },
    { hook: hooks.z(0), head: 1, value: zero },
  ]);
  const dh = model.dHead;
  const H = cfg.model.nHeads;
  const head1 = (xs: ArrayLike<number>) => Array.from(xs).filter((_, i) => Math.floor(i / dh) % H === 1);
  assert.ok(
    head1(headThenAdd).every((v) => v === 1),
    'zeroed, then 1 added',
  );
  assert.ok(
    head1(addThenHead).every((v) => v === 0),
    '1 added, then zeroed',
  );
  zero.dispose();
});

test('head patches go in by masks with the bits of replacing the heads one by one: constants of each shape, functions, cols, two on one head', () => {
  const m4 = Transformer.init(tinyConfig({ model: { nHeads: 4 } }).model, 3);
  const b = batchOf(8); // 6 sequences, 10 positions
  const [B, T, dh] = [6, 10, m4.dHead];
  const hook = hooks.z(1);
  const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
  const [v0, v2, v3] = [seeded([dh], 1), seeded([T, dh], 2), seeded([B, T, 2], 3)];
  const patches: Patch[] = [
    { hook, head: 0, value: v0 }, // one vector for every position
    { hook, head: 2, value: v2 }, // one vector per position
    { hook, head: 1, value: (a) => tf.mul(a, -2) },
    { hook, head: 0, value: (a) => tf.add(a, 1) }, // on what the first patch put in
    { hook, head: 3, cols: [1, 3], value: v3 }, // two columns of head 3, per sequence
  ];
  const run = (ps: Patch[]) =>
    tf.tidy(() => {
      const r = m4.forward(tokensTensor(b), { patches: ps, cache: [hook] });
      return { z: r.cache[hook].dataSync().slice(), logits: r.logits.dataSync().slice() };
    });
  // By hand: the heads unstacked, each replaced in turn, stacked again.
  const want = tf.tidy(() => {
    const z = m4.forward(tokensTensor(b), { cache: [hook] }).cache[hook];
    const heads = tf.unstack(z, 2); // head x [batch, pos, d_head]
    heads[0] = tf.broadcastTo(v0, [B, T, dh]);
    heads[2] = tf.broadcastTo(v2, [B, T, dh]);
    heads[1] = tf.mul(heads[1], -2);
    heads[0] = tf.add(heads[0], 1);
    heads[3] = tf.concat(
      [tf.slice(heads[3], [0, 0, 0], [B, T, 1]), v3, tf.slice(heads[3], [0, 0, 3], [B, T, dh - 3])],
      -1,
    );
    return tf.stack(heads, 2);
  });
  const got = run(patches);
  assert.deepEqual(got.z, want.dataSync());
  assert.deepEqual(got.logits, run([{ hook, value: want }]).logits, 'what follows the patched heads is the same too');
  assert.notDeepEqual(got.logits, run([]).logits);
  // A constant for a whole MLP output: the same bits as broadcasting it by hand.
  const d = seeded([cfg.model.dModel], 4);
  assert.deepEqual(
    run([{ hook: hooks.mlpOut(0), value: d }]).logits,
    run([{ hook: hooks.mlpOut(0), value: (a) => tf.broadcastTo(d, a.shape) }]).logits,
  );
  assert.throws(
    () => run([{ hook: hooks.mlpOut(0), value: seeded([2, B, T, cfg.model.dModel], 5) }]),
    /patch blocks\.0\.hook_mlp_out: its value of shape \[2,6,10,16\] does not broadcast to the activation's \[6,10,16\]/,
  );
  // A constant that does not fit a head, then a function on that head: the same clear error.
  const bad = seeded([3, dh], 6);
  assert.throws(
    () =>
      run([
        { hook, head: 0, value: bad },
        { hook, head: 0, value: (a) => tf.add(a, 1) },
      ]),
    new RegExp(
      `patch blocks\\.1\\.attn\\.hook_z: its value of shape \\[3,${dh}\\] does not broadcast to the activation's \\[6,10,${dh}\\]`,
    ),
  );
  for (const t of [want, v0, v2, v3, d, bad]) t.dispose();
  m4.dispose();
});
