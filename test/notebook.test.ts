/** The notebook helpers: tables as Markdown, figures as HTML, and trained runs whose checkpoint is missing. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { getConfig } from '../src/config';
import { runPaths } from '../src/results';
import { showFigure, showTable, SMALL_OOD_LENGTHS, SMALL_OVERRIDES, trainedRun } from '../src/notebook';
import { setupBackend } from './helpers';

const sink = () => {
  const out: { kind: string; value: string }[] = [];
  const d = { html: (s: string) => out.push({ kind: 'html', value: s }), markdown: (s: string) => out.push({ kind: 'md', value: s }), text: (s: string) => out.push({ kind: 'text', value: s }), png: () => out.push({ kind: 'png', value: '' }) };
  return { out, d };
};

before(async () => {
  await setupBackend();
});

test('showTable renders rows as a Markdown table, rounding numbers and escaping pipes', () => {
  const { out, d } = sink();
  showTable([{ a: 1.23456, b: 'x|y' }, { a: null, c: true }], d);
  assert.equal(out[0].value, '| a | b | c |\n| --- | --- | --- |\n| 1.235 | x\\|y |  |\n|  |  | true |');
});

test('showFigure emits the figure as interactive HTML in a live session', async () => {
  const prev = process.env.GCG_NOTEBOOK_STATIC;
  delete process.env.GCG_NOTEBOOK_STATIC;
  const { out, d } = sink();
  await showFigure({ data: [{ type: 'bar', x: ['a'], y: [1] }], layout: { title: { text: 'T</script>' } } }, d);
  if (prev !== undefined) process.env.GCG_NOTEBOOK_STATIC = prev;
  assert.equal(out[0].kind, 'html');
  assert.match(out[0].value, /Plotly\.newPlot/);
  assert.doesNotMatch(out[0].value, /T<\/script>/, 'the spec cannot close the script tag');
});

test('a run whose checkpoint is missing is retrained to the same weights', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-nbrun-'));
  process.env.GCG_NOTEBOOK_RESULTS = dir;
  const cfg = getConfig('paper', { ...SMALL_OVERRIDES, train: { ...SMALL_OVERRIDES.train, maxSteps: 30 } });
  const opts = { preset: 'paper' as const, task: 'sort' as const, seed: 5, cfg, recompute: true, oodLengths: SMALL_OOD_LENGTHS, allowIdLengths: true };
  const first = trainedRun(opts);
  const w1 = first.model.toArrays();
  first.model.dispose();
  fs.unlinkSync(runPaths(dir, 'paper', 'sort', 5).checkpoint);
  const again = trainedRun(opts);
  const w2 = again.model.toArrays();
  for (const k of Object.keys(w1)) assert.deepEqual(w2[k].data, w1[k].data, k);
  assert.ok(fs.existsSync(runPaths(dir, 'paper', 'sort', 5).checkpoint));
  again.model.dispose();
});
