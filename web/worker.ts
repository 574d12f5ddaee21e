/**
 * The page's Web Worker: trains, analyses and ablates the model with the project's own core (the
 * same model, tasks, training loop, analysis and rules as `gcg run`), on TensorFlow.js's wasm
 * backend with its stock kernels, so a run here gives the numbers `gcg run` gives on stock kernels.
 * Training runs in short slices (each a stop-and-resume that continues bit for bit), so a Stop
 * from the page is read between two slices.
 */
import { setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { registerFastMatMulGradient, registerSharingCopies, tf } from '../src/kernels/tf';
import { getConfig } from '../src/settings/validate';
import { checkRun } from '../src/settings/run-spec';
import { ExperimentConfig } from '../src/settings/config';
import { sampleExamples, TaskName, Example } from '../src/tasks';
import { Rng } from '../src/base/rng';
import { Transformer } from '../src/model/model';
import { accuracy, exactMatch } from '../src/model/eval';
import { trainingOutcome, trainRun } from '../src/runner/training';
import type { TrainResult, TrainState } from '../src/train/train';
import { analyzeModel } from '../src/analysis/pipeline';
import { checkOodLengths } from '../src/analysis/ood';
import { ImportanceContext } from '../src/analysis/context';
import { accuracyWith } from '../src/analysis/patching';
import { RESULTS_FORMAT, RunRecord } from '../src/records/format';
import type { FromWorker, LengthAccuracy, RunSpec, ToWorker } from './protocol';
import pkg from '../package.json';

const post = (m: FromWorker) => (self as unknown as { postMessage(m: FromWorker): void }).postMessage(m);

/** A slice of training lasts about this long before the worker reads its messages. */
const SLICE_MS = 150;
/** Sequences per length for accuracy by length. */
const LENGTH_SAMPLES = 200;

interface Run {
  spec: RunSpec;
  task: TaskName;
  cfg: ExperimentConfig;
  model?: Transformer;
  state?: TrainState;
  trainMs: number;
  stopAsked: boolean;
  record?: RunRecord;
  /** The fixed sequences of each length (accuracy by length, unablated and ablated on the same ones). */
  byLength?: { lengths: number[]; sets: Example[][]; base: number[] };
  ctx?: ImportanceContext;
}

let run: Run | null = null;
let busy = false;

const ready = (async () => {
  setWasmPaths('./');
  await tf.setBackend('wasm');
  await tf.ready();
  registerFastMatMulGradient();
  registerSharingCopies();
  return `wasm (stock kernels, tfjs ${tf.version_core}, ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD'})`;
})();

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** The run's settings, checked by the rules the command line uses (ConfigError names the setting). */
function checked(spec: RunSpec): { task: TaskName; cfg: ExperimentConfig } {
  const cfg = getConfig(spec.preset, spec.overrides);
  const { task } = checkRun(spec.task, spec.seed, cfg);
  checkOodLengths(spec.oodLengths, cfg, spec.allowIdLengths, 'OOD lengths');
  return { task, cfg };
}

/** Trains slice by slice until the run ends or a stop is asked; then analyses it. */
async function trainOn(r: Run): Promise<void> {
  for (;;) {
    const t0 = performance.now();
    const fromStep = r.state?.step ?? 0;
    const res: TrainResult = trainRun({
      task: r.task,
      seed: r.spec.seed,
      cfg: r.cfg,
      model: r.model,
      resume: r.state,
      progress: false,
      onStep: () => (performance.now() - t0 > SLICE_MS ? 'stop' : undefined),
    });
    r.trainMs += performance.now() - t0;
    r.model = res.model;
    post({
      type: 'progress',
      step: res.steps,
      maxSteps: r.cfg.train.maxSteps,
      losses: res.losses.slice(fromStep),
      evals: res.evals.filter((e) => e.step > fromStep),
      msPerStep: res.msPerStep,
    });
    if (res.stopReason !== 'stopped') {
      r.state = undefined;
      analyse(r, res);
      return;
    }
    r.state = res.state;
    await tick(); // read a Stop
    if (r.stopAsked) {
      post({ type: 'paused', step: res.steps });
      return;
    }
  }
}

function provenance(): RunRecord['provenance'] {
  const nav = (self as unknown as { navigator?: { userAgent?: string; hardwareConcurrency?: number } }).navigator;
  return {
    package: pkg.version,
    node: 'none (a web page)',
    backend: 'wasm',
    kernels: 'stock',
    versions: { '@tensorflow/tfjs': tf.version_core, '@tensorflow/tfjs-backend-wasm': version_wasm },
    gitCommit: null,
    platform: nav?.userAgent ?? 'browser',
    stockCode: 'tfjs wasm (browser)',
    cpus: nav?.hardwareConcurrency ?? 1,
    createdAt: new Date().toISOString(),
  };
}

/** The analysis `gcg run` does, into a record of the CLI's format; then accuracy by length. */
function analyse(r: Run, res: TrainResult): void {
  const t0 = performance.now();
  const analysis = analyzeModel({
    model: r.model!,
    task: r.task,
    seed: r.spec.seed,
    cfg: r.cfg.analysis,
    oodLengths: r.spec.oodLengths,
    onPhase: (phase) => post({ type: 'phase', phase }),
  });
  if (r.spec.oodLengths.some((n) => n <= r.cfg.data.maxLen)) analysis.ood.withinTraining = true;
  r.record = {
    format: RESULTS_FORMAT,
    preset: r.spec.preset,
    task: r.task,
    seed: r.spec.seed,
    config: r.cfg,
    provenance: provenance(),
    training: trainingOutcome(res),
    analysis,
    timingsMs: { train: r.trainMs, analysis: performance.now() - t0 },
  };
  post({ type: 'analysed', record: r.record });
  const ood = analysis.ood.length ?? Math.max(...r.spec.oodLengths);
  r.ctx = new ImportanceContext({ model: r.model!, task: r.task, length: ood, cfg: r.cfg.analysis, seed: r.spec.seed });
  const { minLen } = r.cfg.data;
  const top = Math.max(...r.spec.oodLengths, r.cfg.data.maxLen);
  const lengths = Array.from({ length: top - minLen + 1 }, (_, i) => minLen + i);
  const rng = new Rng(r.spec.seed, 'page-lengths');
  const sets = lengths.map((n) => sampleExamples(r.task, LENGTH_SAMPLES, rng, n));
  r.byLength = { lengths, sets, base: sets.map((s) => accuracy(exactMatch(r.model!, s))) };
  postLengths(r, null);
}

function postLengths(r: Run, ablated: LengthAccuracy['ablated']): void {
  const b = r.byLength!;
  post({ type: 'lengths', lengths: { lengths: b.lengths, samples: LENGTH_SAMPLES, base: b.base, ablated } });
}

/** Accuracy by length with one component's output replaced by its mean (at the OOD length, as C) or by zero. */
function ablate(r: Run, id: string, how: 'mean' | 'zero'): void {
  const means = r.ctx!.means();
  if (!(id in means)) throw new Error(`no component ${id}; the model's: ${Object.keys(means).join(', ')}`);
  const value = how === 'mean' ? means[id] : new Float32Array(means[id].length);
  const acc = r.byLength!.sets.map((s) => accuracyWith(r.model!, { [id]: value }, r.cfg.analysis.headAblation, s));
  postLengths(r, { id, how, acc });
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  try {
    if (m.type === 'stop') {
      if (run) run.stopAsked = true;
      return;
    }
    const backend = await ready;
    if (m.type === 'start') {
      if (busy) throw new Error('a run is in progress: stop it first');
      run?.model?.dispose();
      run = { spec: m.spec, ...checked(m.spec), trainMs: 0, stopAsked: false };
      post({ type: 'ready', backend });
    } else if (m.type === 'resume') {
      if (!run?.state) throw new Error('nothing to resume');
      run.stopAsked = false;
    } else if (m.type === 'ablate') {
      if (!run?.byLength) throw new Error('no analysed model to ablate yet');
      if (m.id === null) postLengths(run, null);
      else ablate(run, m.id, m.how);
      return;
    }
    busy = true;
    try {
      await trainOn(run!);
    } finally {
      busy = false;
    }
  } catch (err) {
    busy = false;
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
