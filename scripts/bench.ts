/**
 * `npm run bench`: speed figures as key=value lines (a benchmark, not a test: no thresholds).
 *
 * First, every backend that loads here side by side, each in a process of its own (one line each):
 *   backend=wasm train_step_ms=... cpu_ms_per_step=... (the native kernels, on the widest SIMD path),
 *   backend=wasm simd=wasm ... (tfjs's own wasm code), simd=scalar ... (the native scalar path): the
 *   same bits on all three; backend=tensorflow ...; backend=cpu ... (or why it is unavailable)
 * then, on the default backend (the fastest that loads: src/kernels/backend.ts defaultOrder), in rounds
 * interleaved with the PyTorch yardstick (so that a busy machine slows both alike; medians over
 * rounds):
 *   backend=..., code=... what computed the kernels (wasm: `native avx512`, ... or `tfjs wasm`)
 *   train_step_ms=...   one Adam step of the paper's model (4/4/128/512), batch 64, 16 tokens (the
 *                       longest training sequence), one thread
 *   cpu_ms_per_step=... its CPU time
 *   train_step_ms_per_seed=... the same step of K = 10 seeds stacked (src/train/trainee.ts), per seed
 *   kernel_calls_per_step=... tfjs kernel calls of one step (custom-gradient wrappers counted);
 *   kernel_calls_per_step_unfused=..., train_step_ms_unfused=... the native kernels without the one-call
 *                       LayerNorm, GELU, linear gradients and Adam (src/kernels/fused.ts; the same bits)
 *   train_step_ms_tfjs_wasm=... the same step on tfjs's own wasm code (GCG_SIMD=wasm; the same bits)
 *   torch=...           the PyTorch version of the yardstick (scripts/torch_step.py: the same step in
 *   torch_step_ms=...   PyTorch, one thread; .venv-torch/bin/python when that venv exists, else
 *                       /usr/bin/python3, Debian's torch 1.13)
 *   ratio=..., ratio_batched=..., ratio_tfjs_wasm=... train_step_ms, train_step_ms_per_seed and
 *                       train_step_ms_tfjs_wasm over torch_step_ms
 *   eval_seqs_per_s=... batched teacher-forced exact match at OOD length 10 (2,000 sorting sequences);
 *   torch_eval_seqs_per_s=... the same in PyTorch (torch_step.py --eval): what every ablation is made of
 *   analysis_s=...      the paper preset's whole analysis of one model (OOD pick, G, C, pruning, the
 *                       protocol variants, the noise-floor redraws) at OOD length 10; then
 *                       analysis_<phase>_s per phase. A trained checkpoint with --checkpoint FILE,
 *                       else fresh weights (the cost does not depend on the weights: every
 *                       evaluation is one batched pass, every G batch one backward pass)
 *   measures_s=...      every measure of the measures study (src/studies/measures/run.ts) on the same model;
 *                       measures_torch_steps=... it in PyTorch steps (measures_s / torch_step_ms);
 *                       then measures_<phase>_s per phase (those of 0.05 s or more)
 *   joint_s=..., redundancy_s=... issue 43's redundancy analysis on the same model (3 Heroes, 3
 *                       Bloats, the study's defaults): joint_s the named sets, their null and all
 *                       190 pairs; redundancy_s with the Shapley values; then redundancy_<phase>_s,
 *                       with the forward-pass steps its sets took (half-blocks and unembeddings over
 *                       the evaluation set, prefixes shared) and the milliseconds a step
 *   sweep_paper_20_min=..., sweep_paper_20_batched_min=... the projected wall time of the paper's
 *                       20-run sweep (reversal and sorting, 10 seeds) on 2 cores: the committed runs'
 *                       steps (+10% for the stopping checks) at train_step_ms (one run per worker) or
 *                       train_step_ms_per_seed (--seeds-per-job 10, one task per worker), plus 20
 *                       analyses at analysis_s, over 2 workers. A projection from measured parts.
 *
 * Options: --steps N (timed steps, default 30), --rounds R (default 3), --no-torch, --no-analysis,
 * --no-measures, --no-joint, --checkpoint FILE, --one (only the default backend's step: what each side-by-side
 * process runs).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeBackend, initBackend } from '../src/kernels/backend';
import { nativeActive, tf, withoutFused } from '../src/kernels/tf';
import { analyzeModel, oodEvalSet } from '../src/analysis/pipeline';
import { ImportanceContext } from '../src/analysis/context';
import { redundancyAnalysis } from '../src/analysis/redundancy';
import type { ComponentClass } from '../src/analysis/ranks';
import { REDUNDANCY_DEFAULTS } from '../src/studies/redundancy';
import { loadCheckpoint } from '../src/records/checkpoint';
import { PAPER_SEEDS } from '../src/settings/config';
import { getConfig } from '../src/settings/validate';
import { sampleAccuracy } from '../src/model/eval';
import { Transformer } from '../src/model/model';
import { projectRoot } from '../src/records/provenance';
import { Rng } from '../src/base/rng';
import { makeBatch, sampleExamples } from '../src/tasks';
import { stockCode, withCode } from '../src/kernels/native';
import { StackedModel } from '../src/model/stacked';
import { studyMeasures } from '../src/studies/measures/run';
import { committedResultsDir } from '../src/runner/estimate';
import { loadRecords } from '../src/records/store';
import { makeOptimizer } from '../src/train/adam';
import { stackedStep, trainStep } from '../src/train/trainee';

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One line per backend (and kernels), each measured in a fresh process: the same step, side by side. */
function sideBySide(steps: number): void {
  const combos: { backend: string; simd?: string; steps: number }[] = [
    { backend: 'wasm', steps }, // the native kernels where the addon loads, in the stock order
    { backend: 'wasm', simd: 'wasm', steps }, // tfjs's own wasm code: the same bits
    { backend: 'wasm', simd: 'scalar', steps: Math.min(steps, 5) }, // the scalar path: the same bits, slowly
    { backend: 'tensorflow', steps },
    { backend: 'cpu', steps: Math.min(steps, 5) }, // seconds a step
  ];
  for (const c of combos) {
    const env = {
      ...process.env,
      GCG_BACKEND: c.backend,
      ...(c.simd ? { GCG_SIMD: c.simd } : {}),
      TF_CPP_MIN_LOG_LEVEL: '2',
    };
    const r = spawnSync(
      process.execPath,
      [__filename, '--one', '--no-analysis', '--no-torch', '--steps', String(c.steps)],
      { encoding: 'utf8', env },
    );
    const get = (key: string) => new RegExp(`^${key}=(.+)$`, 'm').exec(r.stdout ?? '')?.[1];
    const name = `backend=${c.backend}${c.simd ? ` simd=${c.simd}` : ''}`;
    if (r.status !== 0 || !get('train_step_ms')) {
      const why =
        (r.stderr ?? '')
          .trim()
          .split('\n')
          .filter((l) => /error/i.test(l))
          .pop() ?? `exit ${r.status}`;
      console.log(`${name} unavailable (${why.replace(/^error: /, '').slice(0, 160)})`);
      continue;
    }
    console.log(
      `${name} train_step_ms=${get('train_step_ms')} cpu_ms_per_step=${get('cpu_ms_per_step')} steps=${c.steps}`,
    );
  }
}

/** The PyTorch yardstick: `steps` steps in a process of its own; null (and why, on stderr) when it cannot run. */
function torchStep(steps: number, evalSeqs = 0): { version: string; ms: number; evalSeqsPerS: number | null } | null {
  const script = path.join(projectRoot(), 'scripts', 'torch_step.py');
  // The PyTorch a user would pick (a venv with a current build) where there is one, else Debian's.
  const venv = path.join(projectRoot(), '.venv-torch', 'bin', 'python');
  const python = fs.existsSync(venv) ? venv : '/usr/bin/python3';
  const r = spawnSync(python, [script, '--threads', '1', '--steps', String(steps), '--eval', String(evalSeqs)], {
    encoding: 'utf8',
  });
  const m = /median_ms_per_step=([\d.]+)/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) {
    console.error(`torch yardstick skipped: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
    console.error(
      '  (python3 -m venv .venv-torch && .venv-torch/bin/pip install torch; or apt-get install -y python3-torch)',
    );
    return null;
  }
  const e = /eval_seqs_per_s=([\d.]+)/.exec(r.stdout);
  return {
    version: /torch=(\S+)/.exec(r.stdout)?.[1] ?? 'unknown',
    ms: Number(m[1]),
    evalSeqsPerS: e ? Number(e[1]) : null,
  };
}

/** Median wall time (and mean CPU time) of `steps` calls of `step` after `warmup` untimed ones. */
function timeSteps(step: () => void, steps: number, warmup: number): { ms: number; cpuMs: number } {
  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  return { ms: median(times), cpuMs: (cpu.user + cpu.system) / 1000 / steps };
}

/** tfjs kernel calls of one call of `fn` (custom-gradient wrappers and their inner kernels both counted). */
async function kernelCalls(fn: () => void): Promise<number> {
  return (await tf.profile(fn)).kernels.length;
}

const K = 10;

async function main() {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
  const steps = opt('--steps', 30);
  const rounds = opt('--rounds', 3);
  if (!args.includes('--one')) sideBySide(steps);
  const info = await initBackend();
  console.error(describeBackend(info));
  console.log(`backend=${info.backend}`);

  const cfg = getConfig('paper');
  const batch = makeBatch(sampleExamples('sort', 64, new Rng(0), 7)); // 64 x 16 tokens
  const model = Transformer.init(cfg.model, 0);
  const optimizer = makeOptimizer(cfg.train);
  const vars = Object.values(model.params);
  const single = () => void trainStep(model, optimizer, batch, vars);
  if (args.includes('--one')) {
    const r = timeSteps(single, steps, 5);
    console.log(`code=${stockCode() ?? info.backend}`);
    console.log(`train_step_ms=${r.ms.toFixed(1)}`);
    console.log(`cpu_ms_per_step=${r.cpuMs.toFixed(1)}`);
    return;
  }
  const stacked = StackedModel.stack(Array.from({ length: K }, (_, k) => Transformer.init(cfg.model, k)));
  const stackedOpt = makeOptimizer(cfg.train);
  const batches = Array.from({ length: K }, () => batch);
  const multi = () => void stackedStep(stacked, stackedOpt, batches);
  const native = nativeActive();

  // Rounds: ours (single, K stacked, and the unfused and tfjs-code variants) interleaved with PyTorch.
  const got: Record<string, number[]> = {};
  const add = (key: string, v: number) => (got[key] ??= []).push(v);
  let torchVersion: string | null = null;
  for (let r = 0; r < rounds; r++) {
    const one = timeSteps(single, steps, r === 0 ? 5 : 1);
    add('train_step_ms', one.ms);
    add('cpu_ms_per_step', one.cpuMs);
    add('train_step_ms_per_seed', timeSteps(multi, Math.max(3, Math.ceil(steps / K)), 1).ms / K);
    if (native) {
      add(
        'train_step_ms_unfused',
        withoutFused(() => timeSteps(single, steps, 1).ms),
      );
      add(
        'train_step_ms_tfjs_wasm',
        withCode('wasm', () => timeSteps(single, Math.ceil(steps / 3), 1).ms),
      );
    }
    if (!args.includes('--no-torch')) {
      const t = torchStep(steps);
      if (t) {
        torchVersion = t.version;
        add('torch_step_ms', t.ms);
      }
    }
  }
  const med = (key: string) => (got[key] ? median(got[key]) : null);
  console.log(`code=${stockCode() ?? info.backend}`);
  for (const key of [
    'train_step_ms',
    'cpu_ms_per_step',
    'train_step_ms_per_seed',
    'train_step_ms_unfused',
    'train_step_ms_tfjs_wasm',
  ]) {
    if (med(key) !== null) console.log(`${key}=${med(key)!.toFixed(1)}`);
  }
  console.log(`kernel_calls_per_step=${await kernelCalls(single)}`);
  if (native) console.log(`kernel_calls_per_step_unfused=${await withoutFused(() => kernelCalls(single))}`);
  const torchMs = med('torch_step_ms');
  if (torchMs !== null) {
    console.log(`torch=${torchVersion}`);
    console.log(`torch_step_ms=${torchMs.toFixed(1)}`);
    console.log(`ratio=${(med('train_step_ms')! / torchMs).toFixed(2)}`);
    console.log(`ratio_batched=${(med('train_step_ms_per_seed')! / torchMs).toFixed(2)}`);
    if (med('train_step_ms_tfjs_wasm') !== null)
      console.log(`ratio_tfjs_wasm=${(med('train_step_ms_tfjs_wasm')! / torchMs).toFixed(2)}`);
  }
  stacked.dispose();
  stackedOpt.dispose();

  const nEval = 2000;
  const t0 = performance.now();
  sampleAccuracy(model, 'sort', new Rng(1), nEval, 10);
  console.log(`eval_seqs_per_s=${(nEval / ((performance.now() - t0) / 1000)).toFixed(0)}`);
  const torchEval = args.includes('--no-torch') ? null : torchStep(1, nEval)?.evalSeqsPerS;
  if (torchEval) console.log(`torch_eval_seqs_per_s=${torchEval.toFixed(0)}`);
  model.dispose();
  optimizer.dispose();

  if (args.includes('--no-analysis')) return;
  const file = args.includes('--checkpoint') ? args[args.indexOf('--checkpoint') + 1] : null;
  const analyse = (analysis: typeof cfg.analysis) => {
    const m = file ? loadCheckpoint(file).model : Transformer.init(cfg.model, 0);
    try {
      // accLow 0 accepts the first candidate, so the pick evaluates one length (10).
      const a = analyzeModel({
        model: m,
        task: 'sort',
        seed: 42,
        cfg: { ...analysis, accLow: 0, accHigh: 1 },
        oodLengths: [10],
      });
      return a.timingsMs;
    } finally {
      m.dispose();
    }
  };
  console.log(`analysis_model=${file ?? 'fresh'}`);
  const phases = analyse(cfg.analysis);
  const analysisS = Object.values(phases).reduce((x, y) => x + y, 0) / 1000;
  console.log(`analysis_s=${analysisS.toFixed(1)}`);
  for (const [phase, ms] of Object.entries(phases)) console.log(`analysis_${phase}_s=${(ms / 1000).toFixed(1)}`);
  if (!args.includes('--no-measures')) {
    const all = analyse({ ...cfg.analysis, measures: studyMeasures(), variants: false, redraws: 0 });
    const measuresS = Object.values(all).reduce((x, y) => x + y, 0) / 1000;
    console.log(`measures_s=${measuresS.toFixed(1)}`);
    if (torchMs !== null) console.log(`measures_torch_steps=${Math.round((measuresS * 1000) / torchMs)}`);
    for (const [phase, ms] of Object.entries(all))
      if (ms >= 50) console.log(`measures_${phase}_s=${(ms / 1000).toFixed(1)}`);
  }
  if (!args.includes('--no-joint')) {
    // Issue 43's redundancy analysis of one model at OOD length 10 (src/analysis/redundancy.ts:
    // the sets share the forward pass's prefixes), with 3 Heroes and 3 Bloats and the study's defaults.
    const m = file ? loadCheckpoint(file).model : Transformer.init(cfg.model, 0);
    try {
      const ctx = new ImportanceContext({
        model: m,
        task: 'sort',
        length: 10,
        cfg: cfg.analysis,
        seed: 42,
        evalSet: oodEvalSet('sort', 10, 42, cfg.analysis.evalSamples),
      });
      const classes = ctx.components.map((c, i) =>
        [2, 7, 12].includes(i) ? 'GradientBloat' : [15, 16, 18].includes(i) ? 'HiddenHero' : 'Aligned',
      ) as ComponentClass[];
      const t = performance.now();
      const r = redundancyAnalysis(ctx, classes, REDUNDANCY_DEFAULTS);
      const ms = r.timingsMs;
      console.log(
        `joint_s=${((ms.sets + ms.null + ms.pairs) / 1000).toFixed(1)} (the named sets, their null of ${REDUNDANCY_DEFAULTS.nullDraws} draws per size and make-up, all ${r.pairs.length} pairs; issue 43 asks ~60) redundancy_s=${((performance.now() - t) / 1000).toFixed(1)}`,
      );
      for (const [phase, v] of Object.entries(ms)) {
        const steps = r.steps?.[phase];
        console.log(
          `redundancy_${phase}_s=${(v / 1000).toFixed(1)}${steps ? ` redundancy_${phase}_steps=${steps} ms_per_step=${(v / steps).toFixed(1)}` : ''}`,
        );
      }
    } finally {
      m.dispose();
    }
  }
  // The paper sweep's 20 runs: their committed steps at today's step times, analyses at analysis_s, on 2 workers.
  const paperRuns = loadRecords(committedResultsDir(), 'paper').filter(
    (r) => PAPER_SEEDS.includes(r.seed) && (r.task === 'reverse' || r.task === 'sort'),
  );
  if (paperRuns.length) {
    const steps = paperRuns.reduce((a, r) => a + r.training.steps, 0) * 1.1;
    const project = (msPerStep: number) => (steps * msPerStep + paperRuns.length * analysisS * 1000) / 2 / 60000;
    console.log(`sweep_paper_runs=${paperRuns.length} sweep_paper_steps=${Math.round(steps / 1.1)}`);
    console.log(`sweep_paper_20_min=${project(med('train_step_ms')!).toFixed(1)}`);
    console.log(`sweep_paper_20_batched_min=${project(med('train_step_ms_per_seed')!).toFixed(1)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
