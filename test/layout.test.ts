/**
 * The shape of the code: folders are the layers and the import graph has no cycle (read from the
 * sources, type-only imports counted), and the modules that read records, write reports or parse
 * the command line load no TensorFlow (a report reads plain records; `gcg --help` answers at once).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const SRC = path.join(__dirname, '..', 'src'); // dist/src

/**
 * The shape of the code as scripts/imports.js reads it from the TypeScript sources (type-only
 * imports count): folders are the layers, lowest first, so a new file in an existing folder needs
 * no edit here. `npm run lint` checks the same, with the core bundled for a browser.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const shape = require(path.join(__dirname, '..', '..', 'scripts', 'imports.js')) as {
  SRC: string;
  LAYERS: [string, string][];
  listModules(dir?: string): string[];
  problems(dir?: string): {
    modules: string[];
    cycles: string[];
    unplaced: string[];
    upward: string[];
    acrossWings: string[];
    coreToNode: string[];
  };
  isCore(mod: string): boolean;
};

test('the import graph has no cycle, type-only imports counted', () => {
  const p = shape.problems();
  assert.deepEqual(p.cycles, []);
  assert.ok(p.modules.length > 80, `${p.modules.length} modules read`);
});

test('folders are the layers: every module in one, none importing a layer above, no study wing importing another', () => {
  const p = shape.problems();
  assert.deepEqual(p.unplaced, [], 'modules in no layer folder (scripts/imports.js LAYERS)');
  assert.deepEqual(p.upward, []);
  assert.deepEqual(p.acrossWings, []);
  assert.deepEqual(p.coreToNode, [], 'the core imports only the core');
  // src/ holds the two package entries and the layer folders, nothing else
  const top = fs.readdirSync(shape.SRC).sort();
  const folders = shape.LAYERS.map(([f]) => f).filter(Boolean);
  assert.deepEqual(
    top.filter((f) => !folders.includes(f)),
    ['cli.ts', 'index.ts'],
  );
});

test('the model is the model alone (no signal poll), and the training loop knows no task and no run settings', () => {
  const read = (mod: string) => fs.readFileSync(path.join(shape.SRC, mod), 'utf8');
  for (const mod of shape.listModules().filter((m) => m.startsWith('model/')))
    assert.doesNotMatch(read(mod), /checkInterrupted|pendingSignal|base\/stop/, `${mod} polls for signals`);
  for (const mod of ['train/train.ts', 'train/trainee.ts', 'train/adam.ts']) {
    const imports = [...read(mod).matchAll(/^import (type )?[^;]*from '([^']+)'/gm)];
    assert.ok(imports.length > 0, mod);
    for (const [line, typeOnly, from] of imports) {
      assert.ok(!/settings|runner|analysis/.test(from), `${mod}: ${line}`);
      if (/tasks/.test(from)) assert.ok(typeOnly, `${mod} uses the tasks only as a type (Batch): ${line}`);
    }
  }
});

test('the shape checks catch what they guard: a cycle, an upward import, one wing into another, the core into Node', () => {
  const tmp = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'gcg-layout-'));
  try {
    const put = (f: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(tmp, f)), { recursive: true });
      fs.writeFileSync(path.join(tmp, f), text);
    };
    put('base/a.ts', "import type { B } from './b';\nexport type A = B;\n");
    put('base/b.ts', "import type { A } from './a';\nexport type B = A | 1;\n");
    put('model/m.ts', "import { r } from '../runner/r';\nexport const m = r;\n");
    put('runner/r.ts', 'export const r = 1;\n');
    put('studies/one/numbers.ts', "import { t } from '../two/numbers';\nexport const o = t;\n");
    put('studies/two/numbers.ts', 'export const t = 2;\n');
    put('train/t.ts', "import { x } from '../io/files';\nexport const y = x;\n");
    put('io/files.ts', 'export const x = 1;\n');
    put('attic/old.ts', 'export const z = 0;\n');
    const p = shape.problems(tmp);
    assert.deepEqual(p.cycles, ['base/a.ts -> base/b.ts -> base/a.ts']);
    assert.deepEqual(p.upward, ['model/m.ts (model) imports runner/r.ts (runner)']);
    assert.deepEqual(p.acrossWings, ['studies/one/numbers.ts imports studies/two/numbers.ts']);
    assert.deepEqual(p.coreToNode, ['model/m.ts (core) imports runner/r.ts', 'train/t.ts (core) imports io/files.ts']);
    assert.deepEqual(p.unplaced, ['attic/old.ts']);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('reading records, writing reports and parsing the command line load no TensorFlow', () => {
  const light = [
    'records/store',
    'records/format',
    'records/record-check',
    'settings/config',
    'settings/validate',
    'settings/run-spec',
    'cli',
    'faces/cli-args',
    'faces/studies',
    'faces/command-list',
    'analysis/measure-info',
    'analysis/registry',
    ...['report', 'studies/paper', 'studies/measures', 'studies/complexity', 'studies/stability'].flatMap((dir) =>
      fs
        .readdirSync(path.join(SRC, dir))
        .filter((f) => f.endsWith('.js') && f !== 'frames.js' && f !== 'run.js' && f !== 'commands.js') // frames.ts prints with danfo, which brings its own tfjs; a study's run and commands train or load the backend (its index, the descriptor, is light)
        .map((f) => `${dir}/${f.replace(/\.js$/, '')}`),
    ),
  ];
  const script = `
    const heavy = {};
    for (const m of ${JSON.stringify(light)}) {
      for (const k of Object.keys(require.cache)) delete require.cache[k];
      require(${JSON.stringify(SRC)} + '/' + m + '.js');
      const tf = Object.keys(require.cache).filter((k) => /@tensorflow|tfjs-node/.test(k));
      if (tf.length) heavy[m] = tf.length;
    }
    console.log(JSON.stringify(heavy));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {}, 'modules that loaded TensorFlow');
  assert.ok(
    light.includes('studies/paper/report') &&
      light.includes('studies/measures/report') &&
      light.includes('studies/complexity/report') &&
      light.includes('studies/stability/report'),
  );
});

test('the package entry is curated: every name the notebooks, README and docs call, the rest reachable by path', () => {
  const root = path.join(__dirname, '..', '..');
  const entry = require(path.join(SRC, 'index.js')) as Record<string, unknown>;
  const types = fs.readFileSync(path.join(SRC, 'index.d.ts'), 'utf8');
  const texts = [
    ...fs
      .readdirSync(path.join(root, 'notebooks'))
      .filter((f) => f.endsWith('.ipynb') && !f.endsWith('-mine.ipynb'))
      .map((f) => path.join(root, 'notebooks', f)),
    path.join(root, 'README.md'),
    ...fs
      .readdirSync(path.join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => path.join(root, 'docs', f)),
  ].map((f) => fs.readFileSync(f, 'utf8'));
  const called = [
    ...new Set(texts.flatMap((t) => [...t.matchAll(/\bgcg\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]))),
  ].sort();
  const missing = called.filter((n) => !(n in entry) && !new RegExp(`\\b${n}\\b`).test(types));
  assert.deepEqual(missing, [], 'names the notebooks or README call that the entry lacks');
  assert.ok(called.length >= 50, `${called.length} names called`);
  const names = Object.keys(entry).length;
  assert.ok(names <= 130, `the entry exports ${names} values: curate it (the rest is reachable by path)`);
  // Any module by its path, through the package's exports map (what the entry leaves out).
  const r = spawnSync(
    process.execPath,
    ['-e', "const e = require('gradient-causal-gap/dist/src/model/eval'); console.log(typeof e.ResidCache)"],
    { cwd: root, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'function');
});
