/**
 * TensorFlow.js backend selection, fastest first as measured (defaultOrder): wasm with the native
 * kernels where they load, else tfjs-node (native libtensorflow), else wasm on its stock kernels,
 * else the pure-JS cpu backend. `GCG_BACKEND=tensorflow|wasm|cpu` forces one (and fails loudly if
 * that one cannot load). Every command reports `backendInfo()` and every result file records it.
 *
 * `@tensorflow/tfjs-node` downloads libtensorflow in its install script, which fails on machines
 * that reach only the npm registry (`npm run setup:tfjs-node` builds it offline from a TensorFlow
 * wheel: scripts/setup-tfjs-node.sh), so it is an optional dependency, installed under the alias
 * `tfjs-node-native` (danfojs-node's own `@tensorflow/tfjs-node` is overridden to plain
 * `@tensorflow/tfjs`, and the two must not share a folder). What loaded is checked with
 * `tf.getBackend()`, never inferred from what a `require` resolved.
 */
// The umbrella package: tfjs-core's API, the cpu backend and every op's gradient registered
// (tfjs-core alone registers no gradients).
import * as tf from '@tensorflow/tfjs';
import { activeKernels, forcedKernels, fusedSetting, KernelsName, nativeAddonLoads, useKernels } from './native';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  backend: BackendName;
  /** Why earlier candidates were passed over (empty when the first choice loaded). */
  skipped: { backend: BackendName; reason: string }[];
  forced: boolean;
  tfjsVersion: string;
  /** Whether the transposed-matmul-free BatchMatMul gradient is registered. */
  fastMatMulGrad: boolean;
  /** `native`: the wasm backend's matrix products run on CBLAS (src/native.ts); `stock`: tfjs's own kernels. */
  kernels: KernelsName;
  /** Why the stock kernels run. */
  kernelsReason?: string;
}

let current: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

function loadTensorflow(): void {
  // The native addon registers the 'tensorflow' backend as a side effect of loading.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('tfjs-node-native');
  if (!tf.findBackend('tensorflow')) throw new Error('tfjs-node-native loaded but registered no "tensorflow" backend');
}

function loadWasm(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@tensorflow/tfjs-backend-wasm');
  // Threaded wasm does not initialise in Node; parallelism here is one process per run.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
}

const loaders: Record<BackendName, () => void> = {
  tensorflow: loadTensorflow,
  wasm: loadWasm,
  cpu: () => undefined,
};

function wasmVersion(): string | null {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@tensorflow/tfjs-backend-wasm') as { version_wasm?: string }).version_wasm ?? null;
}

function errorText(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.split('\n')[0].slice(0, 200);
}

/** Parses the GCG_BACKEND variable; throws naming the variable and the allowed values. */
export function forcedBackend(value = process.env.GCG_BACKEND): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(BACKENDS as readonly string[]).includes(value)) {
    throw new Error(`GCG_BACKEND=${JSON.stringify(value)} is not a backend; allowed: ${BACKENDS.join(', ')}`);
  }
  return value as BackendName;
}

/**
 * The backends to try, fastest first, as measured (\`npm run bench\`, README "Backends"): wasm with
 * the native kernels, then tensorflow (tfjs-node), then wasm on its stock kernels, then cpu. A
 * GCG_KERNELS setting asks for the wasm backend's kernels, so wasm comes first then.
 */
export function defaultOrder(kernelMode: ReturnType<typeof forcedKernels>): BackendName[] {
  if (kernelMode !== 'auto' || nativeAddonLoads() === true) return ['wasm', 'tensorflow', 'cpu'];
  return ['tensorflow', 'wasm', 'cpu'];
}

/**
 * Initialises the fastest backend that loads (or the forced one). Idempotent: later calls return
 * the first call's result unless `force` names a different backend.
 */
export async function initBackend(force?: BackendName): Promise<BackendInfo> {
  const wanted = force ?? forcedBackend();
  if (current && (!wanted || wanted === current.backend)) return current;
  if (pending && !wanted) return pending;
  pending = (async () => {
    const kernelMode = forcedKernels(); // a bad GCG_KERNELS is an error, not a reason to pass over wasm
    fusedSetting(); // and a bad GCG_FUSED, before any work
    const candidates = wanted ? [wanted] : defaultOrder(kernelMode);
    const skipped: BackendInfo['skipped'] = [];
    for (const name of candidates) {
      try {
        loaders[name]();
        if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
        await tf.ready();
        if (tf.getBackend() !== name) throw new Error(`tf.getBackend() is ${tf.getBackend()} after setBackend('${name}')`);
      } catch (e) {
        skipped.push({ backend: name, reason: errorText(e) });
        continue;
      }
      registerFastMatMulGradient();
      if (name === 'wasm') registerSharingCopies();
      // The cpu backend prints an install hint for tfjs-node on first use; we report the backend ourselves.
      if (name === 'cpu') tf.env().set('PROD', true);
      // GCG_KERNELS=native that cannot load throws here: the user asked for it.
      const kernels = name === 'wasm' ? useKernels(kernelMode, wasmVersion()) : { kernels: 'stock' as const, reason: `the native kernels are for the wasm backend; ${name} runs its own` };
      current = {
        backend: name,
        skipped,
        forced: Boolean(wanted),
        tfjsVersion: tf.version_core,
        fastMatMulGrad: true,
        kernels: kernels.kernels,
        kernelsReason: kernels.reason,
      };
      return current;
    }
    const why = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
    throw new Error(`no TensorFlow.js backend could be initialised (${why})`);
  })();
  try {
    return await pending;
  } finally {
    pending = null;
  }
}

/** The backend initialised so far (throws if `initBackend` has not run). */
export function backendInfo(): BackendInfo {
  if (!current) throw new Error('initBackend() has not been called');
  return current;
}

export function describeBackend(info: BackendInfo): string {
  const skipped = info.skipped.length ? ` (skipped ${info.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})` : '';
  const kernels = `kernels=${info.kernels}${info.kernelsReason && info.backend === 'wasm' ? ` (${info.kernelsReason})` : ''}`;
  return `backend=${info.backend}${info.forced ? ' (forced by GCG_BACKEND)' : ''} tfjs=${info.tfjsVersion} ${kernels}${skipped}`;
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
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: ((args: Args) => (args.inputs.x.dtype === 'string' ? identity.kernelFunc(args as never) : share(args))) as never });
  tf.unregisterKernel('Cast', 'wasm');
  tf.registerKernel({ kernelName: 'Cast', backendName: 'wasm', kernelFunc: ((args: Args) => (args.attrs?.dtype === args.inputs.x.dtype ? share(args) : cast.kernelFunc(args as never))) as never });
  sharingRegistered = true;
}

/**
 * The stock BatchMatMul gradient calls matMul with transposeA/transposeB set. On wasm a plain 2-D
 * matMul runs through XNNPACK, but any transpose flag (or a batch of matrices) sends it to a
 * scalar loop 10-20x slower, so for 2-D products (and batches of one) this gradient transposes
 * explicitly and keeps the matMul plain. Batched products (attention's [batch, head] stacks) run
 * in that scalar loop whatever the flags, which reads strided operands directly: there the flags
 * cost nothing and an explicit transpose would only add a kernel, so they keep the stock form, as
 * do all products when the native kernels run (src/native.ts: sgemm takes the flags at full speed)
 * and on the tensorflow and cpu backends, whose matMul takes them at full speed too. The wasm stock
 * path (the committed results') is unchanged.
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
      // Batched products, every product on the native kernels (CBLAS takes transposes as flags), and
      // every product on tensorflow and cpu (their matMul takes the flags at full speed: an explicit
      // Transpose cost tensorflow ~130 ms of a step).
      if (batched(a) || batched(b) || activeKernels() === 'native' || tf.getBackend() !== 'wasm') {
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
