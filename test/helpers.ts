/** Shared set-up for the tests: the backend under test and small configurations. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';
import { BackendName, initBackend } from '../src/kernels/backend';
import { saveCheckpoint } from '../src/records/checkpoint';
import { main } from '../src/cli';
import { Transformer } from '../src/model/model';
import { provenance } from '../src/records/provenance';
import { DeepPartial, ExperimentConfig } from '../src/settings/config';
import { getConfig } from '../src/settings/validate';
import { ImportanceContext } from '../src/analysis/context';
import { Rng } from '../src/base/rng';
import { sampleExamples } from '../src/tasks';
import { trainRun } from '../src/runner/training';

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

/** The ablation tests' tiny model: reversal at 2-3 digits, learned positions, trained to 90% or 600 steps. */
export const ABLATION_CFG = tinyConfig({
  model: { dModel: 32, dFF: 64, positions: 'learned' },
  data: { minLen: 2, maxLen: 3 },
  train: { batchSize: 32, evalEvery: 50, evalSamples: 128, maxSteps: 600 },
  analysis: { gradBatches: 1, gradBatchSize: 24, meanBatches: 2, evalSamples: 40, idLength: 3 },
});

/** ABLATION_CFG's model (seed 2: ablations move its loss and flip sequences), its fixed OOD evaluation set at length 3 and a context on them. */
export function ablationFixture() {
  const N = 3;
  const model = trainRun({ task: 'reverse', seed: 2, cfg: ABLATION_CFG, progress: false }).model;
  const evalSet = sampleExamples('reverse', ABLATION_CFG.analysis.evalSamples, new Rng(2, 'ood-eval'), N);
  const ctx = new ImportanceContext({
    model,
    task: 'reverse',
    length: N,
    cfg: ABLATION_CFG.analysis,
    seed: 2,
    evalSet,
  });
  return { N, model, evalSet, ctx };
}

/** Largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The CLI's entry (dist/src/cli.js), for tests that start real processes. */
export const CLI = path.join(__dirname, '..', 'src', 'cli.js');
/** A fresh temporary folder. */
export const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `gcg-${name}-`));
/** A Node stack trace in a message (no error shown to a user may carry one). */
export const STACK = /\n\s+at .+\(.*:\d+:\d+\)|\n\s+at [^\s]+:\d+:\d+/;

/** The CLI in this process, its output captured. */
export async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { log: console.log, error: console.error, warn: console.warn };
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  console.warn = console.error;
  try {
    const code = await main(args);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    Object.assign(console, saved);
  }
}

/** A tiny model, analysed inside its training lengths (it does not generalise): seconds per run. */
export const TINY = [
  'model.nLayers=1',
  'model.nHeads=2',
  'model.dModel=16',
  'model.dFF=32',
  'data.minLen=2',
  'data.maxLen=3',
  'train.maxSteps=20',
  'train.evalEvery=10',
  'train.batchSize=16',
  'train.evalSamples=32',
  'analysis.gradBatches=1',
  'analysis.gradBatchSize=8',
  'analysis.meanBatches=1',
  'analysis.evalSamples=16',
  'analysis.oodPickSamples=16',
  'analysis.idSamples=16',
  'analysis.idLength=3',
  'analysis.tieDraws=10',
  'analysis.accLow=0',
  'analysis.accHigh=1',
  'analysis.variants=false',
  'analysis.redraws=0',
];
export const TINY_ARGS = [...TINY.flatMap((s) => ['--set', s]), '--ood-lengths', '3', '--allow-id-lengths'];
/** TINY (and `extra` assignments) as a configuration object. */
export const tinyCfg = (extra: string[] = []) => {
  const over: Record<string, Record<string, unknown>> = {};
  for (const s of [...TINY, ...extra]) {
    const [k, v] = s.split('=');
    const [sec, f] = k.split('.');
    (over[sec] ??= {})[f] = v === 'true' ? true : v === 'false' ? false : Number(v);
  }
  return getConfig('paper', over as DeepPartial<ExperimentConfig>);
};

/** A finished checkpoint (weights at initialisation, with a training record) at `file`, made on this process's backend and kernels. */
export function fakeFinishedCheckpoint(
  file: string,
  cfg: ExperimentConfig,
  task: string,
  seed: number,
  preset = 'paper',
): void {
  const model = Transformer.init(cfg.model, seed);
  const training = {
    steps: 600,
    reachedTarget: true,
    stopReason: 'target',
    finalAcc: 0.9,
    wallMs: 1,
    msPerStep: 1,
    losses: [1],
    evals: [],
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const prov = provenance();
  saveCheckpoint(file, model, cfg, {
    task,
    seed,
    preset,
    steps: 600,
    backend: prov.backend,
    kernels: prov.kernels,
    provenance: prov,
    training,
  });
  model.dispose();
}

/** SIGKILLs `child` as soon as `file` exists (polling every 5 ms); rejects if it never appears within 2 minutes. Resolves once the child is gone. */
export async function killWhenExists(child: import('node:child_process').ChildProcess, file: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      if (fs.existsSync(file) || Date.now() - t0 > 120_000) {
        clearInterval(poll);
        child.kill('SIGKILL');
        fs.existsSync(file) ? resolve() : reject(new Error(`${file} never appeared`));
      }
    }, 5);
  });
  await new Promise((r) => child.on('close', r));
}

/**
 * A copy of the sources in a fresh folder (the repository's node_modules linked), for tests that
 * extend the code as a user would (a task, a study): `build()` compiles the copy, `cli(...)` runs
 * its command line there (CI=true).
 */
export function sourcesCopy(name: string): {
  dir: string;
  build(): SpawnSyncReturns<string>;
  cli(...args: string[]): SpawnSyncReturns<string>;
} {
  const root = path.join(__dirname, '..', '..');
  const dir = tmp(name);
  fs.cpSync(path.join(root, 'src'), path.join(dir, 'src'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig, include: ['src/**/*.ts'] }));
  return {
    dir,
    build: () =>
      spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {
        encoding: 'utf8',
      }),
    cli: (...args: string[]) =>
      spawnSync(process.execPath, [path.join(dir, 'dist', 'src', 'cli.js'), ...args], {
        encoding: 'utf8',
        cwd: dir,
        env: { ...process.env, CI: 'true' },
      }),
  };
}
