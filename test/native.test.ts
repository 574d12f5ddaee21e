/**
 * The native kernels (src/kernels/native.ts) against tfjs's stock wasm kernels: matrix products on random
 * shapes (2-D, batched, transposed, broadcast, odd sizes, an output large enough to grow the wasm
 * memory), Exp and Erf, one training step's loss and every gradient, and the steps a small run
 * takes to its training target (within the seed-to-seed spread). They run on the wasm backend whatever the
 * default. Under CI=true the native build must be there (.ci/run installs OpenBLAS); elsewhere the tests
 * are skipped with the reason.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, test } from 'node:test';
import { activeKernels, fusedKernels, tf, withoutFused } from '../src/kernels/tf';
import { getConfig } from '../src/settings/validate';
import { lossFromLogits, targetWeights, tokensTensor } from '../src/model/eval';
import { Transformer } from '../src/model/model';
import { gelu, layerNorm } from '../src/model/ops';
import { blasCoreChoice } from '../src/io/addon';
import { blasKernels, libmKernels, useKernels, WASM_BACKEND_VERSION, withKernels } from '../src/kernels/native';
import { provenance } from '../src/records/provenance';
import { Rng } from '../src/base/rng';
import { BatchStream } from '../src/tasks';
import { adamState, makeOptimizer } from '../src/train/adam';
import { trainRun } from '../src/runner/training';
import { maxAbsDiff, setupBackend, tinyConfig } from './helpers';

let skip: string | false = false;

before(async () => {
  // Always on wasm, whatever the default backend (GCG_BACKEND included): the kernels are wasm's.
  const info = await setupBackend('wasm');
  if (info.kernels !== 'native') skip = `native kernels not available: ${info.kernelsReason}`;
  if (skip && process.env.CI) throw new Error(`CI runs the native path: ${skip}`);
});

/** The same computation under the stock and the native kernels. */
function both<T>(fn: () => T): { stock: T; native: T } {
  useKernels('stock', WASM_BACKEND_VERSION);
  const stock = fn();
  useKernels('native', WASM_BACKEND_VERSION);
  const native = fn();
  return { stock, native };
}

const rand = (rng: Rng, shape: number[]) =>
  tf.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1),
    shape,
  );

test('BatchMatMul: native equals stock on 2-D, batched, transposed, broadcast and odd shapes', (t) => {
  if (skip) return t.skip(skip);
  const rng = new Rng(1, 'native-test');
  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[3, 4, 5], [3, 5, 6], false, false],
    [[2, 3, 5, 4], [2, 3, 6, 5], true, true],
    [[1, 4, 5], [3, 5, 6], false, false], // broadcast a
    [[3, 4, 5], [5, 6], false, false], // b of rank 2 against a batch
    [[1, 1], [1, 1], false, false],
    [[13, 17, 19], [13, 19, 11], false, false],
    [[64, 16, 128], [128, 384], false, false], // the QKV projection's shape
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const a = rand(rng, sa);
    const b = rand(rng, sb);
    const r = both(() => {
      const c = tf.matMul(a, b, ta, tb);
      const out = { shape: c.shape, data: c.dataSync().slice() };
      c.dispose();
      return out;
    });
    assert.deepEqual(r.native.shape, r.stock.shape, `${sa} x ${sb}`);
    assert.ok(
      maxAbsDiff(r.native.data, r.stock.data) < 1e-4,
      `${sa} x ${sb} (${ta}, ${tb}): max diff ${maxAbsDiff(r.native.data, r.stock.data)}`,
    );
    a.dispose();
    b.dispose();
  }
  assert.equal(activeKernels(), 'native');
});

test('BatchMatMul: an output large enough to grow the wasm memory is still right', (t) => {
  if (skip) return t.skip(skip);
  const rng = new Rng(2, 'native-test');
  const a = rand(rng, [2, 512, 64]);
  const b = rand(rng, [64, 4096]); // a 16 MiB output
  const r = both(() => {
    const c = tf.matMul(a, b);
    const s = c.sum().dataSync()[0];
    const corner = c.slice([1, 511, 4090], [1, 1, 6]).dataSync().slice();
    c.dispose();
    return { s, corner };
  });
  assert.ok(
    Math.abs(r.native.s - r.stock.s) < 1e-2 * Math.max(1, Math.abs(r.stock.s)),
    `${r.native.s} vs ${r.stock.s}`,
  );
  assert.ok(maxAbsDiff(r.native.corner, r.stock.corner) < 1e-4);
  a.dispose();
  b.dispose();
});

test('Exp and Erf: native equals stock on random, extreme and special values, other dtypes and a growing memory', (t) => {
  if (skip) return t.skip(skip);
  const rng = new Rng(4, 'native-test');
  const values = [
    ...Array.from({ length: 4099 }, () => (rng.next() * 2 - 1) * 12),
    0,
    -0,
    88,
    89,
    -104,
    1e-30,
    NaN,
    Infinity,
    -Infinity,
  ];
  const x = tf.tensor(values);
  for (const op of ['exp', 'erf'] as const) {
    const r = both(() => {
      const y = tf[op](x);
      const out = y.dataSync().slice();
      y.dispose();
      return out;
    });
    for (let i = 0; i < values.length; i++) {
      const [n, s] = [r.native[i], r.stock[i]];
      if (Number.isNaN(s) || !Number.isFinite(s))
        assert.ok(Object.is(n, s), `${op}(${values[i]}): native ${n}, stock ${s}`);
      else
        assert.ok(Math.abs(n - s) <= 2e-6 * Math.max(1, Math.abs(s)), `${op}(${values[i]}): native ${n}, stock ${s}`);
    }
    // An int32 input goes to the stock kernel; a 4-D one is elementwise all the same.
    const ints = both(() =>
      tf[op](tf.tensor([-2, 0, 3], [3], 'int32'))
        .dataSync()
        .slice(),
    );
    assert.deepEqual(ints.native, ints.stock);
    const big = both(() => {
      const y = tf[op](tf.fill([2, 2, 1024, 1024], 0.5)); // a 16 MiB output grows the memory during the call
      const out = y.slice([1, 1, 1023, 1020], [1, 1, 1, 4]).dataSync().slice();
      y.dispose();
      return out;
    });
    assert.ok(
      maxAbsDiff(big.native, big.stock) < 1e-6 &&
        Math.abs(big.native[3] - (op === 'exp' ? Math.exp(0.5) : 0.5204998778)) < 1e-6,
      `${op}(0.5) at the end of a 16 MiB output: ${big.native}`,
    );
  }
  x.dispose();
});

test('fused LayerNorm and GELU (one native call each way) against the stock composed ops: values and gradients within 1e-6; the fused GELU forward equals the unfused native chain bit for bit', (t) => {
  if (skip) return t.skip(skip);
  const rng = new Rng(5, 'fused-test');
  const rand = (shape: number[], scale = 1) =>
    tf.tensor(
      Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rng.next() * 2 - 1) * scale),
      shape,
    );
  // One model ([B, T, D] with [D] gain) and three stacked ones ([K, B, T, D] with [K, 1, 1, D] gains), odd sizes.
  for (const [xShape, gShape] of [
    [[5, 7, 33], [33]],
    [
      [3, 4, 6, 20],
      [3, 1, 1, 20],
    ],
  ] as const) {
    const x = rand([...xShape], 3);
    const g = tf.add(1, rand([...gShape], 0.5));
    const b = rand([...gShape], 0.5);
    const w = rand([...xShape]); // a random downstream weighting, so that every gradient is exercised
    const run = (fn: (x: tf.Tensor) => tf.Tensor, inputs: tf.Tensor[]) =>
      both(() => {
        const { value, grads } = tf.valueAndGrads(
          (...xs: tf.Tensor[]) =>
            tf.sum(tf.mul(fn === gelu ? gelu(xs[0]) : layerNorm(xs[0], xs[1], xs[2], 1e-5), w)) as tf.Scalar,
        )(inputs);
        const y = (fn === gelu ? gelu(inputs[0]) : layerNorm(inputs[0], inputs[1], inputs[2], 1e-5)).dataSync().slice();
        return { y, loss: value.dataSync()[0], grads: grads.map((d) => d.dataSync().slice()) };
      });
    for (const [name, fn, inputs] of [
      ['LayerNorm', layerNorm, [x, g, b]],
      ['GELU', gelu, [x]],
    ] as const) {
      const r = run(fn as never, inputs as unknown as tf.Tensor[]);
      const scale = (a: ArrayLike<number>) => Math.max(1, ...Array.from(a, Math.abs));
      assert.ok(
        maxAbsDiff(r.native.y, r.stock.y) <= 1e-6 * scale(r.stock.y),
        `${name} ${xShape} values: ${maxAbsDiff(r.native.y, r.stock.y)}`,
      );
      r.stock.grads.forEach((gs, i) => {
        const d = maxAbsDiff(r.native.grads[i], gs);
        assert.ok(d <= 1e-6 * scale(gs), `${name} ${xShape} gradient ${i}: ${d} (largest ${scale(gs)})`);
      });
    }
    useKernels('native', WASM_BACKEND_VERSION);
    const fused = gelu(x).dataSync().slice();
    const unfused = withoutFused(() => gelu(x).dataSync().slice());
    assert.deepEqual(fused, unfused, 'the fused GELU rounds as the unfused native ops');
  }
  assert.deepEqual(fusedKernels(), ['LayerNorm', 'GELU', 'Adam']);
  useKernels('stock', WASM_BACKEND_VERSION);
  assert.equal(fusedKernels(), null, 'never on the stock kernels');
  useKernels('native', WASM_BACKEND_VERSION);
});

test("the fused Adam update equals tfjs's composed one bit for bit, step after step, its state where tfjs keeps it", (t) => {
  if (skip) return t.skip(skip);
  useKernels('native', WASM_BACKEND_VERSION);
  const cfg = getConfig('paper');
  const rng = new Rng(6, 'fused-adam');
  const shapes = [[7, 5], [33], [1]];
  const start = shapes.map((s) => Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1));
  const run = () => {
    const vars = shapes.map((s, i) => tf.variable(tf.tensor(start[i], s)));
    const opt = makeOptimizer(cfg.train);
    const gradRng = new Rng(7, 'fused-adam-grads');
    for (let step = 0; step < 5; step++) {
      const grads: tf.NamedTensorMap = {};
      vars.forEach(
        (v) =>
          (grads[v.name] = tf.tensor(
            Array.from({ length: v.size }, () => (gradRng.next() * 2 - 1) * 10 ** (step - 2)),
            v.shape,
          )),
      );
      opt.applyGradients(grads);
    }
    const model = { params: Object.fromEntries(vars.map((v, i) => [`p${i}`, v])) } as unknown as Transformer;
    return { values: vars.map((v) => v.dataSync().slice()), state: adamState(opt, model) };
  };
  const fused = run();
  const composed = withoutFused(run);
  assert.deepEqual(fused.values, composed.values, 'the same weights');
  assert.deepEqual(fused.state, composed.state, 'the same moments and beta powers');
});

test("one training step's loss and every gradient: native equals stock within float tolerance", (t) => {
  if (skip) return t.skip(skip);
  const cfg = getConfig('paper', { model: { nLayers: 2, nHeads: 2, dModel: 32, dFF: 64 } });
  const model = Transformer.init(cfg.model, 3);
  const batch = new BatchStream('sort', { ...cfg.data, batchSize: 16 }, new Rng(3, 'native-step')).next();
  const tokens = tokensTensor(batch);
  const weights = targetWeights(batch, model.cfg.vocabSize);
  const names = Object.keys(model.params);
  const r = both(() => {
    const { value, grads } = tf.variableGrads(
      () => lossFromLogits(model.forward(tokens).logits, weights) as tf.Scalar,
      Object.values(model.params),
    );
    const out = {
      loss: value.dataSync()[0],
      grads: Object.fromEntries(names.map((n) => [n, grads[model.params[n].name].dataSync().slice()])),
    };
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
    return out;
  });
  assert.ok(Math.abs(r.native.loss - r.stock.loss) < 1e-5, `loss ${r.native.loss} vs ${r.stock.loss}`);
  for (const n of names)
    assert.ok(
      maxAbsDiff(r.native.grads[n], r.stock.grads[n]) < 1e-4,
      `${n}: ${maxAbsDiff(r.native.grads[n], r.stock.grads[n])}`,
    );
  tokens.dispose();
  weights.dispose();
  model.dispose();
});

test('a small run reaches its training target in as many steps as on the stock kernels, within the seed-to-seed spread', (t) => {
  if (skip) return t.skip(skip);
  // Tiny reversal (2 layers, d_model 32, 2-3 digits), checked every 10 steps, three seeds per kernel set.
  const cfg = tinyConfig({
    model: { dModel: 32, dFF: 64, positions: 'learned' },
    data: { minLen: 2, maxLen: 3 },
    train: { batchSize: 32, evalEvery: 10, evalSamples: 256, maxSteps: 1200 },
    analysis: { idLength: 3 },
  });
  const seeds = [1, 2, 3];
  const steps = both(() =>
    seeds.map((seed) => {
      const r = trainRun({ task: 'reverse', seed, cfg, progress: false });
      r.model.dispose();
      assert.equal(
        r.stopReason,
        'target',
        `seed ${seed} (${activeKernels()}) stopped by ${r.stopReason} after ${r.steps} steps`,
      );
      return r.steps;
    }),
  );
  const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
  const spread = Math.max(...steps.stock) - Math.min(...steps.stock);
  const gap = Math.abs(median(steps.native) - median(steps.stock));
  assert.ok(
    gap <= spread + cfg.train.evalEvery,
    `median steps to target: native ${steps.native}, stock ${steps.stock} (spread ${spread}, checked every ${cfg.train.evalEvery})`,
  );
});

test('OpenBLAS kernel family: portable by default (Haswell on x86-64 with AVX2 and FMA), a set OPENBLAS_CORETYPE is kept, auto or a name when asked', () => {
  const avx2 = ['fpu', 'sse2', 'avx', 'avx2', 'fma', 'avx512f'];
  assert.equal(blasCoreChoice({}, avx2, 'x64').set, 'Haswell');
  assert.equal(blasCoreChoice({ GCG_BLAS_CORE: 'portable' }, avx2, 'x64').set, 'Haswell');
  assert.equal(
    blasCoreChoice({}, ['fpu', 'sse2', 'avx'], 'x64').set,
    null,
    'no AVX2: OpenBLAS chooses (Haswell kernels would not run)',
  );
  assert.equal(blasCoreChoice({}, ['avx2'], 'x64').set, null, 'no FMA');
  assert.equal(blasCoreChoice({}, avx2, 'arm64').set, null);
  assert.equal(blasCoreChoice({}, null, 'x64').set, null);
  assert.equal(blasCoreChoice({ OPENBLAS_CORETYPE: 'SkylakeX' }, avx2, 'x64').set, null, 'kept');
  assert.equal(
    blasCoreChoice({ OPENBLAS_CORETYPE: 'SkylakeX', GCG_BLAS_CORE: 'Zen' }, avx2, 'x64').set,
    null,
    'kept even when a family is asked',
  );
  assert.equal(blasCoreChoice({ GCG_BLAS_CORE: 'auto' }, avx2, 'x64').set, null);
  assert.equal(blasCoreChoice({ GCG_BLAS_CORE: 'SkylakeX' }, avx2, 'x64').set, 'SkylakeX');
  assert.throws(
    () => blasCoreChoice({ GCG_BLAS_CORE: 'sky lake' }, avx2, 'x64'),
    /GCG_BLAS_CORE="sky lake" is not a kernel family; allowed: portable \(default\), auto/,
  );
});

test('provenance names the BLAS kernel family the native kernels run on', (t) => {
  if (skip) return t.skip(skip);
  assert.match(blasKernels() ?? '', /; core [A-Za-z0-9]+$/);
  assert.equal(provenance().blas, blasKernels());
  assert.equal(
    withKernels('stock', () => blasKernels()),
    null,
  );
});

test('provenance names the C library whose expf and erff the native kernels call (they round differently per library)', (t) => {
  if (skip) return t.skip(skip);
  // glibc's own answer, from another program: `getconf GNU_LIBC_VERSION` prints "glibc 2.36".
  const getconf = spawnSync('getconf', ['GNU_LIBC_VERSION'], { encoding: 'utf8' });
  if (process.platform !== 'linux' || getconf.status !== 0) return t.skip('not a glibc system');
  assert.equal(libmKernels(), getconf.stdout.trim());
  assert.equal(provenance().libm, libmKernels());
  assert.equal(
    withKernels('stock', () => libmKernels()),
    null,
  );
  assert.equal(
    withKernels('stock', () => provenance().libm),
    null,
  );
});
