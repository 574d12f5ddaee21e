/**
 * Sweeps over sizes x tasks x seeds: finished runs (valid results files) are skipped, unfinished ones
 * are redone (see runOne), progress with ETA is printed per finished run. With `workers > 1` each run
 * is a child process (`cli.js run ...`): wasm is single-threaded, so processes are how a sweep
 * uses every core; each worker's output goes to `<task>_seed<seed>.log` beside its results file.
 * Every run is seeded independently, so the results do not depend on the number of workers.
 *
 * Without sizes, runs go to `<dir>/<preset>/`; with sizes (src/settings/sizes.ts), each size's runs go to
 * `<dir>/<size>/<preset>/`. The jobs are numbered (sweepJobs: sizes outermost, seeds innermost), so
 * `index` runs one job of the grid: a Slurm array task (scripts/slurm/sweep.sbatch) is one index.
 * With `seedsPerJob` K, a job is up to K consecutive seeds of one size and task, trained stacked in
 * one process (src/runner/run-batch.ts; each seed's model is the one it gets alone), and `index` numbers
 * these jobs. A batch's process analyses its seeds one after another; with `workers > 1` a worker
 * that has no batch left to start analyses the later seeds of a running batch from their
 * checkpoints meanwhile (each run's lock decides who does which), so the last batch's analyses do
 * not run on one core while the others idle.
 *
 * Any number of sweeps (on one machine, or on several sharing the folder) may work on one results
 * folder at once: each run is taken under its lock (see lock.ts), and a run another process holds
 * is left to it and reported as in progress elsewhere. Settings that conflict with finished or
 * partial work in the folder are refused before any work starts (unless `replace`).
 */
import { describeRho } from '../analysis/ranks';
import type { RunRecord } from '../records/format';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkSeed, checkTask, ConfigError, ExperimentConfig, PresetName } from '../settings/config';
import { TaskName } from '../tasks';
import { makeDir } from '../io/files';
import { takeOverInterrupt } from '../io/interrupt';
import { exitCodeOf, InterruptedError, SignalName } from '../base/stop';
import { describeHolder, EXIT_LOCKED, liveHolder, RunLockedError } from '../io/lock';
import { formatDuration } from '../base/progress';
import { checkRunConflicts, checkStoreKernels } from './conflicts';
import { runOne } from './run';
import { checkNoConflict, inspectRecord, readRecord, runPaths } from '../records/store';
import { configDiff } from '../records/format';
import { runBatch } from './run-batch';
import { resolveSettings, Settings } from '../settings/run-spec';
import { SizeName, SIZES } from '../settings/sizes';
export interface SweepOptions {
  dir: string;
  preset: PresetName;
  tasks: TaskName[];
  seeds: number[];
  /** A prepared grid (a study's, e.g. src/studies/stability/run.ts) run instead of sizes x tasks x seeds. */
  jobs?: SweepJob[];
  /** Model sizes (each into `<dir>/<size>/`); absent: one grid of the settings' own size, into `<dir>/`. */
  sizes?: SizeName[];
  /** Run only the job of this number (sweepJobs; with seedsPerJob > 1, sweepBatches); absent: every job. */
  index?: number;
  /**
   * Seeds trained together as one stacked model (src/train/trainee.ts; each seed's model is the
   * one it gets alone, bit for bit): consecutive seeds of one size and task, up to this many per
   * job (default 1: one run per job). A job is then one process, one Slurm array task.
   */
  seedsPerJob?: number;
  /**
   * Settings over the preset: `--set` assignments or a partial configuration object (default: none).
   * Every job's configuration is resolved from them (src/settings/run-spec.ts), and worker processes are
   * given the same settings as assignments, so in-process and worker runs cannot disagree.
   */
  overrides?: Settings;
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

/** One run of a sweep's grid: its number, where it goes and with which settings. */
export interface SweepJob {
  index: number;
  size: SizeName | null;
  task: TaskName;
  seed: number;
  dir: string; // the results folder of its size (runs go to <dir>/<preset>/)
  /** What names its folder in a study's grid (a stability replica: base, init1, data1, ...). */
  group?: string;
  cfg: ExperimentConfig;
  overrides: string[]; // the --set assignments that give cfg from the preset (the size's included)
}

/** The sweep's jobs, numbered from 0: sizes outermost, then tasks, then seeds. Every size's settings are checked here. */
export function sweepJobs(
  opts: Pick<SweepOptions, 'dir' | 'preset' | 'tasks' | 'seeds' | 'sizes' | 'overrides'>,
): SweepJob[] {
  if ('cfg' in opts)
    throw new ConfigError(
      "sweep: takes overrides only (--set assignments or a partial configuration), not cfg; allowed: overrides: ['model.nLayers=2'] or { model: { nLayers: 2 } }",
    );
  for (const seed of opts.seeds) checkSeed(seed);
  for (const task of opts.tasks) checkTask(task);
  const grids = (opts.sizes?.length ? opts.sizes : [null]).map((size) => {
    const r = resolveSettings(opts.preset, opts.overrides ?? [], size);
    return { size: r.size, dir: size ? path.join(opts.dir, size) : opts.dir, overrides: r.settings, cfg: r.cfg };
  });
  return grids
    .flatMap((g) => opts.tasks.flatMap((task) => opts.seeds.map((seed) => ({ ...g, task, seed }))))
    .map((j, index) => ({ index, ...j }));
}

/** The job of that number; an error naming --index and the grid when there is none. */
export function sweepJob<T>(jobs: readonly T[], index: number, what = 'sizes x tasks x seeds'): T {
  if (!Number.isInteger(index) || index < 0 || index >= jobs.length) {
    throw new ConfigError(
      `--index: got ${index}; allowed: an integer in [0, ${jobs.length - 1}] (this grid has ${jobs.length} jobs: ${what}; gcg sweep --list numbers them)`,
    );
  }
  return jobs[index];
}

/**
 * The runs grouped for stacked training: consecutive runs of one size and task, at most
 * `seedsPerJob` each, in the grid's order (with seedsPerJob 1, one run each). Numbered from 0 by
 * their position: with --seeds-per-job, --index picks one of these.
 */
export function sweepBatches(jobs: readonly SweepJob[], seedsPerJob: number): SweepJob[][] {
  if (!Number.isInteger(seedsPerJob) || seedsPerJob < 1)
    throw new ConfigError(`--seeds-per-job: got ${seedsPerJob}; allowed: an integer >= 1`);
  const out: SweepJob[][] = [];
  for (const j of jobs) {
    const last = out[out.length - 1];
    if (last && last.length < seedsPerJob && last[0].dir === j.dir && last[0].task === j.task) last.push(j);
    else out.push([j]);
  }
  return out;
}

const groupOf = (j: SweepJob) =>
  [j.size, j.group]
    .filter(Boolean)
    .map((x) => `${x} `)
    .join('');
const jobName = (j: SweepJob) => `${groupOf(j)}${j.task} seed ${j.seed}`;
const batchName = (b: readonly SweepJob[]) =>
  b.length === 1 ? jobName(b[0]) : `${groupOf(b[0])}${b[0].task} seeds ${b.map((j) => j.seed).join(',')}`;

export interface SweepSummary {
  done: number;
  skipped: number;
  /** Runs another process was working on (their locks were live). */
  elsewhere: { task: TaskName; seed: number; size: SizeName | null; holder: string }[];
  failed: { task: TaskName; seed: number; size: SizeName | null; group?: string; error: string }[];
  wallMs: number;
}

/** How often an idle worker looks for trained, unanalysed seeds of a running stacked batch (ms). */
const STEAL_POLL_MS = 1000;

export async function sweep(opts: SweepOptions): Promise<SweepSummary> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const grid = opts.jobs ?? sweepJobs(opts);
  const perJob = opts.seedsPerJob ?? 1;
  const units = sweepBatches(grid, perJob);
  const jobs =
    opts.index === undefined
      ? grid
      : sweepJob(units, opts.index, perJob > 1 ? `batches of up to ${perJob} seeds of one size and task` : undefined);
  const pending = jobs.filter((j) => {
    const file = runPaths(j.dir, opts.preset, j.task, j.seed).results;
    const c = inspectRecord(file);
    if (c.status === 'ok') {
      if (!opts.replace) checkNoConflict(file, c.record, j.cfg);
      else if (configDiff(c.record.config, j.cfg).length) return true;
      return false;
    }
    if (c.status === 'bad') log(`warning: ${file} ${c.reason}; it will be moved aside and the run redone`);
    return true;
  });
  // Every conflict is refused before any work starts.
  if (!opts.replace) for (const j of pending) checkRunConflicts(j.dir, opts.preset, j.task, j.seed, j.cfg);
  // One folder, one kind of kernels; and a sweep over sizes keeps its whole store (every size's folder, not only those it writes) on one.
  const folders = new Set(pending.map((j) => path.join(j.dir, opts.preset)));
  if (pending.length && opts.sizes && !opts.jobs)
    for (const size of SIZES) folders.add(path.join(opts.dir, size, opts.preset));
  for (const d of folders) checkStoreKernels(d);
  const skipped = jobs.length - pending.length;
  const which =
    opts.index === undefined ? `${jobs.length} runs` : `job ${opts.index} of ${units.length} (${batchName(jobs)})`;
  const stacked = perJob > 1 ? `, up to ${perJob} seeds trained stacked per job` : '';
  log(
    `sweep preset=${opts.preset}: ${which}, ${skipped} already finished, ${pending.length} to do, ${opts.workers} worker(s)${stacked}`,
  );
  const t0 = Date.now();
  let finished = 0;
  const failed: SweepSummary['failed'] = [];
  const report = (j: SweepJob, what: string) => {
    finished++;
    const elapsed = Date.now() - t0;
    const eta = (elapsed / finished) * (pending.length - finished);
    log(
      `[${finished}/${pending.length}] ${jobName(j)} ${what} (elapsed ${formatDuration(elapsed)}, eta ${formatDuration(eta)})`,
    );
  };

  const elsewhere: SweepSummary['elsewhere'] = [];
  const heldElsewhere = (j: SweepJob, holder: string) => {
    elsewhere.push({ task: j.task, seed: j.seed, size: j.size, holder });
    report(j, `in progress elsewhere (${holder}): left to that process`);
  };
  const fail = (j: SweepJob, error: string) => {
    failed.push({ task: j.task, seed: j.seed, size: j.size, group: j.group, error });
    report(j, `FAILED: ${error}`);
  };
  const holderOf = (j: SweepJob) =>
    liveHolder(runPaths(j.dir, opts.preset, j.task, j.seed).lock, opts.lockStaleMinutes);

  // Runs another process holds are left to it; the rest go in batches (one run each without seedsPerJob).
  const free = (b: readonly SweepJob[]) =>
    b.filter((j) => {
      const holder = holderOf(j);
      if (holder) heldElsewhere(j, holder);
      return !holder;
    });
  const batches = sweepBatches(pending, perJob);
  if (opts.workers <= 1 && perJob > 1) {
    for (const b of batches) {
      const runnable = free(b);
      if (!runnable.length) continue;
      let outcomes: ReturnType<typeof runBatch>;
      try {
        outcomes = runBatch({
          ...opts,
          dir: runnable[0].dir,
          cfg: runnable[0].cfg,
          task: runnable[0].task,
          seeds: runnable.map((j) => j.seed),
          log,
        });
      } catch (e) {
        if (e instanceof InterruptedError) throw e;
        for (const j of runnable) fail(j, (e as Error).message);
        continue;
      }
      outcomes.forEach((o, i) => {
        const j = runnable[i];
        if (o.record) report(j, (o.skipped ? 'finished by another process: ' : '') + summarize(o.record));
        else if (o.elsewhere) heldElsewhere(j, o.elsewhere);
        else fail(j, o.error ?? 'no result');
      });
    }
  } else if (opts.workers <= 1) {
    for (const j of pending) {
      const holder = holderOf(j);
      if (holder) {
        heldElsewhere(j, holder);
        continue;
      }
      try {
        const { record, skipped } = runOne({ ...opts, dir: j.dir, cfg: j.cfg, task: j.task, seed: j.seed, log });
        report(j, (skipped ? 'finished by another process: ' : '') + summarize(record));
      } catch (e) {
        if (e instanceof InterruptedError) throw e;
        if (e instanceof RunLockedError) heldElsewhere(j, describeHolder(e.holder));
        else fail(j, (e as Error).message);
      }
    }
  } else {
    const queue = batches.slice();
    const cli = path.join(__dirname, '..', 'cli.js');
    // A SIGINT/SIGTERM to the sweep goes to every worker (each stops cleanly: its lock released, its
    // training state saved), no new run starts, and the sweep waits for them before it stops.
    const children = new Set<ReturnType<typeof spawn>>();
    let stopping: SignalName | null = null;
    const stopAll = (sig: SignalName) => {
      stopping = sig;
      log(`${sig}: stopping ${children.size} worker(s) and waiting for them`);
      for (const c of children) c.kill(sig);
    };
    /** Runs `runnable` (one run, or seeds trained stacked) in a child process; resolves with its exit code and last stderr line. */
    const spawnRun = async (runnable: SweepJob[]): Promise<{ code: number | null; last: string }> => {
      const job = runnable[0];
      const seeds =
        runnable.length === 1 ? ['--seed', String(job.seed)] : ['--seeds', runnable.map((j) => j.seed).join(',')];
      const args = [cli, 'run', '--task', job.task, ...seeds, '--preset', opts.preset, '--results', job.dir];
      for (const s of job.overrides) args.push('--set', s);
      if (opts.oodLengths) args.push('--ood-lengths', opts.oodLengths.join(','));
      if (opts.replace) args.push('--replace');
      if (opts.lockStaleMinutes !== undefined) args.push('--lock-stale', String(opts.lockStaleMinutes));
      if (opts.allowIdLengths) args.push('--allow-id-lengths');
      // Each worker's own output (training checks, phases) goes to <task>_seed<seed>.log beside its results (a batch's: <task>_seeds<a>_<b>...log).
      const paths = runPaths(job.dir, opts.preset, job.task, job.seed);
      const logFile =
        runnable.length === 1
          ? paths.log
          : path.join(path.dirname(paths.log), `${job.task}_seeds${runnable.map((j) => j.seed).join('_')}.log`);
      makeDir(path.dirname(logFile));
      const out = fs.openSync(logFile, 'a');
      const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        // Its own process group: a terminal's Ctrl-C reaches the sweep, which passes it on once.
        const child = spawn(process.execPath, args, {
          stdio: ['ignore', out, 'pipe'],
          env: { ...process.env, CI: 'true' },
          detached: true,
        });
        children.add(child);
        let err = '';
        // Its stderr goes to the log as well (a reader of the log sees why it stopped, e.g. a lock held elsewhere).
        child.stderr!.on('data', (d) => {
          err += d;
          fs.writeSync(out, d);
        });
        child.on('close', (c, sig) => {
          children.delete(child);
          resolve({ code: c ?? (sig ? 128 + (os.constants.signals[sig] ?? 0) : null), stderr: err });
        });
      });
      fs.closeSync(out);
      return { code, last: stderr.trim().split('\n').pop() ?? '' };
    };
    const recordOf = (j: SweepJob) => {
      const rec = readRecord(runPaths(j.dir, opts.preset, j.task, j.seed).results);
      return rec && !configDiff(rec.config, j.cfg).length ? rec : null;
    };
    // Runs of stacked batches that another of this sweep's workers took from their checkpoints (they report them).
    const analysing = new Set<SweepJob>();
    const running = new Set<SweepJob>(); // the runs of batches whose process is running
    const worker = async () => {
      for (let batch = stopping ? undefined : queue.shift(); batch; batch = stopping ? undefined : queue.shift()) {
        const runnable = free(batch);
        if (!runnable.length) continue;
        for (const j of runnable) running.add(j);
        const { code, last } = await spawnRun(runnable);
        for (const j of runnable) running.delete(j);
        for (const j of runnable) {
          if (analysing.has(j)) continue;
          const rec = recordOf(j);
          if (code === exitCodeOf('SIGINT') || code === exitCodeOf('SIGTERM')) report(j, `stopped (${last})`);
          else if (rec) report(j, summarize(rec));
          else if (code === EXIT_LOCKED || holderOf(j)) heldElsewhere(j, holderOf(j) ?? (last || 'another process'));
          else fail(j, `worker exited with ${code}: ${last}`);
        }
      }
      // Nothing left to start: analyse, from their checkpoints, the seeds of stacked batches whose
      // training is done and whose analysis nobody has begun (their batch's process would reach
      // them one after another), until no batch of this sweep is still running.
      while (perJob > 1 && !stopping) {
        const next = [...running]
          .reverse()
          .find(
            (j) =>
              !analysing.has(j) &&
              fs.existsSync(runPaths(j.dir, opts.preset, j.task, j.seed).checkpoint) &&
              !recordOf(j) &&
              !holderOf(j),
          );
        if (!next) {
          if (!running.size) break;
          await new Promise((r) => setTimeout(r, STEAL_POLL_MS));
          continue;
        }
        analysing.add(next);
        const { code, last } = await spawnRun([next]);
        const rec = recordOf(next);
        if (rec) report(next, summarize(rec));
        else if (code === EXIT_LOCKED || holderOf(next)) {
          analysing.delete(next); // its batch's process got there first: it reports it, unless it has already stopped
          if (!running.has(next)) {
            const holder = holderOf(next);
            if (holder) heldElsewhere(next, holder);
            else fail(next, "its batch's process did not write its results (see the batch's log)");
          }
        } else if (code === exitCodeOf('SIGINT') || code === exitCodeOf('SIGTERM')) report(next, `stopped (${last})`);
        else fail(next, `worker exited with ${code}: ${last}`);
      }
    };
    await takeOverInterrupt(stopAll, () =>
      Promise.all(Array.from({ length: Math.min(opts.workers, pending.length) }, worker)),
    );
    if (stopping) throw new InterruptedError(stopping, 'every worker stopped');
  }
  return {
    done: pending.length - failed.length - elsewhere.length,
    skipped,
    elsewhere,
    failed,
    wallMs: Date.now() - t0,
  };
}

export function summarize(rec: RunRecord): string {
  const { status, scores } = rec.analysis;
  const rho = rec.analysis.classification?.rho;
  if (status !== 'analysed') return 'recorded as skipped: no OOD length in range';
  return `analysed, rho=${describeRho(rho, scores)}`;
}
