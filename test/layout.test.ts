/**
 * The shape of the code: the import graph (compiled requires) has no cycle, and the modules that
 * read records, write reports or parse the command line load no TensorFlow (a report reads plain
 * records; `gcg --help` answers at once).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const SRC = path.join(__dirname, '..', 'src'); // dist/src

function modules(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.js')) out.push(p);
    }
  };
  walk(SRC);
  return out.sort();
}

/** The project modules a compiled module requires at run time (type-only imports are gone). */
function requires(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/require\("(\.[^"]+)"\)/g)].map((m) => {
    const r = path.join(path.dirname(file), m[1]);
    return fs.existsSync(`${r}.js`) ? `${r}.js` : path.join(r, 'index.js');
  });
}

test('the import graph has no cycle', () => {
  const files = modules();
  const state = new Map<string, 1 | 2>();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 1);
    stack.push(f);
    for (const g of requires(f)) {
      if (state.get(g) === 1) cycles.push([...stack.slice(stack.indexOf(g)), g].map((x) => path.relative(SRC, x)).join(' -> '));
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of files) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, []);
  assert.ok(files.length > 50, `${files.length} modules read`);
});

/**
 * The layers of the code, lowest first: a module may import its own layer and those below, never
 * one above (a report never reaches for the runner, the model never for the analysis). A new
 * module must be placed here. README, "How the code is laid out", walks the same layers.
 */
const LAYERS: [string, RegExp][] = [
  ['foundations: random streams, tasks, the tensor-free maths of Eq. 3 and the measures\' names', /^(rng|suggest|progress|project-root|tasks\/.*|analysis\/(measure-info|ranks))$/],
  ['settings, files and records', /^(config|sizes|replica|run-spec|addon|interrupt|files|lock|record-check|store)$/],
  ['the model and its training', /^(native|backend|model|torch-io|eval|grads|activations|fused|perturb|train|stacked|train-batched|checkpoint|provenance)$/],
  ['the analysis (G, C, the measures, the OOD pick, pruning)', /^analysis\/.*$/],
  ['reports (tables, figures, markdown) from plain records', /^report\/.*$/],
  ['the runner (runs, sweeps, studies, the store\'s guards, time estimates)', /^(conflicts|results|run-batch|study|stability|sweep|demo|verify|estimate)$/],
  ['faces: the command line, notebooks, the package entry', /^(cli|cli-args|commands|notebook|index)$/],
];

function layerOf(module: string): number {
  return LAYERS.findIndex(([, re]) => re.test(module));
}

test('no module imports from a layer above its own', () => {
  const name = (f: string) => path.relative(SRC, f).replace(/\.js$/, '').split(path.sep).join('/');
  const unplaced: string[] = [];
  const upward: string[] = [];
  for (const f of modules()) {
    const me = layerOf(name(f));
    if (me < 0) {
      unplaced.push(name(f));
      continue;
    }
    for (const g of requires(f)) {
      const it = layerOf(name(g));
      if (it > me) upward.push(`${name(f)} (${LAYERS[me][0]}) imports ${name(g)} (${LAYERS[it][0]})`);
    }
  }
  assert.deepEqual(unplaced, [], 'modules no layer holds (place them in LAYERS)');
  assert.deepEqual(upward, []);
});

test('reading records, writing reports and parsing the command line load no TensorFlow', () => {
  const light = ['store', 'record-check', 'config', 'run-spec', 'cli', 'cli-args', 'analysis/measure-info', 'analysis/registry', ...fs
    .readdirSync(path.join(SRC, 'report'))
    .filter((f) => f.endsWith('.js') && f !== 'frames.js') // frames.ts prints with danfo, which brings its own tfjs
    .map((f) => `report/${f.replace(/\.js$/, '')}`)];
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
  assert.ok(light.includes('report/reproduction') && light.includes('report/measures-report') && light.includes('report/complexity-report') && light.includes('report/stability-report'));
});

test('the package entry is curated: every name the notebooks and README call, the rest reachable by path', () => {
  const root = path.join(__dirname, '..', '..');
  const entry = require(path.join(SRC, 'index.js')) as Record<string, unknown>;
  const types = fs.readFileSync(path.join(SRC, 'index.d.ts'), 'utf8');
  const texts = [
    ...fs.readdirSync(path.join(root, 'notebooks')).filter((f) => f.endsWith('.ipynb') && !f.endsWith('-mine.ipynb')).map((f) => path.join(root, 'notebooks', f)),
    path.join(root, 'README.md'),
  ].map((f) => fs.readFileSync(f, 'utf8'));
  const called = [...new Set(texts.flatMap((t) => [...t.matchAll(/\bgcg\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1])))].sort();
  const missing = called.filter((n) => !(n in entry) && !new RegExp(`\\b${n}\\b`).test(types));
  assert.deepEqual(missing, [], 'names the notebooks or README call that the entry lacks');
  assert.ok(called.length >= 50, `${called.length} names called`);
  const names = Object.keys(entry).length;
  assert.ok(names <= 130, `the entry exports ${names} values: curate it (the rest is reachable by path)`);
  // Any module by its path, through the package's exports map (what the entry leaves out).
  const r = spawnSync(process.execPath, ['-e', "const e = require('gradient-causal-gap/dist/src/eval'); console.log(typeof e.ResidCache)"], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'function');
});
