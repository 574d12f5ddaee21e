/**
 * The project's native addon (native/gcg_native.c, built by scripts/build-native.js during
 * `npm ci`): where it lives, and loading it, which loads OpenBLAS. OpenBLAS chooses its kernels per
 * CPU when it loads, and its kernel families round differently (the same seed trains to different
 * models on different machines), so before the first load this pins the family where it is safe
 * (blasCoreChoice): portable numbers by default.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../settings/config';
import { projectRoot } from './project-root';

/** build/gcg_native.node at the project root (from src/ or dist/src/). */
export function addonPath(): string {
  return path.join(projectRoot(), 'build', 'gcg_native.node');
}

/** The kernel family every x86-64 CPU with AVX2 and FMA can run, Intel or AMD. */
export const PORTABLE_CORE = 'Haswell';

/**
 * Which OpenBLAS kernel family to ask for (OPENBLAS_CORETYPE), from GCG_BLAS_CORE:
 * - `portable` (default): `Haswell` on x86-64 CPUs with AVX2 and FMA, so that every such machine,
 *   Intel or AMD, computes the same numbers (OpenBLAS would pick SkylakeX, Cooperlake, Zen, ...);
 *   elsewhere OpenBLAS's own choice;
 * - `auto`: OpenBLAS's own choice for this CPU;
 * - a family name (e.g. `SkylakeX`): that one.
 * An OPENBLAS_CORETYPE already set is never changed (it may be set because other kernels fail on
 * that CPU). Returns the value to set, or null to leave it, and why.
 */
export function blasCoreChoice(
  env: NodeJS.ProcessEnv,
  cpuFlags: readonly string[] | null,
  arch = os.arch(),
): { set: string | null; why: string } {
  const want = env.GCG_BLAS_CORE || 'portable';
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(want))
    throw new ConfigError(
      `GCG_BLAS_CORE=${JSON.stringify(want)} is not a kernel family; allowed: portable (default), auto, or an OpenBLAS core name such as Haswell`,
    );
  if (env.OPENBLAS_CORETYPE) return { set: null, why: `OPENBLAS_CORETYPE=${env.OPENBLAS_CORETYPE} is set: kept` };
  if (want === 'auto') return { set: null, why: "GCG_BLAS_CORE=auto: OpenBLAS's own choice for this CPU" };
  if (want !== 'portable') return { set: want, why: `GCG_BLAS_CORE=${want}` };
  if (arch !== 'x64' || !cpuFlags)
    return { set: null, why: `not an x86-64 CPU whose flags can be read: OpenBLAS's own choice` };
  if (!cpuFlags.includes('avx2') || !cpuFlags.includes('fma'))
    return { set: null, why: "the CPU lacks AVX2 or FMA: OpenBLAS's own choice" };
  return {
    set: PORTABLE_CORE,
    why: `portable: ${PORTABLE_CORE} kernels on every x86-64 CPU with AVX2 and FMA (GCG_BLAS_CORE=auto: OpenBLAS's own choice)`,
  };
}

/** This CPU's flags (Linux), or null. */
function cpuFlags(): string[] | null {
  try {
    const m = /^flags\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? m[1].split(/\s+/) : null;
  } catch {
    return null;
  }
}

let loaded: unknown = null;

/** The addon's exports (OpenBLAS's kernel family pinned first, see blasCoreChoice); throws if it cannot load. */
export function requireAddon(): unknown {
  if (loaded) return loaded;
  const file = addonPath();
  // The wasm backend is single-threaded and sweeps run one process per core: one BLAS thread each.
  process.env.OPENBLAS_NUM_THREADS ??= '1';
  const core = blasCoreChoice(process.env, cpuFlags());
  if (core.set) process.env.OPENBLAS_CORETYPE = core.set;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded = require(file);
  return loaded;
}
