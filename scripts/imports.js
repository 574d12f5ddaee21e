/**
 * The shape of the code, read from the TypeScript sources (type-only imports count): which folder
 * is which layer, the import graph, its cycles, imports that reach up a layer or into another
 * study's wing, and the core (the modules that must run in a browser). Used by `npm run lint`
 * (scripts/lint.js) and test/layout.test.ts. Plain Node, no build needed.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const SRC = path.join(ROOT, 'src');

/** The layers, lowest first: a module imports only from its own folder's layer and those below. */
const LAYERS = [
  ['base', 'random streams, names, progress, stopping: no dependencies'],
  ['tasks', 'the tasks, one file each, and their registry'],
  ['settings', 'the run configuration, presets, model sizes, replicas, one resolution of a run'],
  ['io', 'files, locks, signals, the native addon, the project root (Node)'],
  ['kernels', 'TensorFlow.js as the model sees it (tf.ts, fused.ts), backends and native kernels (Node)'],
  ['model', 'the transformer, its hook points, patches, evaluation and gradients'],
  ['train', 'Adam, early stopping, stacked seeds, replicas'],
  ['analysis', 'the OOD pick, the measures (one file each), ranks, Delta, classes, pruning'],
  ['records', 'the results record format, the store, seals, checkpoints, provenance'],
  ['report', 'shared report parts: statistics, markdown, figures, tables, export'],
  ['runner', 'runs, stacked batches, sweeps, conflicts, estimates, verification'],
  ['studies', 'one wing per study: descriptor, run, load, numbers, report, figures'],
  ['faces', 'the command line, the notebook API, the demo'],
  ['', 'the package entries: src/index.ts and src/cli.ts'],
];

/**
 * The core: modules with no Node in them (no fs, path, child_process, worker_threads, process), so
 * the same code runs in a browser page. Folders whole, and single files of mixed folders.
 */
const CORE_FOLDERS = ['base', 'tasks', 'settings', 'model', 'train', 'analysis'];
const CORE_FILES = [
  'kernels/tf.ts',
  'kernels/fused.ts',
  'records/format.ts',
  'report/stats.ts',
  'report/claims.ts',
  'report/markdown.ts',
  'report/paper.ts',
  'report/records.ts',
  'report/pairs.ts',
  'report/style.ts',
  'report/figures.ts',
  'report/curves.ts',
  'report/tables.ts',
  // a study's wing, all but what reads files or runs (run, load, commands), its descriptor (index) and its entry for code (api)
  /^studies\/[^/]+\/(?!(run|load|commands|index|api)\.ts$)[^/]+\.ts$/,
];

function listModules(dir = SRC) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(path.relative(dir, p).split(path.sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** The project modules one module imports (import, import type, export ... from, require). */
function importsOf(mod, dir = SRC) {
  const text = fs.readFileSync(path.join(dir, mod), 'utf8');
  const out = new Set();
  for (const m of text.matchAll(/(?:\bfrom|\bimport|\brequire\()\s*['"](\.[^'"]*)['"]/g)) {
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(mod), m[1]));
    const hit = [`${base}.ts`, `${base}/index.ts`].find((c) => fs.existsSync(path.join(dir, c)));
    if (hit) out.add(hit);
  }
  return [...out];
}

/** The folder that is a module's layer ('' for the entries at src/). */
const folderOf = (mod) => (mod.includes('/') ? mod.split('/')[0] : '');
const layerOf = (mod) => LAYERS.findIndex(([f]) => f === folderOf(mod));
/** Wings that summarise the others (docs/findings.md reads every study's numbers): the one exception to "no wing imports another". */
const SUMMARY_WINGS = ['findings'];
/** A study's wing (studies/<name>/), or null. */
const wingOf = (mod) => (mod.startsWith('studies/') ? mod.split('/')[1] : null);

function isCore(mod) {
  if (CORE_FOLDERS.includes(folderOf(mod))) return true;
  return CORE_FILES.some((c) => (typeof c === 'string' ? c === mod : c.test(mod)));
}

/** Every cycle of the graph, each as `a -> b -> a`. */
function cycles(graph) {
  const state = new Map();
  const stack = [];
  const found = [];
  const visit = (f) => {
    state.set(f, 1);
    stack.push(f);
    for (const g of graph.get(f)) {
      if (state.get(g) === 1) found.push([...stack.slice(stack.indexOf(g)), g].join(' -> '));
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

/** What is wrong with the shape of the code: cycles, unplaced modules, upward imports, one wing into another, the core into Node's side. */
function problems(dir = SRC) {
  const mods = listModules(dir);
  const graph = new Map(mods.map((m) => [m, importsOf(m, dir)]));
  const out = { cycles: cycles(graph), unplaced: [], upward: [], acrossWings: [], coreToNode: [] };
  for (const m of mods) {
    const me = layerOf(m);
    if (me < 0) {
      out.unplaced.push(m);
      continue;
    }
    for (const g of graph.get(m)) {
      const it = layerOf(g);
      if (it > me) out.upward.push(`${m} (${LAYERS[me][0] || 'entry'}) imports ${g} (${LAYERS[it][0] || 'entry'})`);
      if (wingOf(m) && wingOf(g) && wingOf(m) !== wingOf(g) && !SUMMARY_WINGS.includes(wingOf(m)))
        out.acrossWings.push(`${m} imports ${g}`);
      if (isCore(m) && !isCore(g)) out.coreToNode.push(`${m} (core) imports ${g}`);
    }
  }
  return { modules: mods, graph, ...out };
}

module.exports = {
  SRC,
  ROOT,
  LAYERS,
  CORE_FOLDERS,
  CORE_FILES,
  listModules,
  importsOf,
  layerOf,
  wingOf,
  isCore,
  cycles,
  problems,
};
