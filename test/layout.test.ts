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

test('reading records, writing reports and parsing the command line load no TensorFlow', () => {
  const light = ['store', 'record-check', 'config', 'cli', 'cli-args', 'analysis/measure-info', ...fs
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
  assert.ok(light.includes('report/reproduction') && light.includes('report/measures-report') && light.includes('report/complexity-report'));
});
