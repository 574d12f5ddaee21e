/**
 * The tables in the terminal (every row, no cell cut, columns split into blocks that fit the
 * terminal's width) and as danfojs-node DataFrames for CSV export.
 */
import * as path from 'node:path';
import { WriteBatch } from '../io/files';
import { getTask } from '../tasks';
import { AllTables, roundRow } from './tables';

// danfojs-node ships without type declarations that fit strict TypeScript; this is the part we use.
interface DataFrameLike {
  print(): void;
  shape: number[];
}
interface Danfo {
  DataFrame: new (
    data: Record<string, unknown>[],
    opts?: { columns?: string[]; config?: Record<string, unknown> },
  ) => DataFrameLike;
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

type PaperTable = Exclude<keyof AllTables, 'seedTables'>;

export const TABLE_TITLES: Record<PaperTable, string> = {
  table1: 'Table 1: gradient-causal alignment per task (rho: mean ± population sd over analysed seeds)',
  table2: "Table 2: pruning the two most extreme Heroes / Bloats, OOD exact match (chosen = the authors' seed rule)",
  table3: 'Table 3: how often each component is a Hidden Hero / Gradient Bloat',
  table4: 'Table 4: seed by seed, Sorting',
  table5: 'Table 5: seed by seed, Reversal',
  table6: 'Table 6: pruning every Bloat, in-distribution exact match (Sorting; mean ± sample sd of the change)',
};

/** Cell text: numbers rounded (roundRow), empty for missing values. */
function cellText(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

/**
 * A table as text lines: every row, every cell whole. When the columns do not fit in `width`
 * characters they are split into blocks, each repeating the first `keyColumns` columns (the row's
 * name: task, seed, component), and each block says which columns it holds.
 */
export function formatTable(rows: readonly object[], width = 100, keyColumns = 1): string[] {
  if (!rows.length) return ['  (no rows)'];
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  const cells = rows.map((r) => {
    const rr = roundRow(r);
    return columns.map((c) => cellText(rr[c]));
  });
  const widths = columns.map((c, j) => Math.max(c.length, ...cells.map((row) => row[j].length)));
  const numeric = columns.map((_, j) => cells.every((row) => row[j] === '' || !Number.isNaN(Number(row[j]))));
  const keys = Math.min(keyColumns, columns.length);
  const keyWidth = widths.slice(0, keys).reduce((a, w) => a + w + 2, 0);
  const blocks: number[][] = [];
  let block: number[] = [];
  let used = keyWidth;
  for (let j = keys; j < columns.length; j++) {
    if (block.length && used + widths[j] + 2 > width) {
      blocks.push(block);
      block = [];
      used = keyWidth;
    }
    block.push(j);
    used += widths[j] + 2;
  }
  if (block.length || !blocks.length) blocks.push(block);
  const pad = (text: string, j: number) => (numeric[j] ? text.padStart(widths[j]) : text.padEnd(widths[j]));
  const out: string[] = [];
  blocks.forEach((b, i) => {
    const cols = [...Array.from({ length: keys }, (_, j) => j), ...b];
    if (blocks.length > 1) out.push(`  (columns ${i + 1} of ${blocks.length}: ${b.map((j) => columns[j]).join(', ')})`);
    out.push(
      '  ' +
        cols
          .map((j) => pad(columns[j], j))
          .join('  ')
          .trimEnd(),
    );
    out.push('  ' + cols.map((j) => '-'.repeat(widths[j])).join('  '));
    for (const row of cells)
      out.push(
        '  ' +
          cols
            .map((j) => pad(row[j], j))
            .join('  ')
            .trimEnd(),
      );
    if (i < blocks.length - 1) out.push('');
  });
  return out;
}

/** The columns that name a table's rows (repeated in every block when a table is split). */
const KEY_COLUMNS: Record<PaperTable, number> = { table1: 1, table2: 2, table3: 3, table4: 2, table5: 2, table6: 2 };

/**
 * Prints every table, every row (split into column blocks that fit the terminal); writes each as
 * CSV under `csvDir` when given. Returns the files written.
 */
export function printTables(tables: AllTables, csvDir?: string, width = process.stdout.columns || 120): string[] {
  const written: string[] = [];
  // The CSVs are written as one batch: an interrupted or failed write leaves the old set as it was.
  const batch = new WriteBatch();
  const print = (title: string, rows: readonly object[], keyColumns: number, name: string) => {
    console.log(`\n${title} (${rows.length} rows)`);
    console.log(formatTable(rows, width, keyColumns).join('\n'));
    const df = toDataFrame(rows);
    if (csvDir && df) {
      const file = path.join(csvDir, `${name}.csv`);
      batch.add(file, dfd.toCSV(df) as string);
      written.push(file);
    }
  };
  for (const key of Object.keys(TABLE_TITLES) as PaperTable[])
    print(TABLE_TITLES[key], tables[key], KEY_COLUMNS[key], key);
  // Tables 4 and 5 for the tasks beyond the paper's two: seeds_<task>.csv.
  for (const { task, rows } of tables.seedTables)
    print(`Seed by seed, ${getTask(task).label} (as Tables 4 and 5)`, rows, 2, `seeds_${task}`);
  batch.commit();
  return written;
}
