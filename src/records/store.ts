/**
 * The results store, with no tensors: one JSON file per (preset, task, seed) under
 * `<dir>/<preset>/` (`<task>_seed<seed>.json`), the record's shape, and how the store is read: every
 * file checked against its name, folder and content (src/records/record-check.ts) before it counts, records
 * of one folder made with one set of settings, settings compared. Reports read records through
 * this module alone; training and analysing into the store is src/runner/run.ts (the runner).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, ExperimentConfig, PRESETS } from '../settings/config';
import { completeConfig } from '../settings/validate';
import { TASKS } from '../tasks';
import {
  configDiff,
  configDiffValues,
  describeDiff,
  RecordCheck,
  RejectedFile,
  RESULTS_FORMAT,
  RESULTS_NAME,
  RunRecord,
} from './format';
import { recordProblem } from './record-check';

export function runPaths(dir: string, preset: string, task: string, seed: number) {
  const base = path.join(dir, preset, `${task}_seed${seed}`);
  return {
    results: `${base}.json`,
    checkpoint: `${base}.ckpt`,
    partial: `${base}.partial.ckpt`,
    lock: `${base}.lock`,
    log: `${base}.log`,
  };
}

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
  if (rec.format !== RESULTS_FORMAT)
    return bad(`has format ${JSON.stringify(rec.format)}; this version reads format ${RESULTS_FORMAT}`);
  const folder = path.basename(path.dirname(path.resolve(file)));
  if (rec.preset !== folder)
    return bad(
      `holds a run of preset ${JSON.stringify(rec.preset)} but sits in the folder of preset ${JSON.stringify(folder)}`,
    );
  if (rec.task !== name[1])
    return bad(`holds a run of task ${JSON.stringify(rec.task)} but is named for task ${JSON.stringify(name[1])}`);
  if (rec.seed !== Number(name[2]))
    return bad(`holds seed ${JSON.stringify(rec.seed)} but is named for seed ${name[2]}`);
  if (!(PRESETS as readonly string[]).includes(rec.preset) || !(TASKS as readonly string[]).includes(rec.task))
    return bad('names an unknown preset or task');
  if (!rec.config || typeof rec.config !== 'object' || !rec.config.model || !rec.config.train || !rec.config.analysis)
    return bad('has no configuration');
  if (!rec.training || typeof rec.training.steps !== 'number') return bad('has no training outcome');
  if (!rec.analysis || (rec.analysis.status !== 'analysed' && rec.analysis.status !== 'skipped'))
    return bad('has no finished analysis');
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

/** Every valid record under `dir` (all presets unless one is named), sorted, and every file that was not counted. */
export function scanRecords(dir: string, preset?: string): { records: RunRecord[]; rejected: RejectedFile[] } {
  const records: RunRecord[] = [];
  const rejected: RejectedFile[] = [];
  if (!fs.existsSync(dir)) return { records, rejected };
  const presets = preset
    ? [preset]
    : fs
        .readdirSync(dir)
        .filter((p) => (PRESETS as readonly string[]).includes(p) && fs.statSync(path.join(dir, p)).isDirectory());
  for (const p of presets) {
    const sub = path.join(dir, p);
    if (!fs.existsSync(sub)) continue;
    for (const f of fs
      .readdirSync(sub)
      .filter((f) => f.endsWith('.json'))
      .sort()) {
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
