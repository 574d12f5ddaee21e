/**
 * The analysis on a tiny trained model: Eq. 2's mean ablation against the same computation by hand
 * (edited weights), the authors' after-W_O variant against its own hand computation (and different
 * from the correct one), zero ablation through the measure registry, component means, pruning, and
 * the whole pipeline.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import {
  accuracyWith,
  componentMeans,
  eq1Mean,
  getMeasure,
  gradientMagnitude,
  ImportanceContext,
  listMeasures,
  withPatches,
} from '../src/analysis';
import { analyzeModel } from '../src/analysis/pipeline';
import { prunedAccuracy } from '../src/analysis/prune';
import { tf } from '../src/kernels/tf';
import { AnalysisConfig } from '../src/settings/config';
import { accuracy, batchLoss, exactMatch, tokensTensor } from '../src/model/eval';
import { Transformer } from '../src/model/model';
import { componentHook, componentPatch, parseComponent } from '../src/model/hooks';
import { Rng } from '../src/base/rng';
import { Example, makeBatch, sampleExamples } from '../src/tasks';
import { trainRun } from '../src/runner/training';
import { maxAbsDiff, setupBackend, tinyConfig } from './helpers';

const cfg = tinyConfig({
  model: { dModel: 32, dFF: 64, positions: 'learned' },
  data: { minLen: 2, maxLen: 3 },
  train: { batchSize: 32, evalEvery: 50, evalSamples: 256, maxSteps: 600 },
  analysis: {
    gradBatches: 3,
    gradBatchSize: 32,
    meanBatches: 4,
    evalSamples: 300,
    oodPickSamples: 200,
    idSamples: 200,
    idLength: 3,
    tieDraws: 200,
  },
});
const LENGTH = 3;
let model: Transformer;
let evalSet: Example[];

before(async () => {
  await setupBackend();
  model = trainRun({ task: 'reverse', seed: 1, cfg, progress: false }).model;
  evalSet = sampleExamples('reverse', 300, new Rng(5), LENGTH);
});

const ctxFor = (analysis: Partial<AnalysisConfig> = {}) =>
  new ImportanceContext({
    model,
    task: 'reverse',
    length: LENGTH,
    cfg: { ...cfg.analysis, paired: true, ...analysis },
    seed: 1,
    evalSet,
  });

/** A copy of the model with `edit` applied to its weights ([in, out] layout). */
function edited(edit: (w: Record<string, { shape: number[]; data: Float32Array }>) => void): Transformer {
  const w = model.toArrays();
  edit(w);
  return Transformer.fromArrays(model.cfg, w);
}
const D = 32;
const dh = 16;
const accOf = (m: Transformer) => accuracy(exactMatch(m, evalSet));

test('component means equal the mean of the cached hook values over the same batches', () => {
  const means = componentMeans(model, { task: 'reverse', length: LENGTH, batches: 2, batchSize: 16, rng: new Rng(9) });
  const rng = new Rng(9);
  const batches = [0, 1].map(() => makeBatch(sampleExamples('reverse', 16, rng, LENGTH)));
  for (const id of ['L1.H1', 'L0.MLP']) {
    const c = parseComponent(id, model.cfg);
    const want = tf.tidy(() => {
      const acts = batches.map(
        (b) => model.forward(tokensTensor(b), { cache: [componentHook(c)] }).cache[componentHook(c)],
      );
      const all = tf.concat(acts, 0);
      const own = c.kind === 'head' ? tf.slice(all, [0, 0, c.head!, 0], [-1, -1, 1, -1]) : all;
      return tf.mean(tf.reshape(own, [-1, own.shape[own.rank - 1]]), 0).dataSync();
    });
    assert.ok(maxAbsDiff(means[id], want) < 1e-5, id);
  }
});

test('C (mean ablation of one head) equals the same computation by hand: W_V columns 0, b_V slice = mean', () => {
  const ctx = ctxFor();
  const C = getMeasure('C').compute(ctx);
  const mu = ctx.means()['L1.H0'];
  const byHand = edited((w) => {
    const W = w['blocks.1.attn.W_v.weight'];
    for (let r = 0; r < D; r++) for (let j = 0; j < dh; j++) W.data[r * D + j] = 0;
    w['blocks.1.attn.W_v.bias'].data.set(mu, 0);
  });
  const base = accOf(model);
  assert.equal(ctx.baseline(), base);
  assert.ok(base > 0.8, `trained model accuracy ${base}`);
  assert.ok(
    Math.abs(C['L1.H0'] - (base - accOf(byHand))) <= 1 / 300 + 1e-9,
    `C ${C['L1.H0']} vs by hand ${base - accOf(byHand)}`,
  );
  assert.ok(
    Object.values(C).some((c) => c > 0.05),
    'some ablation hurts',
  );
  byHand.dispose();
});

test("the authors' head ablation (mean written after W_O into a d_head slice) matches its own hand computation and differs from the correct one", () => {
  const ctx = ctxFor();
  const mu = ctx.means()['L1.H1'];
  // By hand: columns h*d_head.. of the attention output become mu: W_O columns 0, b_O slice = mu.
  const authorsByHand = edited((w) => {
    const W = w['blocks.1.attn.W_o.weight'];
    for (let r = 0; r < D; r++) for (let j = dh; j < 2 * dh; j++) W.data[r * D + j] = 0;
    w['blocks.1.attn.W_o.bias'].data.set(mu, dh);
  });
  const batch = makeBatch(evalSet.slice(0, 50));
  const logitsWith = (variant: AnalysisConfig['headAblation']) =>
    withPatches(model, { 'L1.H1': mu }, variant, (patches) =>
      tf.tidy(() => model.forward(tokensTensor(batch), { patches }).logits.dataSync()),
    );
  const authors = logitsWith('after-WO-slice');
  const correct = logitsWith('before-WO');
  const hand = tf.tidy(() => authorsByHand.forward(tokensTensor(batch)).logits.dataSync());
  assert.ok(maxAbsDiff(authors, hand) < 1e-4);
  assert.ok(maxAbsDiff(authors, correct) > 1e-2, 'the two variants must differ');
  const Cauthors = getMeasure('C').compute(ctxFor({ headAblation: 'after-WO-slice' }));
  const Ccorrect = getMeasure('C').compute(ctxFor());
  assert.notDeepEqual(Cauthors, Ccorrect);
  assert.equal(Cauthors['L0.MLP'], Ccorrect['L0.MLP'], 'MLP ablation is the same under both variants');
  authorsByHand.dispose();
});

test('zero ablation plugs in through the measure registry and equals the hand computation', () => {
  assert.deepEqual(
    listMeasures()
      .filter((m) => m.kind === 'causal')
      .map((m) => m.name)
      .slice(0, 3),
    ['C', 'C-CE', 'Cpos'],
  );
  const Z = getMeasure('Czero').compute(ctxFor());
  const byHand = edited((w) => {
    w['blocks.0.mlp.2.weight'].data.fill(0);
    w['blocks.0.mlp.2.bias'].data.fill(0);
  });
  assert.ok(Math.abs(Z['L0.MLP'] - (accOf(model) - accOf(byHand))) <= 1 / 300 + 1e-9);
  assert.throws(
    () => getMeasure('no-such-measure'),
    /unknown importance measure "no-such-measure"; registered: G, G-layerWV, C, weightGradNorm, /,
  );
  byHand.dispose();
});

test('G (Eq. 1) is the mean over batches of the per-batch gradient norms: by hand on the same batches', () => {
  const ctx = ctxFor();
  const G = gradientMagnitude(ctx);
  // The same B batches (the run's 'G' stream), each loss differentiated by plain tf.variableGrads,
  // each component's Frobenius norm summed in JavaScript, then averaged over B.
  const rng = new Rng(1, 'G');
  const names = [
    'blocks.0.attn.W_v.weight',
    'blocks.1.attn.W_v.weight',
    'blocks.0.mlp.2.weight',
    'blocks.1.mlp.2.weight',
  ];
  const sums: Record<string, number> = {};
  for (let b = 0; b < cfg.analysis.gradBatches; b++) {
    const batch = makeBatch(sampleExamples('reverse', cfg.analysis.gradBatchSize, rng, LENGTH));
    const { value, grads } = tf.variableGrads(
      () => batchLoss(model, batch),
      names.map((n) => model.params[n]),
    );
    const norm = (name: string, cols?: [number, number]) => {
      const g = grads[model.params[name].name];
      const [rows, width] = g.shape;
      const data = g.dataSync();
      let s = 0;
      for (let r = 0; r < rows; r++)
        for (let c = cols?.[0] ?? 0; c < (cols?.[1] ?? width); c++) s += data[r * width + c] ** 2;
      return Math.sqrt(s);
    };
    const dh = model.dHead;
    for (const l of [0, 1]) {
      for (const h of [0, 1])
        sums[`L${l}.H${h}`] = (sums[`L${l}.H${h}`] ?? 0) + norm(`blocks.${l}.attn.W_v.weight`, [h * dh, (h + 1) * dh]);
      sums[`L${l}.MLP`] = (sums[`L${l}.MLP`] ?? 0) + norm(`blocks.${l}.mlp.2.weight`);
    }
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
  }
  assert.deepEqual(Object.keys(G).sort(), Object.keys(sums).sort());
  for (const id of Object.keys(sums)) {
    const byHand = sums[id] / cfg.analysis.gradBatches;
    assert.ok(Math.abs(G[id] - byHand) <= 1e-5 * byHand, `${id}: G ${G[id]}, by hand ${byHand}`);
  }
  // Eq. 1's formula on hand-made summands: the mean, not the sum, over batches.
  assert.deepEqual(
    eq1Mean(
      [
        { a: 1, b: 3 },
        { a: 3, b: 5 },
        { a: 2, b: 1 },
      ],
      ['a', 'b'],
    ),
    { a: 2, b: 3 },
  );
});

test("G as the authors' last section computes it: a head's G is its whole layer's W_V gradient norm (computed, or from Eq. 1's batches)", () => {
  // A fresh context differentiates whole W_V layers; one where G already ran reuses its per-batch
  // head norms (the root of the sum of squared slice norms is the layer's Frobenius norm).
  const fresh = getMeasure('G-layerWV').compute(ctxFor({ gradBatches: 2 }));
  const ctx = ctxFor({ gradBatches: 2 });
  const G = getMeasure('G').compute(ctx);
  assert.deepEqual(getMeasure('G').compute(ctx), G, 'a second G on the same batches comes from the cache, unchanged');
  const GL = getMeasure('G-layerWV').compute(ctx);
  const one = ctxFor({ gradBatches: 1 });
  const G1 = getMeasure('G').compute(one);
  const GL1 = getMeasure('G-layerWV').compute(one);
  for (const l of [0, 1]) {
    for (const id of [`L${l}.H0`, `L${l}.H1`, `L${l}.MLP`])
      assert.ok(Math.abs(GL[id] - fresh[id]) < 1e-5 * fresh[id], `${id}: cached ${GL[id]} vs computed ${fresh[id]}`);
    const want = Math.hypot(G1[`L${l}.H0`], G1[`L${l}.H1`]); // one batch: by hand
    assert.ok(Math.abs(GL1[`L${l}.H0`] - want) < 1e-6 * want);
    assert.equal(GL[`L${l}.H1`], GL[`L${l}.H0`], 'heads of a layer tie');
    assert.equal(GL[`L${l}.MLP`], G[`L${l}.MLP`]);
  }
});

test("Table 6 under the authors' last-section protocol: heads only, their G, average ranks, Bloat at Delta >= threshold", () => {
  const r = analyzeModel({
    model,
    task: 'reverse',
    seed: 1,
    oodLengths: [3],
    cfg: {
      ...cfg.analysis,
      accLow: 0.5,
      accHigh: 1,
      variants: false,
      redraws: 0,
      table6Protocol: 'authors-last-section',
      threshold: 1,
    },
  });
  const t6 = r.pruning!.allBloats;
  assert.equal(t6.protocol, 'authors-last-section');
  const d = t6.headsOnly!.delta;
  assert.deepEqual(Object.keys(d).sort(), ['L0.H0', 'L0.H1', 'L1.H0', 'L1.H1']);
  assert.equal(t6.headsOnly!.G['L0.H0'], t6.headsOnly!.G['L0.H1']);
  assert.deepEqual(
    t6.ids,
    Object.keys(d).filter((id) => d[id] >= 1),
  );
  assert.ok(t6.idBefore > 0.5);
});

test('pruning two components equals the hand computation with both edits', () => {
  const ctx = ctxFor();
  const means = ctx.means();
  const got = prunedAccuracy(model, ['L0.H1', 'L1.MLP'], means, 'before-WO', evalSet);
  const byHand = edited((w) => {
    const W = w['blocks.0.attn.W_v.weight'];
    for (let r = 0; r < D; r++) for (let j = dh; j < 2 * dh; j++) W.data[r * D + j] = 0;
    w['blocks.0.attn.W_v.bias'].data.set(means['L0.H1'], dh);
    w['blocks.1.mlp.2.weight'].data.fill(0);
    w['blocks.1.mlp.2.bias'].data.set(means['L1.MLP']);
  });
  assert.ok(Math.abs(got - accOf(byHand)) <= 1 / 300 + 1e-9);
  assert.equal(prunedAccuracy(model, [], means, 'before-WO', evalSet), accOf(model));
  byHand.dispose();
});

test('the pipeline: skipped with the accuracies seen when no OOD length is in range', () => {
  const r = analyzeModel({ model, task: 'reverse', seed: 1, cfg: { ...cfg.analysis, accLow: 0.999, accHigh: 1 } });
  assert.equal(r.status, 'skipped');
  assert.deepEqual(Object.keys(r.ood.accuracies), ['8', '9', '10', '11']);
  assert.match(r.reason!, /no OOD length with accuracy in \[0.999, 1\] \(N=8: /);
});

test('the pipeline end to end on a length that is in range', () => {
  // Learned positions beyond length 3 are untrained (OOD accuracy 0), so analyse at length 3.
  const pick = analyzeModel({
    model,
    task: 'reverse',
    seed: 1,
    cfg: { ...cfg.analysis, accLow: 0.5, accHigh: 1, measures: ['Czero'] },
    oodLengths: [3],
  });
  assert.equal(pick.status, 'analysed');
  assert.equal(pick.ood.length, 3);
  assert.deepEqual(Object.keys(pick.scores), ['G', 'C', 'Czero']);
  assert.deepEqual(Object.keys(pick.intervals!), ['C', 'Czero'], 'the causal measures record their intervals');
  for (const id of pick.components)
    assert.ok(pick.intervals!.C[id][0] <= pick.scores.C[id] && pick.scores.C[id] <= pick.intervals!.C[id][1], id);
  const cl = pick.classification!;
  assert.equal(cl.delta.length, 6);
  assert.ok(cl.rho >= -1 && cl.rho <= 1);
  assert.ok(cl.classFreq && cl.classFreq.length === 6);
  const p = pick.pruning!;
  assert.ok(p.heroes.length <= 2 && p.bloats.length <= 2);
  assert.ok(p.id.baseline > 0.8, `in-distribution accuracy ${p.id.baseline}`);
  for (const k of ['oodPick', 'G', 'means', 'C', 'Czero', 'pruning', 'variants']) assert.ok(pick.timingsMs[k] >= 0, k);
  // Protocol variants: 2 head ablations x paired/unpaired x evaluation sizes {100, 300 (this run), 1000}.
  const v = pick.variants!;
  assert.equal(v.length, 12);
  const own = v.find((x) => x.headAblation === 'before-WO' && x.paired && x.evalSamples === 300)!;
  assert.deepEqual(own.C, pick.scores.C, 'the variant matching the run reproduces its C');
  assert.equal(own.classifications.length, 6);
  const mine = own.classifications.find((c) => c.rankRule === 'ordinal-random' && c.inclusive)!;
  assert.deepEqual(mine.classes, cl.classes);
  const authors = v.find((x) => x.headAblation === 'after-WO-slice' && !x.paired && x.evalSamples === 100)!;
  assert.notDeepEqual(authors.C, own.C);
  // The noise floor: analysis.redraws (2 here) recomputations on freshly drawn sequences.
  const r = pick.redraws!;
  assert.deepEqual(
    r.map((x) => x.redraw),
    [1, 2],
  );
  for (const x of r) {
    assert.deepEqual(Object.keys(x.C).sort(), [...cl.classes.keys()].map((i) => pick.components[i]).sort());
    assert.notDeepEqual(x.G, pick.scores.G, 'a redraw draws new gradient batches');
    assert.equal(x.classes.length, 6);
  }
  assert.notDeepEqual(r[0].G, r[1].G);
});

test('a redraw is reproducible, and redraw 0 is the run itself', () => {
  const set1 = sampleExamples('reverse', 300, new Rng(1, 'ood-eval-redraw1'), LENGTH);
  const ctx0 = ctxFor({ gradBatches: 2 });
  const ctx1 = new ImportanceContext({
    model,
    task: 'reverse',
    length: LENGTH,
    cfg: ctx0.cfg,
    seed: 1,
    evalSet: set1,
    redraw: 1,
  });
  assert.equal(ctx0.stream('G'), 'G');
  assert.equal(ctx1.stream('G'), 'G-redraw1');
  const g1 = getMeasure('G').compute(ctx1);
  assert.deepEqual(getMeasure('G').compute(ctx1.withConfig(ctx1.cfg)), g1, 'withConfig keeps the redraw');
  assert.notDeepEqual(getMeasure('G').compute(ctx0), g1);
});

test('C from cached residual streams (each pass starts at the patched block) equals full passes, bit for bit', () => {
  const ctx = ctxFor();
  const means = ctx.means();
  const fast = getMeasure('C').compute(ctx);
  const base = accuracy(exactMatch(model, evalSet));
  for (const c of model.components()) {
    const full = base - accuracyWith(model, { [c.id]: means[c.id] }, 'before-WO', evalSet);
    assert.equal(fast[c.id], full, c.id);
  }
  // Several components at once start at the earliest of their blocks.
  const two = { 'L1.H0': means['L1.H0'], 'L0.MLP': means['L0.MLP'] };
  assert.equal(
    accuracyWith(model, two, 'before-WO', evalSet, ctx.evalResiduals()),
    accuracyWith(model, two, 'before-WO', evalSet),
  );
  assert.throws(() => accuracyWith(model, two, 'before-WO', evalSet.slice(1), ctx.evalResiduals()), /other examples/);
  ctx.release();
});

test('forward from a cached residual stream: same logits; patches before the start are refused', () => {
  const batch = makeBatch(evalSet.slice(0, 8));
  tf.tidy(() => {
    const tokens = tokensTensor(batch);
    const { cache } = model.forward(tokens, { cache: ['blocks.1.hook_resid_pre'] });
    const patch = componentPatch(parseComponent('L1.H1', model.cfg), tf.zeros([dh]));
    const full = model.forward(tokens, { patches: [patch] }).logits.dataSync();
    const from = model
      .forward(tokens, { patches: [patch], from: { layer: 1, resid: cache['blocks.1.hook_resid_pre'] } })
      .logits.dataSync();
    assert.deepEqual(from, full);
    const early = componentPatch(parseComponent('L0.H1', model.cfg), tf.zeros([dh]));
    assert.throws(
      () => model.forward(tokens, { patches: [early], from: { layer: 1, resid: cache['blocks.1.hook_resid_pre'] } }),
      /lies before from.layer=1/,
    );
    assert.throws(
      () => model.forward(tokens, { from: { layer: 2, resid: cache['blocks.1.hook_resid_pre'] } }),
      /from.layer must be an integer in \[0, 1\]/,
    );
  });
});

test('an ImportanceContext made without an evaluation set or pick accuracy says which one a measure needs', () => {
  const bare = new ImportanceContext({
    model,
    task: 'reverse',
    length: LENGTH,
    cfg: { ...cfg.analysis, paired: true },
    seed: 1,
  });
  assert.throws(
    () => bare.baseline(),
    /paired scoring \(analysis\.paired=true\) needs evalSet, the fixed OOD evaluation set/,
  );
  assert.throws(
    () => bare.withConfig({ ...cfg.analysis, paired: false }).baseline(),
    /unpaired scoring \(analysis\.paired=false\) needs pickAccuracy/,
  );
  assert.ok(
    Object.values(gradientMagnitude(bare.withConfig(bare.cfg))).every((g) => g > 0),
    'G needs neither',
  );
});
