import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Rng } from '../src/base/rng';
import { checkTask, ExperimentConfig } from '../src/settings/config';
import { checkTaskConfig, completeConfig, getConfig } from '../src/settings/validate';
import {
  BatchStream,
  checkExample,
  DIGIT_VOCAB_SIZE,
  END,
  getTask,
  IGNORE,
  longestEvalLength,
  longestSequence,
  makeBatch,
  PAD,
  sampleExample,
  PAPER_TASKS,
  sampleExamples,
  SEP,
  sequenceTokens,
  solve,
  START,
  Task,
  TASK_REGISTRY,
  TASKS,
} from '../src/tasks';
import { trainRun } from '../src/runner/training';

test('targets: reversal reverses, sorting sorts ascending with repeats kept', () => {
  assert.deepEqual(solve('reverse', [5, 1, 99, 1]), [1, 99, 1, 5]);
  assert.deepEqual(solve('sort', [5, 1, 99, 1]), [1, 1, 5, 99]);
});

test('targets of the added tasks, by hand: copy, running max, histogram', () => {
  assert.deepEqual(solve('copy', [5, 1, 99, 1]), [5, 1, 99, 1]);
  assert.deepEqual(solve('copy', [7]), [7]);
  assert.deepEqual(solve('runmax', [5, 1, 99, 1]), [5, 5, 99, 99]);
  assert.deepEqual(solve('runmax', [3, 7, 2, 8, 8, 1]), [3, 7, 7, 8, 8, 8]);
  assert.deepEqual(solve('runmax', [9, 8, 7]), [9, 9, 9]);
  assert.deepEqual(solve('histogram', [2, 5, 2, 2, 1]), [3, 1, 3, 3, 1]);
  assert.deepEqual(solve('histogram', [4, 4, 4]), [3, 3, 3]);
  assert.deepEqual(solve('histogram', [1, 2, 3]), [1, 1, 1]);
  // The target is a new array: the model's input is never changed in place.
  const x = [3, 1, 2];
  for (const t of TASKS) {
    const y = solve(t, x);
    assert.notEqual(y, x);
    assert.deepEqual(x, [3, 1, 2], t);
    assert.equal(y.length, x.length, `${t}: one output token per input token (the batch format's rule)`);
  }
});

test('histogram inputs: digits 1..5 only, every value drawn, repeats common', () => {
  const ex = sampleExamples('histogram', 2000, new Rng(3), { minLen: 3, maxLen: 7 });
  assert.deepEqual([...new Set(ex.flatMap((e) => e.x))].sort(), [1, 2, 3, 4, 5]);
  const withRepeat = ex.filter((e) => new Set(e.x).size < e.x.length).length / ex.length;
  assert.ok(withRepeat > 0.7, `share of inputs with a repeat: ${withRepeat}`);
  for (const e of ex) assert.deepEqual(e.y, solve('histogram', e.x));
});

test('samples: digits in 1..99, lengths in range, every length drawn', () => {
  const ex = sampleExamples('sort', 2000, new Rng(1), { minLen: 3, maxLen: 7 });
  const lengths = new Set(ex.map((e) => e.x.length));
  assert.deepEqual([...lengths].sort(), [3, 4, 5, 6, 7]);
  for (const e of ex) {
    for (const d of e.x) assert.ok(Number.isInteger(d) && d >= 1 && d <= 99);
    assert.deepEqual(e.y, solve('sort', e.x));
  }
  const digits = new Set(ex.flatMap((e) => e.x));
  assert.equal(digits.size, 99);
});

test('contiguous layout: START x SEP y then PAD; targets y END at positions N+1..2N+1', () => {
  const b = makeBatch(
    [
      { x: [7, 8, 9], y: [9, 8, 7] },
      { x: [4], y: [4] },
    ],
    'contiguous',
  );
  assert.equal(b.T, 8);
  const I = IGNORE;
  assert.deepEqual(Array.from(b.tokens.subarray(0, 8)), [START, 7, 8, 9, SEP, 9, 8, 7]);
  assert.deepEqual(Array.from(b.targets.subarray(0, 8)), [I, I, I, I, 9, 8, 7, END]);
  assert.deepEqual(Array.from(b.tokens.subarray(8, 16)), [START, 4, SEP, 4, PAD, PAD, PAD, PAD]);
  assert.deepEqual(Array.from(b.targets.subarray(8, 16)), [I, I, 4, END, I, I, I, I]);
});

test("separate layout (authors' code): PAD between SEP and y1 for shorter rows", () => {
  const b = makeBatch(
    [
      { x: [7, 8, 9], y: [9, 8, 7] },
      { x: [4], y: [4] },
    ],
    'separate',
  );
  const I = IGNORE;
  // input padded to 5 tokens, target (y END) padded to 4 and its last token dropped
  assert.deepEqual(Array.from(b.tokens.subarray(0, 8)), [START, 7, 8, 9, SEP, 9, 8, 7]);
  assert.deepEqual(Array.from(b.tokens.subarray(8, 16)), [START, 4, SEP, PAD, PAD, 4, PAD, PAD]);
  assert.deepEqual(Array.from(b.targets.subarray(8, 16)), [I, I, I, I, 4, END, I, I]);
});

test('both layouts agree when every row has the same length', () => {
  const ex = sampleExamples('reverse', 16, new Rng(3), 5);
  const a = makeBatch(ex, 'contiguous');
  const s = makeBatch(ex, 'separate');
  assert.deepEqual(a.tokens, s.tokens);
  assert.deepEqual(a.targets, s.targets);
});

test('the fixture batch format: decoder input = input + target without its last token', () => {
  const b = makeBatch([{ x: [23, 15, 28, 78], y: [15, 23, 28, 78] }]);
  assert.deepEqual(Array.from(b.tokens), [101, 23, 15, 28, 78, 102, 15, 23, 28, 78]);
  assert.equal(b.targets.indexOf(15), 5); // first prediction position
});

test('seeded generator: same seed same batches, other seed or stream other batches', () => {
  const opts = { minLen: 3, maxLen: 7, batchSize: 8, layout: 'contiguous' as const };
  const a = new BatchStream('sort', opts, new Rng(42, 'train-data'));
  const b = new BatchStream('sort', opts, new Rng(42, 'train-data'));
  const c = new BatchStream('sort', opts, new Rng(43, 'train-data'));
  const d = new BatchStream('sort', opts, new Rng(42, 'train-eval'));
  for (let i = 0; i < 3; i++) {
    const [x, y, z, w] = [a.next(), b.next(), c.next(), d.next()];
    assert.deepEqual(x.tokens, y.tokens);
    assert.notDeepEqual(x.tokens, z.tokens);
    assert.notDeepEqual(x.tokens, w.tokens);
  }
});

test('rng state restores the stream exactly', () => {
  const r = new Rng(7, 's');
  r.next();
  const saved = r.state();
  const xs = [r.next(), r.normal(), r.int(1, 99)];
  const r2 = Rng.fromState(saved);
  assert.deepEqual([r2.next(), r2.normal(), r2.int(1, 99)], xs);
});

test('the task registry: every task list comes from it; names fit results file names; unknown names list the registered ones', () => {
  assert.deepEqual(TASKS, Object.keys(TASK_REGISTRY));
  assert.deepEqual([...TASKS], ['reverse', 'sort', 'copy', 'runmax', 'histogram']);
  assert.deepEqual([...PAPER_TASKS], ['reverse', 'sort'], "the paper's two stay the default of a bare sweep");
  for (const t of TASKS) {
    const task = getTask(t);
    assert.equal(task.name, t);
    assert.match(t, /^[a-z][a-z0-9-]*$/, 'a task name is part of <task>_seed<seed>.json');
    assert.ok(task.label && task.color && task.description && task.why && task.oodLengths.length);
    const ex = sampleExample(t, 6, new Rng(5));
    assert.ok(Math.max(...ex.x, ...ex.y) < task.vocabSize, `${t}: tokens within its vocabulary`);
  }
  assert.throws(() => getTask('copying'), /unknown task "copying"; registered: reverse, sort, copy, runmax, histogram/);
  assert.throws(
    () => checkTask('copying'),
    /task: unknown task "copying"; allowed: reverse, sort, copy, runmax, histogram/,
  );
});

test("model.vocabSize: the digit tasks' 104 by default, refused below a task's vocabulary before any work, filled in for files written before it existed", () => {
  assert.equal(getConfig('paper').model.vocabSize, DIGIT_VOCAB_SIZE);
  const small = getConfig('paper', { model: { vocabSize: 50 } });
  assert.throws(
    () => checkTaskConfig('sort', small),
    /config model\.vocabSize: 50 cannot hold task sort's 104 tokens; allowed: an integer >= 104 for this task/,
  );
  assert.throws(
    () => trainRun({ task: 'sort', seed: 1, cfg: small, progress: false }),
    /model\.vocabSize: 50 cannot hold/,
  );
  const { vocabSize: _omitted, ...oldModel } = getConfig('authors').model;
  assert.equal(
    completeConfig({ ...getConfig('authors'), model: oldModel as ExperimentConfig['model'] }, 'authors').model
      .vocabSize,
    104,
  );
});

test('the layout follows the answer length: a task answering with 2N tokens gets them all as targets, both layouts; a target that contradicts answerLength is refused', () => {
  // contiguous: START x SEP y, END predicted last; rows as long as they need.
  const b = makeBatch(
    [
      { x: [5, 6], y: [5, 6, 5, 6] },
      { x: [7], y: [7, 7] },
    ],
    'contiguous',
  );
  assert.equal(b.T, sequenceTokens(2, 4));
  assert.deepEqual([...b.tokens], [START, 5, 6, SEP, 5, 6, 5, 6, START, 7, SEP, 7, 7, PAD, PAD, PAD]);
  assert.deepEqual(
    [...b.targets],
    [IGNORE, IGNORE, IGNORE, 5, 6, 5, 6, END, IGNORE, IGNORE, 7, 7, END, IGNORE, IGNORE, IGNORE],
  );
  // separate: the padded input, then the padded answer.
  const s = makeBatch(
    [
      { x: [5, 6], y: [5, 6, 5, 6] },
      { x: [7], y: [7, 7] },
    ],
    'separate',
  );
  assert.equal(s.T, sequenceTokens(2, 4));
  assert.deepEqual([...s.tokens.slice(8)], [START, 7, SEP, PAD, 7, 7, PAD, PAD]);
  assert.deepEqual([...s.targets.slice(8)], [IGNORE, IGNORE, IGNORE, 7, 7, END, IGNORE, IGNORE]);
  // The paper's tasks: N answer tokens, 2N + 2 positions, as before.
  assert.equal(makeBatch(sampleExamples('sort', 3, new Rng(1), 7)).T, 16);
  for (const t of TASKS) assert.equal(getTask(t).answerLength(9), 9, t);
  assert.equal(longestSequence(11), 24);
  assert.equal(longestEvalLength(), 11);
  // A task whose target does not say what its answerLength says is refused, naming it.
  const liar: Task = { ...getTask('copy'), name: 'liar', target: (x) => [...x, ...x] };
  assert.throws(
    () => checkExample(liar, { x: [1, 2], y: liar.target([1, 2]) }),
    /task liar: its target for a length-2 input has 4 tokens, but its answerLength\(2\) says 2/,
  );
  assert.doesNotThrow(() => checkExample({ ...liar, answerLength: (n) => 2 * n }, { x: [1, 2], y: [1, 2, 1, 2] }));
});

test("the notebooks' task setting names every registered task", () => {
  const dir = path.join(__dirname, '..', '..', 'notebooks');
  const lines = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb') && !f.endsWith('-mine.ipynb'))
    .flatMap((f) =>
      fs
        .readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l.includes('const TASK: gcg.TaskName'))
        .map((l) => ({ f, l })),
    );
  assert.ok(lines.length >= 7, `${lines.length} notebooks set TASK`);
  for (const { f, l } of lines) {
    const comment = l.slice(l.indexOf('//'));
    assert.deepEqual(
      [...comment.matchAll(/'([a-z]+)'/g)].map((m) => m[1]).sort(),
      [...TASKS].sort(),
      `${f}: ${comment}`,
    );
  }
});
