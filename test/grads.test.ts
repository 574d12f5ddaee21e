/** Per-component gradients against central finite differences of the loss on a tiny model. */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { tf } from '../src/kernels/tf';
import { batchLoss } from '../src/model/eval';
import { componentGrads, componentWeight } from '../src/model/grads';
import { Transformer } from '../src/model/model';
import { Rng } from '../src/base/rng';
import { makeBatch, sampleExamples } from '../src/tasks';
import { setupBackend, tinyConfig } from './helpers';

before(async () => {
  await setupBackend();
});

test('gradient of each head W_V slice and each MLP W2 matches finite differences', () => {
  const cfg = tinyConfig().model;
  const model = Transformer.init(cfg, 11);
  const batch = makeBatch(sampleExamples('reverse', 8, new Rng(2), { minLen: 3, maxLen: 5 }));
  const { grads } = componentGrads(model, batch);
  const rng = new Rng(5);
  const eps = 1e-2;
  const lossAt = () => tf.tidy(() => batchLoss(model, batch).dataSync()[0]);
  let checked = 0;
  for (const c of model.components()) {
    const g = grads[c.id];
    const { param, cols } = componentWeight(c, model.dHead);
    assert.deepEqual(g.shape, c.kind === 'head' ? [16, 8] : [32, 16]);
    const gv = g.dataSync();
    const variable = model.params[param];
    const width = variable.shape[1] as number;
    for (let k = 0; k < 6; k++) {
      const r = rng.int(0, g.shape[0] - 1);
      const j = rng.int(0, g.shape[1] - 1);
      const flat = r * width + (cols ? cols[0] : 0) + j;
      const orig = variable.dataSync().slice();
      const at = (delta: number) => {
        const w = orig.slice();
        w[flat] += delta;
        variable.assign(tf.tensor(w, variable.shape));
        return lossAt();
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      variable.assign(tf.tensor(orig, variable.shape));
      const analytic = gv[r * g.shape[1] + j];
      assert.ok(
        Math.abs(fd - analytic) <= 2e-3 + 0.02 * Math.abs(analytic),
        `${c.id}[${r},${j}]: analytic ${analytic}, finite difference ${fd}`,
      );
      checked++;
    }
    g.dispose();
  }
  assert.equal(checked, 36);
  model.dispose();
});

test('gradients for only the component weights (the others skipped) equal those of a full differentiation, bit for bit', () => {
  const model = Transformer.init(tinyConfig().model, 12);
  const batch = makeBatch(sampleExamples('sort', 8, new Rng(3), { minLen: 3, maxLen: 5 }));
  const { grads } = componentGrads(model, batch);
  const full = tf.tidy(() => {
    const all = Object.values(model.params);
    const { grads: g } = tf.variableGrads(() => batchLoss(model, batch), all);
    return Object.fromEntries(Object.entries(model.params).map(([k, v]) => [k, g[v.name].dataSync()]));
  });
  for (const c of model.components()) {
    const { param, cols } = componentWeight(c, model.dHead);
    const width = model.params[param].shape[1] as number;
    const want = full[param].filter((_, i) => !cols || (i % width >= cols[0] && i % width < cols[1]));
    assert.deepEqual(grads[c.id].dataSync(), want, c.id);
    grads[c.id].dispose();
  }
  model.dispose();
});
