/**
 * The results store: one JSON file per (preset, task, seed) under `<dir>/<preset>/`, written
 * atomically, holding everything needed to rebuild the paper's tables without the model:
 * configuration, preset, seed, backend, versions, training outcome and curves, OOD accuracies,
 * chosen length, G, C, ranks, Delta, classes, pruning, and the wall time of every phase.
 * The trained model sits beside it as `<task>_seed<seed>.ckpt` (git-ignored; `run` retrains it).
 *
 * `runOne` is resumable: a valid results file means done; a valid checkpoint without results means
 * training finished and only the analysis is redone; a training checkpoint
 * (`<task>_seed<seed>.partial.ckpt`, written at every stopping check) means training continues from
 * its step, exactly as if it had never stopped; anything else starts from scratch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeModel, AnalysisResult } from './analysis/pipeline';
import { backendInfo } from './backend';
import { CheckpointError, loadCheckpoint, saveCheckpoint, saveTrainingCheckpoint, trainStateOf } from './checkpoint';
import { ExperimentConfig, PresetName, TaskName, validateConfig } from './config';
import type { Transformer } from './model';
import { provenance, Provenance, writeFileAtomic } from './provenance';
import { train, TrainResult, TrainState } from './train';

export const RESULTS_FORMAT = 1;

export interface TrainingOutcome {
  steps: number;
  reachedTarget: boolean;
  stopReason: string;
  finalAcc: number | null;
  wallMs: number;
  msPerStep: number;
  losses: number[];
  evals: { step: number; acc: number }[];
}

export interface RunRecord {
  format: number;
  preset: PresetName;
  task: TaskName;
  seed: number;
  config: ExperimentConfig;
  provenance: Provenance;
  training: TrainingOutcome;
  analysis: AnalysisResult;
  timingsMs: { train: number; analysis: number };
}

export function runPaths(dir: string, preset: string, task: string, seed: number) {
  const base = path.join(dir, preset, `${task}_seed${seed}`);
  return { results: `${base}.json`, checkpoint: `${base}.ckpt`, partial: `${base}.partial.ckpt` };
}

/** The record if the file exists and is complete and well formed, else null (missing or partial). */
export function readRecord(file: string): RunRecord | null {
  let rec: RunRecord;
  try {
    rec = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  const ok =
    rec &&
    rec.format === RESULTS_FORMAT &&
    typeof rec.seed === 'number' &&
    typeof rec.task === 'string' &&
    rec.analysis &&
    (rec.analysis.status === 'analysed' || rec.analysis.status === 'skipped') &&
    rec.training &&
    typeof rec.training.steps === 'number';
  return ok ? rec : null;
}

/** Every complete record under `dir` (all presets unless one is named), sorted by preset, task, seed. */
export function loadRecords(dir: string, preset?: string): RunRecord[] {
  if (!fs.existsSync(dir)) return [];
  const presets = preset ? [preset] : fs.readdirSync(dir).filter((p) => fs.statSync(path.join(dir, p)).isDirectory());
  const out: RunRecord[] = [];
  for (const p of presets) {
    const sub = path.join(dir, p);
    if (!fs.existsSync(sub)) continue;
    for (const f of fs.readdirSync(sub).filter((f) => f.endsWith('.json'))) {
      const r = readRecord(path.join(sub, f));
      if (r) out.push(r);
    }
  }
  return out.sort((a, b) => a.preset.localeCompare(b.preset) || a.task.localeCompare(b.task) || a.seed - b.seed);
}

export interface RunOptions {
  dir: string;
  preset: PresetName;
  task: TaskName;
  seed: number;
  cfg: ExperimentConfig;
  /** Candidate OOD lengths (default 8..11). */
  oodLengths?: readonly number[];
  extraMeasures?: string[];
  log?: (line: string) => void;
}

function sameTraining(a: ExperimentConfig, b: ExperimentConfig): boolean {
  return JSON.stringify([a.model, a.data, a.train]) === JSON.stringify([b.model, b.data, b.train]);
}

/** The settings (section.key) in which two configurations differ. */
export function configDiff(a: ExperimentConfig, b: ExperimentConfig): string[] {
  const out: string[] = [];
  for (const section of ['model', 'data', 'train', 'analysis'] as const) {
    const x = (a[section] ?? {}) as unknown as Record<string, unknown>;
    const y = (b[section] ?? {}) as unknown as Record<string, unknown>;
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) if (JSON.stringify(x[k]) !== JSON.stringify(y[k])) out.push(`${section}.${k}`);
  }
  return out;
}

/** Refuses to overwrite a finished run made with another configuration (nothing computed is lost). */
export function checkNoConflict(file: string, existing: RunRecord, cfg: ExperimentConfig): void {
  const diff = configDiff(existing.config, cfg);
  if (diff.length) {
    throw new Error(`${file} holds a finished run made with a different configuration (differs in ${diff.join(', ')}); move it away or use another --results folder`);
  }
}

/** Train (or reuse a finished checkpoint), analyse, and write the results file. */
export function runOne(opts: RunOptions): { record: RunRecord; skipped: boolean } {
  const { dir, preset, task, seed, cfg } = opts;
  const log = opts.log ?? (() => undefined);
  const paths = runPaths(dir, preset, task, seed);
  const existing = readRecord(paths.results);
  if (existing) {
    checkNoConflict(paths.results, existing, cfg);
    return { record: existing, skipped: true };
  }
  let model: Transformer | null = null;
  let training: TrainingOutcome | null = null;
  const t0 = performance.now();
  if (fs.existsSync(paths.checkpoint)) {
    try {
      const ck = loadCheckpoint(paths.checkpoint);
      if (sameTraining(ck.config, cfg) && ck.meta.training) {
        model = ck.model;
        training = ck.meta.training as TrainingOutcome;
        log(`${task} seed ${seed}: reusing trained checkpoint ${paths.checkpoint}`);
      } else {
        ck.model.dispose();
      }
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      log(`${task} seed ${seed}: ignoring unusable checkpoint (${e.message}); retraining`);
    }
  }
  if (!model || !training) {
    const meta = { task, seed, preset, steps: 0, backend: backendInfo().backend };
    const resume = loadPartial(paths.partial, cfg, log);
    log(resume ? `${task} seed ${seed}: resuming training at step ${resume.state.step}` : `${task} seed ${seed}: training`);
    const r = train({
      task,
      seed,
      cfg,
      model: resume?.model,
      resume: resume?.state,
      onEval: (e) => log(`${task} seed ${seed}: step ${e.step}, training-distribution exact match ${(100 * e.acc).toFixed(1)}%`),
      onCheckpoint: (m, state) => saveTrainingCheckpoint(paths.partial, m, cfg, meta, state),
    });
    model = r.model;
    training = trainingOutcome(r);
    saveCheckpoint(paths.checkpoint, model, cfg, { ...meta, steps: r.steps, training });
    fs.rmSync(paths.partial, { force: true });
  }
  const record = analyzeAndWrite({ ...opts, model, training, trainMs: performance.now() - t0, log });
  return { record, skipped: false };
}

/** The model and state of a usable training checkpoint (same training settings), else null. */
function loadPartial(file: string, cfg: ExperimentConfig, log: (line: string) => void): { model: Transformer; state: TrainState } | null {
  if (!fs.existsSync(file)) return null;
  try {
    const ck = loadCheckpoint(file);
    if (!sameTraining(ck.config, cfg)) {
      ck.model.dispose();
      log(`ignoring ${file}: made with other training settings`);
      return null;
    }
    return { model: ck.model, state: trainStateOf(file, ck) };
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    log(`ignoring unusable training checkpoint (${e.message}); training from scratch`);
    return null;
  }
}

/** The training outcome a results file and a checkpoint record. */
export function trainingOutcome(r: TrainResult): TrainingOutcome {
  return {
    steps: r.steps,
    reachedTarget: r.reachedTarget,
    stopReason: r.stopReason,
    finalAcc: r.evals.length ? r.evals[r.evals.length - 1].acc : null,
    wallMs: r.wallMs,
    msPerStep: r.msPerStep,
    losses: r.losses,
    evals: r.evals,
  };
}

/** Analyses a trained model (then disposes it) and writes its results file atomically. */
function analyzeAndWrite(opts: RunOptions & { model: Transformer; training: TrainingOutcome; trainMs: number; log: (line: string) => void }): RunRecord {
  const { dir, preset, task, seed, cfg, model } = opts;
  opts.log(`${task} seed ${seed}: analysing`);
  const t0 = performance.now();
  const analysis = analyzeModel({ model, task, seed, cfg: cfg.analysis, oodLengths: opts.oodLengths, extraMeasures: opts.extraMeasures });
  model.dispose();
  const record: RunRecord = {
    format: RESULTS_FORMAT,
    preset,
    task,
    seed,
    config: cfg,
    provenance: provenance(),
    training: opts.training,
    analysis,
    timingsMs: { train: opts.trainMs, analysis: performance.now() - t0 },
  };
  writeFileAtomic(runPaths(dir, preset, task, seed).results, JSON.stringify(record, null, 1));
  return record;
}

/**
 * Re-runs the analysis on every trained checkpoint of a preset in the results store (no
 * retraining) and rewrites the results files: after a change to the analysis code, or to study an
 * analysis setting (`analysis` overrides; training settings cannot change here).
 */
export function reanalyze(opts: {
  dir: string;
  preset: PresetName;
  analysis: Partial<ExperimentConfig['analysis']>;
  oodLengths?: readonly number[];
  log?: (line: string) => void;
}): RunRecord[] {
  const log = opts.log ?? (() => undefined);
  const sub = path.join(opts.dir, opts.preset);
  const files = fs.existsSync(sub) ? fs.readdirSync(sub).filter((f) => /^(reverse|sort)_seed\d+\.ckpt$/.test(f)).sort() : [];
  const out: RunRecord[] = [];
  for (const f of files) {
    const ck = loadCheckpoint(path.join(sub, f));
    const training = ck.meta.training as TrainingOutcome | undefined;
    const task = String(ck.meta.task) as TaskName;
    const seed = Number(ck.meta.seed);
    if (!training) {
      ck.model.dispose();
      log(`${f}: skipped (its metadata has no training record)`);
      continue;
    }
    const cfg = validateConfig({ ...ck.config, analysis: { ...ck.config.analysis, ...opts.analysis } });
    out.push(analyzeAndWrite({ dir: opts.dir, preset: opts.preset, task, seed, cfg, oodLengths: opts.oodLengths, model: ck.model, training, trainMs: 0, log }));
  }
  return out;
}
