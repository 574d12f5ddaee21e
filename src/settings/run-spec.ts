/**
 * One run, resolved in one place: (preset, task, seed, size, settings) -> a checked configuration.
 * Every face resolves a run here: the command line (`train`, `run`, `demo`, `sweep` and its worker
 * processes), a notebook's session and sweeps, and the library entries that are handed a ready
 * configuration (`train`, `runOne`, `analyzeModel`, re-analysis), which check it with `checkRun`.
 * Settings are `--set key=value` assignments or a notebook cell's partial object; a sweep passes
 * assignments on to its workers, so what runs in-process and in a worker is the same configuration.
 */
import {
  checkPreset,
  checkSeed,
  checkTask,
  ConfigError,
  DeepPartial,
  ExperimentConfig,
  PresetName,
  PRESET_CONFIGS,
} from './config';
import { checkTaskConfig, getConfig, validateConfig, withOverrides } from './validate';
import { CONFIG_RULES, parseOverrides } from './rules';
import { TaskName } from '../tasks';
import { checkSize, MODEL_SIZES, SIZE_KEYS, SizeName, sizedSettings } from './sizes';

/** Settings over a preset: `--set` assignments (`model.nLayers=2`) or a partial configuration object. */
export type Settings = readonly string[] | DeepPartial<ExperimentConfig>;

/** A run as a user names it; everything is checked by resolveRun. */
export interface RunRequest {
  /** Default 'paper'. */
  preset?: string;
  task: string;
  seed: unknown;
  /** A registered size (src/settings/sizes.ts: depth and width), or none: the preset's model. */
  size?: string | null;
  settings?: Settings;
}

/** A run resolved: names checked, and the configuration it trains and is analysed with. */
export interface ResolvedRun {
  preset: PresetName;
  task: TaskName;
  seed: number;
  size: SizeName | null;
  /** The `--set` assignments that give cfg from the preset (the size's included): what a worker process is given. */
  settings: string[];
  cfg: ExperimentConfig;
}

/** A preset with settings and an optional size, resolved and validated (no task yet: a sweep's grid shares it). */
export function resolveSettings(
  preset: string | undefined,
  settings: Settings = [],
  size: string | null = null,
): Omit<ResolvedRun, 'task' | 'seed'> {
  const p = checkPreset(preset ?? 'paper');
  const s = size === null ? null : checkSize(size);
  if (isAssignments(settings)) {
    // `--set` assignments: checked by parseOverrides, whose errors name --set.
    const given = s ? sizedSettings(settings, s) : [...settings];
    return { preset: p, size: s, settings: given, cfg: getConfig(p, parseOverrides(given)) };
  }
  // A notebook's object: checked by getConfig, whose errors name `config <key>`; then as assignments.
  const cfg0 = getConfig(p, settings);
  const clash = s && SIZE_KEYS.find((k) => settings.model?.[k] !== undefined);
  if (clash)
    throw new ConfigError(
      `config model.${clash}: the size ${s} sets ${SIZE_KEYS.map((k) => `model.${k}`).join(', ')}; allowed: one or the other`,
    );
  const cfg = s ? getConfig(p, { ...settings, model: { ...settings.model, ...MODEL_SIZES[s] } }) : cfg0;
  return { preset: p, size: s, settings: settingsOf(p, cfg), cfg };
}

/** The one resolution of a run: preset, task, seed, size and settings checked together, before any work. */
export function resolveRun(r: RunRequest): ResolvedRun {
  const task = checkTask(r.task);
  const seed = checkSeed(r.seed);
  const resolved = resolveSettings(r.preset, r.settings, r.size ?? null);
  checkTaskConfig(task, resolved.cfg);
  return { ...resolved, task, seed };
}

/**
 * The checks resolveRun makes, for an entry handed a configuration built elsewhere (a notebook may
 * have edited it since): the task, the seed, every setting and the task's fit to the model.
 */
export function checkRun(
  task: string,
  seed: unknown,
  cfg: ExperimentConfig,
): { task: TaskName; seed: number; cfg: ExperimentConfig } {
  const t = checkTask(task);
  const s = checkSeed(seed);
  validateConfig(cfg);
  checkTaskConfig(t, cfg);
  return { task: t, seed: s, cfg };
}

/**
 * The `--set` assignments that turn the preset into this configuration (only the settings that
 * differ), checked to give it back exactly: how an in-process configuration reaches a worker.
 */
export function settingsOf(preset: PresetName, cfg: ExperimentConfig): string[] {
  const base = PRESET_CONFIGS[preset];
  const out: string[] = [];
  for (const key of Object.keys(CONFIG_RULES)) {
    const [section, field] = key.split('.') as [keyof ExperimentConfig, string];
    const a = (base[section] as unknown as Record<string, unknown>)[field];
    const b = (cfg[section] as unknown as Record<string, unknown>)[field];
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${key}=${Array.isArray(b) ? b.join(',') : String(b)}`);
  }
  const back = withOverrides(preset, parseOverrides(out));
  if (JSON.stringify(back) !== JSON.stringify(cfg))
    throw new ConfigError(
      `config: these settings cannot be passed as --set assignments (${out.join(' ')}); allowed: the keys gcg --help lists`,
    );
  return out;
}

function isAssignments(s: Settings): s is readonly string[] {
  return Array.isArray(s);
}
