/** What was typed for a command's options, checked: a seed, a lock's staleness, one integer or a list of them in a range (an error naming the option and what is allowed). */
import { checkSeed, ConfigError } from './config';

export function parseSeed(s: string): number {
  if (!/^\d+$/.test(s))
    throw new ConfigError(`--seed: got ${JSON.stringify(s)}; allowed: an integer in [0, 4294967295]`);
  return checkSeed(Number(s));
}

export function parseLockStale(opts: { 'lock-stale'?: string }): number | undefined {
  const s = opts['lock-stale'];
  if (s === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(s) || Number(s) <= 0 || Number(s) > 10_080) {
    throw new ConfigError(`--lock-stale: got ${JSON.stringify(s)}; allowed: minutes, a number in (0, 10080]`);
  }
  return Number(s);
}

export function parseIntList(flag: string, s: string, min: number, max: number): number[] {
  const xs = s.split(',').map((x) => x.trim());
  if (!xs.length || xs.some((x) => !/^\d+$/.test(x) || Number(x) < min || Number(x) > max)) {
    throw new ConfigError(`${flag}: got ${JSON.stringify(s)}; allowed: comma-separated integers in [${min}, ${max}]`);
  }
  if (new Set(xs.map(Number)).size !== xs.length)
    throw new ConfigError(`${flag}: got ${JSON.stringify(s)}, which repeats a value; allowed: distinct integers`);
  return xs.map(Number);
}

export function parseInt1(flag: string, s: string, min: number, max: number): number {
  if (!/^\d+$/.test(s.trim()) || Number(s) < min || Number(s) > max)
    throw new ConfigError(`${flag}: got ${JSON.stringify(s)}; allowed: one integer in [${min}, ${max}]`);
  return Number(s);
}
