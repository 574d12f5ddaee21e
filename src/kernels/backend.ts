/**
 * TensorFlow.js backend selection, fastest first as measured (defaultOrder): wasm with the native
 * kernels where they load (the stock numbers at native speed), else tfjs-node (native
 * libtensorflow: its own numbers), else wasm on tfjs's own code, else the pure-JS cpu backend. `GCG_BACKEND=tensorflow|wasm|cpu` forces one (and fails loudly if
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
import { kernelsSetting, nativeAddonLoads, useKernels } from './native';
import { KernelsName, registerFastMatMulGradient, registerSharingCopies, tf } from './tf';

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
  /** `stock`: tfjs's numbers (every backend's own kernels; on wasm computed natively or by tfjs's code). */
  kernels: KernelsName;
  /** What computes them (wasm: `native avx512`, or `tfjs wasm: why`; other backends: their own). */
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
 * The backends to try, fastest first, as measured (\`npm run bench\`, docs/kernels.md, "Backends"): wasm with
 * the native kernels, then tensorflow (tfjs-node), then wasm on tfjs's own code, then cpu.
 * GCG_KERNELS=stock (`wasmAsked`) asks for the wasm backend's numbers, so wasm comes first then.
 */
export function defaultOrder(wasmAsked: boolean): BackendName[] {
  if (wasmAsked || nativeAddonLoads() === true) return ['wasm', 'tensorflow', 'cpu'];
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
    const wasmAsked = kernelsSetting(); // a bad GCG_KERNELS is an error, not a reason to pass over wasm
    const candidates = wanted ? [wanted] : defaultOrder(wasmAsked);
    const skipped: BackendInfo['skipped'] = [];
    for (const name of candidates) {
      try {
        loaders[name]();
        if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
        await tf.ready();
        if (tf.getBackend() !== name)
          throw new Error(`tf.getBackend() is ${tf.getBackend()} after setBackend('${name}')`);
      } catch (e) {
        skipped.push({ backend: name, reason: errorText(e) });
        continue;
      }
      registerFastMatMulGradient();
      if (name === 'wasm') registerSharingCopies();
      // The cpu backend prints an install hint for tfjs-node on first use; we report the backend ourselves.
      if (name === 'cpu') tf.env().set('PROD', true);
      const kernels =
        name === 'wasm'
          ? useKernels(wasmVersion())
          : { kernels: 'stock' as const, reason: `the native kernels are for the wasm backend; ${name} runs its own` };
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
  const skipped = info.skipped.length
    ? ` (skipped ${info.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})`
    : '';
  const kernels = `kernels=${info.kernels}${info.kernelsReason && info.backend === 'wasm' ? ` (${info.kernelsReason})` : ''}`;
  return `backend=${info.backend}${info.forced ? ' (forced by GCG_BACKEND)' : ''} tfjs=${info.tfjsVersion} ${kernels}${skipped}`;
}
