/**
 * `npm run check:libm`: the native Exp and Erf of the stock kernels (native/libm.h, musl's) against
 * tfjs-backend-wasm's own on every float32 (all 2^32 bit patterns; `--stride S` for every S-th),
 * and the vector versions GELU uses (native/libm_vec.h) against them (native/check_libm.c, built
 * with the machine's C compiler). Prints the count of differences (NaNs: any NaN); exits 1 on any.
 * Minutes, not a test: test/stock-native.test.ts checks samples of the same.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../src/kernels/backend';
import { useKernels, WASM_BACKEND_VERSION } from '../src/kernels/native';
import { tf } from '../src/kernels/tf';
import { projectRoot } from '../src/records/provenance';

async function main(): Promise<number> {
  const i = process.argv.indexOf('--stride');
  const stride = i > 0 ? Number(process.argv[i + 1]) : 1;
  if (!Number.isInteger(stride) || stride < 1)
    throw new Error(`--stride: got ${process.argv[i + 1]}; allowed: an integer >= 1`);
  await initBackend('wasm');
  const on = (simd: string, fn: () => tf.Tensor): Uint32Array => {
    process.env.GCG_SIMD = simd;
    useKernels(WASM_BACKEND_VERSION);
    const t = fn();
    const bits = new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer);
    t.dispose();
    return bits;
  };
  const chunk = 1 << 22;
  const x = new Uint32Array(chunk);
  const diff = { exp: 0, erf: 0 };
  let n = 0;
  for (let start = 0; start < 2 ** 32; start += chunk * stride) {
    const len = Math.min(chunk, Math.ceil((2 ** 32 - start) / stride));
    for (let j = 0; j < len; j++) x[j] = (start + j * stride) >>> 0;
    const t = tf.tensor(new Float32Array(x.buffer, 0, len));
    for (const op of ['exp', 'erf'] as const) {
      const [a, b] = [on('wasm', () => tf[op](t)), on('', () => tf[op](t))];
      for (let j = 0; j < len; j++) {
        const nan = (v: number) => (v & 0x7fffffff) > 0x7f800000;
        if (a[j] !== b[j] && !(nan(a[j]) && nan(b[j]))) diff[op]++;
      }
    }
    t.dispose();
    n += len;
  }
  console.log(`native against tfjs wasm, ${n} floats: Exp ${diff.exp} differ, Erf ${diff.erf} differ`);
  const exe = path.join(os.tmpdir(), `gcg-check-libm-${process.pid}`);
  const cc = spawnSync(
    process.env.CC || 'cc',
    ['-O3', '-ffp-contract=off', '-o', exe, path.join(projectRoot(), 'native', 'check_libm.c'), '-lm'],
    { stdio: 'inherit' },
  );
  if (cc.status !== 0) throw new Error('native/check_libm.c did not compile');
  const run = spawnSync(exe, { stdio: 'inherit' });
  fs.rmSync(exe, { force: true });
  return diff.exp || diff.erf || run.status ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`error: ${(e as Error).message}`);
    process.exit(2);
  },
);
