/**
 * The measure registry: a measure is its info (name, kind, description, flags: measure-info.ts,
 * no tensors) and its computation. One `registerMeasure` call adds one; the pipeline looks measures
 * up by name (analysis.measures) and needs no other change. The measures themselves are in
 * measures/, one file each.
 */
import { AnalysisConfig, ConfigError } from '../settings/config';
import { countMeasureCheck, measureNamesChecked } from '../settings/validate';
import type { ImportanceContext } from './context';
import { allMeasureInfo, declareMeasure, MeasureInfo } from './measure-info';

/** A measure's computation, on its info (name, kind, description, flags: analysis/measure-info.ts, no tensors). */
export interface ImportanceMeasure extends MeasureInfo {
  compute(ctx: ImportanceContext): Record<string, number>;
  /** Each component's 95% interval, where the measure has one (null: not under these settings); shares compute's passes. */
  intervals?(ctx: ImportanceContext): Record<string, [number, number]> | null;
}

/** Every registered measure named, else an error listing the unknown ones and what is registered (before any work). */
export function checkMeasures(names: readonly string[], setting = 'analysis.measures'): void {
  countMeasureCheck();
  const unknown = names.filter((n) => !REGISTRY.has(n));
  if (unknown.length)
    throw new ConfigError(
      `config ${setting}: unknown measure${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}; registered: ${registeredNames()}`,
    );
}

/** An analysis section's measure names checked, unless getConfig checked them already (and they are unchanged since). */
export function checkMeasuresOf(a: AnalysisConfig): void {
  if (!measureNamesChecked(a)) checkMeasures(a.measures);
}

const REGISTRY = new Map<string, ImportanceMeasure>();

/** Registers a measure's computation; a built-in one takes its info from measure-info.ts, a new one declares it there. */
export function registerMeasure(m: ImportanceMeasure): ImportanceMeasure {
  if (REGISTRY.has(m.name)) throw new Error(`importance measure ${m.name} is already registered`);
  const { compute: _c, intervals: _i, ...info } = m;
  declareMeasure(info);
  REGISTRY.set(m.name, m);
  return m;
}

export function getMeasure(name: string): ImportanceMeasure {
  const m = REGISTRY.get(name);
  if (!m) throw new Error(`unknown importance measure ${JSON.stringify(name)}; registered: ${registeredNames()}`);
  return m;
}

/** The registered measures, in the order measure-info.ts declares them (the paper's first), whatever order their files load in. */
export function listMeasures(): ImportanceMeasure[] {
  return allMeasureInfo()
    .filter((m) => REGISTRY.has(m.name))
    .map((m) => REGISTRY.get(m.name)!);
}

function registeredNames(): string {
  return listMeasures()
    .map((m) => m.name)
    .join(', ');
}
