/**
 * The training loop knows nothing of the task (src/train/train.ts): here it trains models on a
 * batch stream no registered task makes (each token's successor mod 4, a 5-token vocabulary) with a
 * scripted stopping check, and stops, checkpoints, stacks and refuses bad input by its rule alone.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Transformer } from '../src/model/model';
import { Rng } from '../src/base/rng';
import { Batch, IGNORE } from '../src/tasks';
import { Lane, train, TrainResult } from '../src/train/train';
import { setupBackend, tinyConfig } from './helpers';

before(async () => {
  await setupBackend();
});

const cfg = tinyConfig({ model: { vocabSize: 5 } });

/** Rows of 4 tokens in 0..3, each position's target the next token value (t + 1) mod 4; the last position has none. */
function successorLane(seed: number, scores: number[]): Lane & { scored: number } {
  const rng = new Rng(seed, 'successor');
  const lane = {
    name: `successor ${seed}`,
    scored: 0,
    batches: {
      next(): Batch {
        const B = 8;
        const T = 4;
        const tokens = Int32Array.from({ length: B * T }, () => rng.int(0, 3));
        const targets = tokens.map((t, i) => (i % T === T - 1 ? IGNORE : (t + 1) % 4));
        return { B, T, tokens, targets, lengths: new Array(B).fill(T), layout: 'contiguous' };
      },
      state: () => rng.state(),
    },
    check: {
      score(model: Transformer): number {
        assert.ok(model instanceof Transformer);
        return scores[lane.scored++] ?? 0;
      },
      state: () => ({ seed: 0, stream: 'scripted', counter: [lane.scored, 0] }) as never,
    },
  };
  return lane;
}

const stop = { every: 5, target: 0.9, maxSteps: 40, name: 'scripted' };
const adam = { lr: 1e-2, adamEps: 1e-8 };

function trainOne(lane: Lane, seed = 1, extra: Partial<Parameters<typeof train>[0]> = {}): TrainResult {
  let out: TrainResult | null = null;
  train({
    models: [Transformer.init(cfg.model, seed)],
    lanes: [lane],
    adam,
    stop,
    onDone: (_, r) => (out = r),
    progress: false,
    ...extra,
  });
  return out!;
}

test('the loop trains on any batch stream and stops when the check reaches the target', () => {
  const lane = successorLane(1, [0.1, 0.5, 0.95]);
  const saved: number[] = [];
  const r = trainOne(lane, 1, { onCheckpoint: (_, __, state) => saved.push(state.step) });
  assert.equal(r.stopReason, 'target');
  assert.equal(r.steps, 15);
  assert.deepEqual(r.evals, [
    { step: 5, acc: 0.1 },
    { step: 10, acc: 0.5 },
    { step: 15, acc: 0.95 },
  ]);
  assert.equal(lane.scored, 3, 'one check every stop.every steps');
  assert.deepEqual(saved, [5, 10], 'a checkpoint at every check before the last');
  assert.equal(r.losses.length, 15);
  r.model.dispose();
  // Long enough, the successor map is learned: the loss falls well below log 5.
  const long = trainOne(successorLane(1, []), 1, { stop: { ...stop, maxSteps: 200 } });
  assert.equal(long.stopReason, 'maxSteps');
  assert.ok(long.losses[199] < 0.3 * long.losses[0], `loss ${long.losses[0]} -> ${long.losses[199]}`);
  long.model.dispose();
});

test('two models stacked: one leaves at its target, the other trains on bit for bit as alone', () => {
  const done = new Map<number, TrainResult>();
  const r = train({
    models: [Transformer.init(cfg.model, 1), Transformer.init(cfg.model, 2)],
    lanes: [successorLane(1, [0.95]), successorLane(2, [])],
    adam,
    stop,
    onDone: (k, res) => done.set(k, res),
    progress: false,
  });
  assert.equal(r.steps, 40);
  assert.equal(done.get(0)!.steps, 5);
  assert.equal(done.get(0)!.stopReason, 'target');
  assert.equal(done.get(1)!.stopReason, 'maxSteps');
  const alone = [trainOne(successorLane(1, [0.95]), 1), trainOne(successorLane(2, []), 2)];
  for (const k of [0, 1]) {
    assert.deepEqual(done.get(k)!.losses, alone[k].losses, `model ${k} losses`);
    const a = alone[k].model.toArrays();
    const b = done.get(k)!.model.toArrays();
    for (const name of Object.keys(a)) assert.deepEqual(b[name].data, a[name].data, `model ${k} ${name}`);
    alone[k].model.dispose();
    done.get(k)!.model.dispose();
  }
});

test('onStep can stop every model; bad input is refused before a step', () => {
  const r = trainOne(successorLane(1, []), 1, { onStep: (i) => (i.step === 3 ? 'stop' : undefined) });
  assert.equal(r.stopReason, 'stopped');
  assert.equal(r.steps, 3);
  r.model.dispose();
  const m = Transformer.init(cfg.model, 1);
  const base = { models: [m], lanes: [successorLane(1, [])], adam, stop, onDone: () => undefined };
  assert.throws(() => train({ ...base, lanes: [] }), /0 lanes for 1 models/);
  assert.throws(() => train({ ...base, stop: { ...stop, every: 0 } }), /stop\.every must be a positive integer/);
  assert.throws(() => train({ ...base, models: [] }), /no models/);
  m.dispose();
});
