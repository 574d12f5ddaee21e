/**
 * A command of the command line as every part declares it (the core commands in src/faces/,
 * each study's in its wing, src/studies/<name>/index.ts): its name, help, options and defaults,
 * and its work, loaded only once a command line has parsed (help answers without TensorFlow). With
 * the checks that several commands' work shares (OOD lengths, a results folder to read, its runs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkOodLengths } from '../analysis/ood';
import { checkMeasuresOf } from '../analysis/registry';
import { checkReadableDir } from '../io/files';
import type { RunRecord } from '../records/format';
import { checkOneSettings, scanRecords, warnRejected } from '../records/store';
import { checkTask, ConfigError, ExperimentConfig, PresetName } from '../settings/config';
import { checkTaskConfig } from '../settings/validate';
import { getTask, TaskName, TASKS } from '../tasks';
import { parseIntList } from '../settings/typed';

/** What a command line's options parsed to (src/faces/cli-args.ts parse). */
export type Opts = {
  task: string;
  seed: string;
  preset: string;
  set: string[];
  out: string;
  results: string;
  tasks: string;
  seeds: string;
  sizes?: string;
  index?: string;
  'seeds-per-job'?: string;
  replicas?: string;
  workers: string;
  'ood-lengths'?: string;
  'allow-id-lengths'?: boolean;
  replace?: boolean;
  'lock-stale'?: string;
  seal?: boolean;
  checkpoint?: string;
  csv?: string;
  'fig-dir'?: string;
  report?: string;
  measures?: string;
  list?: boolean;
  'no-retrain'?: boolean;
  study?: string;
  kernels?: string;
  /** Options a study declares for its own commands (Study.options). */
  [option: string]: string | string[] | boolean | undefined;
};

/** An option a study declares for its own commands: how it parses, and its help line(s). */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The help's lines for it, e.g. `  --replicas R    stability: ... (default 4)`. */
  doc: string;
}

export interface Command {
  name: string;
  /** What it does, as the help's Commands section says it (continuation lines indented 12). */
  doc: string;
  /** The options it takes, in help order. */
  options: readonly string[];
  /** Defaults that differ for this command. */
  defaults?: Readonly<Record<string, string>>;
  /** Its work: imported only when it runs, so that help and argument errors load no TensorFlow. */
  load(): Promise<(opts: Opts) => Promise<number>>;
}

/** A study: a folder of its own (src/studies/<name>/), listed once (src/faces/studies.ts). */
export interface Study {
  name: string;
  /** What it asks, in one line. */
  summary: string;
  /** The report it writes and the folder of its figures (relative to the project root). */
  report: string;
  figures: string;
  /** Its commands; their help, options and dispatch come from here. */
  commands: readonly Command[];
  /** Options only its commands take. */
  options?: Readonly<Record<string, OptionSpec>>;
}

/** The candidate OOD lengths (undefined: each task's own), checked against the run's configuration and tasks before any work. */
export function oodLengths(opts: Opts, cfg?: ExperimentConfig, tasks: readonly TaskName[] = []): number[] | undefined {
  const given =
    opts['ood-lengths'] === undefined ? undefined : parseIntList('--ood-lengths', opts['ood-lengths'], 1, 99);
  if (cfg) {
    for (const task of tasks) checkTaskConfig(task, cfg);
    checkMeasuresOf(cfg.analysis);
    for (const lengths of given ? [given] : tasks.map((t) => getTask(t).oodLengths))
      checkOodLengths(lengths, cfg, !!opts['allow-id-lengths']);
  }
  return given;
}

/** An existing folder to read results from: an error naming --results if it is missing or not a folder. */
export function resultsToRead(dir: string): string {
  checkReadableDir('--results', dir);
  if (!fs.existsSync(dir))
    throw new ConfigError(
      `--results: ${JSON.stringify(dir)} does not exist; allowed: a results folder (made by run or sweep)`,
    );
  if (!fs.statSync(dir).isDirectory())
    throw new ConfigError(
      `--results: ${JSON.stringify(dir)} is a file; allowed: a results folder (made by run or sweep)`,
    );
  return dir;
}

/** The finished runs of a preset in a results folder; an error naming --results when there are none. Files not counted are named. */
export function finishedRuns(dir: string, preset: PresetName): RunRecord[] {
  checkReadableDir('--results', path.join(resultsToRead(dir), preset));
  const { records, rejected } = scanRecords(dir, preset);
  warnRejected(rejected);
  checkOneSettings(path.join(dir, preset), records);
  if (!records.length) {
    throw new ConfigError(
      `--results: ${JSON.stringify(dir)} holds no finished run of preset ${preset}${rejected.length ? ` (${rejected.length} file(s) not counted, named above)` : ''}; allowed: a folder with <preset>/<task>_seed<seed>.json files (run a sweep first)`,
    );
  }
  return records;
}

/** `--tasks A,B`: distinct registered tasks (sweep, redundancy). */
export function parseTasks(value: string): TaskName[] {
  const tasks = value.split(',').map((t) => checkTask(t.trim()));
  if (new Set(tasks).size !== tasks.length)
    throw new ConfigError(
      `--tasks: got ${JSON.stringify(value)}, which repeats a task; allowed: distinct tasks among ${TASKS.join(', ')}`,
    );
  return tasks;
}
