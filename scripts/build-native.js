#!/usr/bin/env node
/**
 * Builds the optional native kernels (native/gcg_native.c -> build/gcg_native.node: the stock wasm
 * kernels' operations in their own order, at native speed) with the machine's C compiler against
 * Node's own headers; nothing else is needed. Runs as the package's `install` script, so `npm ci`
 * builds it; it never fails the install: without a compiler or headers it says why in one line,
 * and the same numbers come from tfjs's own wasm code, slower (src/kernels/native.ts).
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const out = path.join(root, 'build', 'gcg_native.node');
const skip = (why) => {
  console.log(
    `gradient-causal-gap: native kernels not built (${why}); tfjs's own wasm code will compute the same numbers, slower`,
  );
  process.exit(0);
};

try {
  if (!['linux', 'darwin'].includes(process.platform)) skip(`no build recipe for ${process.platform}`);
  const headers = [
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  if (!headers) skip("Node's headers (node_api.h) not found");
  const cc = ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
  if (!cc) skip('no C compiler (cc, gcc or clang)');
  const link = process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : ['-lm'];
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const args = [
    '-O3',
    '-ffp-contract=off',
    '-shared',
    '-fPIC',
    `-I${headers}`,
    '-DNODE_GYP_MODULE_NAME=gcg_native',
    path.join(root, 'native', 'gcg_native.c'),
    ...link,
    '-o',
    out,
  ];
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    const first =
      (r.stderr || r.error?.message || '').split('\n').find((l) => /error/i.test(l)) ?? 'the compiler failed';
    skip(`${cc} failed: ${first.trim()}`);
  }
  console.log(`gradient-causal-gap: native kernels built (${path.relative(root, out)}, ${cc})`);
} catch (e) {
  skip(e && e.message ? e.message : String(e));
}
