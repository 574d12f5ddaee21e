/** danfojs-node DataFrames for the tables: printing and CSV export. */
import * as path from 'node:path';
import { writeFileAtomic } from '../files';
import { AllTables, roundRow } from './tables';

// danfojs-node ships without type declarations that fit strict TypeScript; this is the part we use.
interface DataFrameLike {
  print(): void;
  shape: number[];
}
interface Danfo {
  DataFrame: new (data: Record<string, unknown>[], opts?: { columns?: string[]; config?: Record<string, unknown> }) => DataFrameLike;
  toCSV(df: DataFrameLike): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dfd: Danfo = require('danfojs-node');

/** A DataFrame from plain rows (columns: the union of the rows' keys, in first-seen order; missing cells empty). */
export function toDataFrame(rows: readonly object[]): DataFrameLike | null {
  if (!rows.length) return null;
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  const data = rows.map((r) => {
    const rr = roundRow(r);
    return Object.fromEntries(columns.map((c) => [c, rr[c] === undefined || rr[c] === null ? '' : rr[c]]));
  });
  return new dfd.DataFrame(data, { columns, config: { tableMaxColInConsole: 40 } });
}

export const TABLE_TITLES: Record<keyof AllTables, string> = {
  table1: 'Table 1: gradient-causal alignment per task (rho: mean ± population sd over analysed seeds)',
  table2: 'Table 2: pruning the two most extreme Heroes / Bloats, OOD exact match (chosen = the authors\' seed rule)',
  table3: 'Table 3: how often each component is a Hidden Hero / Gradient Bloat',
  table4: 'Table 4: seed by seed, Sorting',
  table5: 'Table 5: seed by seed, Reversal',
  table6: 'Table 6: pruning every Bloat, in-distribution exact match (Sorting; mean ± sample sd of the change)',
};

/** Prints every table with danfo; writes each as CSV under `csvDir` when given. Returns the files written. */
export function printTables(tables: AllTables, csvDir?: string): string[] {
  const written: string[] = [];
  for (const key of Object.keys(TABLE_TITLES) as (keyof AllTables)[]) {
    console.log(`\n${TABLE_TITLES[key]}`);
    const df = toDataFrame(tables[key]);
    if (!df) {
      console.log('  (no rows)');
      continue;
    }
    df.print();
    if (csvDir) {
      const file = path.join(csvDir, `${key}.csv`);
      writeFileAtomic(file, dfd.toCSV(df));
      written.push(file);
    }
  }
  return written;
}
