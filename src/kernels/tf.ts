/**
 * The tensor library as the model, training and analysis see it, with no Node in it: TensorFlow.js
 * (the umbrella package: tfjs-core's API, the cpu backend and every op's gradient registered), the
 * BatchMatMul gradient and copy-free Identity/Cast this project registers, and whether the wasm
 * backend's kernels are computed natively (src/kernels/native.ts sets it). Loading backends and the
 * native addon is Node's side (src/kernels/backend.ts, native.ts).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * The kernels a record was made on: `stock` (tfjs's own numbers: every record since issue 42, on
 * every backend's own kernels), or `native`, the native kernel family retired in issue 42 (OpenBLAS
 * products, the C library's expf and erff): records made on it stay readable, it is no longer run.
 */
export type KernelsName = 'native' | 'stock';

let fusedWanted = true;
let native = false;

/** Says whether the wasm backend's kernels are computed natively, in the stock order (src/kernels/native.ts useKernels). */
export function setNativeActive(on: boolean): void {
  native = on;
}

/**
 * Whether the wasm backend's kernels are computed natively (the stock kernels' bits at native
 * speed): then the model's LayerNorm and GELU run as one native call each, forward and backward,
 * the linear gradients take their transposes as flags, and Adam is one call per parameter, each
 * with the composed stock ops' bits (native/stock_ops.h, src/kernels/fused.ts). They change the
 * speed, not the numbers, so records say nothing of them.
 */
export function nativeActive(): boolean {
  return fusedWanted && native && tf.getBackend() === 'wasm';
}

/** Runs `fn` with the one-call forms off (the composed stock ops, the native kernels still under them), for the bench's before/after and the tests. */
export function withoutFused<T>(fn: () => T): T {
  const before = fusedWanted;
  fusedWanted = false;
  try {
    return fn();
  } finally {
    fusedWanted = before;
  }
}

/** Swaps the last two axes of a rank >= 2 tensor with an explicit Transpose kernel. */
function swapLast2(x: tf.Tensor): tf.Tensor {
  const perm = [...Array(x.rank).keys()];
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return tf.transpose(x, perm);
}

let fastGradRegistered = false;
let sharingRegistered = false;

/**
 * On wasm, Identity (every tensor the gradient tape saves is a clone) and a Cast to the same dtype
 * copy their input; tfjs tensors are immutable (a Variable's assign swaps its data, never writes
 * into it), so these kernels can share the input's data with a reference count, as Reshape
 * already does on wasm and Identity does on the cpu backend. Same values; one memcpy fewer per
 * saved tensor (about 150 per training step).
 */
export function registerSharingCopies(): void {
  if (sharingRegistered) return;
  type Args = { inputs: { x: tf.TensorInfo }; attrs?: { dtype?: string }; backend: { incRef(id: unknown): void } };
  const share = ({ inputs: { x }, backend }: Args) => {
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  const identity = tf.getKernel('Identity', 'wasm');
  const cast = tf.getKernel('Cast', 'wasm');
  if (!identity || !cast) return;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ((args: Args) =>
      args.inputs.x.dtype === 'string' ? identity.kernelFunc(args as never) : share(args)) as never,
  });
  tf.unregisterKernel('Cast', 'wasm');
  tf.registerKernel({
    kernelName: 'Cast',
    backendName: 'wasm',
    kernelFunc: ((args: Args) =>
      args.attrs?.dtype === args.inputs.x.dtype ? share(args) : cast.kernelFunc(args as never)) as never,
  });
  sharingRegistered = true;
}

/**
 * The stock BatchMatMul gradient calls matMul with transposeA/transposeB set. On wasm a plain 2-D
 * matMul runs through XNNPACK, but any transpose flag (or a batch of matrices) sends it to a
 * scalar loop 10-20x slower, so for 2-D products (and batches of one) this gradient transposes
 * explicitly and keeps the matMul plain. Batched products (attention's [batch, head] stacks) run
 * in that scalar loop whatever the flags, which reads strided operands directly: there the flags
 * cost nothing and an explicit transpose would only add a kernel, so they keep the stock form, as
 * do all products on the tensorflow and cpu backends, whose matMul takes them at full speed. The
 * numbers on wasm are this gradient's (the committed results'); the native kernels keep them (the
 * linear layers' gradients skip the explicit transposes there by GcgMatMulSeq, src/model/ops.ts).
 */
export function registerFastMatMulGradient(): void {
  if (fastGradRegistered) return;
  const mm = (a: tf.Tensor, b: tf.Tensor, tA = false, tB = false) => tf.matMul(a, b, tA, tB);
  const batched = (x: tf.Tensor) => x.shape.slice(0, -2).reduce((p, d) => p * d, 1) > 1;
  tf.registerGradient({
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const g = dy as tf.Tensor;
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      // Batched products, and every product on tensorflow and cpu (their matMul takes the flags at
      // full speed: an explicit Transpose cost tensorflow ~130 ms of a step).
      if (batched(a) || batched(b) || tf.getBackend() !== 'wasm') {
        if (!transposeA && !transposeB) return { a: () => mm(g, b, false, true), b: () => mm(a, g, true, false) };
        if (!transposeA && transposeB) return { a: () => mm(g, b), b: () => mm(g, a, true, false) };
        if (transposeA && !transposeB) return { a: () => mm(b, g, false, true), b: () => mm(a, g) };
        return { a: () => mm(b, g, true, true), b: () => mm(g, a, true, true) };
      }
      if (!transposeA && !transposeB) return { a: () => mm(g, swapLast2(b)), b: () => mm(swapLast2(a), g) };
      if (!transposeA && transposeB) return { a: () => mm(g, b), b: () => mm(swapLast2(g), a) };
      if (transposeA && !transposeB) return { a: () => mm(b, swapLast2(g)), b: () => mm(a, g) };
      return { a: () => mm(swapLast2(b), swapLast2(g)), b: () => mm(swapLast2(g), swapLast2(a)) };
    },
  });
  fastGradRegistered = true;
}

export { tf };
