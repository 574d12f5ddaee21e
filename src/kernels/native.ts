/**
 * Native kernels for the wasm backend (issues 16, 42): tfjs-wasm's matrix products, Transpose, Exp
 * and Erf computed by the addon (native/gcg_native.c, built by scripts/build-native.js during
 * `npm ci`; the kernels: wasm-kernels.ts) in tfjs-wasm's own order, so they give its bits on every
 * CPU at native speed; LayerNorm, GELU, the linear gradients and Adam as one call each with the
 * composed ops' bits (src/kernels/fused.ts). Where the addon does not load, tfjs's own wasm code
 * computes the same numbers, slower; GCG_SIMD picks the addon's SIMD path or `wasm` for tfjs's
 * code. Every result records which computed them (`stockCode` in its provenance) and says
 * `kernels: stock`: the only numbers this version makes. The native kernel family of earlier
 * versions (OpenBLAS products, the C library's expf and erff: other bits per CPU) was retired in
 * issue 42; its records stay readable, and GCG_KERNELS=native says so.
 *
 * The kernels rely on tfjs-backend-wasm internals (the per-tensor `memoryOffset`, the module's
 * `HEAPU8`, `makeOutput`), checked before use; the package's version is pinned in package.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { addonPath, requireAddon } from '../io/addon';
import { ConfigError } from '../settings/config';
import { setNativeActive } from './tf';
import { WasmBackendInternals, Addon } from './addon-api';
import { bindAddon, NATIVE_KERNELS, OWN_KERNELS, simdPath, stockKernels } from './wasm-kernels';

export interface KernelsInfo {
  kernels: 'stock';
  /** What computes them on wasm ('native avx512', 'tfjs wasm'), and why tfjs's code where it is. */
  reason?: string;
}

/** The tfjs-backend-wasm version whose internals the native kernels use. */
export const WASM_BACKEND_VERSION = '4.22.0';

/** The addon's functions the kernels call (an addon built from older sources lacks some). */
const ADDON_FUNCTIONS = [
  'matmul',
  'mmPaths',
  'transpose',
  'unary',
  'adam',
  'stockGelu',
  'stockGeluGrad',
  'stockLayerNorm',
  'stockLayerNormGrad',
] as const;

let addon: Addon | null = null;

function loadAddon(): Addon | string {
  const file = addonPath();
  if (!fs.existsSync(file))
    return `${path.relative(process.cwd(), file) || file} is not built (npm ci builds it where a C compiler is present)`;
  try {
    const loaded = requireAddon() as Partial<Addon> & { sgemm?: unknown };
    const missing = ADDON_FUNCTIONS.filter((f) => typeof loaded[f] !== 'function');
    // An addon of the retired native family (it has sgemm) numbers Exp and Erf otherwise: rebuild it.
    if (missing.length || typeof loaded.sgemm === 'function')
      return `${file} was built from older sources (node scripts/build-native.js rebuilds it)`;
    return loaded as Addon;
  } catch (e) {
    return `${file} does not load (${(e as Error).message.split('\n')[0]})`;
  }
}

/** The addon, loaded once and handed to the kernels, or why it does not load. */
function addonOrWhy(): Addon | string {
  if (addon) return addon;
  const loaded = loadAddon();
  if (typeof loaded === 'string') return loaded;
  bindAddon(loaded);
  return (addon = loaded);
}

/** The SIMD paths this CPU runs the native kernels on, widest first ([] without the addon). */
export function simdPaths(): string[] {
  const loaded = addonOrWhy();
  return typeof loaded === 'string' ? [] : loaded.mmPaths().map((p) => p.name);
}

/** Why the running wasm backend cannot take the native kernels (null: it can). */
function internalsMissing(): string | null {
  const backend = tf.backend() as unknown as Partial<WasmBackendInternals>;
  if (typeof backend.makeOutput !== 'function' || !backend.dataIdMap || !(backend.wasm?.HEAPU8 instanceof Uint8Array)) {
    return `this tfjs-backend-wasm lacks the internals the native kernels use (pinned version ${WASM_BACKEND_VERSION})`;
  }
  return null;
}

/** Registers the kernels of our own (OWN_KERNELS: no tfjs kernel has their names) on the wasm backend, once. */
function registerOwnKernels(): void {
  for (const [name, kernelFunc] of Object.entries(OWN_KERNELS)) {
    if (!tf.getKernel(name, 'wasm'))
      tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

let stockComputedBy: string | null = null;

/**
 * Puts the kernels in place for the wasm backend (call after it started, and again after GCG_SIMD
 * changes): the native ones where the addon loads and GCG_SIMD is not `wasm`, else tfjs's own
 * (the same numbers). A bad GCG_SIMD is refused here, before any work.
 */
export function useKernels(wasmVersion: string | null): KernelsInfo {
  for (const name of Object.keys(NATIVE_KERNELS)) {
    if (stockKernels.has(name)) continue;
    const config = tf.getKernel(name, 'wasm');
    if (!config) throw new Error(`the wasm backend has no ${name} kernel registered`);
    stockKernels.set(name, config);
  }
  let why: string | null =
    process.env.GCG_SIMD === 'wasm'
      ? 'GCG_SIMD=wasm'
      : wasmVersion !== WASM_BACKEND_VERSION
        ? `tfjs-backend-wasm is ${wasmVersion}, the native kernels were written for ${WASM_BACKEND_VERSION}`
        : internalsMissing();
  if (!why) {
    const loaded = addonOrWhy();
    if (typeof loaded === 'string') why = loaded;
  }
  const simd = why ? null : simdPath();
  for (const name of Object.keys(NATIVE_KERNELS)) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(
      simd === null
        ? stockKernels.get(name)!
        : { kernelName: name, backendName: 'wasm', kernelFunc: NATIVE_KERNELS[name] as unknown as tf.KernelFunc },
    );
  }
  if (simd !== null) registerOwnKernels();
  setNativeActive(simd !== null);
  stockComputedBy =
    simd === null ? 'tfjs wasm' : `native ${addon!.mmPaths().find((p) => p.path === simd)?.name ?? 'unknown'}`;
  return { kernels: 'stock', reason: why ? `tfjs wasm: ${why}` : stockComputedBy };
}

/**
 * Runs `fn` with the wasm kernels computed by `code` (GCG_SIMD: a SIMD path of the native kernels,
 * or `wasm` for tfjs's own code), then puts back what GCG_SIMD said before: the same numbers, for
 * the bench's and the tests' comparisons.
 */
export function withCode<T>(code: string, fn: () => T): T {
  const before = process.env.GCG_SIMD;
  process.env.GCG_SIMD = code;
  try {
    useKernels(WASM_BACKEND_VERSION);
    return fn();
  } finally {
    if (before === undefined) delete process.env.GCG_SIMD;
    else process.env.GCG_SIMD = before;
    useKernels(WASM_BACKEND_VERSION);
  }
}

/**
 * What computes the kernels on the wasm backend: `native avx512` (avx2, vec4, scalar: the addon's,
 * in the stock order, the same bits) or `tfjs wasm` (tfjs's own code); null on other backends.
 */
export function stockCode(): string | null {
  return tf.getBackend() === 'wasm' ? stockComputedBy : null;
}

/**
 * Checks GCG_KERNELS: unset, empty or `stock` (the only kernels: `stock` asks for the wasm backend
 * first, as before); `native` named the family retired in issue 42 and is refused saying so.
 * Returns whether the wasm backend was asked for.
 */
export function kernelsSetting(value = process.env.GCG_KERNELS): boolean {
  if (value === undefined || value === '') return false;
  if (value === 'stock') return true;
  if (value === 'native')
    throw new ConfigError(
      "GCG_KERNELS=native: the native kernel family (OpenBLAS products, the C library's expf and erff) was retired in issue 42; the native kernels now compute the stock kernels' numbers and run by default where they are built; allowed: stock or unset (GCG_SIMD=wasm for tfjs's own code)",
    );
  throw new ConfigError(`GCG_KERNELS=${JSON.stringify(value)} is not a kernel choice; allowed: stock, or unset`);
}

/** Whether the native kernels' addon loads here (true), or why not: for choosing the default backend before any is set up. */
export function nativeAddonLoads(): true | string {
  const loaded = addonOrWhy();
  return typeof loaded === 'string' ? loaded : true;
}

/**
 * Refuses, before any work, to redo `what` bit for bit on kernels this version no longer runs:
 * a record made on the retired native family (every other record's kernels run here).
 */
export function checkRedoable(kernels: string | undefined, what: string): void {
  if (kernels === 'native')
    throw new ConfigError(
      `${what} was made on the native kernel family retired in issue 42 (OpenBLAS products, the C library's expf and erff), which this version does not run, so it cannot be redone bit for bit; its record stands as made (a checkout from before issue 42 can redo it on the CPU it was made on)`,
    );
}
