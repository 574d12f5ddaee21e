/** The `sweep` command's work: a grid of runs checked whole, listed (--list), one job of it (--index), or all of it with workers. */
import * as path from 'node:path';
import { checkOutputDir } from '../io/files';
import { describeBackend, initBackend } from '../kernels/backend';
import { ConfigError, PresetName } from '../settings/config';
import { resolveSettings } from '../settings/run-spec';
import { checkSize, SizeName, SIZES } from '../settings/sizes';
import type { TaskName } from '../tasks';
import { oodLengths, Opts, parseTasks } from './command';
import { parseInt1, parseIntList, parseLockStale } from '../settings/typed';
import { sweep, sweepBatches, sweepJob, SweepJob, sweepJobs } from './sweep';
import { describeJobs } from './sweep-list';

/**
 * A study run as a sweep over a grid of its own (the stability study's replicas x tasks x seeds):
 * its command, what one of its cells is called, its jobs from the sweep's grid and options (every
 * cell's settings checked), and a check of the kernels it will run on.
 */
export interface SweepStudy {
  command: string;
  unit: string;
  gridName: string;
  jobs(grid: SweepGrid, opts: Opts): SweepJob[];
  checkKernels?(jobs: SweepJob[], preset: PresetName): void;
}

/** The grid a sweep's options name. */
export type SweepGrid = {
  dir: string;
  preset: PresetName;
  tasks: TaskName[];
  seeds: number[];
  sizes?: SizeName[];
  overrides: string[];
};

/** `sweep` (sizes x tasks x seeds), or a study's own grid run as a sweep (`study`). */
export async function runSweep(opts: Opts, study: SweepStudy | null = null): Promise<number> {
  const { preset, cfg } = resolveSettings(opts.preset, opts.set);
  const tasks = parseTasks(opts.tasks);
  const seeds = parseIntList('--seeds', opts.seeds, 0, 2 ** 32 - 1);
  const sizes = opts.sizes === undefined ? undefined : opts.sizes.split(',').map((s) => checkSize(s.trim()));
  if (sizes && new Set(sizes).size !== sizes.length)
    throw new ConfigError(
      `--sizes: got ${JSON.stringify(opts.sizes)}, which repeats a size; allowed: distinct sizes among ${SIZES.join(', ')}`,
    );
  const workers = parseInt1('--workers', opts.workers, 1, 64);
  const index = opts.index === undefined ? undefined : parseInt1('--index', opts.index, 0, 1_000_000);
  const seedsPerJob =
    opts['seeds-per-job'] === undefined ? 1 : parseInt1('--seeds-per-job', opts['seeds-per-job'], 1, 1000);
  if (index !== undefined && workers > 1)
    throw new ConfigError(
      `--workers: got ${workers} with --index, which runs one job; allowed: 1 (start more array tasks instead)`,
    );
  const grid: SweepGrid = { dir: opts.results, preset, tasks, seeds, sizes, overrides: opts.set };
  // Checks every size's (every study cell's) settings.
  const jobs = study ? study.jobs(grid, opts) : sweepJobs(grid);
  const units = sweepBatches(jobs, seedsPerJob);
  const gridName = study ? study.gridName : 'sizes x tasks x seeds';
  const chosen =
    index === undefined
      ? jobs
      : sweepJob(
          units,
          index,
          seedsPerJob > 1
            ? `batches of up to ${seedsPerJob} seeds of one ${study ? study.unit : 'size'} and task`
            : gridName,
        );
  if (opts.list) {
    const what =
      seedsPerJob > 1
        ? `jobs of up to ${seedsPerJob} seeds trained stacked (${jobs.length} runs)`
        : `jobs (${gridName})`;
    console.log(
      `${units.length} ${what}; a Slurm array: ${study ? `GCG_COMMAND=${study.command} ` : ''}sbatch --array=0-${units.length - 1} scripts/slurm/sweep.sbatch <these options>`,
    );
    console.log(`index  ${study ? study.unit : 'size   '}  task       seed       state in ${opts.results}`);
    for (const line of describeJobs(units, preset)) console.log(line);
    return 0;
  }
  // The candidate OOD lengths against every size's settings and every task, before any work.
  const lengths = oodLengths(opts, cfg, tasks);
  for (const j of jobs) oodLengths(opts, j.cfg, [j.task]);
  const lockStaleMinutes = parseLockStale(opts);
  const dir = checkOutputDir('--results', opts.results);
  for (const d of new Set(chosen.map((j) => path.join(j.dir, preset)))) checkOutputDir('--results', d);
  console.log(describeBackend(await initBackend()));
  study?.checkKernels?.(jobs, preset);
  const s = await sweep({
    ...grid,
    ...(study ? { jobs } : {}),
    dir,
    index,
    seedsPerJob,
    workers,
    oodLengths: lengths,
    allowIdLengths: opts['allow-id-lengths'],
    replace: opts.replace,
    lockStaleMinutes,
  });
  console.log(
    `sweep finished: ${s.done} done, ${s.skipped} already there, ${s.elsewhere.length} in progress elsewhere, ${s.failed.length} failed, in ${(s.wallMs / 1000).toFixed(1)} s` +
      (s.elsewhere.length
        ? '\n(runs in progress elsewhere are left to their process; run the sweep again later to check they finished)'
        : ''),
  );
  for (const f of s.failed)
    console.error(
      `FAILED: ${f.size ? `${f.size} ` : ''}${f.group ? `${f.group} ` : ''}${f.task} seed ${f.seed}: ${f.error}`,
    );
  return s.failed.length ? 1 : 0;
}
