/**
 * The runner for K seeds of one (preset, task, size) at once (issue 29; `gcg run --seeds`, sweeps'
 * `--seeds-per-job`): the seeds that need training are trained stacked (src/train/trainee.ts:
 * each seed's model is the one it gets alone, bit for bit), then each is analysed and written as
 * runOne writes it. Everything else is runOne's: each run under its own lock (a run another
 * process holds is left to it), finished runs skipped, finished checkpoints reused, training
 * checkpoints resumed (seeds saved at one step resume together), conflicts refused before any
 * work. Between the training and each seed's analysis its lock is free: another process may
 * analyse that seed from its checkpoint meanwhile (then it is left to it, or read back finished).
 * A seed whose training diverges fails alone. Records say they were trained stacked
 * (`training.batched`: the seeds they shared their steps with).
 */
import * as fs from 'node:fs';
import { saveCheckpoint, saveTrainingCheckpoint } from '../records/checkpoint';
import { describeHolder, RunLock, RunLockedError } from '../io/lock';
import type { Transformer } from '../model/model';
import { analyzeAndWrite, checkRunOptions, PreparedRun, prepareRun, RunOptions } from './run';
import { checkpointMeta, describeCheck, loadPartial, setAsideForeign, trainingOutcome } from './train-run';
import { inspectRecord } from '../records/store';
import type { RunRecord, TrainingOutcome } from '../records/format';
import { TrainState } from '../train/train';
import { trainRuns } from './training';
import { onInterrupt } from '../io/interrupt';
import { InterruptedError } from '../base/stop';
import { WriteError } from '../io/files';

/** What became of one seed of a batch. */
export interface BatchRunOutcome {
  seed: number;
  record?: RunRecord;
  /** Finished before (its results file was there). */
  skipped?: boolean;
  /** Another process holds its lock: left to it. */
  elsewhere?: string;
  /** Why it failed (its training diverged, its analysis failed). */
  error?: string;
}

/** Runs the seeds (see the module's note); returns one outcome per seed, in the order given. */
export function runBatch(opts: Omit<RunOptions, 'seed'> & { seeds: readonly number[] }): BatchRunOutcome[] {
  const { preset, task, cfg } = opts;
  const log = opts.log ?? (() => undefined);
  if (!opts.seeds.length) throw new Error('runBatch: no seeds');
  if (new Set(opts.seeds).size !== opts.seeds.length)
    throw new Error(`--seeds: a seed repeats (${opts.seeds.join(', ')})`);
  for (const seed of opts.seeds) checkRunOptions({ ...opts, seed });
  const outcomes = new Map<number, BatchRunOutcome>();
  const runs = new Map<number, PreparedRun>();
  const releaseAll = () => {
    for (const r of runs.values()) r.lock.release();
  };
  const dropCleanup = onInterrupt(releaseAll);
  try {
    for (const seed of opts.seeds) {
      try {
        const run = prepareRun({ ...opts, seed }, log);
        runs.set(seed, run);
        if (run.done) outcomes.set(seed, { seed, record: run.done, skipped: true });
      } catch (e) {
        if (!(e instanceof RunLockedError)) throw e;
        outcomes.set(seed, { seed, elsewhere: describeHolder(e.holder) });
      }
    }
    const trained = new Map<number, { model: Transformer; training: TrainingOutcome; trainMs: number }>();
    for (const [seed, run] of runs) if (run.reused) trained.set(seed, { ...run.reused, trainMs: 0 });
    const toTrain = [...runs.keys()].filter((s) => !outcomes.has(s) && !trained.has(s));
    // Seeds saved at one step resume together; fresh seeds start together.
    const groups = new Map<number, { seed: number; resume: { model: Transformer; state: TrainState } | null }[]>();
    for (const seed of toTrain) {
      const { paths } = runs.get(seed)!;
      setAsideForeign(paths.checkpoint, { preset, task, seed }, log);
      const resume = loadPartial(paths.partial, cfg, { preset, task, seed }, log);
      if (resume) log(`${task} seed ${seed}: resuming training at step ${resume.state.step} from ${paths.partial}`);
      const step = resume?.state.step ?? 0;
      groups.set(step, [...(groups.get(step) ?? []), { seed, resume }]);
    }
    for (const group of groups.values()) {
      const seeds = group.map((g) => g.seed);
      log(
        seeds.length > 1
          ? `${task} seeds ${seeds.join(', ')}: training stacked (${seeds.length} models in one pass)`
          : `${task} seed ${seeds[0]}: training`,
      );
      const metas = new Map(seeds.map((s) => [s, checkpointMeta(task, s, preset, cfg)]));
      const t0 = performance.now();
      trainRuns({
        task,
        seeds,
        cfg,
        resume: group.map((g) => g.resume),
        onEval: (seed, e) => log(describeCheck(task, seed, e)),
        onCheckpoint: (seed, m, state) =>
          saveTrainingCheckpoint(runs.get(seed)!.paths.partial, m, cfg, metas.get(seed)!, state),
        onDone: (seed, result) => {
          const training: TrainingOutcome = {
            ...trainingOutcome(result),
            ...(seeds.length > 1 ? { batched: { seeds } } : {}),
          };
          const { paths } = runs.get(seed)!;
          saveCheckpoint(paths.checkpoint, result.model, cfg, { ...metas.get(seed)!, steps: result.steps, training });
          fs.rmSync(paths.partial, { force: true });
          trained.set(seed, { model: result.model, training, trainMs: performance.now() - t0 });
        },
        onDiverged: (seed, e) => outcomes.set(seed, { seed, error: e.message }),
      });
    }
    // The analyses: each trained seed's lock is let go now (its checkpoint is saved) and taken again
    // just before its analysis, so that an idle process (a sweep's other worker) can analyse the
    // later seeds from their checkpoints meanwhile instead of waiting for this one.
    for (const seed of trained.keys()) runs.get(seed)!.lock.release();
    for (const seed of opts.seeds) {
      const t = trained.get(seed);
      if (!t) continue;
      trained.delete(seed);
      const run = runs.get(seed)!;
      try {
        run.lock = RunLock.acquire(run.paths.lock, { staleMinutes: opts.lockStaleMinutes, onTakeover: log });
      } catch (e) {
        t.model.dispose();
        if (!(e instanceof RunLockedError)) throw e;
        outcomes.set(seed, { seed, elsewhere: describeHolder(e.holder) });
        continue;
      }
      const done = inspectRecord(run.paths.results);
      if (done.status === 'ok') {
        t.model.dispose();
        outcomes.set(seed, { seed, record: done.record, skipped: true });
        continue;
      }
      try {
        const record = analyzeAndWrite({ ...opts, seed, ...t, log, lock: run.lock });
        outcomes.set(seed, { seed, record });
      } catch (e) {
        if (e instanceof InterruptedError || e instanceof WriteError) throw e;
        outcomes.set(seed, { seed, error: (e as Error).message });
      }
    }
    for (const t of trained.values()) t.model.dispose();
  } finally {
    dropCleanup();
    releaseAll();
  }
  return opts.seeds.map((seed) => outcomes.get(seed)!);
}
