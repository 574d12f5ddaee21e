/**
 * Sweeps over tasks x seeds: finished runs (valid results files) are skipped, unfinished ones are
 * redone (see runOne), progress with ETA is printed per finished run. With `workers > 1` each run
 * is a child process (`cli.js run ...`): wasm is single-threaded, so processes are how a sweep
 * uses every core; each worker's output goes to `<task>_seed<seed>.log` beside its results file.
 * Every run is seeded independently, so the results do not depend on the number of workers.
 *
 * Any number of sweeps (on one machine, or on several sharing the folder) may work on one results
 * folder at once: each run is taken under its lock (see lock.ts), and a run another process holds
 * is left to it and reported as in progress elsewhere. Settings that conflict with finished or
 * partial work in the folder are refused before any work starts (unless `replace`).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExperimentConfig, PresetName, TaskName } from './config';
import { makeDir } from './files';
import { describeHolder, EXIT_LOCKED, liveHolder, RunLockedError } from './lock';
import { formatDuration } from './progress';
import { checkNoConflict, checkRunConflicts, configDiff, inspectRecord, readRecord, runOne, runPaths } from './results';

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
  /** Candidate lengths inside the training lengths are allowed (tiny test models; see checkOodLengths). */
  allowIdLengths?: boolean;
  /** Redo runs whose finished or partial work was made with other settings (default: refuse before any work). */
  replace?: boolean;
  /** Minutes without a heartbeat after which another machine's lock may be taken over. */
  lockStaleMinutes?: number;
  log?: (line: string) => void;
}

export interface SweepSummary {
  done: number;
  skipped: number;
  /** Runs another process was working on (their locks were live). */
  elsewhere: { task: TaskName; seed: number; holder: string }[];
  failed: { task: TaskName; seed: number; error: string }[];
  wallMs: number;
}

export async function sweep(opts: SweepOptions): Promise<SweepSummary> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const jobs = opts.tasks.flatMap((task) => opts.seeds.map((seed) => ({ task, seed })));
  const pending = jobs.filter((j) => {
    const file = runPaths(opts.dir, opts.preset, j.task, j.seed).results;
    const c = inspectRecord(file);
    if (c.status === 'ok') {
      if (!opts.replace) checkNoConflict(file, c.record, opts.cfg);
      else if (configDiff(c.record.config, opts.cfg).length) return true;
      return false;
    }
    if (c.status === 'bad') log(`warning: ${file} ${c.reason}; it will be moved aside and the run redone`);
    return true;
  });
  // Every conflict is refused before any work starts.
  if (!opts.replace) for (const j of pending) checkRunConflicts(opts.dir, opts.preset, j.task, j.seed, opts.cfg);
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

  const elsewhere: SweepSummary['elsewhere'] = [];
  const heldElsewhere = (task: TaskName, seed: number, holder: string) => {
    elsewhere.push({ task, seed, holder });
    report(task, seed, `in progress elsewhere (${holder}): left to that process`);
  };
  const holderOf = (task: TaskName, seed: number) => liveHolder(runPaths(opts.dir, opts.preset, task, seed).lock);

  if (opts.workers <= 1) {
    for (const j of pending) {
      const holder = holderOf(j.task, j.seed);
      if (holder) {
        heldElsewhere(j.task, j.seed, describeHolder(holder));
        continue;
      }
      try {
        const { record, skipped } = runOne({ ...opts, task: j.task, seed: j.seed, log });
        report(j.task, j.seed, (skipped ? 'finished by another process: ' : '') + summarize(record.analysis.status, record.analysis.classification?.rho));
      } catch (e) {
        if (e instanceof RunLockedError) {
          heldElsewhere(j.task, j.seed, describeHolder(e.holder));
          continue;
        }
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
        const holder = holderOf(job.task, job.seed);
        if (holder) {
          heldElsewhere(job.task, job.seed, describeHolder(holder));
          continue;
        }
        const args = [cli, 'run', '--task', job.task, '--seed', String(job.seed), '--preset', opts.preset, '--results', opts.dir];
        for (const s of opts.overrides) args.push('--set', s);
        if (opts.oodLengths) args.push('--ood-lengths', opts.oodLengths.join(','));
        if (opts.replace) args.push('--replace');
        if (opts.lockStaleMinutes !== undefined) args.push('--lock-stale', String(opts.lockStaleMinutes));
        if (opts.allowIdLengths) args.push('--allow-id-lengths');
        // Each worker's own output (training checks, phases) goes to <task>_seed<seed>.log beside its results.
        const logFile = runPaths(opts.dir, opts.preset, job.task, job.seed).log;
        makeDir(path.dirname(logFile));
        const out = fs.openSync(logFile, 'a');
        const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, args, { stdio: ['ignore', out, 'pipe'], env: { ...process.env, CI: 'true' } });
          let err = '';
          child.stderr!.on('data', (d) => (err += d));
          child.on('close', (c) => resolve({ code: c, stderr: err }));
        });
        fs.closeSync(out);
        const rec = readRecord(runPaths(opts.dir, opts.preset, job.task, job.seed).results);
        if (code === EXIT_LOCKED) {
          heldElsewhere(job.task, job.seed, stderr.trim().split('\n').pop() ?? 'another process');
        } else if (code === 0 && rec) {
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
  return { done: pending.length - failed.length - elsewhere.length, skipped, elsewhere, failed, wallMs: Date.now() - t0 };
}

function summarize(status: string, rho: number | null | undefined): string {
  if (status !== 'analysed') return 'recorded as skipped: no OOD length in range';
  return `analysed, rho=${rho == null || Number.isNaN(rho) ? "undefined (a score is constant)" : rho.toFixed(3)}`;
}
