/**
 * One typed configuration for a run, its commented defaults, the two protocol presets and
 * validation of user overrides (CLI `--set key=value` or a notebook cell's partial object).
 *
 * The settings are declared once each, by part (settings/model.ts, data.ts, train.ts, analysis.ts:
 * default, the authors preset's value where it differs, rule, doc); the types, both presets, the
 * rules and --help derive from them. The presets differ only where PROTOCOL.md says the paper's
 * text and the authors' published code differ.
 */

import { TaskName, TASKS } from '../tasks';
import { presetValues, Setting, Values } from './setting';
import { MODEL_SETTINGS } from './model';
import { DATA_SETTINGS } from './data';
import { TRAIN_SETTINGS } from './train';
import { ANALYSIS_SETTINGS } from './analysis';

export type PresetName = 'paper' | 'authors';
export const PRESETS: readonly PresetName[] = ['paper', 'authors'];
/** The paper's ten seeds (Appendix A.1). */
export const PAPER_SEEDS: readonly number[] = [42, 123, 456, 789, 1010, 2020, 3030, 4040, 5050, 6060];

/** Every setting, by section, each declared once in its part's table (default, authors' value, rule, doc). */
export const SETTINGS = {
  model: MODEL_SETTINGS,
  data: DATA_SETTINGS,
  train: TRAIN_SETTINGS,
  analysis: ANALYSIS_SETTINGS,
} as const satisfies Record<string, Record<string, Setting>>;

export type ModelConfig = Values<typeof MODEL_SETTINGS>;
export type DataConfig = Values<typeof DATA_SETTINGS>;
export type TrainConfig = Values<typeof TRAIN_SETTINGS>;
export type AnalysisConfig = Values<typeof ANALYSIS_SETTINGS>;
export interface ExperimentConfig {
  model: ModelConfig;
  data: DataConfig;
  train: TrainConfig;
  analysis: AnalysisConfig;
}
export type Positions = ModelConfig['positions'];
export type InitScheme = ModelConfig['init'];
export type HeadAblation = AnalysisConfig['headAblation'];
export type RankRule = AnalysisConfig['rankRule'];

function presetConfig(preset: PresetName): ExperimentConfig {
  return {
    model: presetValues(MODEL_SETTINGS, preset),
    data: presetValues(DATA_SETTINGS, preset),
    train: presetValues(TRAIN_SETTINGS, preset),
    analysis: presetValues(ANALYSIS_SETTINGS, preset),
  };
}

/** Defaults: the paper's model and training, with the authors' choices where the text is silent. */
export const DEFAULT_CONFIG: ExperimentConfig = presetConfig('paper');

/**
 * The presets. `paper`: the paper's text where it is explicit and can run; a clean batch layout
 * (PAD only after the sequence, so training rows look like the sequences decoded at test time)
 * and a finer, larger-sample stopping check (exact match is one batched pass, so it is cheap).
 * `authors`: their script choice for choice (separate padding, check every 500 steps on 100).
 * Both use no positional embedding (model.positions).
 */
export const PRESET_CONFIGS: Record<PresetName, ExperimentConfig> = {
  paper: DEFAULT_CONFIG,
  authors: presetConfig('authors'),
};

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function cloneConfig(cfg: ExperimentConfig): ExperimentConfig {
  return {
    model: { ...cfg.model },
    data: { ...cfg.data },
    train: { ...cfg.train },
    analysis: { ...cfg.analysis, measures: [...cfg.analysis.measures] },
  };
}

export function checkPreset(name: string): PresetName {
  if (!(PRESETS as readonly string[]).includes(name)) {
    throw new ConfigError(`preset: unknown preset ${JSON.stringify(name)}; allowed: ${PRESETS.join(', ')}`);
  }
  return name as PresetName;
}

/** A registered task's name (src/tasks/index.ts); an unknown one is an error listing them. */
export function checkTask(name: string): TaskName {
  if (!(TASKS as readonly string[]).includes(name)) {
    throw new ConfigError(`task: unknown task ${JSON.stringify(name)}; allowed: ${TASKS.join(', ')}`);
  }
  return name as TaskName;
}

export function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) {
    throw new ConfigError(`seed: got ${JSON.stringify(seed)}; allowed: an integer in [0, 4294967295]`);
  }
  return seed;
}
