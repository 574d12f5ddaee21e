/**
 * Every notebook executes headless (jupyter nbconvert, tslab kernel) on the small configuration,
 * recomputing its results, with static figures, and no cell errors. Under CI=true a missing Jupyter
 * fails the test (CI installs it); elsewhere the test is skipped with the reason.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.join(__dirname, '..', '..');
const NOTEBOOKS = fs
  .readdirSync(path.join(ROOT, 'notebooks'))
  .filter((f) => /^\d\d-.*\.ipynb$/.test(f) && !f.endsWith('-mine.ipynb'))
  .sort();
const jupyter = process.env.JUPYTER ?? '/usr/bin/jupyter';

test('the notebook series is numbered 01..12', () => {
  assert.deepEqual(
    NOTEBOOKS.map((f) => f.slice(0, 2)),
    ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'],
  );
});

test('every notebook executes without error on the small configuration', (t) => {
  if (!fs.existsSync(jupyter)) {
    if (process.env.CI)
      assert.fail(`${jupyter} not found (apt-get install -y --no-install-recommends jupyter-nbconvert)`);
    t.skip(`${jupyter} not found`);
    return;
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-nb-'));
  const env = {
    ...process.env,
    GCG_NOTEBOOK_SMALL: '1',
    GCG_NOTEBOOK_RECOMPUTE: '1',
    GCG_NOTEBOOK_STATIC: '1',
    GCG_NOTEBOOK_RESULTS: path.join(out, 'results'),
  };
  for (const nb of NOTEBOOKS) {
    const t0 = Date.now();
    const r = spawnSync(
      'bash',
      [
        path.join(ROOT, 'scripts', 'jupyter.sh'),
        'nbconvert',
        '--to',
        'notebook',
        '--execute',
        '--ExecutePreprocessor.startup_timeout=300', // tslab's kernel can take over a minute to start on a busy machine
        `notebooks/${nb}`,
        '--output-dir',
        out,
      ],
      { encoding: 'utf8', env, cwd: ROOT },
    );
    assert.equal(r.status, 0, `${nb}: ${r.stderr.split('\n').slice(-15).join('\n')}`);
    const executed = JSON.parse(fs.readFileSync(path.join(out, nb), 'utf8'));
    for (const cell of executed.cells) {
      for (const o of cell.outputs ?? []) {
        assert.notEqual(o.output_type, 'error', `${nb}: ${JSON.stringify(o).slice(0, 300)}`);
        assert.notEqual(o.name, 'stderr', `${nb}: ${JSON.stringify(o).slice(0, 300)}`);
      }
    }
    const images = executed.cells
      .flatMap((c: { outputs?: { data?: Record<string, unknown> }[] }) => c.outputs ?? [])
      .filter((o: { data?: Record<string, unknown> }) => o.data?.['image/png']);
    if (nb >= '02') assert.ok(images.length > 0 || !fs.existsSync('/usr/bin/chromium'), `${nb}: a static figure`);
    console.log(`${nb}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
});

test('a notebook whose parameters cell a reader changed runs: its settings train and analyse into their own folder, the time said first', (t) => {
  if (!fs.existsSync(jupyter)) {
    if (process.env.CI) assert.fail(`${jupyter} not found`);
    t.skip(`${jupyter} not found`);
    return;
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-nbchanged-'));
  const nb = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', '04-ablation.ipynb'), 'utf8'));
  const first = nb.cells[1].source.join('');
  assert.match(first, /const OVERRIDES: gcg\.DeepPartial<gcg\.ExperimentConfig> = \{\};/);
  nb.cells[1].source = [first.replace('= {};', '= { analysis: { evalSamples: 150 } };')];
  // In notebooks/ (tslab resolves the package from there), under a name git ignores; removed afterwards.
  const file = path.join(ROOT, 'notebooks', `.test-04-changed-${process.pid}.ipynb`);
  fs.writeFileSync(file, JSON.stringify(nb));
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GCG_NOTEBOOK_SMALL: '1',
      GCG_NOTEBOOK_STATIC: '1',
      GCG_NOTEBOOK_RESULTS: path.join(out, 'runs'),
    };
    delete env.GCG_NOTEBOOK_RECOMPUTE;
    const r = spawnSync(
      'bash',
      [
        path.join(ROOT, 'scripts', 'jupyter.sh'),
        'nbconvert',
        '--to',
        'notebook',
        '--execute',
        '--ExecutePreprocessor.startup_timeout=300', // tslab's kernel can take over a minute to start on a busy machine
        file,
        '--output-dir',
        out,
      ],
      { encoding: 'utf8', env, cwd: ROOT },
    );
    assert.equal(r.status, 0, r.stderr.split('\n').slice(-15).join('\n'));
    const executed = JSON.parse(fs.readFileSync(path.join(out, path.basename(file)), 'utf8'));
    const text = executed.cells
      .flatMap((c: { outputs?: { text?: string[]; output_type: string }[] }) => c.outputs ?? [])
      .map((o: { text?: string[] }) => (o.text ?? []).join(''))
      .join('\n');
    for (const o of executed.cells.flatMap((c: { outputs?: { output_type: string }[] }) => c.outputs ?? []))
      assert.notEqual(o.output_type, 'error', JSON.stringify(o).slice(0, 400));
    assert.match(
      text,
      /settings differ from the committed run in .*analysis\.evalSamples \(1000 -> 150\).*: results go to .*paper-[0-9a-f]{10}/,
    );
    assert.match(text, /computing 1 run\(s\) into .*, estimated .* in all/);
    assert.match(
      text,
      /sort seed 42: training and analysing ~\S+: 300 steps \(train\.maxSteps caps it; the \d+ committed sort runs .* took \d+-\d+\) x \d+ ms\/step measured now/,
    );
    assert.match(text, /baseline exact match at N=\d: .* on 150 sequences/);
    const dirs = fs.readdirSync(path.join(out, 'runs'));
    assert.equal(dirs.length, 1);
    const rec = JSON.parse(fs.readFileSync(path.join(out, 'runs', dirs[0], 'paper', 'sort_seed42.json'), 'utf8'));
    assert.equal(rec.config.analysis.evalSamples, 150);
    assert.equal(
      JSON.parse(fs.readFileSync(path.join(out, 'runs', dirs[0], 'settings.json'), 'utf8')).config.analysis.evalSamples,
      150,
    );
  } finally {
    fs.rmSync(file, { force: true });
  }
});
