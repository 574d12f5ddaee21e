#!/usr/bin/env node
/**
 * The page (web/): `npm run web:build` writes a static site to dist/site/ (any static host serves
 * it); `npm run web` builds it and serves it on localhost, printing the address.
 *
 *   node scripts/web.js build [--out DIR]
 *   node scripts/web.js serve [--port N] [--out DIR]     (port 0: any free port; default 8321)
 *
 * The page and its worker are bundled by esbuild from web/main.ts and web/worker.ts, which import
 * the project's core (src/): the same model, tasks, training loop, analysis and rules as the CLI.
 * The wasm backend's binaries are copied beside them. The page is served without cross-origin
 * isolation, so tfjs runs its single-threaded SIMD binary: the one `gcg run` uses in Node.
 */
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const WASM_DIR = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/** Builds the site into `out`; returns each file's size in bytes. */
async function buildSite(out = path.join(ROOT, 'dist', 'site')) {
  const esbuild = require('esbuild');
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: { main: path.join(ROOT, 'web', 'main.ts'), worker: path.join(ROOT, 'web', 'worker.ts') },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    minify: true,
    keepNames: true,
    outdir: out,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  for (const f of ['index.html', 'style.css']) fs.copyFileSync(path.join(ROOT, 'web', f), path.join(out, f));
  for (const f of WASM_FILES) fs.copyFileSync(path.join(WASM_DIR, f), path.join(out, f));
  return Object.fromEntries(fs.readdirSync(out).map((f) => [f, fs.statSync(path.join(out, f)).size]));
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
};

/** Serves `dir` on localhost:`port` (0: any free port); resolves to the server once it listens. */
function serve(dir, port) {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    const file = path.join(dir, url === '/' ? 'index.html' : url);
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${url}`);
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`--port ${port}: in use; allowed: a free port, or 0 for any`) : e),
    );
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function option(args, name, fallback) {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  if (i + 1 >= args.length) throw new Error(`${name} needs a value`);
  return args[i + 1];
}

async function main() {
  const [cmd, ...args] = process.argv.slice(2);
  if (!['build', 'serve'].includes(cmd)) {
    console.error('usage: node scripts/web.js build [--out DIR] | serve [--port N] [--out DIR]');
    process.exit(2);
  }
  const out = path.resolve(option(args, '--out', path.join(ROOT, 'dist', 'site')));
  const port = Number(option(args, '--port', '8321'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port: got ${JSON.stringify(option(args, '--port'))}; allowed: an integer in [0, 65535]`);
    process.exit(2);
  }
  const sizes = await buildSite(out);
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  const mb = (n) => `${(n / 2 ** 20).toFixed(2)} MiB`;
  console.log(
    `built ${path.relative(process.cwd(), out) || out}: ${Object.entries(sizes)
      .map(([f, n]) => `${f} ${mb(n)}`)
      .join(', ')}; ${mb(total)} in all`,
  );
  if (cmd === 'build') return;
  const server = await serve(out, port);
  console.log(`the page: http://localhost:${server.address().port}/  (Ctrl-C stops)`);
}

if (require.main === module)
  main().catch((e) => {
    console.error(e.message ?? e);
    process.exit(1);
  });

module.exports = { buildSite, serve };
