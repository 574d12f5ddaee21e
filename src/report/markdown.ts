/** Markdown for reports: number formats (a dash for a missing value), intervals, verdict words, tables. */
import { inside, Interval } from './stats';

export const f3 = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(3);
export const f2 = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(2);
export const pct = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`;
export const pts = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}`;
/** An interval's ends: '[–]' when there is none; an unbounded end as -inf / inf (a test that cannot reject with so few items). */
export const ivs = (iv: Interval, fmt: (x: number) => string = f3) => {
  const end = (x: number) => (Number.isFinite(x) ? fmt(x) : x > 0 ? 'inf' : '-inf');
  return Number.isNaN(iv.lo) || Number.isNaN(iv.hi) ? '[–]' : `[${end(iv.lo)}, ${end(iv.hi)}]`;
};
export const agree = (x: number, iv: Interval) =>
  !Number.isFinite(iv.lo)
    ? 'n/a (too few seeds)'
    : inside(x, iv)
      ? '**agrees**'
      : x < iv.lo
        ? `differs (paper below ours)`
        : `differs (paper above ours)`;
export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
