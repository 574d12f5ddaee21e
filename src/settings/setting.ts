/**
 * How a setting is declared, once: its rule (type, range, choices), its default (the paper
 * preset's value), the authors preset's value where it differs, and its doc (what `gcg --help`
 * prints). Each part's settings are one table of these (settings/model.ts, data.ts, train.ts,
 * analysis.ts); the configuration's types, its defaults, both presets, validation and --help are
 * derived from the tables (settings/config.ts, settings/rules.ts).
 */

interface Declared<V> {
  /** The paper preset's value. */
  default: V;
  /** The authors preset's value, where it differs. */
  authors?: V;
  /** What the setting means (shown by --help). */
  doc: string;
}
export type IntSetting = Declared<number> & { kind: 'int'; min: number; max: number };
export type NumberSetting = Declared<number> & { kind: 'number'; min: number; max: number; exclusiveMin?: boolean };
export type EnumSetting<V extends string = string> = Declared<V> & { kind: 'enum'; values: readonly V[] };
export type BoolSetting = Declared<boolean> & { kind: 'bool' };
export type NamesSetting = Declared<string[]> & { kind: 'names' };
export type Setting = IntSetting | NumberSetting | EnumSetting | BoolSetting | NamesSetting;

/** An integer in [min, max]. */
export const int = (s: Omit<IntSetting, 'kind'>): IntSetting => ({ kind: 'int', ...s });
/** A finite number in [min, max] (or (min, max]). */
export const num = (s: Omit<NumberSetting, 'kind'>): NumberSetting => ({ kind: 'number', ...s });
/** One of `values`. */
export const choice = <const V extends string>(s: Omit<EnumSetting<V>, 'kind'>): EnumSetting<V> => ({
  kind: 'enum',
  ...s,
});
/** true or false. */
export const flag = (s: Omit<BoolSetting, 'kind'>): BoolSetting => ({ kind: 'bool', ...s });
/** A list of distinct names (letters, digits, - and _). */
export const names = (s: Omit<NamesSetting, 'kind'>): NamesSetting => ({ kind: 'names', ...s });

/** The value a setting holds. */
export type ValueOf<S> = S extends EnumSetting<infer V> ? V : S extends Declared<infer V> ? V : never;
/** A section of the configuration: each of its settings' values. */
export type Values<T extends Record<string, Setting>> = { [K in keyof T]: ValueOf<T[K]> };

/** A section's values in one preset: the defaults, or the authors' where they differ. */
export function presetValues<T extends Record<string, Setting>>(table: T, preset: 'paper' | 'authors'): Values<T> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(table)) {
    const v = preset === 'authors' && s.authors !== undefined ? s.authors : s.default;
    out[key] = Array.isArray(v) ? [...v] : v;
  }
  return out as Values<T>;
}
