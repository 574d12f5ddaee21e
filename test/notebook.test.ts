/** The notebook helpers: tables as Markdown, figures as HTML, and trained runs whose checkpoint is missing. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { backendInfo } from '../src/kernels/backend';
import { withCode } from '../src/kernels/native';
import { ConfigError } from '../src/settings/config';
import { getConfig } from '../src/settings/validate';
import { pickOodLength } from '../src/analysis/ood';
import { loadCheckpoint } from '../src/records/checkpoint';
import { readRecord, runPaths } from '../src/records/store';
import { RunRecord } from '../src/records/format';
import { getTask } from '../src/tasks';
import { analysisEstimate } from '../src/runner/estimate';
import {
  notebookSession,
  sameKernelsNote,
  SMALL_OOD_LENGTHS,
  SMALL_OVERRIDES,
  trainedRun,
} from '../src/faces/notebook';
import { showFigure, showTable } from '../src/faces/display';
import { setupBackend } from './helpers';

const sink = () => {
  const out: { kind: string; value: string }[] = [];
  const d = {
    html: (s: string) => out.push({ kind: 'html', value: s }),
    markdown: (s: string) => out.push({ kind: 'md', value: s }),
    text: (s: string) => out.push({ kind: 'text', value: s }),
    png: () => out.push({ kind: 'png', value: '' }),
  };
  return { out, d };
};

before(async () => {
  await setupBackend();
});

test('showTable renders rows as a Markdown table, rounding numbers and escaping pipes', () => {
  const { out, d } = sink();
  showTable(
    [
      { a: 1.23456, b: 'x|y' },
      { a: null, c: true },
    ],
    d,
  );
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

test("a run whose checkpoint is missing is retrained to the same weights (here on tfjs's own wasm code where the native kernels made it)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-nbrun-'));
  process.env.GCG_NOTEBOOK_RESULTS = dir;
  const cfg = getConfig('paper', { ...SMALL_OVERRIDES, train: { ...SMALL_OVERRIDES.train, maxSteps: 30 } });
  const opts = {
    dir,
    preset: 'paper' as const,
    task: 'sort' as const,
    seed: 5,
    cfg,
    oodLengths: SMALL_OOD_LENGTHS,
    allowIdLengths: true,
  };
  // Made on the default kernels (native under CI); retrained below on tfjs's own wasm code: the same numbers.
  const first = trainedRun(opts);
  assert.equal(first.record.provenance.kernels, 'stock');
  const w1 = first.model.toArrays();
  first.model.dispose();
  fs.unlinkSync(runPaths(dir, 'paper', 'sort', 5).checkpoint);
  const again = backendInfo().backend === 'wasm' ? withCode('wasm', () => trainedRun(opts)) : trainedRun(opts);
  const w2 = again.model.toArrays();
  for (const k of Object.keys(w1)) assert.deepEqual(w2[k].data, w1[k].data, k);
  assert.ok(fs.existsSync(runPaths(dir, 'paper', 'sort', 5).checkpoint));
  again.model.dispose();
});

test('a notebook session sweeps with seeds trained stacked (seedsPerJob), as gcg sweep --seeds-per-job does; bad values refused before any work', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-nbsweep-'));
  const saved = { ...process.env };
  Object.assign(process.env, { GCG_NOTEBOOK_RESULTS: dir, GCG_NOTEBOOK_SMALL: '1', GCG_NOTEBOOK_RECOMPUTE: '1' });
  try {
    const nb = await notebookSession({ preset: 'paper', task: 'sort', seed: 1 });
    for (const bad of [0, 1.5, -2]) {
      await assert.rejects(
        nb.sweep([1, 2], ['sort'], { seedsPerJob: bad }),
        (e: Error) =>
          e instanceof ConfigError &&
          e.message.includes(`sweep: seedsPerJob got ${bad}; allowed: an integer in [1, 1000]`),
      );
    }
    await assert.rejects(nb.sweep([1, 2], ['sort'], { workers: 0 }), /sweep: workers got 0; allowed/);
    assert.deepEqual(
      fs.readdirSync(dir).flatMap((d) => fs.readdirSync(path.join(dir, d))),
      ['settings.json'],
      'nothing computed',
    );
    const recs = await nb.sweep([1, 2], ['sort'], { seedsPerJob: 2 });
    assert.deepEqual(recs.map((r) => r.seed).sort(), [1, 2]);
    for (const r of recs)
      assert.deepEqual(
        r.training.batched,
        { seeds: [1, 2] },
        `seed ${r.seed}: trained stacked with seed ${3 - r.seed}`,
      );
  } finally {
    for (const k of ['GCG_NOTEBOOK_RESULTS', 'GCG_NOTEBOOK_SMALL', 'GCG_NOTEBOOK_RECOMPUTE'])
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
  }
});

test('a notebook says whether what it recomputes from a record comes out bit for bit the same here', () => {
  const rec = (backend: string, kernels?: string, fused?: string[]) =>
    ({ provenance: { backend, kernels, fused } }) as unknown as RunRecord;
  assert.equal(
    sameKernelsNote(rec('wasm'), { backend: 'wasm', kernels: 'stock' }),
    'made on wasm with the stock kernels, as now: what is recomputed here is bit for bit the same',
  );
  assert.equal(
    sameKernelsNote(rec('wasm', 'stock'), { backend: 'tensorflow', kernels: 'stock' }),
    'made on wasm with the stock kernels; this is tensorflow: what is recomputed here rounds differently, GCG_BACKEND=wasm recomputes it bit for bit',
  );
  assert.equal(
    sameKernelsNote(rec('tensorflow', 'stock'), { backend: 'tensorflow', kernels: 'stock' }),
    'made on tensorflow, as now: what is recomputed here is bit for bit the same',
  );
  // The retired native family, with or without its fused kernels: said so, with no setting offered.
  for (const r of [rec('wasm', 'native'), rec('wasm', 'native', ['LayerNorm', 'GELU', 'Adam'])])
    assert.match(
      sameKernelsNote(r, { backend: 'wasm', kernels: 'stock' }),
      /^made on wasm with the native(\+fused)? kernels, the family retired in issue 42; these are stock: .* this version cannot make it round as then$/,
    );
});

test('the committed checkpoints match their hashes and are the models of their results records', () => {
  const root = path.join(__dirname, '..', '..', 'results');
  const lists = fs
    .readdirSync(root)
    .map((p) => path.join(root, p, 'checkpoints.sha256'))
    .filter((f) => fs.existsSync(f));
  assert.ok(lists.length >= 1, "the notebooks' default checkpoint is committed");
  for (const list of lists) {
    for (const line of fs.readFileSync(list, 'utf8').trim().split('\n')) {
      const [hash, name] = line.split(/\s+/);
      const file = path.join(path.dirname(list), name);
      assert.equal(createHash('sha256').update(fs.readFileSync(file)).digest('hex'), hash, file);
      const rec = readRecord(file.replace(/\.ckpt$/, '.json'))!;
      const ck = loadCheckpoint(file);
      assert.deepEqual(
        [ck.config.model, ck.config.data, ck.config.train],
        [rec.config.model, rec.config.data, rec.config.train],
        file,
      );
      assert.equal((ck.meta.training as { steps: number }).steps, rec.training.steps);
      // The same model: its accuracy at the chosen OOD length, on the record's own sequences, is the record's.
      const N = rec.analysis.ood.length!;
      const lengths = getTask(rec.task).oodLengths.filter((n) => n <= N);
      const pick = pickOodLength(ck.model, rec.task, rec.config.analysis, rec.seed, lengths);
      assert.equal(pick.accuracies[N], rec.analysis.ood.accuracies[N], file);
      ck.model.dispose();
    }
  }
});

test('the analysis time estimate scales each recorded phase by the sequences it scores', () => {
  const guide = readRecord(path.join(__dirname, '..', '..', 'results', 'paper', 'sort_seed42.json'))!;
  const t = guide.analysis.timingsMs;
  const all = t.oodPick + t.G + t.means + t.C + t.pruning + t.variants + t.redraws;
  assert.ok(Math.abs(analysisEstimate(guide, guide.config) - all) < 1e-6, 'the same settings: the recorded phases');
  const lighter = getConfig('paper', { analysis: { evalSamples: 500, variants: false, redraws: 1 } });
  const want = t.oodPick + t.G + t.means + (t.C + t.pruning) / 2 + t.redraws / 2;
  assert.ok(Math.abs(analysisEstimate(guide, lighter) - want) < 1e-6);
});
