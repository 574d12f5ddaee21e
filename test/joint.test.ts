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
import {
  jointEffect,
  jointEffects,
  jointVsAdditive,
  namedSets,
  pairInteractions,
  randomSets,
} from '../src/analysis/joint';
import { forwardSteps, setScores, stepCount } from '../src/analysis/set-passes';
import { redundancyAnalysis, shapleyValues } from '../src/analysis/redundancy';
import { Component, componentPatch } from '../src/model/hooks';
import { tokensTensor } from '../src/model/eval';
import { makeBatch, sampleExamples } from '../src/tasks';
import { tf } from '../src/kernels/tf';
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

test("Transformer.step through every half of every block and the unembedding is forward's pass bit for bit; a patch off the step is refused", () => {
  const batch = makeBatch(evalSet.slice(0, 16), 'contiguous');
  const tokens = tokensTensor(batch);
  const mean = tf.tensor1d(ctx.means()['L1.H0']);
  const patch = componentPatch({ id: 'L1.H0', layer: 1, kind: 'head', head: 0 }, mean);
  for (const patches of [[], [patch]]) {
    const { logits, cache } = model.forward(tokens, { patches, cache: ['blocks.0.hook_resid_pre'] });
    let x: tf.Tensor = cache['blocks.0.hook_resid_pre'];
    for (const st of forwardSteps(model.cfg.nLayers))
      x = model.step(st, x, st.part === 'attn' && st.layer === 1 ? patches : []);
    assert.deepEqual(Array.from(x.dataSync()), Array.from(logits.dataSync()), `${patches.length} patches`);
  }
  assert.throws(
    () => model.step({ layer: 0, part: 'mlp' }, tf.zeros([1, 3, 32]), [patch]),
    /patch at blocks\.1\.attn\.hook_z; allowed: blocks\.0\.hook_mlp_out/,
  );
  assert.throws(
    () => model.step({ layer: 2, part: 'attn' }, tf.zeros([1, 3, 32])),
    /layer must be an integer in \[0, 1\]/,
  );
});

test('many sets in shared passes: each gets the scores of its own pass from its first patched block, bit for bit, over several batches', () => {
  // 600 sequences: three evaluation batches (256, 256, 88).
  const big = new ImportanceContext({
    model,
    task: 'reverse',
    length: 3,
    cfg: ctx.cfg,
    seed: 2,
    evalSet: sampleExamples('reverse', 600, new Rng(9, 'set-passes'), 3),
  });
  const cs = model.components();
  const byId = new Map(cs.map((c) => [c.id, c]));
  const sets: Component[][] = [
    ...cs.map((c) => [c]),
    ...randomSets(new Rng(3, 'pairs'), cs, 2, 12).map((ids) => ids.map((id) => byId.get(id)!)),
    ...randomSets(new Rng(3, 'triples'), cs, 3, 30).map((ids) => ids.map((id) => byId.get(id)!)),
    [...cs].reverse(),
  ];
  const means = new Map(cs.map((c) => [c.id, tf.tensor1d(big.means()[c.id])]));
  const got = setScores(big, sets, (c) => means.get(c.id)!);
  const cache = big.evalResiduals();
  assert.equal(cache.batchList().length, 3);
  let differ = 0;
  sets.forEach((set, i) => {
    const inOrder = cs.filter((c) => set.includes(c));
    const ref = cache.scoresFrom(
      Math.min(...set.map((c) => c.layer)),
      inOrder.map((c) => componentPatch(c, means.get(c.id)!)),
    );
    assert.deepEqual(got[i].correct, ref.correct, set.map((c) => c.id).join());
    assert.deepEqual(got[i].loss, ref.loss, set.map((c) => c.id).join());
    if (ref.loss.some((v, j) => v !== cache.scoresFrom(0).loss[j])) differ++;
  });
  assert.ok(differ > sets.length / 2, 'the sets change the losses (else the check would not tell them apart)');
  assert.deepEqual(jointEffects(big, [['L0.H0', 'L1.MLP'], ['L1.MLP', 'L0.H0'], ['L0.MLP']]), [
    jointEffect(big, ['L0.H0', 'L1.MLP']),
    jointEffect(big, ['L0.H0', 'L1.MLP']),
    jointEffect(big, ['L0.MLP']),
  ]);
  for (const t of means.values()) t.dispose();
  big.release();
});

test('the shared prefixes: step counts by hand', () => {
  const cs = model.components(); // 2 layers: steps attn0, mlp0, attn1, mlp1, unembed
  const c = (id: string) => cs.find((x) => x.id === id)!;
  assert.equal(stepCount([[c('L0.H0')], [c('L0.H1')]], 2), 10, 'apart from the first step on: 2 x 5');
  assert.equal(stepCount([[c('L0.H0')], [c('L0.H0'), c('L1.MLP')]], 2), 7, 'shared up to mlp1: 3 + 2 x 2');
  assert.equal(stepCount([[c('L1.MLP')], [c('L1.MLP')]], 2), 2, 'a set twice: mlp1 and unembed once');
  assert.equal(
    stepCount(
      [
        [c('L0.H0'), c('L0.H1')],
        [c('L0.H1'), c('L0.H0')],
      ],
      2,
    ),
    5,
    'a set twice in two orders: once',
  );
  assert.equal(stepCount([[c('L1.H0')], [c('L0.MLP')]], 2), 3 + 4, "from each one's first patched step");
});

test('Shapley by sampled permutations: within 4 standard errors of the exact values (all 64 subsets), marginals summing to the full set', () => {
  const ids = model.components().map((c) => c.id);
  const n = ids.length;
  const subsets = Array.from({ length: 1 << n }, (_, m) => ids.filter((_, i) => m & (1 << i)));
  const v = new Map(subsets.map((s, m) => [m, m ? jointEffect(ctx, s).acc : 0]));
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const sh = shapleyValues(ctx, 200);
  let moved = 0;
  ids.forEach((id, i) => {
    let exact = 0;
    for (let m = 0; m < 1 << n; m++) {
      if (m & (1 << i)) continue;
      const k = subsets[m].length;
      exact += ((fact(k) * fact(n - k - 1)) / fact(n)) * (v.get(m | (1 << i))! - v.get(m)!);
    }
    assert.ok(
      sh.accSe[id] > 0 && Math.abs(sh.acc[id] - exact) < 4 * sh.accSe[id] + 1e-12,
      `${id}: ${sh.acc[id]} vs exact ${exact} (se ${sh.accSe[id]})`,
    );
    if (Math.abs(exact) > 0.02) moved++;
  });
  assert.ok(moved >= 2, 'some components matter (else the check is empty)');
  const total = ids.reduce((a, id) => a + sh.acc[id], 0);
  assert.ok(Math.abs(total - v.get((1 << n) - 1)!) < 1e-9, `efficiency: ${total} vs ${v.get((1 << n) - 1)}`);
  assert.equal(sh.all, v.get((1 << n) - 1));
});

test("the redundancy analysis of one model: named sets against their members' summed C, null draws of each size and make-up, every pair", () => {
  const classes = ['Aligned', 'HiddenHero', 'GradientBloat', 'Aligned', 'HiddenHero', 'GradientBloat'] as const;
  const r = redundancyAnalysis(ctx, classes, { nullDraws: 7, permutations: 3 });
  const single = ablationEffects(ctx, 'mean');
  assert.deepEqual(
    r.sets.map((s) => s.name),
    ['Heroes', 'Bloats', 'L0 heads', 'L0 all', 'L1 heads', 'L1 all'],
  );
  for (const s of r.sets) {
    assert.equal(s.acc, jointEffect(ctx, s.ids).acc, s.name);
    assert.equal(
      s.predicted,
      s.ids.reduce((a, id) => a + single[id].acc, 0),
      s.name,
    );
  }
  assert.deepEqual(Object.keys(r.null), ['size 2', 'size 3', 'like Heroes', 'like Bloats']);
  for (const d of Object.values(r.null)) assert.equal(d.joint.length, 7);
  assert.equal(r.pairs.length, 15);
  // The 15 pairs of [L0.H0 L0.H1 L0.MLP L1.H0 L1.H1 L1.MLP] in shared passes over steps attn0 mlp0 attn1 mlp1 unembed, by
  // hand: those with an L0 head 35 ({H0 H1} 1 + 4; {H0} and {H1} 15 each), those from L0.MLP 10, those within L1 9.
  assert.equal(r.steps!.pairs, 54);
  assert.equal(r.shapley.permutations, 3);
  for (const c of ctx.components) assert.equal(r.single[c.id].acc, single[c.id].acc);
  assert.throws(
    () => redundancyAnalysis(ctx, classes, { nullDraws: 0, permutations: 3 }),
    /nullDraws 0; allowed: a whole number of 1 or more/,
  );
});
