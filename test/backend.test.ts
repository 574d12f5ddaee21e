/**
 * Backends: the default choice loads, wasm's gradients (with our BatchMatMul gradient) match the
 * cpu backend's on the full-size model, and exactly one copy of tfjs-core is installed.
 * Under CI=true a backend that fails to load fails these tests; elsewhere they are skipped with the reason.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { defaultOrder, forcedBackend, initBackend } from '../src/kernels/backend';
import { registerFastMatMulGradient, tf } from '../src/kernels/tf';
import { nativeAddonLoads } from '../src/kernels/native';
import { lossFromLogits, targetWeights, tokensTensor } from '../src/model/eval';
import { Transformer } from '../src/model/model';
import { Rng } from '../src/base/rng';
import { makeBatch, sampleExamples } from '../src/tasks';
import { maxAbsDiff, tinyConfig } from './helpers';

const ROOT = path.join(__dirname, '..', '..');

test('exactly one copy of @tensorflow/tfjs-core is installed', () => {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 8 || !fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name === 'tfjs-core' && path.basename(dir) === '@tensorflow' && fs.existsSync(path.join(p, 'package.json')))
        found.push(p);
      walk(e.name === 'node_modules' || e.name.startsWith('@') ? p : path.join(p, 'node_modules'), depth + 1);
    }
  };
  walk(path.join(ROOT, 'node_modules'), 0);
  assert.deepEqual(
    found.map((p) => path.relative(ROOT, p)),
    [path.join('node_modules', '@tensorflow', 'tfjs-core')],
  );
});

test("the default backend is chosen by measurement: wasm first where the native kernels load or GCG_KERNELS=stock asks for wasm's numbers, else tensorflow", () => {
  assert.deepEqual(defaultOrder(true), ['wasm', 'tensorflow', 'cpu']);
  const loads = nativeAddonLoads();
  assert.deepEqual(
    defaultOrder(false),
    loads === true ? ['wasm', 'tensorflow', 'cpu'] : ['tensorflow', 'wasm', 'cpu'],
    String(loads),
  );
  if (process.env.CI) assert.equal(loads, true, 'CI builds the native kernels (npm ci, with a C compiler)');
});

test('GCG_BACKEND is validated', () => {
  assert.throws(() => forcedBackend('gpu'), /GCG_BACKEND="gpu".*tensorflow, wasm, cpu/);
  assert.equal(forcedBackend('wasm'), 'wasm');
  assert.equal(forcedBackend(''), undefined);
});

test('the registered BatchMatMul gradient equals the analytic gradient for every transpose flag, batched and 2-D', async () => {
  await initBackend('cpu');
  registerFastMatMulGradient();
  const rng = new Rng(1);
  const rand = (shape: number[]) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()),
      shape,
    );
  for (const [tA, tB, n] of [
    [false, false, 2],
    [false, true, 2],
    [true, false, 2],
    [true, true, 2],
    [false, false, 1],
    [false, true, 1],
    [true, false, 1],
    [true, true, 1],
  ] as const) {
    // n = 2: a batch of two products (the flagged form); n = 1: one product (explicit transposes).
    const a = rand(tA ? [n, 4, 3] : [n, 3, 4]);
    const b = rand(tB ? [n, 5, 4] : [n, 4, 5]);
    const dy = rand([n, 3, 5]);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, tA, tB), dy)))([a, b]);
    // Reference: d/dA sum(dy * (A' B')) = dy B'^T, mapped back through the transposes, by plain JS loops.
    const A = (tA ? tf.transpose(a, [0, 2, 1]) : a).arraySync() as number[][][];
    const B = (tB ? tf.transpose(b, [0, 2, 1]) : b).arraySync() as number[][][];
    const D = dy.arraySync() as number[][][];
    const gA = A.map((m, n) =>
      m.map((row, i) => row.map((_, k) => D[n][i].reduce((s, d, j) => s + d * B[n][k][j], 0))),
    );
    const gB = B.map((m, n) =>
      m.map((row, k) => row.map((_, j) => A[n].reduce((s, arow, i) => s + arow[k] * D[n][i][j], 0))),
    );
    const wantA = tA ? tf.transpose(tf.tensor(gA), [0, 2, 1]) : tf.tensor(gA);
    const wantB = tB ? tf.transpose(tf.tensor(gB), [0, 2, 1]) : tf.tensor(gB);
    assert.ok(maxAbsDiff(ga.dataSync(), wantA.dataSync()) < 1e-4, `dA, transposeA=${tA} transposeB=${tB}`);
    assert.ok(maxAbsDiff(gb.dataSync(), wantB.dataSync()) < 1e-4, `dB, transposeA=${tA} transposeB=${tB}`);
  }
});

function allGrads(model: Transformer, batch: ReturnType<typeof makeBatch>): Record<string, Float32Array> {
  const names = Object.keys(model.params);
  return tf.tidy(() => {
    const { grads } = tf.variableGrads(
      () => lossFromLogits(model.forward(tokensTensor(batch)).logits, targetWeights(batch, model.cfg.vocabSize)),
      names.map((n) => model.params[n]),
    );
    const out: Record<string, Float32Array> = {};
    for (const n of names) out[n] = grads[model.params[n].name].dataSync() as Float32Array;
    return out;
  });
}

test('wasm gradients of the full-size model match the cpu backend within float tolerance', async (t) => {
  let wasmOk = true;
  try {
    await initBackend('wasm');
  } catch (e) {
    if (process.env.CI) throw e;
    wasmOk = false;
    t.skip(`wasm backend did not load: ${(e as Error).message}`);
  }
  if (!wasmOk) return;
  assert.equal(tf.getBackend(), 'wasm');
  const cfg = tinyConfig({ model: { nLayers: 4, nHeads: 4, dModel: 128, dFF: 512 } }).model;
  const weights = Transformer.init(cfg, 42).toArrays();
  const batch = makeBatch(sampleExamples('sort', 64, new Rng(42), { minLen: 3, maxLen: 7 }), 'separate');
  const onWasm = Transformer.fromArrays(cfg, weights);
  const gWasm = allGrads(onWasm, batch);
  onWasm.dispose();
  await initBackend('cpu');
  assert.equal(tf.getBackend(), 'cpu');
  const onCpu = Transformer.fromArrays(cfg, weights);
  const gCpu = allGrads(onCpu, batch);
  onCpu.dispose();
  let worst = 0;
  for (const name of Object.keys(gCpu)) {
    const scale = Math.max(...Array.from(gCpu[name], Math.abs), 1e-6);
    const rel = maxAbsDiff(gWasm[name], gCpu[name]) / scale;
    worst = Math.max(worst, rel);
    assert.ok(rel < 1e-3, `${name}: max |wasm - cpu| / max |cpu| = ${rel}`);
  }
  assert.ok(worst > 0 || Object.keys(gCpu).length > 0);
});

test('wasm: a clone and a same-dtype cast share data safely (disposing the source keeps them; a variable assign does not reach them)', async (t) => {
  try {
    await initBackend('wasm');
  } catch (e) {
    t.skip(`wasm backend unavailable: ${(e as Error).message}`);
    return;
  }
  const x = tf.tensor1d([1, 2, 3]);
  const c = tf.clone(x);
  const k = tf.cast(x, 'float32');
  const i = tf.cast(x, 'int32');
  x.dispose();
  assert.deepEqual(Array.from(c.dataSync()), [1, 2, 3]);
  assert.deepEqual(Array.from(k.dataSync()), [1, 2, 3]);
  assert.equal(i.dtype, 'int32');
  const v = tf.variable(tf.tensor1d([4, 5]));
  const saved = tf.clone(v);
  v.assign(tf.tensor1d([6, 7]));
  assert.deepEqual(Array.from(saved.dataSync()), [4, 5]);
  assert.deepEqual(Array.from(v.dataSync()), [6, 7]);
  for (const z of [c, k, i, v, saved]) z.dispose();
});
