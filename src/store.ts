/**
 * The results store, with no tensors: one JSON file per (preset, task, seed) under
 * `<dir>/<preset>/` (`<task>_seed<seed>.json`), the record's shape, and how the store is read: every
 * file checked against its name, folder and content (src/record-check.ts) before it counts, records
 * of one folder made with one set of settings, settings compared. Reports read records through
 * this module alone; training and analysing into the store is src/results.ts (the runner).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnalysisResult } from './analysis/pipeline';
import { completeConfig, ConfigError, ExperimentConfig, PRESETS, PresetName, TASKS, TaskName } from './config';
import type { Provenance } from './provenance';
import { recordProblem } from './record-check';
import type { Remeasured } from './study';

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
  /**
   * Trained stacked with other seeds (src/train-batched.ts; the same weights as alone, bit for bit):
   * the seeds that shared its steps. msPerStep is then its share of a stacked step.
   */
  batched?: { seeds: number[] };
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
  /** Records of the measures study (src/study.ts): where the model and its record came from, and how G and C compare. */
  remeasured?: Remeasured;
  /** The record's seal: SHA-256 of its JSON without this field (src/record-check.ts); absent in records written before seals. */
  sha256?: string;
}

export function runPaths(dir: string, preset: string, task: string, seed: number) {
  const base = path.join(dir, preset, `${task}_seed${seed}`);
  return { results: `${base}.json`, checkpoint: `${base}.ckpt`, partial: `${base}.partial.ckpt`, lock: `${base}.lock`, log: `${base}.log` };
}

/** `<task>_seed<seed>.json`: the only name a results file may have. */
export const RESULTS_NAME = /^([a-z][a-z0-9-]*)_seed(\d+)\.json$/;

/** What a results file holds: nothing yet, a valid record, or a file that must not be counted (and why). */
export type RecordCheck = { status: 'missing' } | { status: 'ok'; record: RunRecord } | { status: 'bad'; reason: string };

/**
 * Reads a results file and checks it against its name and folder: `<dir>/<preset>/<task>_seed<seed>.json`
 * must hold a complete record of that preset, task and seed, in this version's format. The file
 * name and folder are trusted for nothing: a copied, truncated or misplaced file is 'bad'.
 */
export function inspectRecord(file: string): RecordCheck {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
    return { status: 'bad', reason: `cannot be read (${(e as Error).message})` };
  }
  const bad = (reason: string): RecordCheck => ({ status: 'bad', reason });
  const name = RESULTS_NAME.exec(path.basename(file));
  if (!name) return bad('its name is not <task>_seed<seed>.json');
  if (!text.trim()) return bad('is empty');
  let rec: RunRecord;
  try {
    rec = JSON.parse(text);
  } catch {
    return bad('is not valid JSON (truncated or edited)');
  }
  if (!rec || typeof rec !== 'object') return bad('does not hold a results record');
  if (rec.format !== RESULTS_FORMAT) return bad(`has format ${JSON.stringify(rec.format)}; this version reads format ${RESULTS_FORMAT}`);
  const folder = path.basename(path.dirname(path.resolve(file)));
  if (rec.preset !== folder) return bad(`holds a run of preset ${JSON.stringify(rec.preset)} but sits in the folder of preset ${JSON.stringify(folder)}`);
  if (rec.task !== name[1]) return bad(`holds a run of task ${JSON.stringify(rec.task)} but is named for task ${JSON.stringify(name[1])}`);
  if (rec.seed !== Number(name[2])) return bad(`holds seed ${JSON.stringify(rec.seed)} but is named for seed ${name[2]}`);
  if (!(PRESETS as readonly string[]).includes(rec.preset) || !(TASKS as readonly string[]).includes(rec.task)) return bad('names an unknown preset or task');
  if (!rec.config || typeof rec.config !== 'object' || !rec.config.model || !rec.config.train || !rec.config.analysis) return bad('has no configuration');
  if (!rec.training || typeof rec.training.steps !== 'number') return bad('has no training outcome');
  if (!rec.analysis || (rec.analysis.status !== 'analysed' && rec.analysis.status !== 'skipped')) return bad('has no finished analysis');
  const config = completeConfig(rec.config, rec.preset);
  const problem = recordProblem(rec as unknown as Record<string, unknown>, config);
  if (problem) return bad(problem);
  return { status: 'ok', record: { ...rec, config } };
}

/** The record if the file is a complete, well-formed results file matching its name and folder, else null. */
export function readRecord(file: string): RunRecord | null {
  const c = inspectRecord(file);
  return c.status === 'ok' ? c.record : null;
}

/** A results file that was not counted, and why. */
export interface RejectedFile {
  file: string;
  reason: string;
}

/** Every valid record under `dir` (all presets unless one is named), sorted, and every file that was not counted. */
export function scanRecords(dir: string, preset?: string): { records: RunRecord[]; rejected: RejectedFile[] } {
  const records: RunRecord[] = [];
  const rejected: RejectedFile[] = [];
  if (!fs.existsSync(dir)) return { records, rejected };
  const presets = preset ? [preset] : fs.readdirSync(dir).filter((p) => (PRESETS as readonly string[]).includes(p) && fs.statSync(path.join(dir, p)).isDirectory());
  for (const p of presets) {
    const sub = path.join(dir, p);
    if (!fs.existsSync(sub)) continue;
    for (const f of fs.readdirSync(sub).filter((f) => f.endsWith('.json')).sort()) {
      const file = path.join(sub, f);
      const c = inspectRecord(file);
      if (c.status === 'ok') records.push(c.record);
      else if (c.status === 'bad') rejected.push({ file, reason: c.reason });
    }
  }
  records.sort((a, b) => a.preset.localeCompare(b.preset) || a.task.localeCompare(b.task) || a.seed - b.seed);
  return { records, rejected };
}

/**
 * Refuses a folder whose records were made with different settings (a re-analysis stopped half-way,
 * a run redone with --replace and other settings, two sweeps with different --set): counted
 * together they would mix two experiments. The error names each group of settings and its files.
 */
export function checkOneSettings(folder: string, records: readonly RunRecord[]): void {
  if (records.length < 2) return;
  const first = records[0];
  const others = records.filter((r) => configDiff(first.config, r.config).length);
  if (!others.length) return;
  const diff = configDiffValues(first.config, others[0].config);
  const name = (r: RunRecord) => `${r.task}_seed${r.seed}.json`;
  const same = records.filter((r) => !configDiff(first.config, r.config).length);
  throw new ConfigError(
    `${folder} mixes records made with different settings (${diff.map((d) => `${d.key}: ${JSON.stringify(d.a)} in ${same.length} records (${same.slice(0, 4).map(name).join(', ')}${same.length > 4 ? ', ...' : ''}), ${JSON.stringify(d.b)} in ${others.length} (${others.slice(0, 4).map(name).join(', ')}${others.length > 4 ? ', ...' : ''})`).join('; ')}); ` +
      'counting them together would mix two experiments: finish the re-analysis (gcg analyze with the same --set) or move the odd records to a folder of their own',
  );
}

/** Prints one warning line per results file that was not counted. */
export function warnRejected(rejected: readonly RejectedFile[]): void {
  for (const r of rejected) console.warn(`warning: not counted: ${r.file} ${r.reason}`);
}

/** Every complete record under `dir` (all presets unless one is named), sorted by preset, task, seed; files that are not counted are named in a warning. */
export function loadRecords(dir: string, preset?: string): RunRecord[] {
  const { records, rejected } = scanRecords(dir, preset);
  warnRejected(rejected);
  return records;
}


/** The settings that shape training (a trained model is the same model only if these agree). */
export const TRAINING_SECTIONS = ['model', 'data', 'train'] as const;

/** The settings (section.key) in which two configurations differ, with both values (`a` first). */
export function configDiffValues(a: ExperimentConfig, b: ExperimentConfig, sections: readonly (keyof ExperimentConfig)[] = ['model', 'data', 'train', 'analysis']): { key: string; a: unknown; b: unknown }[] {
  const out: { key: string; a: unknown; b: unknown }[] = [];
  for (const section of sections) {
    const x = (a[section] ?? {}) as unknown as Record<string, unknown>;
    const y = (b[section] ?? {}) as unknown as Record<string, unknown>;
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) if (JSON.stringify(x[k]) !== JSON.stringify(y[k])) out.push({ key: `${section}.${k}`, a: x[k], b: y[k] });
  }
  return out;
}

/** The settings (section.key) in which two configurations differ. */
export function configDiff(a: ExperimentConfig, b: ExperimentConfig): string[] {
  return configDiffValues(a, b).map((d) => d.key);
}

export function describeDiff(diff: ReturnType<typeof configDiffValues>): string {
  return diff.map((d) => `${d.key}: ${JSON.stringify(d.a)} there, ${JSON.stringify(d.b)} asked`).join('; ');
}

/** Finished or partial work that a run with other settings would replace: refused unless the user asks for --replace. */
export class RunConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunConflictError';
  }
}

/** Refuses to overwrite a finished run made with another configuration (nothing computed is lost). */
export function checkNoConflict(file: string, existing: RunRecord, cfg: ExperimentConfig): void {
  const diff = configDiffValues(existing.config, cfg);
  if (diff.length) {
    throw new RunConflictError(
      `${file} holds a finished run made with a different configuration (differs in ${describeDiff(diff)}); ` +
        'use another --results folder, or add --replace to redo it with the settings asked for',
    );
  }
}

/**
 * The backend and kernels a record or checkpoint was made with, in words (`wasm native+fused`,
 * `wasm native`, `wasm stock`, `tensorflow`): the native kernels with the fused LayerNorm, GELU and
 * Adam round differently from the native kernels without them (records made before them, or with
 * GCG_FUSED=off).
 */
export function kernelsLabel(p: { backend?: unknown; kernels?: unknown; fused?: unknown }): string {
  const backend = String(p.backend ?? 'unknown');
  const fused = Array.isArray(p.fused) && p.fused.length ? '+fused' : '';
  return backend === 'wasm' ? `wasm ${String(p.kernels ?? 'stock')}${p.kernels === 'native' ? fused : ''}` : backend;
}

/**
 * The backend and kernels a record's model was trained on (kernelsLabel): its own provenance's, or,
 * for a record of the measures study (which remeasures trained models; its provenance says where it
 * was measured), its source run's. Older remeasured records name only the source's kernels (their
 * sources are wasm runs made before the fused kernels).
 */
export function trainedOn(r: Pick<RunRecord, 'provenance' | 'remeasured'>): string {
  const m = r.remeasured;
  if (!m) return kernelsLabel(r.provenance);
  return m.trainedOn ?? `wasm ${m.trainingKernels}`;
}

/** The kernel families the records' models were trained on (trainedOn), sorted, each with its run count and the units (`unit` names a run's: its cell, its replica) it holds, sorted. */
export function trainingFamilies(records: readonly RunRecord[], unit: (r: RunRecord) => string): { family: string; units: string[]; runs: number }[] {
  return [...new Set(records.map(trainedOn))].sort().map((family) => {
    const rs = records.filter((r) => trainedOn(r) === family);
    return { family, units: [...new Set(rs.map(unit))].sort(), runs: rs.length };
  });
}

/** The families of records that must share one: how many, and in words (`wasm native: 3 runs (a, b); wasm stock: 1 run (c)`); null when they do share one. */
export function familyMix(records: readonly RunRecord[], unit: (r: RunRecord) => string): { families: number; words: string } | null {
  const fams = trainingFamilies(records, unit);
  if (fams.length <= 1) return null;
  return { families: fams.length, words: fams.map((f) => `${f.family}: ${f.runs} run${f.runs === 1 ? '' : 's'} (${f.units.join(', ')})`).join('; ') };
}
