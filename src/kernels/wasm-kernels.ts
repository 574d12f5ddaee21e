/**
 * The native kernels themselves (issues 16, 42): each a call into the addon (native/gcg_native.c)
 * on the wasm backend's memory, with tfjs's kernel signature, in tfjs-wasm's own order
 * (native/matmul.h, native/libm.h, native/stock_ops.h): the stock numbers at native speed.
 * NATIVE_KERNELS replace tfjs's kernels of those names; OWN_KERNELS have names of their own (the
 * one-call LayerNorm, GELU, Adam and linear gradients of src/kernels/fused.ts). native.ts puts them
 * in place.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../settings/config';
import { WasmBackendInternals, Addon } from './addon-api';

export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
export type Kernel = (args: KernelArgs) => tf.TensorInfo;

/** tfjs's own wasm kernels, by name, saved before the first replacement. */
export const stockKernels = new Map<string, tf.KernelConfig>();
const stock = (name: string, args: KernelArgs) => (stockKernels.get(name)!.kernelFunc as Kernel)(args);
let addon: Addon | null = null;
/** The loaded addon the kernels call (native.ts loads it). */
export function bindAddon(loaded: Addon): void {
  addon = loaded;
}

/**
 * BatchMatMul on the wasm memory in the stock kernel's own order (native/matmul.h): tfjs's
 * transpose flags and batch broadcasting (a batch of 1 against any).
 */
function batchMatMul(args: KernelArgs): tf.TensorInfo {
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
  const heap = backend.wasm.HEAPU8.buffer;
  const [ao, bo, co] = [offset(backend, a), offset(backend, b), offset(backend, out)];
  const [tA, tB] = [transposeA ? 1 : 0, transposeB ? 1 : 0];
  // The stock kernel's order: XNNPACK's sequential sum for a plain product of two matrices, its
  // own loop's blocks of 48 for anything else (tfjs-backend-wasm's batch_mat_mul_impl.cc).
  const blocked = transposeA || transposeB || batchA !== 1 || batchB !== 1 ? 1 : 0;
  addon!.matmul(heap, ao, bo, co, batchA, batchB, m, n, k, tA, tB, blocked, simdPath());
  return out;
}

/**
 * GcgMatMulSeq: a 2-D product a @ b with transpose flags (or K of them, a and b [K, ., .]), in the
 * order of a plain stock product (each output's k summed in order from 0): the bits of tfjs's
 * matMul of the explicitly transposed operands (one 2-D product per seed), without the Transpose
 * kernels (the linear gradients of src/model/ops.ts and stacked.ts on the stock kernels computed natively).
 */
function matMulSeq(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const backend = args.backend as WasmBackendInternals;
  const tA = Boolean(args.attrs?.transposeA);
  const tB = Boolean(args.attrs?.transposeB);
  const r = a.shape.length;
  const [a0, a1] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const [m, k] = tA ? [a1, a0] : [a0, a1];
  const n = tB ? b0 : b1;
  const K = r === 3 ? a.shape[0] : 1;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error('GcgMatMulSeq: float32 operands only');
  if (r < 2 || r > 3 || b.shape.length !== r || (r === 3 && b.shape[0] !== K) || k !== (tB ? b1 : b0))
    throw new Error(
      `GcgMatMulSeq: shapes ${a.shape} and ${b.shape} (transposeA=${tA}, transposeB=${tB}) do not multiply`,
    );
  const out = backend.makeOutput(r === 3 ? [K, m, n] : [m, n], 'float32');
  if (K * m * n === 0) return out;
  const [ao, bo, co] = [a, b, out].map((t) => offset(backend, t));
  addon!.matmul(backend.wasm.HEAPU8.buffer, ao, bo, co, K, K, m, n, k, +tA, +tB, 0, simdPath());
  return out;
}

/** Transpose of 4-byte values (float32, int32) up to rank 6: a copy; other dtypes to the stock kernel. */
function nativeTranspose(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const perm = (args.attrs as { perm: number[] }).perm;
  const rank = x.shape.length;
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || rank < 1 || rank > 6) return stock('Transpose', args);
  const backend = args.backend as WasmBackendInternals;
  const out = backend.makeOutput(
    perm.map((p) => x.shape[p]),
    x.dtype,
  );
  if (tf.util.sizeFromShape(x.shape) === 0) return out;
  // Padded at the front (leading axes of 1), so that the copy's innermost loop runs over a real axis.
  const pad = 6 - rank;
  const dims = [...Array(pad).fill(1), ...x.shape];
  const p6 = [...Array.from({ length: pad }, (_, i) => i), ...perm.map((p) => p + pad)];
  addon!.transpose(backend.wasm.HEAPU8.buffer, offset(backend, x), offset(backend, out), 6, ...dims, ...p6);
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

/** GcgStockGelu: x -> y and c = 1 + erf(x s), the composed GELU's bits (attrs: s). */
function stockGelu(args: KernelArgs): tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const backend = args.backend as WasmBackendInternals;
  const [y, c] = [0, 1].map(() => backend.makeOutput(x.shape, 'float32'));
  const n = tf.util.sizeFromShape(x.shape);
  const o = (t: tf.TensorInfo) => offset(backend, t);
  if (n > 0) addon!.stockGelu(backend.wasm.HEAPU8.buffer, o(x), o(y), o(c), n, Number(args.attrs!.s), simdPath());
  return [y, c];
}

/** GcgStockGeluGrad: x, c, dy -> the composed graph's two gradients of x, through erf and through x * 0.5 (attrs: s, k). */
function stockGeluGrad(args: KernelArgs): tf.TensorInfo[] {
  const { x, c, dy } = args.inputs as Record<string, tf.TensorInfo>;
  const backend = args.backend as WasmBackendInternals;
  const [dx1, dx2] = [0, 1].map(() => backend.makeOutput(x.shape, 'float32'));
  const n = tf.util.sizeFromShape(x.shape);
  const o = (t: tf.TensorInfo) => offset(backend, t);
  const { s, k } = args.attrs as { s: number; k: number };
  if (n > 0) addon!.stockGeluGrad(backend.wasm.HEAPU8.buffer, o(x), o(c), o(dy), o(dx1), o(dx2), n, s, k, simdPath());
  return [dx1, dx2];
}

/** x's rows (width D, its last axis) in G groups, one per gain row: [G, R, D]. */
function lnShape(x: tf.TensorInfo, gain: tf.TensorInfo): [number, number, number] {
  const D = x.shape[x.shape.length - 1];
  const G = tf.util.sizeFromShape(gain.shape) / D;
  return [G, tf.util.sizeFromShape(x.shape) / (G * D), D];
}

/** GcgStockLayerNorm: x, gain, bias -> y, and per row mean, var + eps and its rsqrt (attrs: eps): the composed LayerNorm's bits. */
function stockLayerNorm(args: KernelArgs): tf.TensorInfo[] {
  const { x, gain, bias } = args.inputs as Record<string, tf.TensorInfo>;
  const backend = args.backend as WasmBackendInternals;
  const [G, R, D] = lnShape(x, gain);
  const y = backend.makeOutput(x.shape, 'float32');
  const [mean, ve, r] = [0, 1, 2].map(() => backend.makeOutput([G * R], 'float32'));
  const o = (t: tf.TensorInfo) => offset(backend, t);
  if (G * R * D > 0) {
    const offs = [x, gain, bias, y, mean, ve, r].map(o);
    addon!.stockLayerNorm(backend.wasm.HEAPU8.buffer, ...offs, G, R, D, Number(args.attrs!.eps));
  }
  return [y, mean, ve, r];
}

/** GcgStockLayerNormGrad: x, gain, dy, mean, r, p = pow(var + eps, 1.5) -> x's three gradients, gain's and bias's. */
function stockLayerNormGrad(args: KernelArgs): tf.TensorInfo[] {
  const { x, gain, dy, mean, r, p } = args.inputs as Record<string, tf.TensorInfo>;
  const backend = args.backend as WasmBackendInternals;
  const [G, R, D] = lnShape(x, gain);
  const dxs = [0, 1, 2].map(() => backend.makeOutput(x.shape, 'float32'));
  const [dg, db] = [0, 1].map(() => backend.makeOutput(gain.shape, 'float32'));
  const o = (t: tf.TensorInfo) => offset(backend, t);
  if (G * R * D > 0) {
    const offs = [x, gain, dy, mean, r, p, ...dxs, dg, db].map(o);
    addon!.stockLayerNormGrad(backend.wasm.HEAPU8.buffer, ...offs, G, R, D);
  }
  return [...dxs, dg, db];
}

/** Kernels of our own (no tfjs kernel has their name), registered on the wasm backend once the addon loads. */
export const OWN_KERNELS: Record<string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]> = {
  GcgAdam: nativeAdam,
  GcgMatMulSeq: matMulSeq,
  GcgStockGelu: stockGelu,
  GcgStockGeluGrad: stockGeluGrad,
  GcgStockLayerNorm: stockLayerNorm,
  GcgStockLayerNormGrad: stockLayerNormGrad,
};

/**
 * The tfjs kernels computed natively, by name (others: tfjs's own): the same bits as tfjs's own
 * wasm code (each in its order: native/matmul.h, native/libm.h; Transpose is a copy), at native speed.
 */
export const NATIVE_KERNELS: Record<string, Kernel> = {
  BatchMatMul: batchMatMul,
  Transpose: nativeTranspose,
  Exp: nativeUnary('Exp', 0),
  Erf: nativeUnary('Erf', 1),
};

/**
 * The stock matrix product's SIMD path, from GCG_SIMD: unset or empty for the widest this CPU runs,
 * or one of the names mmPaths lists (avx512, avx2, vec4, scalar: each gives the same bits); `wasm`
 * (tfjs's own code) is useKernels's to read. Throws naming the variable and the paths this CPU runs.
 */
export function simdPath(value = process.env.GCG_SIMD): number {
  const key = value ?? '';
  if (simdCache?.value === key) return simdCache.path;
  const paths = addon!.mmPaths();
  const hit = key === '' ? paths[0] : paths.find((p) => p.name === key);
  if (!hit)
    throw new ConfigError(
      `GCG_SIMD=${JSON.stringify(value)} is not a SIMD path this CPU runs; allowed: ${paths.map((p) => p.name).join(', ')}, wasm (tfjs's own code; unset: the widest)`,
    );
  simdCache = { value: key, path: hit.path };
  return hit.path;
}
let simdCache: { value: string; path: number } | null = null;
