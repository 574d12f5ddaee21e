/**
 * Training K seeds stacked (src/model/stacked.ts, src/train/trainee.ts, src/runner/training.ts trainRuns) against
 * training each alone (trainRun; both through the one loop, src/train/train.ts): every seed's weights, losses, stopping checks and stopping step equal bit for bit,
 * on the stock and on the native kernels; with batches of different lengths in one step (a small
 * batch makes them common); with a seed that stops early while the others go on; and resumed from
 * states saved mid-run.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { tf } from '../src/kernels/tf';
import { withCode } from '../src/kernels/native';
import { Transformer } from '../src/model/model';
import { TrainResult, TrainState } from '../src/train/train';
import { trainRun, trainRuns } from '../src/runner/training';
import { setupBackend, tinyConfig } from './helpers';

before(async () => {
  await setupBackend();
});

const SEEDS = [3, 11, 42];

/** Each seed's run alone. */
function alone(cfg: ReturnType<typeof tinyConfig>, task: 'reverse' | 'sort', seeds = SEEDS): Map<number, TrainResult> {
  return new Map(seeds.map((seed) => [seed, trainRun({ task, seed, cfg, progress: false })]));
}

/** The seeds stacked. */
function stacked(
  cfg: ReturnType<typeof tinyConfig>,
  task: 'reverse' | 'sort',
  resume?: Parameters<typeof trainRuns>[0]['resume'],
  seeds = SEEDS,
): Map<number, TrainResult> {
  const out = new Map<number, TrainResult>();
  trainRuns({ task, seeds, cfg, resume, progress: false, onDone: (seed, r) => out.set(seed, r) });
  return out;
}

function assertSame(a: Map<number, TrainResult>, b: Map<number, TrainResult>, what: string): void {
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), `${what}: the same seeds finish`);
  for (const [seed, x] of a) {
    const y = b.get(seed)!;
    assert.equal(y.steps, x.steps, `${what}: seed ${seed} steps`);
    assert.equal(y.stopReason, x.stopReason, `${what}: seed ${seed} stop reason`);
    assert.deepEqual(y.losses, x.losses, `${what}: seed ${seed} losses, bit for bit`);
    assert.deepEqual(y.evals, x.evals, `${what}: seed ${seed} stopping checks`);
    const wx = x.model.toArrays();
    const wy = y.model.toArrays();
    for (const name of Object.keys(wx))
      assert.deepEqual(wy[name].data, wx[name].data, `${what}: seed ${seed} ${name}, bit for bit`);
  }
}

function dispose(...runs: Map<number, TrainResult>[]): void {
  for (const m of runs) for (const r of m.values()) r.model.dispose();
}

// batchSize 4 with lengths 2..5: the batches of one step often differ in length (grouped passes);
// five seeds, so that putting the groups' gradients back in seed order is not its own inverse.
const FIVE = [3, 11, 42, 7, 19];
const mixed = tinyConfig({
  data: { minLen: 2, maxLen: 5 },
  train: { batchSize: 4, maxSteps: 12, evalEvery: 4, evalSamples: 16, targetAcc: 1 },
});

for (const code of ['default', 'wasm'] as const) {
  test(`K seeds stacked train bit for bit like each alone (${code === 'wasm' ? "tfjs's own wasm code" : 'the default kernels'}; mixed lengths in a step)`, (t) => {
    if (code === 'wasm' && tf.getBackend() !== 'wasm')
      return t.skip(`backend ${tf.getBackend()}: tfjs's wasm code is wasm's`);
    const run = () => {
      const a = alone(mixed, 'sort', FIVE);
      const b = stacked(mixed, 'sort', undefined, FIVE);
      assertSame(a, b, code);
      dispose(a, b);
    };
    if (code === 'wasm') withCode('wasm', run);
    else run();
  });
}

test('a seed that reaches its target leaves the stack at its step; the others train on unchanged', () => {
  // Tiny reversal at 2..3 digits with learned positions: the seeds reach 30% at different checks (240-290 steps).
  const cfg = tinyConfig({
    model: { dModel: 32, dFF: 64, positions: 'learned' },
    data: { minLen: 2, maxLen: 3 },
    analysis: { idLength: 3 },
    train: { batchSize: 32, maxSteps: 400, evalEvery: 10, evalSamples: 64, targetAcc: 0.3 },
  });
  const a = alone(cfg, 'reverse');
  const steps = [...a.values()].map((r) => r.steps);
  assert.ok(new Set(steps).size > 1, `the seeds stop at different steps here (${steps})`);
  const b = stacked(cfg, 'reverse');
  assertSame(a, b, 'early stop');
  dispose(a, b);
});

test('stacked training resumed from states saved at a step continues bit for bit', () => {
  const cfg = mixed;
  const full = stacked(cfg, 'sort');
  const saved = new Map<number, { model: Transformer; state: TrainState }>();
  // A first part stopped after step 8 (its checkpoints are the states to resume from).
  const part = tinyConfig({ ...cfg, train: { ...cfg.train, maxSteps: 8 } });
  trainRuns({
    task: 'sort',
    seeds: SEEDS,
    cfg: part,
    progress: false,
    checkpointEvery: 4,
    onCheckpoint: (seed, m, state) => {
      saved.get(seed)?.model.dispose();
      saved.set(seed, { model: Transformer.fromArrays(cfg.model, m.toArrays()), state });
    },
    onDone: (_seed, r) => r.model.dispose(),
  });
  assert.deepEqual(
    SEEDS.map((s) => saved.get(s)!.state.step),
    [4, 4, 4],
    'the last checkpoint before the end (none is written at the last step)',
  );
  const resumed = stacked(
    cfg,
    'sort',
    SEEDS.map((s) => saved.get(s)!),
  );
  // wall times differ; everything else is the uninterrupted run's
  assertSame(full, resumed, 'resumed');
  dispose(full, resumed);
  assert.throws(
    () =>
      trainRuns({
        task: 'sort',
        seeds: [1, 2],
        cfg,
        resume: [null, { model: Transformer.init(cfg.model, 2), state: { ...saved.get(3)!.state } }],
        onDone: () => undefined,
        progress: false,
      }),
    /resume at different steps \(0, 4\)/,
  );
});
