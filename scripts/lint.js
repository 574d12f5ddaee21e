#!/usr/bin/env node
/**
 * `npm run lint`: the code's habits, checked without a build.
 * - format: prettier --check over src/, test/ and scripts/ (.prettierrc; `npm run format` fixes);
 * - shape: no import cycle (type-only imports count), no import up a layer or into another study's
 *   wing, every module in a layer's folder, the core importing nothing outside it (scripts/imports.js);
 * - core: the core bundled for a browser (esbuild --platform=browser) pulls in no Node built-in, and
 *   its sources name no Node global (process, __dirname, require, Buffer);
 * - size: no module over 400 lines.
 * Exit 1 with every problem listed; `--only format|shape|core|size` runs one check.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { builtinModules } = require('node:module');
const shape = require('./imports');

const ROOT = shape.ROOT;
const MAX_LINES = 400;

function format() {
  const bin = path.join(ROOT, 'node_modules', '.bin', 'prettier');
  const r = spawnSync(bin, ['--check', '--log-level', 'warn', 'src', 'test', 'scripts', 'web'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.error) return [`prettier did not run: ${r.error.message} (npm ci installs it)`];
  if (r.status === 0) return [];
  const files = `${r.stdout}${r.stderr}`
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.replace(/^\[warn\] /, ''));
  return [...files.map((f) => `not formatted: ${f}`), 'npm run format formats them'];
}

function layout() {
  const p = shape.problems();
  return [
    ...p.cycles.map((c) => `import cycle: ${c}`),
    ...p.unplaced.map((m) => `${m}: in no layer's folder (scripts/imports.js LAYERS)`),
    ...p.upward.map((u) => `import up a layer: ${u}`),
    ...p.acrossWings.map((u) => `one study's wing imports another's: ${u}`),
    ...p.coreToNode.map((u) => `the core reaches outside it: ${u}`),
  ];
}

/** The core modules bundled for a browser: the Node built-ins the project's own code pulls in, and any build error. */
async function coreBundle() {
  const esbuild = require('esbuild');
  const core = shape.listModules().filter(shape.isCore);
  const out = [];
  const builtins = new Set(builtinModules);
  const plugin = {
    name: 'node-builtins',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (a) => {
        // Packages map their own Node-only modules away for browsers (package.json "browser"): esbuild applies that.
        if (a.importer.includes(`${path.sep}node_modules${path.sep}`)) return null;
        if (a.path.startsWith('node:') || builtins.has(a.path)) {
          out.push(`${path.relative(ROOT, a.importer)} imports the Node built-in ${a.path}`);
          return { path: a.path, external: true };
        }
        return null;
      });
    },
  };
  try {
    await esbuild.build({
      entryPoints: core.map((m) => path.join(shape.SRC, m)),
      bundle: true,
      platform: 'browser',
      write: false,
      outdir: path.join(ROOT, 'dist', 'browser-core'),
      logLevel: 'silent',
      plugins: [plugin],
    });
  } catch (e) {
    for (const err of e.errors ?? [e])
      out.push(
        `browser bundle: ${err.text ?? err.message}${err.location ? ` (${err.location.file}:${err.location.line})` : ''}`,
      );
  }
  for (const m of core) {
    const lines = fs.readFileSync(path.join(shape.SRC, m), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const code = line
        .replace(/\/\*.*?\*\//g, '')
        .replace(/\/\/.*$/, '')
        .replace(/^\s*\*.*$/, '');
      const hit = code.match(/\b(process\.|__dirname|__filename|require\(|Buffer\.)/);
      if (hit) out.push(`src/${m}:${i + 1}: the core names the Node global ${hit[1].replace(/[.(]$/, '')}`);
    });
  }
  return [...new Set(out)];
}

function size() {
  const out = [];
  for (const m of shape.listModules()) {
    const n = fs.readFileSync(path.join(shape.SRC, m), 'utf8').split('\n').length - 1;
    if (n > MAX_LINES) out.push(`src/${m}: ${n} lines (at most ${MAX_LINES}: split it by job)`);
  }
  return out;
}

async function main() {
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
  const checks = { format, shape: layout, core: coreBundle, size };
  if (only && !checks[only]) {
    console.error(`--only ${JSON.stringify(only)} is not a check; allowed: ${Object.keys(checks).join(', ')}`);
    process.exit(2);
  }
  let bad = 0;
  for (const [name, check] of Object.entries(checks)) {
    if (only && name !== only) continue;
    const found = await check();
    console.log(`lint ${name}: ${found.length ? `${found.length} problem${found.length === 1 ? '' : 's'}` : 'ok'}`);
    for (const f of found) console.log(`  ${f}`);
    bad += found.length;
  }
  process.exit(bad ? 1 : 0);
}

main();
