/**
 * Native kernels for the wasm backend (issue 16): tfjs-wasm's matrix products (XNNPACK, wasm SIMD)
 * replaced by a CBLAS sgemm, and its Exp and Erf (the GELU's and its gradient's) by libm's expf and
 * erff, all running directly on the wasm memory (native/gcg_native.c, built by
 * scripts/build-native.js during `npm ci`; the kernels: wasm-kernels.ts). The stock kernels, too,
 * are computed there in tfjs-wasm's own order where the addon loads (issue 42: the same bits). Chosen by GCG_KERNELS: `native` (required: an error if
 * it cannot load), `stock` (tfjs's own kernels), or unset (native where it loads, else stock, with
 * one line saying why). Every result records which (`kernels` in its provenance).
 *
 * The kernels rely on tfjs-backend-wasm internals (the per-tensor `memoryOffset`, the module's
 * `HEAPU8`, `makeOutput`), checked before use; the package's version is pinned in package.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { addonPath, requireAddon } from '../io/addon';
import { ConfigError } from '../settings/config';
import { activeKernels, KernelsName, setActiveKernels, setFusedSetting, setStockFused } from './tf';
import { WasmBackendInternals, Addon } from './addon-api';
import {
  bindAddon,
  FUSED_KERNELS,
  Kernel,
  NATIVE_KERNELS,
  REPLACED,
  simdPath,
  STOCK_NATIVE_KERNELS,
  stockKernels,
} from './wasm-kernels';
export interface KernelsInfo {
  kernels: KernelsName;
  /** Why the stock kernels run (when they do). */
  reason?: string;
}

/** The tfjs-backend-wasm version whose internals the native kernels use. */
export const WASM_BACKEND_VERSION = '4.22.0';

let addon: Addon | null = null;

function loadAddon(): Addon | string {
  const file = addonPath();
  if (!fs.existsSync(file))
    return `${path.relative(process.cwd(), file) || file} is not built (npm ci builds it where a C compiler and OpenBLAS are present: apt-get install libopenblas-dev)`;
  try {
    const loaded = requireAddon() as Partial<Addon>;
    const missing = (
      [
        'matmul',
        'mmPaths',
        'transpose',
        'unary',
        'gelu',
        'geluGrad',
        'layerNorm',
        'layerNormGrad',
        'adam',
        'stockGelu',
        'stockGeluGrad',
        'stockLayerNorm',
        'stockLayerNormGrad',
      ] as const
    ).filter((f) => typeof loaded[f] !== 'function');
    if (missing.length)
      return `${file} lacks ${missing.join(', ')} (built from older sources: node scripts/build-native.js rebuilds it)`;
    return loaded as Addon;
  } catch (e) {
    if (e instanceof ConfigError) throw e; // a bad GCG_BLAS_CORE is the user's to fix
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

/**
 * GCG_FUSED: `off` keeps the native kernels' composed LayerNorm, GELU and Adam (the native numbers
 * of records made before the fused kernels); unset, empty or `on`: fused. Throws naming the
 * variable and the allowed values.
 */
export function fusedSetting(value = process.env.GCG_FUSED): boolean {
  if (value === undefined || value === '' || value === 'on') return true;
  if (value === 'off') return false;
  throw new ConfigError(`GCG_FUSED=${JSON.stringify(value)} is not a choice; allowed: on (default), off`);
}

/** The SIMD paths this CPU runs the stock matrix product on, widest first ([] without the addon). */
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

/** Registers the kernels of our own (FUSED_KERNELS: no tfjs kernel has their names) on the wasm backend, once. */
function registerOwnKernels(): void {
  for (const [name, kernelFunc] of Object.entries(FUSED_KERNELS)) {
    if (!tf.getKernel(name, 'wasm'))
      tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

/**
 * Puts the native or the stock kernels in place for the wasm backend (call after it started).
 * `mode`: 'native' (throws if it cannot), 'stock', or 'auto' (native where possible). The stock
 * kernels are computed natively where the addon loads (STOCK_NATIVE_KERNELS: the same bits),
 * unless GCG_SIMD=wasm asks for tfjs's own wasm code; stockCode() says which ran.
 */
export function useKernels(mode: KernelsName | 'auto', wasmVersion: string | null): KernelsInfo {
  for (const name of REPLACED) {
    if (stockKernels.has(name)) continue;
    const config = tf.getKernel(name, 'wasm');
    if (!config) throw new Error(`the wasm backend has no ${name} kernel registered`);
    stockKernels.set(name, config);
  }
  const put = (set: Record<string, Kernel> | null) => {
    for (const name of REPLACED) {
      tf.unregisterKernel(name, 'wasm');
      const kernelFunc = set?.[name];
      tf.registerKernel(
        kernelFunc
          ? { kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc }
          : stockKernels.get(name)!,
      );
    }
  };
  let why: string | null =
    wasmVersion !== WASM_BACKEND_VERSION
      ? `tfjs-backend-wasm is ${wasmVersion}, the native kernels were written for ${WASM_BACKEND_VERSION}`
      : internalsMissing();
  if (!why) {
    const loaded = addonOrWhy();
    if (typeof loaded === 'string') why = loaded;
  }
  if (mode === 'native' && why) throw new Error(`GCG_KERNELS=native, but the native kernels cannot be used: ${why}`);
  if (mode === 'stock' || why) {
    const own = process.env.GCG_SIMD === 'wasm';
    const path = why || own ? null : simdPath(); // a bad GCG_SIMD is refused here, before any work
    put(path === null ? null : STOCK_NATIVE_KERNELS);
    if (path !== null) registerOwnKernels();
    setStockFused(path !== null);
    stockComputedBy =
      path === null
        ? 'tfjs wasm'
        : `native ${addon!.mmPaths().find((p) => p.path === path)?.name ?? addon!.mmPaths()[0].name}`;
    setActiveKernels('stock');
    return { kernels: 'stock', reason: mode === 'stock' ? 'GCG_KERNELS=stock' : why! };
  }
  put(NATIVE_KERNELS);
  registerOwnKernels();
  setStockFused(false);
  stockComputedBy = null;
  setActiveKernels('native');
  return { kernels: 'native' };
}
let stockComputedBy: string | null = null;

/**
 * What computes the stock kernels on the wasm backend: `native avx512` (avx2, vec4, scalar: the
 * addon's, in the stock order, the same bits) or `tfjs wasm` (tfjs's own code); null while other
 * kernels run.
 */
export function stockCode(): string | null {
  return tf.getBackend() === 'wasm' && activeKernels() === 'stock' ? stockComputedBy : null;
}

/** Parses GCG_KERNELS: `native`, `stock`, or unset/empty for 'auto'; throws naming the variable and the allowed values. */
export function forcedKernels(value = process.env.GCG_KERNELS): KernelsName | 'auto' {
  if (value === undefined || value === '') return 'auto';
  if (value !== 'native' && value !== 'stock')
    throw new Error(
      `GCG_KERNELS=${JSON.stringify(value)} is not a kernel choice; allowed: native, stock (unset: native where it loads)`,
    );
  return value;
}

/** Whether the native kernels' addon loads here (true), or why not: for choosing the default backend before any is set up. */
export function nativeAddonLoads(): true | string {
  const loaded = addonOrWhy();
  return typeof loaded === 'string' ? loaded : true;
}

/**
 * The BLAS behind the native kernels and the kernel family it chose for this CPU (e.g.
 * "OpenBLAS 0.3.21 ... ; core Haswell"), or null when the native kernels do not run. OpenBLAS
 * chooses per CPU, and its families round differently; OPENBLAS_CORETYPE pins the family.
 */
export function blasKernels(): string | null {
  if (activeKernels() !== 'native' || !addon) return null;
  return addon.blasInfo
    ? addon.blasInfo()
    : 'unknown (the addon predates blasInfo: node scripts/build-native.js rebuilds it)';
}

/**
 * The C library behind the native Exp, Erf and GELU ("glibc 2.36"): libm's expf and erff round
 * differently between libraries and releases, so they are part of what a native result depends on.
 * null on other kernels.
 */
export function libmKernels(): string | null {
  if (activeKernels() !== 'native' || !addon) return null;
  return addon.libmInfo
    ? addon.libmInfo()
    : 'unknown (the addon predates libmInfo: node scripts/build-native.js rebuilds it)';
}

/**
 * Runs `fn` on the given kernels, then puts back those in place before (wasm only: other backends
 * run their own kernels and `fn` runs as it is). Used to redo work bit for bit on the kernels a
 * record was made with (committed results: stock).
 */
export function withKernels<T>(kernels: KernelsName, fn: () => T): T {
  if (tf.getBackend() !== 'wasm' || kernels === activeKernels()) return fn();
  const before = activeKernels();
  try {
    useKernels(kernels, WASM_BACKEND_VERSION);
  } catch (e) {
    throw new Error(
      `this needs the ${kernels} kernels to redo it bit for bit, and they cannot be used here: ${(e as Error).message.replace(/^GCG_KERNELS=native, but the native kernels cannot be used: /, '')}`,
    );
  }
  try {
    return fn();
  } finally {
    useKernels(before, WASM_BACKEND_VERSION);
  }
}

setFusedSetting(() => fusedSetting());
