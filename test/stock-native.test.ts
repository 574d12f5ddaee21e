/**
 * The native kernels (src/kernels/wasm-kernels.ts NATIVE_KERNELS and OWN_KERNELS: the matrix
 * product in tfjs-backend-wasm's own order, native/matmul.h; its Exp and Erf, musl's,
 * native/libm.h; Transpose; LayerNorm, GELU and Adam in one call each, native/stock_ops.h) against
 * tfjs's own wasm code, bit for bit: op by op on random shapes
 * (odd sizes, every transpose and batch shape the model uses), on each SIMD path this CPU runs and
 * scalar; and a small model trained a few hundred steps, every weight compared. Under CI=true the
 * native build must be there; elsewhere the tests are skipped with the reason.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { tf } from '../src/kernels/tf';
import { simdPaths, stockCode, withCode } from '../src/kernels/native';
import { Rng } from '../src/base/rng';
import { trainRun, trainRuns } from '../src/runner/training';
import { gelu, layerNorm } from '../src/model/ops';
import { setupBackend, tinyConfig } from './helpers';

let skip: string | false = false;

before(async () => {
  await setupBackend('wasm');
  if (!simdPaths().length) skip = 'the native addon is not built (node scripts/build-native.js)';
  if (skip && process.env.CI) throw new Error(`CI runs the native path: ${skip}`);
});

/** fn on the kernels computed by `code` (a SIMD path, or 'wasm': tfjs's own), then back to the default. */
function on<T>(code: string, fn: () => T): T {
  return withCode(code, () => {
    assert.equal(stockCode(), code === 'wasm' ? 'tfjs wasm' : `native ${code}`);
    return fn();
  });
}

const bits = (t: tf.Tensor) => new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer);

/** Indices where two tensors' bits differ (NaNs count as equal). */
function differ(a: tf.Tensor, b: tf.Tensor): number {
  const [x, y] = [bits(a), bits(b)];
  assert.equal(x.length, y.length);
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i] && !(x[i] << 1 > 0xff000000 && y[i] << 1 > 0xff000000)) n++;
  return n;
}

test('BatchMatMul: bit for bit as tfjs wasm on every SIMD path, plain (sequential order) and transposed or batched (blocks of 48)', (t) => {
  if (skip) return t.skip(skip);
  const rng = new Rng(7);
  // [batch of a, batch of b, m, k, n, transposeA, transposeB]: the model's shapes and odd ones
  const shapes: [number, number, number, number, number, boolean, boolean][] = [
    [1, 1, 64, 128, 128, false, false],
    [1, 1, 13, 37, 29, false, false],
    [1, 1, 1, 1, 1, false, false],
    [1, 1, 129, 200, 33, false, false],
    [1, 1, 33, 129, 17, true, false],
    [1, 1, 31, 97, 45, false, true],
    [1, 1, 19, 130, 23, true, true],
    [6, 6, 16, 32, 16, false, true],
    [6, 6, 16, 16, 32, false, false],
    [5, 1, 17, 97, 23, false, false],
    [1, 5, 17, 97, 23, true, true],
    [3, 3, 7, 300, 9, true, false],
    [1, 1, 1, 1024, 130, false, false],
    [1, 1, 1, 97, 70, true, false],
    [3, 3, 24, 20, 64, true, false],
    [2, 2, 8, 50, 5, false, false],
    [4, 4, 16, 16, 32, false, true],
  ];
  const paths = simdPaths();
  assert.ok(paths.includes('scalar') && paths.includes('vec4'), `paths: ${paths}`);
  for (const [bA, bB, m, k, n, tA, tB] of shapes) {
    const mk = (batch: number, rows: number, cols: number) => {
      const data = Float32Array.from({ length: batch * rows * cols }, () => rng.next() * 2 - 1);
      return bA === 1 && bB === 1 ? tf.tensor(data, [rows, cols]) : tf.tensor(data, [batch, rows, cols]);
    };
    const a = mk(bA, tA ? k : m, tA ? m : k);
    const b = mk(bB, tB ? n : k, tB ? k : n);
    const ref = on('wasm', () => tf.matMul(a, b, tA, tB));
    for (const p of paths) {
      const got = on(p, () => tf.matMul(a, b, tA, tB));
      assert.deepEqual(got.shape, ref.shape);
      assert.equal(differ(got, ref), 0, `${[bA, bB, m, k, n, tA, tB]} on ${p}`);
      got.dispose();
    }
    ref.dispose();
    a.dispose();
    b.dispose();
  }
});

test('the order matters: a product of k > 48 summed in one run differs from the blocked one (what the test above tells apart)', (t) => {
  if (skip) return t.skip(skip);
  const rng = new Rng(3);
  const a = tf.tensor(
    Float32Array.from({ length: 64 * 200 }, () => rng.next() * 2 - 1),
    [64, 200],
  );
  const b = tf.tensor(
    Float32Array.from({ length: 200 * 64 }, () => rng.next() * 2 - 1),
    [200, 64],
  );
  // Plain: sequential; with b transposed twice (the same matrix), tfjs's own loop in blocks of 48.
  const plain = on('wasm', () => tf.matMul(a, b));
  const blocked = on('wasm', () => tf.matMul(a, tf.transpose(b), false, true));
  assert.ok(differ(plain, blocked) > 100, 'the two orders round alike: the order test above proves nothing');
  tf.dispose([a, b, plain, blocked]);
});

test('Exp, Erf and Transpose: bit for bit as tfjs wasm (Exp and Erf on 2^22 floats spread over every bit pattern, and special values)', (t) => {
  if (skip) return t.skip(skip);
  const n = 1 << 22;
  const u = new Uint32Array(n + 8);
  for (let i = 0; i < n; i++) u[i] = Math.imul(i, 1024) + (i & 1023); // strides through all 2^32 patterns
  const special = [0, -0, Infinity, -Infinity, NaN, 88.72283, -103.97208, 1e-30];
  new Float32Array(u.buffer).set(special, n);
  const x = tf.tensor(new Float32Array(u.buffer));
  for (const op of ['exp', 'erf'] as const) {
    const ref = on('wasm', () => tf[op](x));
    const got = on('scalar', () => tf[op](x));
    assert.equal(differ(got, ref), 0, op);
    tf.dispose([ref, got]);
  }
  x.dispose();
  const rng = new Rng(5);
  for (const [shape, perm] of [
    [
      [37, 29],
      [1, 0],
    ],
    [
      [4, 7, 5, 3],
      [0, 2, 1, 3],
    ],
    [
      [3, 4, 5, 6, 2],
      [4, 0, 3, 1, 2],
    ],
  ] as [number[], number[]][]) {
    const v = tf.tensor(
      Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.next()),
      shape,
    );
    const ref = on('wasm', () => tf.transpose(v, perm));
    const got = on(simdPaths()[0], () => tf.transpose(v, perm));
    assert.deepEqual(got.shape, ref.shape);
    assert.equal(differ(got, ref), 0, `${shape} ${perm}`);
    tf.dispose([v, ref, got]);
  }
});

test("LayerNorm and GELU in one native call each: the composed stock ops' values and every gradient bit for bit (their input used before and after; one model and a stack)", (t) => {
  if (skip) return t.skip(skip);
  const rng = new Rng(5);
  const rand = (shape: number[], scale: number) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => (rng.next() * 2 - 1) * scale),
      shape,
    );
  const cases: [number[], number[]][] = [
    [[3, 5, 7], [7]],
    [
      [2, 3, 5, 7],
      [2, 1, 1, 7],
    ],
    [[4, 16, 128], [128]],
  ];
  for (const [xs, gs] of cases) {
    const [x, w, v] = [rand(xs, 3), rand(xs, 1), rand(xs, 1)];
    const [g, b] = [rand(gs, 2), rand(gs, 1)];
    // x feeds a product before the LayerNorm and after it, the LayerNorm's output feeds GELU and a
    // product: the gradients tfjs adds into one tensor come in the composed graph's order.
    const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const before = tf.sum(tf.mul(x, v));
      const h = layerNorm(x, g, b, 1e-5);
      const after = tf.sum(tf.mul(x, w));
      return tf.addN([before, tf.sum(tf.mul(gelu(h), w)), after, tf.sum(tf.mul(h, v))]) as tf.Scalar;
    };
    const run = (code: string) =>
      on(code, () => {
        const { value, grads } = tf.valueAndGrads(f)([x, g, b]);
        const y = gelu(layerNorm(x, g, b, 1e-5));
        return [y, value, ...grads];
      });
    const ref = run('wasm');
    for (const code of [simdPaths()[0], 'scalar']) {
      const got = run(code);
      ['y', 'loss', 'dx', 'dg', 'db'].forEach((name, i) =>
        assert.equal(differ(got[i], ref[i]), 0, `${name} of ${xs} on ${code}`),
      );
      tf.dispose(got);
    }
    tf.dispose([x, w, v, g, b, ...ref]);
  }
});

test('a small model trained 300 steps on the stock kernels: every weight and loss the same bits from tfjs wasm, the widest SIMD path and scalar', (t) => {
  if (skip) return t.skip(skip);
  const cfg = tinyConfig({
    model: { dModel: 32, dFF: 64 },
    data: { minLen: 3, maxLen: 7 },
    train: { batchSize: 16, evalEvery: 100, evalSamples: 32, maxSteps: 300, targetAcc: 1 },
  });
  const run = (code: string) =>
    on(code, () => {
      const r = trainRun({ task: 'sort', seed: 11, cfg, progress: false });
      const weights = Object.fromEntries(Object.entries(r.model.params).map(([k, v]) => [k, bits(v)]));
      r.model.dispose();
      return { steps: r.steps, losses: r.losses, weights };
    });
  const ref = run('wasm');
  assert.equal(ref.steps, 300);
  for (const code of [simdPaths()[0], 'scalar']) {
    const got = run(code);
    assert.deepEqual(got.losses, ref.losses, `losses on ${code}`);
    for (const [k, w] of Object.entries(ref.weights)) assert.deepEqual(got.weights[k], w, `${k} on ${code}`);
  }
});

test('K = 3 seeds stacked on the stock kernels computed natively: every weight and loss the same bits as each seed alone on tfjs wasm', (t) => {
  if (skip) return t.skip(skip);
  // batch 16 of up to 7 tokens: products over more than 48 rows, where the per-seed orders differ from a batched one
  const cfg = tinyConfig({
    model: { dModel: 32, dFF: 64 },
    data: { minLen: 3, maxLen: 7 },
    train: { batchSize: 16, evalEvery: 20, evalSamples: 32, maxSteps: 40, targetAcc: 1 },
  });
  const seeds = [2, 5, 9];
  const weights = (r: { model: { params: Record<string, tf.Tensor> } }) =>
    Object.fromEntries(Object.entries(r.model.params).map(([k, v]) => [k, bits(v)]));
  const alone = on('wasm', () =>
    seeds.map((seed) => {
      const r = trainRun({ task: 'sort', seed, cfg, progress: false });
      const out = { losses: r.losses, weights: weights(r) };
      r.model.dispose();
      return out;
    }),
  );
  const stacked = new Map<number, { losses: number[]; weights: Record<string, Uint32Array> }>();
  on(simdPaths()[0], () =>
    trainRuns({
      task: 'sort',
      seeds,
      cfg,
      progress: false,
      onDone: (seed, r) => {
        stacked.set(seed, { losses: r.losses, weights: weights(r) });
        r.model.dispose();
      },
    }),
  );
  seeds.forEach((seed, i) => {
    const got = stacked.get(seed)!;
    assert.deepEqual(got.losses, alone[i].losses, `seed ${seed} losses`);
    for (const [k, w] of Object.entries(alone[i].weights)) assert.deepEqual(got.weights[k], w, `seed ${seed} ${k}`);
  });
});
