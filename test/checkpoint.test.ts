import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { tf } from '../src/backend';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../src/checkpoint';
import { tokensTensor } from '../src/eval';
import { Transformer } from '../src/model';
import { Rng } from '../src/rng';
import { makeBatch, sampleExamples } from '../src/tasks';
import { setupBackend, tinyConfig } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-ckpt-'));
const cfg = tinyConfig({ model: { positions: 'learned' } });
const meta = { task: 'sort', seed: 7, preset: 'paper', steps: 123, backend: 'test' };

before(async () => {
  await setupBackend();
});

test('round trip is exact: weights, config, metadata, outputs', () => {
  const m = Transformer.init(cfg.model, 7);
  const file = path.join(dir, 'a.ckpt');
  saveCheckpoint(file, m, cfg, meta);
  assert.deepEqual(fs.readdirSync(dir), ['a.ckpt'], 'no temporary files left behind');
  const { model, config, meta: got } = loadCheckpoint(file);
  assert.deepEqual(config, cfg);
  assert.deepEqual(got, meta);
  const a = m.toArrays();
  const b = model.toArrays();
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
  for (const k of Object.keys(a)) assert.deepEqual(b[k].data, a[k].data, k);
  const batch = makeBatch(sampleExamples('sort', 4, new Rng(1), 4));
  const [la, lb] = tf.tidy(() => [m.forward(tokensTensor(batch)).logits.dataSync(), model.forward(tokensTensor(batch)).logits.dataSync()]);
  assert.deepEqual(lb, la);
  m.dispose();
  model.dispose();
});

test('a truncated, edited or foreign file gets a clear error', () => {
  const m = Transformer.init(cfg.model, 7);
  const file = path.join(dir, 'b.ckpt');
  saveCheckpoint(file, m, cfg, meta);
  m.dispose();
  const good = fs.readFileSync(file);
  const expectError = (bytes: Buffer, pattern: RegExp) => {
    const f = path.join(dir, 'bad.ckpt');
    fs.writeFileSync(f, bytes);
    assert.throws(() => loadCheckpoint(f), (e: unknown) => e instanceof CheckpointError && pattern.test(e.message) && e.message.includes(f));
  };
  expectError(good.subarray(0, good.length - 100), /integrity check|truncated/);
  expectError(good.subarray(0, 20), /truncated|too short/);
  const headerEdit = Buffer.from(good);
  const at = headerEdit.indexOf(Buffer.from('"seed":7'));
  headerEdit.write('"seed":8', at);
  expectError(headerEdit, /integrity check/);
  const weightEdit = Buffer.from(good);
  weightEdit[weightEdit.length - 40] ^= 0xff;
  expectError(weightEdit, /integrity check/);
  expectError(Buffer.from('{"not": "a checkpoint"} plus enough bytes to pass the length check....'), /not a gradient-causal-gap checkpoint/);
  assert.throws(() => loadCheckpoint(path.join(dir, 'missing.ckpt')), /cannot be read/);
});
