/** Training a run to its checkpoint: from scratch, from a training checkpoint (exactly as if it had never stopped), or reusing a finished one; what a run's record says of its training. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CheckpointError,
  identityProblem,
  loadCheckpoint,
  RunIdentity,
  saveCheckpoint,
  saveTrainingCheckpoint,
  trainStateOf,
} from '../records/checkpoint';
import { checkCheckpointConflict, checkpointTraining } from './conflicts';
import { ExperimentConfig, PresetName } from '../settings/config';
import { TaskName } from '../tasks';
import { cleanStaleTemps, makeDir, setAside, writeFileAtomic } from '../io/files';
import { RunLock } from '../io/lock';
import type { Transformer } from '../model/model';
import { provenance } from '../records/provenance';
import { runPaths } from '../records/store';
import { configDiffValues, TRAINING_SECTIONS, TrainingOutcome } from '../records/format';
import { sizeOf } from '../settings/sizes';
import { EvalPoint, TrainingDivergedError, TrainResult, TrainState } from '../train/train';
import { trainingOutcome, trainRun } from './training';

export { trainingOutcome };

/** A stopping check in the runner's log: `sort seed 42: step 500, training-distribution exact match 91.0%`. */
export function describeCheck(task: TaskName, seed: number, e: EvalPoint): string {
  return `${task} seed ${seed}: step ${e.step}, training-distribution exact match ${(100 * e.acc).toFixed(1)}%`;
}

/** What a checkpoint of this run records besides its weights and configuration (its training outcome is added when it finishes). */
export function checkpointMeta(task: TaskName, seed: number, preset: PresetName, cfg: ExperimentConfig) {
  const prov = provenance();
  // Which run this is (task, seed, preset; the size and every training setting are in the config it is saved with): every reader checks it.
  return {
    task,
    seed,
    preset,
    size: sizeOf(cfg.model),
    steps: 0,
    backend: prov.backend,
    kernels: prov.kernels,
    provenance: prov,
  };
}

/**
 * The one way a model is trained to a checkpoint (`run`, sweeps, `train`, notebooks): resumes from
 * `partial` when it holds a training state made with the same training settings, rewrites it at
 * every stopping check, saves the finished model with its training outcome and provenance (backend,
 * kernels) to `checkpoint`, and removes `partial`. The caller holds the run's lock.
 */
export function trainToCheckpoint(opts: {
  task: TaskName;
  seed: number;
  preset: PresetName;
  cfg: ExperimentConfig;
  checkpoint: string;
  partial: string;
  log: (line: string) => void;
  /** Each stopping check (default: a log line). */
  onEval?: (e: EvalPoint) => void;
}): { model: Transformer; training: TrainingOutcome; result: TrainResult } {
  const { task, seed, cfg, log } = opts;
  const meta = checkpointMeta(task, seed, opts.preset, cfg);
  const want = { preset: opts.preset, task, seed };
  setAsideForeign(opts.checkpoint, want, log); // another run's model under this name is kept, never overwritten
  const resume = loadPartial(opts.partial, cfg, want, log);
  log(
    resume
      ? `${task} seed ${seed}: resuming training at step ${resume.state.step} from ${opts.partial}`
      : `${task} seed ${seed}: training`,
  );
  const result = trainRun({
    task,
    seed,
    cfg,
    model: resume?.model,
    resume: resume?.state,
    onEval: opts.onEval ?? ((e) => log(describeCheck(task, seed, e))),
    onCheckpoint: (m, state) => saveTrainingCheckpoint(opts.partial, m, cfg, meta, state),
  });
  const training = trainingOutcome(result);
  saveCheckpoint(opts.checkpoint, result.model, cfg, { ...meta, steps: result.steps, training });
  fs.rmSync(opts.partial, { force: true });
  return { model: result.model, training, result };
}

/**
 * `gcg train`: one (task, seed) trained to `<out>/<preset>/<task>_seed<seed>.ckpt` (the layout `run` uses) and its training
 * record `.train.json` (configuration, provenance, curves, outcome; for a run that diverged, the
 * curves and the error), under the run's lock; work in the folder made with other settings or for
 * another run is refused before any training (unless `replace`). Resumes from the training
 * checkpoint as runOne does.
 */
export function trainOne(opts: {
  out: string;
  preset: PresetName;
  task: TaskName;
  seed: number;
  cfg: ExperimentConfig;
  replace?: boolean;
  log: (line: string) => void;
  onEval?: (e: EvalPoint) => void;
}): { result: TrainResult; checkpoint: string; record: string } {
  const { out, preset, task, seed, cfg } = opts;
  // The run's own layout (runPaths), as `run` writes it: `run --results <out>` then reuses this model.
  const paths = runPaths(out, preset, task, seed);
  const files = {
    checkpoint: paths.checkpoint,
    partial: paths.partial,
    record: paths.results.replace(/\.json$/, '.train.json'),
    lock: paths.lock,
  };
  makeDir(path.dirname(files.checkpoint));
  if (!opts.replace) {
    checkCheckpointConflict(files.checkpoint, cfg, '--out folder', 'retrain and replace it', { preset, task, seed });
    checkCheckpointConflict(files.partial, cfg, '--out folder', 'start training afresh and replace it', {
      preset,
      task,
      seed,
    });
  }
  cleanStaleTemps(path.dirname(files.checkpoint));
  const lock = RunLock.acquire(files.lock);
  try {
    let result: TrainResult;
    try {
      ({ result } = trainToCheckpoint({
        task,
        seed,
        preset,
        cfg,
        checkpoint: files.checkpoint,
        partial: files.partial,
        log: opts.log,
        onEval: opts.onEval,
      }));
    } catch (e) {
      if (e instanceof TrainingDivergedError) {
        writeFileAtomic(
          files.record,
          JSON.stringify(
            {
              preset,
              task,
              seed,
              config: cfg,
              provenance: provenance(),
              error: e.message,
              losses: e.losses,
              evals: e.evals,
            },
            null,
            1,
          ),
        );
        opts.log(`${e.message}; wrote ${files.record}`);
      }
      throw e;
    }
    const record = {
      preset,
      task,
      seed,
      config: cfg,
      provenance: provenance(),
      ...trainingOutcome(result),
      checkpoint: files.checkpoint,
    };
    writeFileAtomic(files.record, JSON.stringify(record, null, 1));
    return { result, checkpoint: files.checkpoint, record: files.record };
  } finally {
    lock.release();
  }
}

/**
 * A finished checkpoint made with the same training settings (model and outcome), or null. A
 * checkpoint that cannot be used (damaged, or without its training record) is moved aside, never
 * overwritten; one with other settings is left where it is (runOne refuses it unless --replace).
 */
export function reuseCheckpoint(
  file: string,
  cfg: ExperimentConfig,
  want: RunIdentity,
  log: (line: string) => void,
): { model: Transformer; training: TrainingOutcome } | null {
  if (!fs.existsSync(file)) return null;
  try {
    const ck = loadCheckpoint(file);
    const other = identityProblem(ck.meta, want);
    if (!other && !configDiffValues(ck.config, cfg, TRAINING_SECTIONS).length && ck.meta.training)
      return { model: ck.model, training: ck.meta.training as TrainingOutcome };
    ck.model.dispose();
    if (other) log(`warning: ${file} ${other}; moved aside to ${setAside(file)}, retraining`);
    else if (!ck.meta.training)
      log(`warning: ${file} has no training record; moved aside to ${setAside(file)}, retraining`);
    else log(`${file}: replacing a model trained with other settings (--replace)`);
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    log(`warning: unusable checkpoint (${e.message}); moved aside to ${setAside(file)}, retraining`);
  }
  return null;
}

/** Moves a readable checkpoint of another run (by its metadata) out of this run's way, keeping it. */
export function setAsideForeign(file: string, want: RunIdentity, log: (line: string) => void): void {
  const there = checkpointTraining(file);
  const other = there && identityProblem(there.meta, want);
  if (other) log(`warning: ${file} ${other}; moved aside to ${setAside(file)}`);
}

/** The model and state of a usable training checkpoint (same training settings), else null (a damaged one is moved aside). */
export function loadPartial(
  file: string,
  cfg: ExperimentConfig,
  want: RunIdentity,
  log: (line: string) => void,
): { model: Transformer; state: TrainState } | null {
  if (!fs.existsSync(file)) return null;
  try {
    const ck = loadCheckpoint(file);
    const other = identityProblem(ck.meta, want);
    if (other) {
      ck.model.dispose();
      log(`warning: ${file} ${other}; moved aside to ${setAside(file)}, training from scratch`);
      return null;
    }
    if (configDiffValues(ck.config, cfg, TRAINING_SECTIONS).length) {
      ck.model.dispose();
      log(`${file}: replacing a training checkpoint made with other settings (--replace)`);
      return null;
    }
    return { model: ck.model, state: trainStateOf(file, ck) };
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    log(
      `warning: unusable training checkpoint (${e.message}); moved aside to ${setAside(file)}, training from scratch`,
    );
    return null;
  }
}
