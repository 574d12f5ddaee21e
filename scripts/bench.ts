/**
 * `npm run bench`: speed figures as key=value lines (a benchmark, not a test: no thresholds).
 *
 *   backend=...         the backend that ran
 *   kernels=...         native (CBLAS matrix products, src/native.ts) or stock (tfjs's wasm kernels)
 *   train_step_ms=...   median wall time of one Adam step of the default model (4/4/128/512),
 *                       batch 64, 16 tokens (the longest training sequence), one thread
 *   train_step_ms_stock=... the same on the stock kernels (when native ran above)
 *   eval_seqs_per_s=... batched teacher-forced exact match at OOD length 10
 *   analysis_s=...      OOD pick + G + C + pruning of one model under the authors'-code preset
 *                       (their sample counts: 100-sequence pick, 50 x 64 for G and the means, 100
 *                       sequences per ablation, their last-section Table 6), at OOD length 10 as
 *                       for their sorting seed 42; then analysis_<phase>_s for each phase. The
 *                       model is a trained checkpoint with --checkpoint FILE, else fresh weights
 *                       (the cost does not depend on the weights: every evaluation is one batched
 *                       pass, every G batch one backward pass)
 *   torch=...           the PyTorch version of the yardstick (scripts/torch_step.py: the same step in
 *   torch_step_ms=...   PyTorch, one thread), run right after ours with .venv-torch/bin/python when
 *   ratio=...           that venv exists, else /usr/bin/python3 (Debian's torch); ratio = ours / torch
 *   ratio_stock=...     the stock kernels' step / torch (when native ran above)
 *
 * First, every backend that loads here side by side, each in a process of its own (one line each):
 *   backend=wasm kernels=native train_step_ms=... cpu_ms_per_step=...
 *   backend=wasm kernels=stock ...; backend=tensorflow ...; backend=cpu ... (or why it is unavailable)
 * then the figures above on the default backend (the fastest that loads: src/backend.ts defaultOrder).
 *
 * Options: --steps N (timed steps, default 30), --no-torch, --no-analysis, --checkpoint FILE,
 * --one (only the default backend's figures: what each side-by-side process runs).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeBackend, initBackend } from '../src/backend';
import { analyzeModel } from '../src/analysis/pipeline';
import { loadCheckpoint } from '../src/checkpoint';
import { getConfig } from '../src/config';
import { sampleAccuracy } from '../src/eval';
import { Transformer } from '../src/model';
import { projectRoot } from '../src/provenance';
import { Rng } from '../src/rng';
import { makeBatch, sampleExamples } from '../src/tasks';
import { activeKernels, withKernels } from '../src/native';
import { makeOptimizer, trainStep } from '../src/train';

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One line per backend (and kernels), each measured in a fresh process: the same step, side by side. */
function sideBySide(steps: number): void {
  const combos: { backend: string; kernels?: string; steps: number }[] = [
    { backend: 'wasm', kernels: 'native', steps },
    { backend: 'wasm', kernels: 'stock', steps },
    { backend: 'tensorflow', steps },
    { backend: 'cpu', steps: Math.min(steps, 5) }, // seconds a step
  ];
  for (const c of combos) {
    const env = { ...process.env, GCG_BACKEND: c.backend, ...(c.kernels ? { GCG_KERNELS: c.kernels } : {}), TF_CPP_MIN_LOG_LEVEL: '2' };
    const r = spawnSync(process.execPath, [__filename, '--one', '--no-analysis', '--no-torch', '--steps', String(c.steps)], { encoding: 'utf8', env });
    const get = (key: string) => new RegExp(`^${key}=(.+)$`, 'm').exec(r.stdout ?? '')?.[1];
    const name = `backend=${c.backend}${c.kernels ? ` kernels=${c.kernels}` : ''}`;
    if (r.status !== 0 || !get('train_step_ms')) {
      const why = (r.stderr ?? '').trim().split('\n').filter((l) => /error/i.test(l)).pop() ?? `exit ${r.status}`;
      console.log(`${name} unavailable (${why.replace(/^error: /, '').slice(0, 160)})`);
      continue;
    }
    console.log(`${name} train_step_ms=${get('train_step_ms')} cpu_ms_per_step=${get('cpu_ms_per_step')} steps=${c.steps}`);
  }
}

async function main() {
  const args = process.argv.slice(2);
  const steps = args.includes('--steps') ? Number(args[args.indexOf('--steps') + 1]) : 30;
  if (!args.includes('--one')) sideBySide(steps);
  const info = await initBackend();
  console.error(describeBackend(info));
  console.log(`backend=${info.backend}`);

  const cfg = getConfig('paper');
  const model = Transformer.init(cfg.model, 0);
  const optimizer = makeOptimizer(cfg);
  const vars = Object.values(model.params);
  const batch = makeBatch(sampleExamples('sort', 64, new Rng(0), 7)); // 64 x 16 tokens
  /** Median wall time of `steps` training steps, after `warmup` untimed ones. */
  const stepMs = (warmup: number) => {
    for (let i = 0; i < warmup; i++) trainStep(model, optimizer, batch, vars);
    const times: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      trainStep(model, optimizer, batch, vars);
      times.push(performance.now() - t0);
    }
    const cpu = process.cpuUsage(cpu0);
    cpuMsPerStep = (cpu.user + cpu.system) / 1000 / steps;
    return median(times);
  };
  let cpuMsPerStep = NaN;
  const ours = stepMs(5);
  console.log(`kernels=${activeKernels()}`);
  console.log(`train_step_ms=${ours.toFixed(1)}`);
  console.log(`cpu_ms_per_step=${cpuMsPerStep.toFixed(1)}`);
  let stockMs: number | null = null;
  if (info.backend === 'wasm' && activeKernels() === 'native') {
    // The same step on tfjs's stock kernels, for the before/after figure; then back to native.
    stockMs = withKernels('stock', () => stepMs(3));
    console.log(`train_step_ms_stock=${stockMs.toFixed(1)}`);
  }

  const nEval = 2000;
  const t0 = performance.now();
  sampleAccuracy(model, 'sort', new Rng(1), nEval, 10);
  console.log(`eval_seqs_per_s=${(nEval / ((performance.now() - t0) / 1000)).toFixed(0)}`);
  model.dispose();
  optimizer.dispose();

  if (!args.includes('--no-analysis')) {
    const file = args.includes('--checkpoint') ? args[args.indexOf('--checkpoint') + 1] : null;
    const authors = getConfig('authors');
    const m = file ? loadCheckpoint(file).model : Transformer.init(authors.model, 0);
    // accLow 0 accepts the first candidate, so the pick evaluates one length (10) like their seed 42's last candidate.
    const a = analyzeModel({
      model: m,
      task: 'sort',
      seed: 42,
      cfg: { ...authors.analysis, accLow: 0, accHigh: 1, variants: false, redraws: 0 },
      oodLengths: [10],
    });
    m.dispose();
    const total = Object.values(a.timingsMs).reduce((x, y) => x + y, 0);
    console.log(`analysis_model=${file ?? 'fresh'}`);
    console.log(`analysis_s=${(total / 1000).toFixed(1)}`);
    for (const [phase, ms] of Object.entries(a.timingsMs)) console.log(`analysis_${phase}_s=${(ms / 1000).toFixed(1)}`);
  }

  if (args.includes('--no-torch')) return;
  const script = path.join(projectRoot(), 'scripts', 'torch_step.py');
  // The PyTorch a user would pick (a venv with a current build) where there is one, else Debian's.
  const venv = path.join(projectRoot(), '.venv-torch', 'bin', 'python');
  const python = fs.existsSync(venv) ? venv : '/usr/bin/python3';
  const r = spawnSync(python, [script, '--threads', '1', '--steps', String(steps)], { encoding: 'utf8' });
  const m = /median_ms_per_step=([\d.]+)/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) {
    console.error(`torch yardstick skipped: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
    console.error('  (python3 -m venv .venv-torch && .venv-torch/bin/pip install torch; or apt-get install -y python3-torch)');
    return;
  }
  console.log(`torch=${/torch=(\S+)/.exec(r.stdout)?.[1] ?? 'unknown'}`);
  const torchMs = Number(m[1]);
  console.log(`torch_step_ms=${torchMs.toFixed(1)}`);
  console.log(`ratio=${(ours / torchMs).toFixed(2)}`);
  if (stockMs !== null) console.log(`ratio_stock=${(stockMs / torchMs).toFixed(2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
