/** Tables 1-6 on hand-made results records, against hand-computed values. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ComponentClass } from '../src/analysis/ranks';
import { allTables, stddev, table1, table3, table6 } from '../src/report/tables';
import { formatTable } from '../src/report/frames';
import { record } from './records';

const A: ComponentClass = 'Aligned';
const H: ComponentClass = 'HiddenHero';
const B: ComponentClass = 'GradientBloat';
const records = [
  record('sort', 1, 0.2, [B, B, A, H, A, A], [0.9, 0.8]),
  record('sort', 2, 0.6, [B, A, A, H, H, A], [0.95, 0.95]),
  record('sort', 3, null, []),
  record('reverse', 1, 0.9, [A, A, A, A, A, A]),
];

test('Table 1: mean, population sd, range and class counts per task; skipped seeds counted apart', () => {
  const [rev, sort] = table1(records);
  assert.equal(sort.task, 'Sorting');
  assert.equal(sort.seeds, 2);
  assert.equal(sort.skipped, 1);
  assert.ok(Math.abs(sort.rhoMean - 0.4) < 1e-12);
  assert.ok(Math.abs(sort.rhoStd - 0.2) < 1e-12, 'population sd of 0.2, 0.6 is 0.2');
  assert.deepEqual([sort.rhoMin, sort.rhoMax, sort.heroes, sort.bloats], [0.2, 0.6, 3, 3]);
  assert.deepEqual([rev.task, rev.seeds, rev.rhoMean, rev.rhoStd, rev.heroes], ['Reversal', 1, 0.9, 0, 0]);
});

test('standard deviations: population for Table 1, sample for Table 6', () => {
  assert.ok(Math.abs(stddev([1, 2, 3, 4], 0) - Math.sqrt(1.25)) < 1e-12);
  assert.ok(Math.abs(stddev([1, 2, 3, 4], 1) - Math.sqrt(5 / 3)) < 1e-12);
  assert.ok(Number.isNaN(stddev([1], 1)));
});

test('Table 3: component frequencies, most frequent first', () => {
  const rows = table3(records).filter((r) => r.task === 'Sorting');
  assert.deepEqual(
    rows.map((r) => `${r.class}:${r.component}:${r.count}/${r.seeds}`),
    ['Hidden Hero:L1.H0:2/2', 'Hidden Hero:L1.H1:1/2', 'Gradient Bloat:L0.H0:2/2', 'Gradient Bloat:L0.H1:1/2'],
  );
});

test("Table 6: ID accuracy drop (before - after, the paper's sign) after pruning all Bloats, mean and sample sd", () => {
  const rows = table6(records);
  assert.deepEqual(
    rows.slice(0, 2).map((r) => [r.seed, r.bloats, r.drop === null ? null : Number(r.drop.toFixed(6))]),
    [
      [1, 'L0.H0 L0.H1', 0.1],
      [2, 'L0.H0', 0],
    ],
  );
  const summary = rows[2];
  assert.equal(summary.seed, 'mean ± sd');
  assert.ok(Math.abs(summary.drop! - 0.05) < 1e-12);
  assert.ok(Math.abs(summary.dropSd! - Math.sqrt(0.005)) < 1e-12);
});

test('Tables 2, 4, 5: the chosen seed and per-seed rows', () => {
  const t = allTables(records);
  const sortRows = t.table2.filter((r) => r.task === 'Sorting');
  assert.deepEqual(
    sortRows.map((r) => [r.seed, r.chosen]),
    [
      [1, true],
      [2, false],
    ],
    'seeds 1 and 2 tie on 4 misaligned; the first wins',
  );
  assert.deepEqual(
    t.table4.map((r) => [r.seed, r.status, r.oodLength, r.rho]),
    [
      [1, 'analysed', 9, 0.2],
      [2, 'analysed', 9, 0.6],
      [3, 'skipped', null, null],
    ],
  );
  assert.deepEqual(
    t.table5.map((r) => [r.seed, r.heroes, r.bloats]),
    [[1, 0, 0]],
  );
  assert.deepEqual(t.seedTables, [], "the paper's two tasks have Tables 4 and 5");
  // Any other task gets the same seed-by-seed table, in registry order.
  const more = allTables([
    ...records,
    { ...record('sort', 7, 0.4, [A, A, B, A, A, H]), task: 'histogram' },
    { ...record('reverse', 5, null, []), task: 'copy' },
  ]);
  assert.deepEqual(
    more.seedTables.map((s) => [s.task, s.rows.map((r) => [r.task, r.seed, r.status, r.rho])]),
    [
      ['copy', [['Copying', 5, 'skipped', null]]],
      ['histogram', [['Histogram', 7, 'analysed', 0.4]]],
    ],
  );
});

test('tables in the terminal: every row, every cell whole, columns split into blocks that fit, the key columns repeated', () => {
  const rows = Array.from({ length: 25 }, (_, i) => ({
    task: 'Sorting',
    seed: 1000 + i,
    heroes: 'L3.H2 L2.H1 L1.MLP',
    rho: i / 7,
    note: 'x'.repeat(30),
  }));
  const wide = formatTable(rows, 200, 2);
  assert.equal(wide.length, 2 + 25, 'header, rule, then all 25 rows');
  assert.ok(wide.some((l) => l.includes('1024') && l.includes('L3.H2 L2.H1 L1.MLP') && l.includes('x'.repeat(30))));
  assert.match(wide[2], /^ {2}Sorting {2}1000 {2}L3\.H2 L2\.H1 L1\.MLP {6}0 {2}x{30}$/);
  const narrow = formatTable(rows, 50, 2);
  assert.ok(
    narrow.every((l) => l.length <= 50 || /^ {2}\(columns/.test(l)),
    narrow.filter((l) => l.length > 50).join('\n'),
  );
  const blocks = narrow.filter((l) => l.startsWith('  (columns'));
  assert.equal(blocks.length, 2);
  assert.match(blocks[0], /columns 1 of 2: heroes, rho/);
  assert.match(blocks[1], /columns 2 of 2: note/);
  assert.equal(
    narrow.filter((l) => /^ {2}Sorting {2}1003 /.test(l)).length,
    2,
    'each block repeats the key columns of every row',
  );
  assert.deepEqual(formatTable([]), ['  (no rows)']);
});
