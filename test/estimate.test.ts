/** How long a run will take, said before it starts: steps from the committed runs (a range), the analysis from their phases, the bound apart. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getConfig } from '../src/settings/validate';
import { describeEstimate, estimateRun } from '../src/runner/estimate';
import type { RunRecord } from '../src/records/format';
import { record } from './records';

/** A committed run of `steps` steps at 10 ms a step whose analysis phases took 20 s (G) + 40 s (means) + 60 s (C). */
function run(seed: number, steps: number, model: Partial<RunRecord['config']['model']> = {}): RunRecord {
  const r = record('reverse', seed, 0.5, []);
  r.config = getConfig('paper', { model, analysis: { variants: false, redraws: 0 } });
  r.training = { ...r.training, steps, msPerStep: 10 };
  r.analysis.timingsMs = { G: 20_000, means: 40_000, C: 60_000 };
  return r;
}

test("the estimate: the committed runs' steps as a range x the step measured now, the analysis scaled to this machine, the bound said apart", () => {
  const committed = [run(1, 300), run(2, 400), run(3, 350)];
  const cfg = getConfig('paper', { analysis: { variants: false, redraws: 0 } });
  // Measured now: 20 ms a step, twice the committed runs' 10: the analysis takes twice its recorded 120 s.
  const e = estimateRun({ cfg, preset: 'paper', task: 'reverse', msPerStep: 20, committed });
  assert.deepEqual(e.steps, [300, 400]);
  assert.equal(e.stepsFrom, 'the 3 committed reverse runs with these settings');
  assert.equal(e.analysisMs, 240_000);
  assert.deepEqual(e.totalMs, [300 * 20 * 1.1 + 240_000, 400 * 20 * 1.1 + 240_000]);
  assert.deepEqual(e.bound, { steps: 15000, ms: 15000 * 20 * 1.1 + 240_000 });
  assert.equal(
    describeEstimate(e),
    '~4m07s-4m09s: 300-400 steps (the 3 committed reverse runs with these settings) x 20 ms/step measured now, analysis ~4m00s; at most train.maxSteps=15000 steps (~9m30s) if it never reaches the target',
  );
  // A run whose own record has these settings (a retrain): its steps exactly.
  const known = estimateRun({ cfg, preset: 'paper', task: 'reverse', msPerStep: 20, committed, known: committed[1] });
  assert.deepEqual([known.steps, known.stepsFrom], [[400, 400], 'as the run with these settings took']);
  // Other training settings of this size: the same runs, said so; another size: said so too.
  const lr = getConfig('paper', { train: { lr: 0.002 }, analysis: { variants: false, redraws: 0 } });
  assert.match(
    estimateRun({ cfg: lr, preset: 'paper', task: 'reverse', msPerStep: 20, committed }).stepsFrom,
    /^the 3 committed reverse runs of this size \(l4-d128\) under other settings$/,
  );
  const d64 = getConfig('paper', { model: { dModel: 64, dFF: 256 } });
  assert.match(
    estimateRun({ cfg: d64, preset: 'paper', task: 'reverse', msPerStep: 20, committed }).stepsFrom,
    /^the 3 committed reverse runs of other sizes \(none of l4-d64\)$/,
  );
  // No committed run at all: the bound, and no analysis estimate.
  const none = estimateRun({ cfg, preset: 'paper', task: 'reverse', msPerStep: 20, committed: [] });
  assert.deepEqual(none.steps, [15000, 15000]);
  assert.ok(Number.isNaN(none.analysisMs));
  assert.match(describeEstimate(none), /analysis not estimated \(no committed run to go by\)$/);
  // A smaller step budget caps the range.
  const capped = estimateRun({
    cfg: getConfig('paper', { train: { maxSteps: 320 } }),
    preset: 'paper',
    task: 'reverse',
    msPerStep: 20,
    committed,
  });
  assert.deepEqual(capped.steps, [300, 320]);
  assert.match(
    describeEstimate(capped),
    /: 300-320 steps \(train\.maxSteps caps it; the 3 committed reverse runs of this size \(l4-d128\) under other settings took 300-400\) x 20 ms\/step/,
  );
});
