/** Each setting's rule (declared in its part's table: settings/model.ts ...), the settings list `gcg --help` prints, and --set key=value parsing. */
import { closest } from '../base/suggest';
import { ConfigError, DeepPartial, ExperimentConfig, PresetName, PRESET_CONFIGS, SETTINGS } from './config';
import type { Setting } from './setting';

type Rule = Setting;

/** Every settable key (`section.field`), with what it allows: the parts' tables flattened. */
export const CONFIG_RULES: Record<string, Rule> = Object.fromEntries(
  Object.entries(SETTINGS).flatMap(([section, table]) =>
    Object.entries(table as Record<string, Setting>).map(([field, rule]) => [`${section}.${field}`, rule]),
  ),
);

/** One entry per setting: name, what it means, what is allowed, and each preset's value (for --help). */
export function describeSettings(): string {
  const value = (p: PresetName, key: string) => {
    const [section, field] = key.split('.');
    return JSON.stringify((PRESET_CONFIGS[p] as unknown as Record<string, Record<string, unknown>>)[section][field]);
  };
  return Object.entries(CONFIG_RULES)
    .map(([key, rule]) => {
      const paper = value('paper', key);
      const authors = value('authors', key);
      const defaults = paper === authors ? `default ${paper}` : `default ${paper}, authors preset ${authors}`;
      return `  ${key.padEnd(26)}${rule.doc}\n  ${''.padEnd(26)}${describe(rule)}; ${defaults}`;
    })
    .join('\n');
}

function describe(rule: Rule): string {
  switch (rule.kind) {
    case 'int':
      return `an integer in [${rule.min}, ${rule.max}]`;
    case 'number':
      return `a number in ${rule.exclusiveMin ? '(' : '['}${rule.min}, ${rule.max}]`;
    case 'enum':
      return `one of ${rule.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'bool':
      return 'true or false';
    case 'names':
      return 'a list of distinct names (letters, digits, - and _), possibly empty';
  }
}

/** What was typed or given, for an error message (JSON.stringify writes NaN and Infinity as null). */
export function shown(value: unknown): string {
  return typeof value === 'number' && !Number.isFinite(value)
    ? String(value)
    : (JSON.stringify(value) ?? String(value));
}

export function checkValue(key: string, value: unknown, typed?: string): void {
  const rule = CONFIG_RULES[key];
  const bad = () =>
    new ConfigError(
      `config ${key}: got ${typed !== undefined ? JSON.stringify(typed) : shown(value)}; allowed: ${describe(rule)}`,
    );
  if (rule.kind === 'enum') {
    if (typeof value !== 'string' || !rule.values.includes(value)) throw bad();
    return;
  }
  if (rule.kind === 'bool') {
    if (typeof value !== 'boolean') throw bad();
    return;
  }
  if (rule.kind === 'names') {
    if (
      !Array.isArray(value) ||
      value.some((v) => typeof v !== 'string' || !/^[A-Za-z][\w-]*$/.test(v)) ||
      new Set(value).size !== value.length
    )
      throw bad();
    return;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw bad();
  if (rule.kind === 'int' && !Number.isInteger(value)) throw bad();
  const belowMin = rule.kind === 'number' && rule.exclusiveMin ? value <= rule.min : value < rule.min;
  if (belowMin || value > rule.max) throw bad();
}

export function unknownKey(key: string): ConfigError {
  const near = closest(key, Object.keys(CONFIG_RULES));
  return new ConfigError(
    `config ${key}: unknown key${near ? ` (did you mean ${near}?)` : ''}; allowed keys: ${Object.keys(CONFIG_RULES).join(', ')}`,
  );
}

/**
 * Parses CLI overrides like `model.nLayers=2` into a partial config (numbers for numeric keys,
 * strings for enumerations). Every key and value is checked before any work starts.
 */
export function parseOverrides(assignments: readonly string[]): DeepPartial<ExperimentConfig> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set ${JSON.stringify(a)}: expected key=value, e.g. model.nLayers=2`);
    const key = a.slice(0, eq).trim();
    const raw = a.slice(eq + 1).trim();
    const rule = CONFIG_RULES[key];
    if (!rule) throw unknownKey(key);
    checkValue(key, parseValue(rule, raw), raw);
    const [section, field] = key.split('.');
    (out[section] ??= {})[field] = parseValue(rule, raw);
  }
  return out as DeepPartial<ExperimentConfig>;
}

/** A typed value from its text: integers as plain decimals, numbers as decimals with an optional exponent (1e-3); anything else is left as text (and rejected). */
function parseValue(rule: Rule, raw: string): unknown {
  if (rule.kind === 'enum') return raw;
  if (rule.kind === 'bool') return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (rule.kind === 'names') return raw === '' ? [] : raw.split(',').map((x) => x.trim());
  const pattern = rule.kind === 'int' ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  return pattern.test(raw) ? Number(raw) : raw;
}
