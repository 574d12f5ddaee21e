/**
 * Joint ablation (src/analysis/joint.ts) on a tiny, partly trained model: a set of one is the
 * single-component measure bit for bit; a set's effect is the same from the cached residual stream
 * as from a full pass with every member's patch (an independent path); the order of a set does
 * not matter; a pair's interaction is its joint effect minus the two single ones; the additive
 * prediction is the members' sum; random sets have the size and layer make-up asked for and
 * repeat with their seed; bad sets are refused naming what is allowed.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ImportanceContext } from '../src/analysis/context';
import { ablationEffects } from '../src/analysis/measures';
import { jointEffect, jointVsAdditive, namedSets, pairInteractions, randomSets } from '../src/analysis/joint';
import { withPatches } from '../src/analysis/patching';
import { exactMatch } from '../src/model/eval';
import { Transformer } from '../src/model/model';
import { Rng } from '../src/base/rng';
import { Example } from '../src/tasks';
import { ablationFixture, setupBackend } from './helpers';

let model: Transformer;
let ctx: ImportanceContext;
let evalSet: Example[];

before(async () => {
  await setupBackend();
  ({ model, ctx, evalSet } = ablationFixture());
});

/** Exact-match accuracy with the members' means patched in, by a full pass over each sequence alone. */
function accuracyByHand(ids: string[]): number {
  const values = Object.fromEntries(ids.map((id) => [id, ctx.means()[id]]));
  return withPatches(model, values, 'before-WO', (patches) => {
    const ok = evalSet.map((ex) => exactMatch(model, [ex], { patches })[0]);
    return ok.filter(Boolean).length / ok.length;
  });
}

test('a set of one is the single-component ablation bit for bit, under mean and zero', () => {
  for (const ablation of ['mean', 'zero'] as const) {
    const single = ablationEffects(ctx, ablation);
    for (const c of ctx.components)
      assert.deepEqual(jointEffect(ctx, [c.id], ablation), single[c.id], `${ablation} ${c.id}`);
  }
});

test("a set's effect from the cached residual stream equals a full pass with every member patched; order does not matter", () => {
  const base = accuracyByHand([]);
  assert.ok(base > 0.3, `the tiny model has learned something (${base})`);
  const sets = [
    ['L0.H0', 'L0.H1'],
    ['L1.H0', 'L1.MLP'],
    ['L0.MLP', 'L1.H1'],
    ['L0.H0', 'L0.H1', 'L0.MLP', 'L1.H0', 'L1.H1', 'L1.MLP'],
  ];
  let moved = 0;
  for (const ids of sets) {
    const e = jointEffect(ctx, ids);
    assert.ok(
      Math.abs(e.acc - (base - accuracyByHand(ids))) < 1e-12,
      `${ids}: ${e.acc} vs ${base - accuracyByHand(ids)}`,
    );
    assert.deepEqual(jointEffect(ctx, [...ids].reverse()), e, `${ids} reversed`);
    assert.ok(e.accCI[0] <= e.acc && e.acc <= e.accCI[1]);
    if (e.acc !== 0) moved++;
  }
  assert.ok(moved >= 2, 'the sets change the accuracy (else the test would not tell them apart)');
  assert.ok(jointEffect(ctx, sets[3]).acc > 0.2, 'ablating everything loses most of the accuracy');
});

test("the additive prediction is the members' sum; a pair's interaction is its joint effect minus the single ones, for all pairs", () => {
  const single = ablationEffects(ctx, 'mean');
  const [r] = jointVsAdditive(ctx, [['L0.H1', 'L1.MLP']]);
  assert.equal(r.predicted, single['L0.H1'].acc + single['L1.MLP'].acc);
  assert.equal(r.joint, jointEffect(ctx, ['L0.H1', 'L1.MLP']).acc);
  assert.equal(r.ratio, r.predicted === 0 ? NaN : r.joint / r.predicted);
  const pairs = pairInteractions(ctx);
  const n = ctx.components.length;
  assert.equal(pairs.length, (n * (n - 1)) / 2, 'every pair once');
  assert.deepEqual(
    [pairs[0].a, pairs[0].b, pairs[n - 2].a, pairs[n - 2].b],
    ['L0.H0', 'L0.H1', 'L0.H0', 'L1.MLP'],
    "the model's order, i < j",
  );
  for (const p of pairs.slice(0, 5))
    assert.equal(p.interaction, jointEffect(ctx, [p.a, p.b]).acc - single[p.a].acc - single[p.b].acc);
});

test('random sets: the size and layer make-up asked for, distinct members, the same with the same seed; bad sizes refused', () => {
  const cs = model.components(); // 2 layers x (2 heads + MLP)
  const a = randomSets(new Rng(5, 'null'), cs, 3, 200);
  assert.deepEqual(a, randomSets(new Rng(5, 'null'), cs, 3, 200));
  assert.notDeepEqual(a, randomSets(new Rng(6, 'null'), cs, 3, 200));
  for (const s of a) assert.equal(new Set(s).size, 3);
  assert.equal(new Set(a.map((s) => s.join())).size, 20, 'all C(6, 3) = 20 sets are drawn in 200');
  const like = cs.filter((c) => c.id === 'L1.H0' || c.id === 'L1.H1' || c.id === 'L0.MLP');
  for (const s of randomSets(new Rng(5, 'null'), cs, 3, 50, like)) assert.deepEqual(s, ['L0.MLP', 'L1.H0', 'L1.H1']);
  const headLike = cs.filter((c) => c.id === 'L0.H0' || c.id === 'L1.H1');
  const drawn = randomSets(new Rng(5, 'null'), cs, 2, 100, headLike);
  for (const s of drawn) assert.match(s.join(' '), /^L0\.H[01] L1\.H[01]$/);
  assert.equal(new Set(drawn.map((s) => s.join())).size, 4, 'every head of layer 0 with every head of layer 1');
  assert.throws(() => randomSets(new Rng(1), cs, 7, 1), /size 7; allowed: an integer from 1 to 6/);
  assert.throws(() => randomSets(new Rng(1), cs, 0, 1), /size 0; allowed/);
  assert.throws(() => jointEffect(ctx, []), /an empty set/);
  assert.throws(() => jointEffect(ctx, ['L0.H0', 'L0.H0']), /named twice/);
  assert.throws(() => jointEffect(ctx, ['L9.H0']), /unknown component L9\.H0; allowed: L0\.H0/);
});

test("the named sets: a run's Heroes and Bloats (absent when none), each layer's heads and each layer's components", () => {
  const cs = model.components();
  const sets = namedSets(cs, ['Aligned', 'HiddenHero', 'GradientBloat', 'Aligned', 'HiddenHero', 'Aligned']);
  assert.deepEqual(sets, {
    Heroes: ['L0.H1', 'L1.H1'],
    Bloats: ['L0.MLP'],
    'L0 heads': ['L0.H0', 'L0.H1'],
    'L0 all': ['L0.H0', 'L0.H1', 'L0.MLP'],
    'L1 heads': ['L1.H0', 'L1.H1'],
    'L1 all': ['L1.H0', 'L1.H1', 'L1.MLP'],
  });
  assert.deepEqual(
    Object.keys(
      namedSets(
        cs,
        cs.map(() => 'Aligned'),
      ),
    ),
    ['L0 heads', 'L0 all', 'L1 heads', 'L1 all'],
  );
  assert.throws(() => namedSets(cs, ['Aligned']), /1 classes for 6 components/);
});
