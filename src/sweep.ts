/**
 * Sweeps over tasks x seeds: finished runs (valid results files) are skipped, unfinished ones are
 * redone (see runOne), progress with ETA is printed per finished run. With `workers > 1` each run
 * is a child process (`cli.js run ...`): wasm is single-threaded, so processes are how a sweep
 * uses every core; each worker's output goes to `<task>_seed<seed>.log` beside its results file.
 * Every run is seeded independently, so the results do not depend on the number of workers.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExperimentConfig, PresetName, TaskName } from './config';
import { formatDuration } from './progress';
import { checkNoConflict, readRecord, runOne, runPaths } from './results';

export interface SweepOptions {
  dir: string;
  preset: PresetName;
  tasks: TaskName[];
  seeds: number[];
  cfg: ExperimentConfig;
  /** The --set overrides that produced cfg (passed on to worker processes). */
  overrides: string[];
  workers: number;
  oodLengths?: readonly number[];
  log?: (line: string) => void;
}

export interface SweepSummary {
  done: number;
  skipped: number;
  failed: { task: TaskName; seed: number; error: string }[];
  wallMs: number;
}

export async function sweep(opts: SweepOptions): Promise<SweepSummary> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const jobs = opts.tasks.flatMap((task) => opts.seeds.map((seed) => ({ task, seed })));
  const pending = jobs.filter((j) => {
    const file = runPaths(opts.dir, opts.preset, j.task, j.seed).results;
    const rec = readRecord(file);
    if (rec) checkNoConflict(file, rec, opts.cfg);
    return !rec;
  });
  const skipped = jobs.length - pending.length;
  log(`sweep preset=${opts.preset}: ${jobs.length} runs, ${skipped} already finished, ${pending.length} to do, ${opts.workers} worker(s)`);
  const t0 = Date.now();
  let finished = 0;
  const failed: SweepSummary['failed'] = [];
  const report = (task: string, seed: number, what: string) => {
    finished++;
    const elapsed = Date.now() - t0;
    const eta = (elapsed / finished) * (pending.length - finished);
    log(`[${finished}/${pending.length}] ${task} seed ${seed} ${what} (elapsed ${formatDuration(elapsed)}, eta ${formatDuration(eta)})`);
  };

  if (opts.workers <= 1) {
    for (const j of pending) {
      try {
        const { record } = runOne({ ...opts, task: j.task, seed: j.seed, log });
        report(j.task, j.seed, summarize(record.analysis.status, record.analysis.classification?.rho));
      } catch (e) {
        failed.push({ ...j, error: (e as Error).message });
        report(j.task, j.seed, `FAILED: ${(e as Error).message}`);
      }
    }
  } else {
    const queue = pending.slice();
    const cli = path.join(__dirname, 'cli.js');
    const worker = async () => {
      for (let j = queue.shift(); j; j = queue.shift()) {
        const job = j;
        const args = [cli, 'run', '--task', job.task, '--seed', String(job.seed), '--preset', opts.preset, '--results', opts.dir];
        for (const s of opts.overrides) args.push('--set', s);
        if (opts.oodLengths) args.push('--ood-lengths', opts.oodLengths.join(','));
        // Each worker's own output (training checks, phases) goes to <task>_seed<seed>.log beside its results.
        const logFile = runPaths(opts.dir, opts.preset, job.task, job.seed).results.replace(/\.json$/, '.log');
        fs.mkdirSync(path.dirname(logFile), { recursive: true });
        const out = fs.openSync(logFile, 'a');
        const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, args, { stdio: ['ignore', out, 'pipe'], env: { ...process.env, CI: 'true' } });
          let err = '';
          child.stderr!.on('data', (d) => (err += d));
          child.on('close', (c) => resolve({ code: c, stderr: err }));
        });
        fs.closeSync(out);
        const rec = readRecord(runPaths(opts.dir, opts.preset, job.task, job.seed).results);
        if (code === 0 && rec) {
          report(job.task, job.seed, summarize(rec.analysis.status, rec.analysis.classification?.rho));
        } else {
          const error = `worker exited with ${code}: ${stderr.trim().split('\n').pop() ?? ''}`;
          failed.push({ ...job, error });
          report(job.task, job.seed, `FAILED: ${error}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.workers, pending.length) }, worker));
  }
  return { done: pending.length - failed.length, skipped, failed, wallMs: Date.now() - t0 };
}

function summarize(status: string, rho: number | null | undefined): string {
  if (status !== 'analysed') return 'recorded as skipped: no OOD length in range';
  return `analysed, rho=${rho == null || Number.isNaN(rho) ? "undefined (a score is constant)" : rho.toFixed(3)}`;
}
