/**
 * How much a new task or measure touches. A copy of the sources gets a throwaway task whose answer
 * is twice as long as its input (a file in src/tasks/ and one line in the registry, nothing else),
 * is compiled, and runs through the CLI's
 * `run` (train, OOD pick, G, C, classes, pruning) and `tables`; the task lists everywhere include
 * it. A throwaway measure is one registerMeasure call: a run records it, and the measure table,
 * Eq. 3 and Figure 1 take it in place of G.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { registerMeasure } from '../src/analysis/registry';
import { analyzeModel } from '../src/analysis/pipeline';
import { classifyMeasures } from '../src/analysis/ranks';
import { tf } from '../src/kernels/tf';
import { componentWeight } from '../src/model/grads';
import { Transformer } from '../src/model/model';
import { figure1 } from '../src/report/figures';
import { pairClassification } from '../src/report/records';
import { measureTable } from '../src/report/tables';
import type { RunRecord } from '../src/records/format';
import { setupBackend, sourcesCopy, tinyConfig } from './helpers';
import { record } from './records';

/** A throwaway task whose answer is twice as long as its input: the layout follows its answerLength. */
const NEW_TASK = `/** Duplicate (a throwaway task for test/extend.test.ts): y = x twice. */
import { digitInput, DIGIT_VOCAB_SIZE } from './format';
import type { Task } from './task';

export const duplicate: Task = {
  name: 'duplicate',
  label: 'Duplicate',
  color: '#1f77b4',
  description: 'output the digits twice',
  vocabSize: DIGIT_VOCAB_SIZE,
  sampleInput: digitInput,
  target: (x) => [...x, ...x],
  answerLength: (n) => 2 * n,
  oodLengths: [3],
};
`;

test('a new task is one file and one registry line: it trains, is analysed and tabled through the CLI', () => {
  const copy = sourcesCopy('newtask');
  const tmp = copy.dir;

  // The two edits a new task takes.
  fs.writeFileSync(path.join(tmp, 'src', 'tasks', 'duplicate.ts'), NEW_TASK);
  const index = path.join(tmp, 'src', 'tasks', 'index.ts');
  const before = fs.readFileSync(index, 'utf8');
  const after = before
    .replace(
      "import { sort } from './sort';",
      "import { sort } from './sort';\nimport { duplicate } from './duplicate';",
    )
    .replace(
      '{ reverse, sort, copy, runmax, histogram } as const',
      '{ reverse, sort, copy, runmax, histogram, duplicate } as const',
    );
  assert.notEqual(after, before);
  fs.writeFileSync(index, after);

  const tsc = copy.build();
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  const cli = copy.cli;

  const tiny = [
    'model.nLayers=1',
    'model.nHeads=2',
    'model.dModel=16',
    'model.dFF=32',
    'data.minLen=2',
    'data.maxLen=3',
    'train.maxSteps=60',
    'train.evalEvery=30',
    'train.batchSize=16',
    'train.evalSamples=32',
    'analysis.gradBatches=1',
    'analysis.gradBatchSize=8',
    'analysis.meanBatches=1',
    'analysis.evalSamples=32',
    'analysis.oodPickSamples=32',
    'analysis.idSamples=16',
    'analysis.idLength=3',
    'analysis.tieDraws=10',
    'analysis.accLow=0',
    'analysis.accHigh=1',
    'analysis.variants=false',
    'analysis.redraws=0',
  ];
  const results = path.join(tmp, 'results');
  const r = cli(
    'run',
    '--task',
    'duplicate',
    '--seed',
    '1',
    '--results',
    results,
    '--allow-id-lengths',
    ...tiny.flatMap((s) => ['--set', s]),
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const rec = JSON.parse(fs.readFileSync(path.join(results, 'paper', 'duplicate_seed1.json'), 'utf8'));
  assert.equal(rec.task, 'duplicate');
  assert.equal(rec.analysis.status, 'analysed');
  assert.equal(rec.analysis.ood.length, 3, "the task's own OOD lengths are used");
  assert.equal(Object.keys(rec.analysis.scores.G).length, 3);

  const t = cli('tables', '--results', results, '--preset', 'paper');
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /Duplicate/, 'tables name the task by its label');
  // Its batches put the whole doubled answer where the model is trained on it (START x SEP x x, END last).
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      `const t = require(${JSON.stringify(path.join(tmp, 'dist', 'src', 'tasks', 'index.js'))});
    const b = t.makeBatch([{ x: [5, 6], y: t.solve('duplicate', [5, 6]) }]);
    console.log(JSON.stringify({ T: b.T, tokens: [...b.tokens], targets: [...b.targets] }));`,
    ],
    { encoding: 'utf8' },
  );
  assert.deepEqual(
    JSON.parse(probe.stdout),
    { T: 8, tokens: [101, 5, 6, 102, 5, 6, 5, 6], targets: [-1, -1, -1, 5, 6, 5, 6, 103] },
    probe.stderr,
  );
  const bad = cli('run', '--task', 'nope');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown task "nope"; allowed: reverse, sort, copy, runmax, histogram, duplicate/);
  assert.match(cli('help').stdout, /--task T +reverse \| sort \| copy \| runmax \| histogram \| duplicate/);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a new measure is one registerMeasure call: the run records it, and the tables, Figure 1 and Eq. 3 take it as they take G and C', async () => {
  await setupBackend();
  // A throwaway cheap measure: the Frobenius norm of each component's own weights (no data at all).
  registerMeasure({
    name: 'test-weightNorm',
    kind: 'cheap',
    description: 'Frobenius norm of the component weights (a throwaway measure for this test)',
    compute: (ctx) =>
      Object.fromEntries(
        ctx.components.map((c) => {
          const w = componentWeight(c, ctx.model.dHead);
          const p = ctx.model.params[w.param];
          const part = w.cols ? tf.slice(p, [0, w.cols[0]], [p.shape[0], w.cols[1] - w.cols[0]]) : p;
          const n = tf.tidy(() => tf.norm(part).dataSync()[0]);
          if (part !== p) part.dispose();
          return [c.id, n];
        }),
      ),
  });
  const cfg = tinyConfig({
    analysis: {
      gradBatches: 2,
      gradBatchSize: 8,
      meanBatches: 2,
      evalSamples: 32,
      oodPickSamples: 32,
      idSamples: 16,
      idLength: 3,
      tieDraws: 10,
      accLow: 0,
      accHigh: 1,
      variants: false,
      redraws: 0,
    },
  });
  const model = Transformer.init(cfg.model, 3);
  const a = analyzeModel({
    model,
    task: 'sort',
    seed: 3,
    cfg: { ...cfg.analysis, measures: ['test-weightNorm'] },
    oodLengths: [3],
  });
  model.dispose();
  assert.deepEqual(Object.keys(a.scores), ['G', 'C', 'test-weightNorm']);
  const rec = { ...record('sort', 3, 0, []), config: cfg, analysis: a } as RunRecord;
  assert.deepEqual(Object.keys(measureTable(rec)[0]), ['component', 'G', 'C', 'test-weightNorm']);
  const k = pairClassification(rec, { cheap: 'test-weightNorm', causal: 'C' });
  assert.deepEqual(k, classifyMeasures(a.scores, a.components, 'test-weightNorm', 'C', { ...cfg.analysis, seed: 3 }));
  assert.deepEqual(pairClassification(rec), a.classification, "the paper's pair is the recorded classification");
  const fig = figure1([rec], { cheap: 'test-weightNorm', causal: 'C' });
  assert.match(JSON.stringify(fig.layout), /test-weightNorm against C/);
  assert.equal(
    (fig.data as { x: number[] }[]).reduce((n, d) => n + d.x.length, 0),
    a.components.length,
    'one point per component',
  );
});
