/**
 * The runner: training and analysing runs into the results store (src/records/store.ts: one JSON file per
 * (preset, task, seed) under `<dir>/<preset>/`, written atomically, holding everything needed to
 * rebuild the paper's tables without the model: configuration, preset, seed, backend, versions,
 * training outcome and curves, OOD accuracies, chosen length, G, C, ranks, Delta, classes, pruning,
 * and the wall time of every phase). The trained model sits beside it as `<task>_seed<seed>.ckpt`
 * (git-ignored; `run` retrains it). The store's names are re-exported here.
 *
 * `runOne` is resumable: a valid results file means done; a valid checkpoint without results means
 * training finished and only the analysis is redone; a training checkpoint
 * (`<task>_seed<seed>.partial.ckpt`, written at every stopping check) means training continues from
 * its step, exactly as if it had never stopped; anything else starts from scratch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkMeasuresOf } from '../analysis/registry';
import { checkOodLengths } from '../analysis/ood';
import { AnalysisResult, analyzeModel } from '../analysis/pipeline';
import { loadCheckpoint } from '../records/checkpoint';
import { checkRunConflicts, checkStoreKernels, reanalysisProblem, sizeOfFolder } from './conflicts';
import { checkPreset, ExperimentConfig, PresetName } from '../settings/config';
import { getTask, TaskName } from '../tasks';
import { checkRun } from '../settings/run-spec';
import { cleanStaleTemps, makeDir, setAside, WriteBatch, WriteError, writeFileAtomic } from '../io/files';
import { onInterrupt } from '../io/interrupt';
import { InterruptedError } from '../base/stop';
import { RunLock } from '../io/lock';
import type { Transformer } from '../model/model';
import { provenance } from '../records/provenance';
import { sealRecord } from '../records/record-check';
import { checkNoConflict, inspectRecord, runPaths } from '../records/store';
import { configDiff, RejectedFile, RESULTS_FORMAT, RunRecord, TrainingOutcome } from '../records/format';
import { trainToCheckpoint, reuseCheckpoint } from './train-run';
export interface RunOptions {
  dir: string;
  preset: PresetName;
  task: TaskName;
  seed: number;
  cfg: ExperimentConfig;
  /** Candidate OOD lengths (default 8..11). */
  oodLengths?: readonly number[];
  /** Allow candidate lengths inside the training lengths (tiny test models; recorded as ood.withinTraining). */
  allowIdLengths?: boolean;
  /** Replace finished or partial work at this run's paths that was made with other settings (default: refuse). */
  replace?: boolean;
  /** Minutes without a heartbeat after which another machine's lock on this run may be taken over. */
  lockStaleMinutes?: number;
  log?: (line: string) => void;
}

/**
 * Train (or reuse a finished checkpoint), analyse, and write the results file, holding the run's
 * lock throughout (RunLockedError if another process holds it).
 */
export function runOne(opts: RunOptions): { record: RunRecord; skipped: boolean } {
  const { preset, task, seed, cfg } = opts;
  const log = opts.log ?? (() => undefined);
  checkRunOptions(opts);
  const run = prepareRun(opts, log);
  try {
    if (run.done) return { record: run.done, skipped: true };
    const t0 = performance.now();
    const { model, training } =
      run.reused ??
      trainToCheckpoint({ task, seed, preset, cfg, checkpoint: run.paths.checkpoint, partial: run.paths.partial, log });
    const record = analyzeAndWrite({ ...opts, model, training, trainMs: performance.now() - t0, log, lock: run.lock });
    return { record, skipped: false };
  } finally {
    run.lock.release();
  }
}

/** The command line's checks of a run's options, at every entry (notebooks call the runner directly). */
export function checkRunOptions(
  opts: Pick<RunOptions, 'preset' | 'task' | 'seed' | 'cfg' | 'oodLengths' | 'allowIdLengths'>,
): void {
  checkPreset(opts.preset);
  checkRun(opts.task, opts.seed, opts.cfg);
  checkMeasuresOf(opts.cfg.analysis);
  checkOodLengths(opts.oodLengths ?? getTask(opts.task).oodLengths, opts.cfg, opts.allowIdLengths);
}

/** A run taken under its lock: finished already (`done`), with a trained model to reuse, or to be trained. */
export interface PreparedRun {
  paths: ReturnType<typeof runPaths>;
  lock: RunLock;
  done?: RunRecord;
  reused?: { model: Transformer; training: TrainingOutcome };
}

/**
 * Takes a run's lock (RunLockedError if another process holds it) and finds what is done: a valid
 * results file (kept unless --replace with other settings; one with other settings is refused), a
 * finished checkpoint made with the same training settings, or nothing usable (a damaged results
 * file is moved aside). Conflicts with the folder's other work are refused here. The caller
 * releases the lock.
 */
export function prepareRun(opts: RunOptions, log: (line: string) => void): PreparedRun {
  const { dir, preset, task, seed, cfg } = opts;
  const paths = runPaths(dir, preset, task, seed);
  const folder = path.dirname(paths.results);
  makeDir(folder);
  for (const f of cleanStaleTemps(folder))
    log(`removed ${path.join(folder, f)} (a temporary file left by a stopped process)`);
  const lock = RunLock.acquire(paths.lock, { staleMinutes: opts.lockStaleMinutes, onTakeover: log });
  try {
    const existing = inspectRecord(paths.results);
    if (existing.status === 'ok') {
      if (!opts.replace) {
        checkNoConflict(paths.results, existing.record, cfg);
        return { paths, lock, done: existing.record };
      }
      if (!configDiff(existing.record.config, cfg).length) return { paths, lock, done: existing.record };
      log(`${paths.results}: replacing a finished run made with other settings (--replace)`);
    } else if (existing.status === 'bad') {
      log(`warning: ${paths.results} ${existing.reason}; moved aside to ${setAside(paths.results)}, the run is redone`);
    }
    if (!opts.replace) checkRunConflicts(dir, preset, task, seed, cfg);
    checkStoreKernels(folder);
    const reused = reuseCheckpoint(paths.checkpoint, cfg, { preset, task, seed }, log);
    if (reused) log(`${task} seed ${seed}: reusing trained checkpoint ${paths.checkpoint}`);
    return { paths, lock, reused: reused ?? undefined };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** Analyses a trained model (then disposes it): the results record of the run. */
function analyzeRun(
  opts: RunOptions & { model: Transformer; training: TrainingOutcome; trainMs: number; log: (line: string) => void },
): RunRecord {
  const { preset, task, seed, cfg, model } = opts;
  opts.log(`${task} seed ${seed}: analysing`);
  const t0 = performance.now();
  let analysis: AnalysisResult;
  try {
    analysis = analyzeModel({ model, task, seed, cfg: cfg.analysis, oodLengths: opts.oodLengths });
  } finally {
    model.dispose();
  }
  if ((opts.oodLengths ?? getTask(task).oodLengths).some((n) => n <= cfg.data.maxLen))
    analysis.ood.withinTraining = true;
  return sealRecord({
    format: RESULTS_FORMAT,
    preset,
    task,
    seed,
    config: cfg,
    provenance: provenance(),
    training: opts.training,
    analysis,
    timingsMs: { train: opts.trainMs, analysis: performance.now() - t0 },
  });
}

/** Refuses to write a run's results when another process took its lock over meanwhile. */
function checkStillHeld(file: string, lock: RunLock): void {
  if (!lock.held())
    throw new Error(
      `${file}: not written: another process took this run's lock over while it ran (${lock.file}); its own result will stand`,
    );
}

/** Analyses a trained model (then disposes it) and writes its results file atomically; warns first when training ended below its target. */
export function analyzeAndWrite(
  opts: RunOptions & {
    model: Transformer;
    training: TrainingOutcome;
    trainMs: number;
    log: (line: string) => void;
    lock: RunLock;
  },
): RunRecord {
  const { task, seed, cfg, training } = opts;
  if (!training.reachedTarget) {
    const acc = training.finalAcc === null ? 'unknown' : `${(100 * training.finalAcc).toFixed(1)}%`;
    opts.log(
      `warning: ${task} seed ${seed}: training ended after ${training.steps} steps (${training.stopReason}) at training-distribution exact match ${acc}, below train.targetAcc=${cfg.train.targetAcc}; the analysis runs on this model as it is`,
    );
  }
  const record = analyzeRun(opts);
  const file = runPaths(opts.dir, opts.preset, opts.task, opts.seed).results;
  checkStillHeld(file, opts.lock);
  writeFileAtomic(file, JSON.stringify(record, null, 1));
  return record;
}

/**
 * Re-runs the analysis on every trained checkpoint of a preset in the results store (no
 * retraining) and rewrites the results files: after a change to the analysis code, or to study an
 * analysis setting (`analysis` overrides; training settings cannot change here).
 *
 * Every checkpoint is checked before it is used: its metadata must name the run its file name
 * says, its training settings must be those of the results file it replaces (and of the size its
 * folder names). The new results files are written as one batch (WriteBatch): nothing is replaced
 * until every run is analysed, so an interrupted re-analysis leaves the store as it was. A
 * checkpoint that cannot be analysed does not stop the others: every failure is returned, and the
 * runs that were analysed are written.
 */
export function reanalyze(opts: {
  dir: string;
  preset: PresetName;
  analysis: Partial<ExperimentConfig['analysis']>;
  oodLengths?: readonly number[];
  allowIdLengths?: boolean;
  lockStaleMinutes?: number;
  log?: (line: string) => void;
}): { records: RunRecord[]; failures: RejectedFile[] } {
  const log = opts.log ?? (() => undefined);
  const sub = path.join(opts.dir, opts.preset);
  const name = /^([a-z][a-z0-9-]*)_seed(\d+)\.ckpt$/;
  const files = fs.existsSync(sub)
    ? fs
        .readdirSync(sub)
        .filter((f) => name.test(f))
        .sort()
    : [];
  for (const f of cleanStaleTemps(sub))
    log(`removed ${path.join(sub, f)} (a temporary file left by a stopped process)`);
  const size = sizeOfFolder(sub);
  const records: RunRecord[] = [];
  const failures: RejectedFile[] = [];
  const locks: RunLock[] = [];
  const batch = new WriteBatch();
  const dropCleanup = onInterrupt(() => {
    batch.abort();
    for (const l of locks) l.release();
  });
  try {
    for (const f of files) {
      const file = path.join(sub, f);
      const [, task, seed] = name.exec(f)!;
      const paths = runPaths(opts.dir, opts.preset, task, Number(seed));
      let lock: RunLock | null = null;
      try {
        lock = RunLock.acquire(paths.lock, { staleMinutes: opts.lockStaleMinutes, onTakeover: log });
        const ck = loadCheckpoint(file);
        const problem = reanalysisProblem(ck, { preset: opts.preset, task, seed: Number(seed) }, paths.results, size);
        if (problem) {
          ck.model.dispose();
          throw new Error(problem);
        }
        const training = ck.meta.training as TrainingOutcome;
        const { cfg } = checkRun(task, Number(seed), {
          ...ck.config,
          analysis: { ...ck.config.analysis, ...opts.analysis },
        });
        checkOodLengths(opts.oodLengths ?? getTask(task).oodLengths, cfg, opts.allowIdLengths);
        log(`${f}: analysing`);
        const record = analyzeRun({
          dir: opts.dir,
          preset: opts.preset,
          task: task as TaskName,
          seed: Number(seed),
          cfg,
          oodLengths: opts.oodLengths,
          model: ck.model,
          training,
          trainMs: 0,
          log,
        });
        batch.add(paths.results, JSON.stringify(record, null, 1));
        records.push(record);
        locks.push(lock);
        lock = null; // held until the batch is written
      } catch (e) {
        if (e instanceof InterruptedError || e instanceof WriteError) throw e;
        failures.push({ file, reason: (e as Error).message });
        log(`${f}: FAILED: ${(e as Error).message}`);
      } finally {
        lock?.release();
      }
    }
    for (const [i, l] of locks.entries())
      checkStillHeld(runPaths(opts.dir, opts.preset, records[i].task, records[i].seed).results, l);
    batch.commit();
    if (records.length) log(`wrote ${records.length} results files at once`);
  } catch (e) {
    batch.abort();
    throw e;
  } finally {
    dropCleanup();
    for (const l of locks) l.release();
  }
  return { records, failures };
}
