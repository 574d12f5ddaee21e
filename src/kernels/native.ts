/**
 * Native kernels for the wasm backend (issue 16): tfjs-wasm's matrix products (XNNPACK, wasm SIMD)
 * replaced by a CBLAS sgemm, and its Exp and Erf (the GELU's and its gradient's) by libm's expf and
 * erff, all running directly on the wasm memory (native/gcg_native.c, built by
 * scripts/build-native.js during `npm ci`). Chosen by GCG_KERNELS: `native` (required: an error if
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
import { activeKernels, KernelsName, setActiveKernels, setFusedSetting } from './tf';
import { WasmBackendInternals, Addon } from './addon-api';
export interface KernelsInfo {
  kernels: KernelsName;
  /** Why the stock kernels run (when they do). */
  reason?: string;
}

/** The tfjs-backend-wasm version whose internals the native kernels use. */
export const WASM_BACKEND_VERSION = '4.22.0';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type Kernel = (args: KernelArgs) => tf.TensorInfo;

/** tfjs's own wasm kernels, by name, saved before the first replacement. */
const stockKernels = new Map<string, tf.KernelConfig>();
const stock = (name: string, args: KernelArgs) => (stockKernels.get(name)!.kernelFunc as Kernel)(args);
let addon: Addon | null = null;

function loadAddon(): Addon | string {
  const file = addonPath();
  if (!fs.existsSync(file))
    return `${path.relative(process.cwd(), file) || file} is not built (npm ci builds it where a C compiler and OpenBLAS are present: apt-get install libopenblas-dev)`;
  try {
    const loaded = requireAddon() as Partial<Addon>;
    const missing = (['sgemm', 'unary', 'gelu', 'geluGrad', 'layerNorm', 'layerNormGrad', 'adam'] as const).filter(
      (f) => typeof loaded[f] !== 'function',
    );
    if (missing.length)
      return `${file} lacks ${missing.join(', ')} (built from older sources: node scripts/build-native.js rebuilds it)`;
    return loaded as Addon;
  } catch (e) {
    if (e instanceof ConfigError) throw e; // a bad GCG_BLAS_CORE is the user's to fix
    return `${file} does not load (${(e as Error).message.split('\n')[0]})`;
  }
}

/** BatchMatMul on the wasm memory: tfjs's transpose flags and batch broadcasting (a batch of 1 against any). */
function nativeBatchMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const backend = args.backend as WasmBackendInternals;
  const transposeA = Boolean(args.attrs?.transposeA);
  const transposeB = Boolean(args.attrs?.transposeB);
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return stock('BatchMatMul', args);
  const ar = a.shape.length;
  const br = b.shape.length;
  const k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  if (k !== kb)
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  const m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const n = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return stock('BatchMatMul', args);
  const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = backend.makeOutput([...outer, m, n], 'float32');
  if (m * n === 0) return out;
  // Read the memory after allocating the output: allocation can grow (and replace) it.
  addon!.sgemm(
    backend.wasm.HEAPU8.buffer,
    offset(backend, a),
    offset(backend, b),
    offset(backend, out),
    batchA,
    batchB,
    m,
    n,
    k,
    transposeA ? 1 : 0,
    transposeB ? 1 : 0,
  );
  return out;
}

const offset = (backend: WasmBackendInternals, t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;

/** An elementwise float32 kernel (Exp, Erf) on the wasm memory; other dtypes go to the stock kernel. */
function nativeUnary(name: string, op: number): Kernel {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== 'float32') return stock(name, args);
    const backend = args.backend as WasmBackendInternals;
    const out = backend.makeOutput(x.shape, 'float32');
    const n = tf.util.sizeFromShape(x.shape);
    if (n > 0) addon!.unary(backend.wasm.HEAPU8.buffer, offset(backend, x), offset(backend, out), n, op);
    return out;
  };
}

/** GcgGelu: x -> GELU(x) and Phi(x) (kept for the gradient). */
function nativeGelu(args: KernelArgs): tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const backend = args.backend as WasmBackendInternals;
  const y = backend.makeOutput(x.shape, 'float32');
  const phi = backend.makeOutput(x.shape, 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  if (n > 0) addon!.gelu(backend.wasm.HEAPU8.buffer, offset(backend, x), offset(backend, phi), offset(backend, y), n);
  return [y, phi];
}

/** GcgGeluGrad: x, phi, dy -> dx. */
function nativeGeluGrad(args: KernelArgs): tf.TensorInfo {
  const { x, phi, dy } = args.inputs as Record<string, tf.TensorInfo>;
  const backend = args.backend as WasmBackendInternals;
  const dx = backend.makeOutput(x.shape, 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  if (n > 0)
    addon!.geluGrad(
      backend.wasm.HEAPU8.buffer,
      offset(backend, x),
      offset(backend, phi),
      offset(backend, dy),
      offset(backend, dx),
      n,
    );
  return dx;
}

/** GcgLayerNorm: x [G, R, D], gain and bias [G, D] -> y [G, R, D], mean and rstd [G, R]. */
function nativeLayerNorm(args: KernelArgs): tf.TensorInfo[] {
  const { x, gain, bias } = args.inputs as { x: tf.TensorInfo; gain: tf.TensorInfo; bias: tf.TensorInfo };
  const backend = args.backend as WasmBackendInternals;
  const [G, R, D] = x.shape;
  const y = backend.makeOutput(x.shape, 'float32');
  const mean = backend.makeOutput([G, R], 'float32');
  const rstd = backend.makeOutput([G, R], 'float32');
  if (G * R * D > 0) {
    const o = (t: tf.TensorInfo) => offset(backend, t);
    addon!.layerNorm(
      backend.wasm.HEAPU8.buffer,
      o(x),
      o(gain),
      o(bias),
      o(y),
      o(mean),
      o(rstd),
      G,
      R,
      D,
      Number(args.attrs!.eps),
    );
  }
  return [y, mean, rstd];
}

/** GcgLayerNormGrad: x, gain, dy, mean, rstd -> dx [G, R, D], dgain and dbias [G, D]. */
function nativeLayerNormGrad(args: KernelArgs): tf.TensorInfo[] {
  const { x, gain, dy, mean, rstd } = args.inputs as Record<string, tf.TensorInfo>;
  const backend = args.backend as WasmBackendInternals;
  const [G, R, D] = x.shape;
  const dx = backend.makeOutput(x.shape, 'float32');
  const dg = backend.makeOutput([G, D], 'float32');
  const db = backend.makeOutput([G, D], 'float32');
  if (G * R * D > 0) {
    const o = (t: tf.TensorInfo) => offset(backend, t);
    addon!.layerNormGrad(
      backend.wasm.HEAPU8.buffer,
      o(x),
      o(gain),
      o(dy),
      o(mean),
      o(rstd),
      o(dx),
      o(dg),
      o(db),
      G,
      R,
      D,
    );
  }
  return [dx, dg, db];
}

/** GcgAdam: value, m, v, grad -> value', m', v' (attrs: beta1, beta2, accBeta1, accBeta2, eps, lr). */
function nativeAdam(args: KernelArgs): tf.TensorInfo[] {
  const { value, m, v, grad } = args.inputs as Record<string, tf.TensorInfo>;
  const a = args.attrs as Record<string, number>;
  const backend = args.backend as WasmBackendInternals;
  const outs = [value, m, v].map(() => backend.makeOutput(value.shape, 'float32'));
  const n = tf.util.sizeFromShape(value.shape);
  const o = (t: tf.TensorInfo) => offset(backend, t);
  if (n > 0)
    addon!.adam(
      backend.wasm.HEAPU8.buffer,
      o(value),
      o(m),
      o(v),
      o(grad),
      o(outs[0]),
      o(outs[1]),
      o(outs[2]),
      n,
      a.beta1,
      a.beta2,
      a.accBeta1,
      a.accBeta2,
      a.eps,
      a.lr,
    );
  return outs;
}

/** Kernels of our own (no tfjs kernel has their name), registered on the wasm backend once the addon loads. */
const FUSED_KERNELS: Record<string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]> = {
  GcgGelu: nativeGelu,
  GcgGeluGrad: nativeGeluGrad,
  GcgLayerNorm: nativeLayerNorm,
  GcgLayerNormGrad: nativeLayerNormGrad,
  GcgAdam: nativeAdam,
};

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

/** The kernels replaced on the wasm backend, by tfjs kernel name. */
const NATIVE_KERNELS: Record<string, Kernel> = {
  BatchMatMul: nativeBatchMatMul,
  Exp: nativeUnary('Exp', 0),
  Erf: nativeUnary('Erf', 1),
};

/** Why the running wasm backend cannot take the native kernels (null: it can). */
function internalsMissing(): string | null {
  const backend = tf.backend() as unknown as Partial<WasmBackendInternals>;
  if (typeof backend.makeOutput !== 'function' || !backend.dataIdMap || !(backend.wasm?.HEAPU8 instanceof Uint8Array)) {
    return `this tfjs-backend-wasm lacks the internals the native kernels use (pinned version ${WASM_BACKEND_VERSION})`;
  }
  return null;
}

/**
 * Puts the native or the stock kernels (BatchMatMul, Exp, Erf) in place for the wasm backend (call after it started).
 * `mode`: 'native' (throws if it cannot), 'stock', or 'auto' (native where possible).
 */
export function useKernels(mode: KernelsName | 'auto', wasmVersion: string | null): KernelsInfo {
  for (const name of Object.keys(NATIVE_KERNELS)) {
    if (stockKernels.has(name)) continue;
    const config = tf.getKernel(name, 'wasm');
    if (!config) throw new Error(`the wasm backend has no ${name} kernel registered`);
    stockKernels.set(name, config);
  }
  const setKernels = (native: boolean) => {
    for (const [name, kernelFunc] of Object.entries(NATIVE_KERNELS)) {
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel(
        native
          ? { kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc }
          : stockKernels.get(name)!,
      );
    }
  };
  let why: string | null = null;
  if (mode === 'stock') why = 'GCG_KERNELS=stock';
  else if (wasmVersion !== WASM_BACKEND_VERSION)
    why = `tfjs-backend-wasm is ${wasmVersion}, the native kernels were written for ${WASM_BACKEND_VERSION}`;
  else why = internalsMissing();
  if (!why) {
    const loaded = addon ?? loadAddon();
    if (typeof loaded === 'string') why = loaded;
    else addon = loaded;
  }
  if (why) {
    if (mode === 'native') throw new Error(`GCG_KERNELS=native, but the native kernels cannot be used: ${why}`);
    setKernels(false);
    setActiveKernels('stock');
    return { kernels: 'stock', reason: why };
  }
  setKernels(true);
  for (const [name, kernelFunc] of Object.entries(FUSED_KERNELS)) {
    if (!tf.getKernel(name, 'wasm'))
      tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
  setActiveKernels('native');
  return { kernels: 'native' };
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
  const loaded = addon ?? loadAddon();
  if (typeof loaded === 'string') return loaded;
  addon = loaded;
  return true;
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
