/**
 * Native kernels for the wasm backend (issue 16): tfjs-wasm's matrix products (XNNPACK, wasm SIMD)
 * replaced by a CBLAS sgemm that runs directly on the wasm memory (native/gcg_native.c, built by
 * scripts/build-native.js during `npm ci`). Chosen by GCG_KERNELS: `native` (required: an error if
 * it cannot load), `stock` (tfjs's own kernels), or unset (native where it loads, else stock, with
 * one line saying why). Every result records which (`kernels` in its provenance).
 *
 * The kernel relies on tfjs-backend-wasm internals (the per-tensor `memoryOffset`, the module's
 * `HEAPU8`, `makeOutput`), checked before use; the package's version is pinned in package.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export type KernelsName = 'native' | 'stock';

export interface KernelsInfo {
  kernels: KernelsName;
  /** Why the stock kernels run (when they do). */
  reason?: string;
}

/** The tfjs-backend-wasm version whose internals the native kernel uses. */
export const WASM_BACKEND_VERSION = '4.22.0';

interface WasmBackendInternals {
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
}

interface Addon {
  sgemm(heap: ArrayBufferLike, aOff: number, bOff: number, cOff: number, batchA: number, batchB: number, m: number, n: number, k: number, transA: number, transB: number): void;
}

let stockBatchMatMul: tf.KernelConfig | undefined;
let addon: Addon | null = null;
let active: KernelsName = 'stock';

/** build/gcg_native.node at the project root (from src/ or dist/src/). */
function addonPath(): string {
  let dir = __dirname;
  for (let i = 0; i < 4 && !fs.existsSync(path.join(dir, 'package.json')); i++) dir = path.dirname(dir);
  return path.join(dir, 'build', 'gcg_native.node');
}

function loadAddon(): Addon | string {
  const file = addonPath();
  if (!fs.existsSync(file)) return `${path.relative(process.cwd(), file) || file} is not built (npm ci builds it where a C compiler and OpenBLAS are present: apt-get install libopenblas-dev)`;
  // The wasm backend is single-threaded and sweeps run one process per core: one BLAS thread each.
  process.env.OPENBLAS_NUM_THREADS ??= '1';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as Addon;
  } catch (e) {
    return `${file} does not load (${(e as Error).message.split('\n')[0]})`;
  }
}

/** BatchMatMul on the wasm memory: tfjs's transpose flags and batch broadcasting (a batch of 1 against any). */
function nativeBatchMatMul(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const backend = args.backend as WasmBackendInternals;
  const transposeA = Boolean(args.attrs?.transposeA);
  const transposeB = Boolean(args.attrs?.transposeB);
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return (stockBatchMatMul!.kernelFunc as (x: typeof args) => tf.TensorInfo)(args);
  const ar = a.shape.length;
  const br = b.shape.length;
  const k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  if (k !== kb) throw new Error(`Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  const m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const n = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return (stockBatchMatMul!.kernelFunc as (x: typeof args) => tf.TensorInfo)(args);
  const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = backend.makeOutput([...outer, m, n], 'float32');
  if (m * n === 0) return out;
  const offset = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
  // Read the memory after allocating the output: allocation can grow (and replace) it.
  addon!.sgemm(backend.wasm.HEAPU8.buffer, offset(a), offset(b), offset(out), batchA, batchB, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0);
  return out;
}

/** Why the running wasm backend cannot take the native kernel (null: it can). */
function internalsMissing(): string | null {
  const backend = tf.backend() as unknown as Partial<WasmBackendInternals>;
  if (typeof backend.makeOutput !== 'function' || !backend.dataIdMap || !(backend.wasm?.HEAPU8 instanceof Uint8Array)) {
    return `this tfjs-backend-wasm lacks the internals the native kernel uses (pinned version ${WASM_BACKEND_VERSION})`;
  }
  return null;
}

/**
 * Puts the native or the stock BatchMatMul in place for the wasm backend (call after it started).
 * `mode`: 'native' (throws if it cannot), 'stock', or 'auto' (native where possible).
 */
export function useKernels(mode: KernelsName | 'auto', wasmVersion: string | null): KernelsInfo {
  stockBatchMatMul ??= tf.getKernel('BatchMatMul', 'wasm');
  if (!stockBatchMatMul) throw new Error('the wasm backend has no BatchMatMul kernel registered');
  const setKernel = (config: tf.KernelConfig) => {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel(config);
  };
  let why: string | null = null;
  if (mode === 'stock') why = 'GCG_KERNELS=stock';
  else if (wasmVersion !== WASM_BACKEND_VERSION) why = `tfjs-backend-wasm is ${wasmVersion}, the native kernel was written for ${WASM_BACKEND_VERSION}`;
  else why = internalsMissing();
  if (!why) {
    const loaded = addon ?? loadAddon();
    if (typeof loaded === 'string') why = loaded;
    else addon = loaded;
  }
  if (why) {
    if (mode === 'native') throw new Error(`GCG_KERNELS=native, but the native kernels cannot be used: ${why}`);
    setKernel(stockBatchMatMul);
    active = 'stock';
    return { kernels: 'stock', reason: why };
  }
  setKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: nativeBatchMatMul as unknown as tf.KernelFunc });
  active = 'native';
  return { kernels: 'native' };
}

/** Parses GCG_KERNELS: `native`, `stock`, or unset/empty for 'auto'; throws naming the variable and the allowed values. */
export function forcedKernels(value = process.env.GCG_KERNELS): KernelsName | 'auto' {
  if (value === undefined || value === '') return 'auto';
  if (value !== 'native' && value !== 'stock') throw new Error(`GCG_KERNELS=${JSON.stringify(value)} is not a kernel choice; allowed: native, stock (unset: native where it loads)`);
  return value;
}

/** The kernels in place now. */
export function activeKernels(): KernelsName {
  return active;
}
