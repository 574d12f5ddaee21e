/**
 * The redundancy study's numbers (src/studies/redundancy/numbers.ts) by hand: a record's layer
 * profile (mean Delta on average ranks, shares of G and C, the slope), the named sets' excess over
 * their prediction and beyond the null, the verdict at each side of its interval and with too few
 * runs. The study end to end on tiny runs is in test/study.test.ts.
 */
import { presetCost } from '../src/studies/redundancy/cost';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunRecord } from '../src/records/format';
import { meanClaim, recordProfile, redundancyNumbers, verdict, Verdict } from '../src/studies/redundancy/numbers';
import { claims, overallVerdict } from '../src/studies/redundancy/claims';
import type { RedundancyRecord } from '../src/studies/redundancy/record';

const ids = ['L0.H0', 'L0.MLP', 'L1.H0', 'L1.MLP'];
const record = (G: number[], C: number[]) =>
  ({
    task: 'reverse',
    analysis: {
      status: 'analysed',
      components: ids,
      scores: {
        G: Object.fromEntries(ids.map((id, i) => [id, G[i]])),
        C: Object.fromEntries(ids.map((id, i) => [id, C[i]])),
      },
    },
  }) as unknown as RunRecord;

test('the layer profile of one record: mean Delta per layer on average ranks, shares of G and C, the slope', () => {
  const p = recordProfile(record([4, 3, 2, 1], [1, 2, 3, 4])); // Delta 3, 1, -1, -3
  assert.deepEqual(p.delta, [2, -2]);
  assert.deepEqual(p.gShare, [0.7, 0.3]);
  assert.deepEqual(p.cShare, [0.3, 0.7]);
  assert.equal(p.slope, -4);
  // Ties share their ranks: G ranks 1.5, 1.5, 3.5, 3.5 against C's 1..4: Delta 0.5, -0.5, 0.5, -0.5.
  const t = recordProfile(record([1, 1, 2, 2], [1, 2, 3, 4]));
  assert.deepEqual(t.delta, [0, 0]);
  assert.equal(t.slope, 0);
});

test('the verdict: holds beyond 0 on the claimed side, reversed beyond it on the other, not seen across it, and none under 3 runs', () => {
  assert.equal(verdict(meanClaim([1, 2, 3]), 1), 'holds');
  assert.equal(verdict(meanClaim([1, 2, 3]), -1), 'reversed');
  assert.equal(verdict(meanClaim([-3, -2, -1]), -1), 'holds');
  assert.equal(verdict(meanClaim([-1, 0, 2]), 1), 'not seen');
  assert.equal(verdict(meanClaim([1, 2]), 1), 'too few runs');
  const c = meanClaim([1, 2, 3, NaN]);
  assert.equal(c.n, 3, 'non-finite values are left out');
  assert.equal(c.test.interval.estimate, 2);
});

test("the named sets' excess over the sum of their C, beyond random sets of their size, and the null's share at or above, by hand", () => {
  const rec = (joint: number, predicted: number, nullJoint: number[], nullPred: number[]) =>
    ({
      task: 'sort',
      preset: 'paper',
      components: ids,
      baseline: 0.8,
      G: {},
      C: {},
      settings: { nullDraws: nullJoint.length, permutations: 1 },
      provenance: { gitCommit: 'abcdef0123', cpu: 'test cpu' },
      timingsMs: { analysis: 1000 },
      config: { analysis: { evalSamples: 1000 } },
      result: {
        single: Object.fromEntries(ids.map((id) => [id, { acc: 0, ce: 0 }])),
        sets: [{ name: 'Bloats', ids: ['L0.H0', 'L1.H0'], acc: joint, predicted, ce: 2 * joint, predictedCe: 0 }],
        null: {
          'size 2': { joint: nullJoint, predicted: nullPred, jointCe: nullJoint, predictedCe: nullJoint },
          'like Bloats': {
            joint: nullJoint,
            predicted: nullPred.map(() => 0),
            jointCe: nullJoint,
            predictedCe: nullJoint,
          },
        },
        pairs: [],
        shapley: { permutations: 1, acc: {}, accSe: {}, ce: {}, ceSe: {} },
        timingsMs: {},
      },
    }) as unknown as RedundancyRecord;
  // Excesses 0.3, 0.1, 0.2; null excesses per seed: mean 0.05 (draws 0, 0.1), 0.1, 0.
  const records = [
    rec(0.4, 0.1, [0.1, 0.2], [0.1, 0.1]),
    rec(0.3, 0.2, [0.3, 0.3], [0.2, 0.2]),
    rec(0.2, 0, [0, 0.5], [0, 0.5]),
  ];
  const s = redundancyNumbers(records, [], []);
  // The same records as another preset's, whose classes were named from C scored otherwise: shown, but no claim.
  const bloatClaims = (cDiffering: string[] | 'protocol') =>
    claims(
      redundancyNumbers(
        [...records, ...records.map((r) => ({ ...r, preset: 'authors' as const, cDiffering }))],
        [],
        [],
      ),
      [],
    )
      .filter((c) => c.group.startsWith('joint Bloat'))
      .map((c) => c.preset);
  assert.deepEqual(bloatClaims('protocol'), ['paper preset', 'paper preset']);
  assert.deepEqual(bloatClaims([]), ['paper preset', 'paper preset', 'authors preset', 'authors preset']);
  const b = s.sets.find((x) => x.name === 'Bloats')!;
  const close = (a: number, e: number) => assert.ok(Math.abs(a - e) < 1e-12, `${a} vs ${e}`);
  close(b.excess.test.interval.estimate, 0.2);
  close(b.beyondSize.test.interval.estimate, (0.25 + 0 + 0.2) / 3);
  close(b.beyondMakeup!.test.interval.estimate, 0.2 - (0.15 + 0.3 + 0.25) / 3);
  close(b.nullShare, (0 + 1 + 0) / 3); // seed 2: both draws tie with its excess (at least: counted)
  close(b.ratio.interval.estimate, 0.3 / 0.1); // mean joint over mean predicted
  close(b.excessCe.test.interval.estimate, (0.8 + 0.6 + 0.4) / 3); // ce 2 x joint, predicted 0
  close(b.beyondSizeCe.test.interval.estimate, 0.6); // the null's CE excess is 0
  close(b.relative.test.interval.estimate, (0.4 + 0.3 + 0.2) / 3 / 0.8);
  assert.equal(b.n, 3);
});

test("the cost per preset: each phase's mean seconds over the records, its steps and ms a step from the records that counted them, by hand", () => {
  const rec = (ms: number, steps?: number) =>
    ({
      preset: 'paper',
      config: { analysis: { evalSamples: 1000 } },
      timingsMs: { analysis: 2 * ms },
      result: { timingsMs: { null: ms }, steps: steps === undefined ? undefined : { null: steps } },
    }) as unknown as RedundancyRecord;
  const c = presetCost('paper', [rec(4000, 100), rec(2000)]);
  assert.deepEqual(c.evalSamples, [1000]);
  assert.deepEqual(c.phases, [
    { phase: 'null', seconds: 3, steps: 100, msPerStep: 40 },
    { phase: 'all', seconds: 6, steps: NaN, msPerStep: NaN },
  ]);
});

test("a claim's verdict over the places it is checked: every boundary of the rule", () => {
  const row = (verdict: Verdict | string, preset = 'paper preset') => ({ verdict, preset });
  assert.equal(overallVerdict([row('holds'), row('holds', 'authors preset')]), 'holds');
  assert.equal(
    overallVerdict([row('holds'), row('too few runs', 'authors preset')]),
    'holds',
    'too few runs: not counted',
  );
  assert.equal(overallVerdict([row('too few runs')]), 'too few runs');
  assert.equal(overallVerdict([row('reversed'), row('reversed')]), 'reversed');
  assert.equal(overallVerdict([row('holds'), row('reversed')]), 'mixed');
  assert.equal(overallVerdict([row('not seen'), row('not seen')]), 'not seen');
  assert.equal(overallVerdict([row('not seen'), row('reversed')]), 'reversed in 1 of 2');
  assert.equal(
    overallVerdict([row('holds'), row('holds'), row('not seen', 'authors preset')]),
    'holds on one preset (the paper preset)',
  );
  assert.equal(
    overallVerdict([row('holds'), row('not seen'), row('not seen', 'authors preset')]),
    'holds in 1 of 3',
    "one preset's rows split: not 'one preset'",
  );
  assert.equal(overallVerdict([row('holds'), row('not seen')]), 'holds in 1 of 2');
  assert.equal(
    overallVerdict([row('holds'), row('holds', 'authors preset'), row('not seen', 'authors preset')]),
    'holds in 2 of 3',
    "the other preset holds somewhere: not 'one preset'",
  );
  // Over three presets or protocols: the same split, named.
  assert.equal(
    overallVerdict([
      row('not seen'),
      row('holds', 'authors preset'),
      row('holds', "the authors' scoring"),
      row('not seen'),
    ]),
    "holds under authors preset and the authors' scoring; not seen under paper preset",
  );
  assert.equal(
    overallVerdict([row('not seen'), row('holds', 'authors preset'), row('not seen', "the authors' scoring")]),
    "holds under authors preset; not seen under paper preset and the authors' scoring",
  );
  assert.equal(
    overallVerdict([row('holds'), row('holds', 'authors preset'), row('not seen', 'x'), row('holds', 'x')]),
    'holds in 3 of 4',
    'a place split within: not a split by preset',
  );
});
