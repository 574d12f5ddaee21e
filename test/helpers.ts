/** Shared set-up for the tests: the backend under test and small configurations. */
import { BackendName, initBackend } from '../src/backend';
import { DeepPartial, ExperimentConfig, getConfig } from '../src/config';
import { withKernels } from '../src/native';

/** The default backend (or GCG_BACKEND's); every test file calls this first. */
export async function setupBackend(force?: BackendName) {
  return initBackend(force);
}

/** A tiny model for fast tests: 2 layers, 2 heads, d_model 16, d_ff 32 (the parity fixture's shape). */
export function tinyConfig(overrides: DeepPartial<ExperimentConfig> = {}): ExperimentConfig {
  const base = getConfig('paper', { model: { nLayers: 2, nHeads: 2, dModel: 16, dFF: 32 } });
  return getConfig('paper', {
    model: { ...base.model, ...overrides.model },
    data: { ...base.data, ...overrides.data },
    train: { ...base.train, ...overrides.train },
    analysis: { ...base.analysis, ...overrides.analysis },
  });
}

/** Largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Runs `fn` on tfjs's stock kernels (the committed results were made with them), then puts back the kernels that were in place. */
export function withStockKernels<T>(fn: () => T): T {
  return withKernels('stock', fn);
}
