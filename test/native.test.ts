/**
 * The native kernels' edges (src/kernels/native.ts), each against tfjs's own wasm code bit for bit:
 * an output large enough to grow the wasm memory during the call, Exp and Erf on extreme and
 * special values and other dtypes, the one-call Adam's state where tfjs keeps it; and the settings:
 * GCG_KERNELS (native, the retired family, refused saying so), GCG_SIMD, what a record says computed
 * it, and work of the retired family refused to be redone. test/stock-native.test.ts holds the op
 * by op and training comparisons. Under CI=true the native build must be there; elsewhere the
 * tests that need it are skipped with the reason.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { nativeActive, tf, withoutFused } from '../src/kernels/tf';
import { getConfig } from '../src/settings/validate';
import { Transformer } from '../src/model/model';
import { checkRedoable, kernelsSetting, simdPaths, stockCode, withCode } from '../src/kernels/native';
import { provenance } from '../src/records/provenance';
import { Rng } from '../src/base/rng';
import { adamState, makeOptimizer } from '../src/train/adam';
import { setupBackend } from './helpers';

let skip: string | false = false;

before(async () => {
  // Always on wasm, whatever the default backend (GCG_BACKEND included): the kernels are wasm's.
  await setupBackend('wasm');
  if (!simdPaths().length) skip = 'the native addon is not built (node scripts/build-native.js)';
  if (skip && process.env.CI) throw new Error(`CI runs the native path: ${skip}`);
});

/** The same computation on the native kernels (widest path) and on tfjs's own wasm code, as bits. */
function both(fn: () => tf.Tensor): { wasm: Uint32Array; native: Uint32Array } {
  const run = () => {
    const t = fn();
    const out = new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer);
    t.dispose();
    return out;
  };
  const native = withCode(simdPaths()[0], run); // first, so that its output is what grows the memory
  return { native, wasm: withCode('wasm', run) };
}

const rand = (rng: Rng, shape: number[]) =>
  tf.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1),
    shape,
  );

test('BatchMatMul: an output large enough to grow the wasm memory during the call, bit for bit', (t) => {
  if (skip) return t.skip(skip);
  const rng = new Rng(2, 'native-test');
  const a = rand(rng, [2, 512, 64]);
  const b = rand(rng, [64, 4096]); // a 16 MiB output
  const r = both(() => tf.matMul(a, b));
  assert.equal(r.native.length, 2 * 512 * 4096);
  assert.deepEqual(r.native, r.wasm);
  a.dispose();
  b.dispose();
});

test('Exp and Erf: bit for bit on random, extreme and special values, other dtypes and a growing memory', (t) => {
  if (skip) return t.skip(skip);
  const rng = new Rng(4, 'native-test');
  const values = [
    ...Array.from({ length: 4099 }, () => (rng.next() * 2 - 1) * 12),
    ...[0, -0, 88, 88.7, 89, -87, -104, -1e3, 1e-30, -1e-38, 1e-45, 3.9, 4, 0.84375, NaN, Infinity, -Infinity],
  ];
  const x = tf.tensor(values);
  for (const op of ['exp', 'erf'] as const) {
    const r = both(() => tf[op](x));
    assert.deepEqual(r.native, r.wasm, op);
    // An int32 input goes to tfjs's kernel; a 4-D one is elementwise all the same.
    const ints = both(() => tf[op](tf.tensor([-2, 0, 3], [3], 'int32')));
    assert.deepEqual(ints.native, ints.wasm);
    const big = both(() => tf[op](tf.fill([2, 2, 1024, 1024], 0.5))); // a 16 MiB output grows the memory
    assert.deepEqual(big.native, big.wasm);
    const last = new Float32Array(big.native.buffer)[big.native.length - 1];
    assert.ok(Math.abs(last - (op === 'exp' ? Math.exp(0.5) : 0.5204998778)) < 1e-6, `${op}(0.5): ${last}`);
  }
  x.dispose();
});

test("the one-call Adam update equals tfjs's composed one bit for bit, step after step, its state where tfjs keeps it", (t) => {
  if (skip) return t.skip(skip);
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
  const fused = withCode(simdPaths()[0], () => {
    assert.ok(nativeActive(), 'the one-call forms run on the native kernels');
    return run();
  });
  const composed = withoutFused(run);
  const wasm = withCode('wasm', () => {
    assert.ok(!nativeActive(), "not on tfjs's own code");
    return run();
  });
  assert.deepEqual(fused.values, composed.values, 'the same weights');
  assert.deepEqual(fused.state, composed.state, 'the same moments and beta powers');
  assert.deepEqual(wasm.values, composed.values, "tfjs's own code: the same weights");
});

test('GCG_KERNELS: stock or unset; native (the retired family) refused saying so; anything else refused with the choices', () => {
  assert.equal(kernelsSetting(undefined), false);
  assert.equal(kernelsSetting(''), false);
  assert.equal(kernelsSetting('stock'), true, 'asks for the wasm backend first');
  assert.throws(
    () => kernelsSetting('native'),
    /GCG_KERNELS=native: the native kernel family .* retired in issue 42.*allowed: stock or unset/,
  );
  assert.throws(() => kernelsSetting('fast'), /GCG_KERNELS="fast" is not a kernel choice; allowed: stock, or unset/);
});

test('GCG_SIMD: a path this CPU lacks is refused naming those it runs; a record says what computed its kernels', (t) => {
  if (skip) return t.skip(skip);
  assert.throws(
    () => withCode('avx1024', () => 0),
    /GCG_SIMD="avx1024" is not a SIMD path this CPU runs; allowed: .*scalar, wasm/,
  );
  for (const code of [simdPaths()[0], 'scalar', 'wasm'])
    withCode(code, () => {
      const p = provenance();
      assert.equal(p.kernels, 'stock');
      assert.equal(p.stockCode, code === 'wasm' ? 'tfjs wasm' : `native ${code}`);
      assert.equal(stockCode(), p.stockCode);
      for (const gone of ['blas', 'libm', 'fused']) assert.ok(!(gone in p), `${gone} is no longer written`);
    });
});

test('work of the retired native family is refused to be redone, naming why; every other record is redone', () => {
  assert.throws(
    () => checkRedoable('native', 'results/x/reverse_seed1.json'),
    /results\/x\/reverse_seed1.json was made on the native kernel family retired in issue 42 .* cannot be redone bit for bit/,
  );
  checkRedoable('stock', 'a record');
  checkRedoable(undefined, 'an old record');
});
