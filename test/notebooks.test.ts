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
const NOTEBOOKS = fs.readdirSync(path.join(ROOT, 'notebooks')).filter((f) => /^\d\d-.*\.ipynb$/.test(f)).sort();
const jupyter = process.env.JUPYTER ?? '/usr/bin/jupyter';

test('the notebook series is numbered 01..08', () => {
  assert.deepEqual(NOTEBOOKS.map((f) => f.slice(0, 2)), ['01', '02', '03', '04', '05', '06', '07', '08']);
});

test('every notebook executes without error on the small configuration', (t) => {
  if (!fs.existsSync(jupyter)) {
    if (process.env.CI) assert.fail(`${jupyter} not found (apt-get install -y --no-install-recommends jupyter-nbconvert)`);
    t.skip(`${jupyter} not found`);
    return;
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-nb-'));
  const env = { ...process.env, GCG_NOTEBOOK_SMALL: '1', GCG_NOTEBOOK_RECOMPUTE: '1', GCG_NOTEBOOK_STATIC: '1', GCG_NOTEBOOK_RESULTS: path.join(out, 'results') };
  for (const nb of NOTEBOOKS) {
    const t0 = Date.now();
    const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'jupyter.sh'), 'nbconvert', '--to', 'notebook', '--execute', `notebooks/${nb}`, '--output-dir', out], { encoding: 'utf8', env, cwd: ROOT });
    assert.equal(r.status, 0, `${nb}: ${r.stderr.split('\n').slice(-15).join('\n')}`);
    const executed = JSON.parse(fs.readFileSync(path.join(out, nb), 'utf8'));
    for (const cell of executed.cells) {
      for (const o of cell.outputs ?? []) {
        assert.notEqual(o.output_type, 'error', `${nb}: ${JSON.stringify(o).slice(0, 300)}`);
        assert.notEqual(o.name, 'stderr', `${nb}: ${JSON.stringify(o).slice(0, 300)}`);
      }
    }
    const images = executed.cells.flatMap((c: { outputs?: { data?: Record<string, unknown> }[] }) => c.outputs ?? []).filter((o: { data?: Record<string, unknown> }) => o.data?.['image/png']);
    if (nb >= '02') assert.ok(images.length > 0 || !fs.existsSync('/usr/bin/chromium'), `${nb}: a static figure`);
    console.log(`${nb}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
});
