/**
 * `npm run bench`: speed figures as key=value lines (a benchmark, not a test: no thresholds).
 *
 *   backend=...         the backend that ran
 *   train_step_ms=...   median wall time of one Adam step of the default model (4/4/128/512),
 *                       batch 64, 16 tokens (the longest training sequence), one thread
 *   eval_seqs_per_s=... batched teacher-forced exact match at OOD length 10
 *   torch_step_ms=...   the same step in PyTorch (../shared/bench/torch_step.py, one thread), run
 *   ratio=...           right after ours, when /usr/bin/python3 has torch; ratio = ours / torch
 *
 * Options: --steps N (timed steps, default 30), --no-torch.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeBackend, initBackend } from '../src/backend';
import { getConfig } from '../src/config';
import { sampleAccuracy } from '../src/eval';
import { Transformer } from '../src/model';
import { projectRoot } from '../src/provenance';
import { Rng } from '../src/rng';
import { makeBatch, sampleExamples } from '../src/tasks';
import { makeOptimizer, trainStep } from '../src/train';

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const args = process.argv.slice(2);
  const steps = args.includes('--steps') ? Number(args[args.indexOf('--steps') + 1]) : 30;
  const info = await initBackend();
  console.error(describeBackend(info));
  console.log(`backend=${info.backend}`);

  const cfg = getConfig('paper');
  const model = Transformer.init(cfg.model, 0);
  const optimizer = makeOptimizer(cfg);
  const vars = Object.values(model.params);
  const batch = makeBatch(sampleExamples('sort', 64, new Rng(0), 7)); // 64 x 16 tokens
  for (let i = 0; i < 5; i++) trainStep(model, optimizer, batch, vars);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    trainStep(model, optimizer, batch, vars);
    times.push(performance.now() - t0);
  }
  const ours = median(times);
  console.log(`train_step_ms=${ours.toFixed(1)}`);

  const nEval = 2000;
  const t0 = performance.now();
  sampleAccuracy(model, 'sort', new Rng(1), nEval, 10);
  console.log(`eval_seqs_per_s=${(nEval / ((performance.now() - t0) / 1000)).toFixed(0)}`);
  model.dispose();
  optimizer.dispose();

  const script = path.join(projectRoot(), '..', 'shared', 'bench', 'torch_step.py');
  if (args.includes('--no-torch')) return;
  if (!fs.existsSync(script)) {
    console.error(`torch yardstick skipped: ${script} not found`);
    return;
  }
  const r = spawnSync('/usr/bin/python3', [script, '--threads', '1', '--steps', String(steps)], { encoding: 'utf8' });
  const m = /median_ms_per_step=([\d.]+)/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) {
    console.error(`torch yardstick skipped: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
    console.error('  (apt-get install -y python3-torch libopenblas0-pthread)');
    return;
  }
  const torchMs = Number(m[1]);
  console.log(`torch_step_ms=${torchMs.toFixed(1)}`);
  console.log(`ratio=${(ours / torchMs).toFixed(2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
