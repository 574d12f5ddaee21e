/** Figure builders on hand-made records, and export to HTML/SVG/PNG. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { exportFigures, findChromium } from '../src/report/export';
import { CLASS_COLORS, figure1, figure2, figure3, figure4, minMax, paperFigures } from '../src/report/figures';
import { lossBand, trainingCurves } from '../src/report/curves';
import { logAxis, logTicks, styled } from '../src/report/style';
import { record } from './records';

const A = 'Aligned' as const;
const H = 'HiddenHero' as const;
const B = 'GradientBloat' as const;
const records = [
  record('sort', 1, 0.2, [B, B, A, H, A, A]),
  record('sort', 2, 0.6, [B, A, A, H, H, A]),
  record('sort', 3, null, []),
  record('reverse', 1, 0.9, [A, A, A, A, A, H]),
];

test('min-max normalisation', () => {
  assert.deepEqual(minMax([2, 4, 3]), [0, 1, 0.5]);
  assert.deepEqual(minMax([5, 5]), [0, 0]);
});

test('Figure 1: one trace per class per task, classes coloured, normalised per seed, mean rho per panel', () => {
  const f = figure1(records);
  assert.equal(f.data.length, 6); // 3 classes x 2 tasks
  const sortHeroes = f.data.find((t) => t.name === 'Hidden Hero' && t.xaxis === 'x2')!;
  assert.equal((sortHeroes.marker as { color: string }).color, CLASS_COLORS.HiddenHero);
  assert.equal((sortHeroes.x as number[]).length, 3, 'L1.H0 in seeds 1 and 2, L1.H1 in seed 2');
  const all = f.data.filter((t) => t.xaxis === 'x2').flatMap((t) => t.x as number[]);
  assert.equal(all.length, 12, 'two analysed sorting seeds x 6 components; the skipped seed adds none');
  assert.ok(all.every((v) => v >= 0 && v <= 1) && all.includes(0) && all.includes(1));
  const titles = (f.layout.annotations as { text: string }[]).map((a) => a.text);
  assert.deepEqual(titles, ['Reversal seed 1 (rho = 0.90)', 'Sorting (mean rho over 2 seeds = 0.40)']);
  assert.equal(
    (f.layout.title as { text: string }).text,
    'Figure 1: the Gradient-Causal Gap, preset paper<br><sub>each component of every seed, scores min-max normalised per seed</sub>',
  );
  assert.match(sortHeroes.hovertemplate as string, /^%\{text\}<br>G %\{x:\.2f\}, C %\{y:\.2f\}/);
  assert.match((sortHeroes.text as string[])[0], /^L1\.H0, seed 1: Delta -?\d+/, 'each point names its component');
});

test('Figure 2: Heroes and Bloats per layer, mean Delta per component', () => {
  const f = figure2(records, 'sort');
  assert.deepEqual(f.data[0].x, ['L0', 'L1']);
  assert.deepEqual(f.data[0].y, [0, 3]); // Heroes: L1.H0 twice, L1.H1 once
  assert.deepEqual(f.data[1].y, [3, 0]); // Bloats: L0.H0 twice, L0.H1 once
  // Mean Delta per component [7, 3.5, 0, -7, -3.5, 0], coloured by the class the mean falls in (|Delta| >= 6), not by its sign.
  const byName = (prefix: string) => f.data.find((t) => (t.name as string).startsWith(prefix))!;
  assert.deepEqual(byName('mean Delta <= -6').x, ['L1.H0']);
  assert.deepEqual(byName('mean Delta <= -6').y, [-7]);
  assert.deepEqual(byName('mean Delta >= 6').x, ['L0.H0']);
  assert.deepEqual(byName('|mean Delta| below 6').x, ['L0.H1', 'L0.MLP', 'L1.H1', 'L1.MLP']);
  assert.deepEqual(byName('|mean Delta| below 6').y, [3.5, 0, -3.5, 0]);
  assert.equal((byName('|mean Delta| below 6').marker as { color: string }).color, CLASS_COLORS.Aligned);
  assert.deepEqual(
    (f.layout.shapes as { y0: number }[]).map((l) => l.y0),
    [6, -6],
    'the thresholds are drawn',
  );
  // One legend per panel: the counts' on the left, mean Delta's under the right panel.
  assert.deepEqual(
    f.data.map((t) => t.legend ?? 'legend'),
    ['legend', 'legend', 'legend2', 'legend2', 'legend2'],
  );
  assert.ok((f.layout.legend2 as { x: number }).x >= 0.5);
  assert.match((f.layout.title as { text: string }).text, /, preset paper$/);
});

test('training curves: the loss as a median with a 10-90% band over seeds, one colour per task in both panels', () => {
  // Two runs, blocks of 2 steps: run a [1, 3, 5] and run b [3, 5]; block 1 = steps 0-1, block 2 = step 2.
  const band = lossBand(
    [
      [1, 3, 5],
      [3, 5],
    ],
    2,
  );
  assert.deepEqual(band.step, [1, 2.5]);
  assert.deepEqual(band.median, [3, 5]); // block means 2 and 4 -> median 3; then run a alone: 5
  assert.deepEqual(band.n, [2, 1]);
  assert.ok(Math.abs(band.lo[0] - 2.2) < 1e-12 && Math.abs(band.hi[0] - 3.8) < 1e-12); // 10% and 90% between 2 and 4
  const f = trainingCurves(records);
  const legend = f.data.filter((t) => t.showlegend !== false).map((t) => t.name);
  assert.ok(legend.length <= 6, `a legend entry per task and curve kind, not per seed: ${legend.join('; ')}`);
  const colorOf = (t: Record<string, unknown>) => (t.line as { color: string }).color;
  for (const task of [...new Set(records.map((r) => r.task))]) {
    const median = f.data.find((d) => d.legendgroup === task && (d.line as { width?: number }).width === 2);
    const checks = f.data.filter((d) => d.legendgroup === `${task}-acc`);
    assert.ok(median && checks.length, task);
    for (const c of checks) assert.equal(colorOf(c), colorOf(median!), `${task}: one colour in both panels`);
  }
  assert.match(
    (f.layout.title as { text: string }).text,
    /^Training: loss and training-distribution exact match, preset paper($|<br>)/,
  );
});

test('Figures 3 and 4: pruning bars and per-seed rho', () => {
  const f3 = figure3(records[0]);
  assert.deepEqual(f3.data[0].y, [50, 55.00000000000001, 10]);
  const f4 = figure4(records);
  const sort = f4.data.find((t) => (t.name as string).startsWith('Sorting'))!;
  assert.deepEqual(sort.x, ['1', '2']);
  assert.deepEqual(sort.y, [0.2, 0.6]);
  // The seed axis is in numeric order even when the first task lists a seed the second lacks.
  const f4b = figure4([record('reverse', 10, 0.5, [A, A, A, A, A, H]), ...records]);
  assert.deepEqual((f4b.layout.xaxis as { categoryarray: string[] }).categoryarray, ['1', '2', '3', '10']);
  assert.throws(() => figure3(records[2]), /no pruning results/);
  assert.deepEqual(Object.keys(paperFigures(records)).sort(), ['figure1', 'figure2', 'figure3', 'figure4', 'training']);
  // A task beyond the paper's two gets Figures 2 and 3 too (Sorting first when it is there).
  const copies = records.map((r) => ({ ...r, task: 'histogram' as const }));
  const own = paperFigures(copies);
  assert.deepEqual(Object.keys(own).sort(), ['figure1', 'figure2', 'figure3', 'figure4', 'training']);
  assert.match(String((own.figure2.layout.title as { text: string }).text), /Histogram/);
  assert.match(
    String((paperFigures([...copies, ...records]).figure2.layout.title as { text: string }).text),
    /Sorting/,
  );
});

test('export writes HTML always, and valid SVG, PNG and vector PDF with a browser', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-fig-'));
  const browser = findChromium();
  if (!browser.path && !process.env.CI) {
    const r = await exportFigures({ figure4: figure4(records) }, dir);
    assert.deepEqual(r.written, [path.join(dir, 'figure4.html')]);
    t.skip(`PNG/SVG not checked: ${browser.reason}`);
    return;
  }
  const r = await exportFigures({ figure4: figure4(records) }, dir);
  assert.deepEqual(r.written.map((f) => path.basename(f)).sort(), [
    'figure4.html',
    'figure4.pdf',
    'figure4.png',
    'figure4.svg',
  ]);
  const html = fs.readFileSync(path.join(dir, 'figure4.html'), 'utf8');
  assert.match(html, /Plotly\.newPlot/);
  assert.match(html, /node_modules\/plotly\.js-dist\/plotly\.js/);
  const png = fs.readFileSync(path.join(dir, 'figure4.png'));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(png.length > 5000);
  const svg = fs.readFileSync(path.join(dir, 'figure4.svg'), 'utf8');
  assert.match(svg, /^<svg[\s\S]*Figure 4[\s\S]*<\/svg>$/);
  const pdf = fs.readFileSync(path.join(dir, 'figure4.pdf')).toString('latin1');
  assert.match(pdf, /^%PDF-1\.\d/);
  assert.equal((pdf.match(/\/Type\s*\/Page\b/g) ?? []).length, 1, 'one page');
  assert.doesNotMatch(pdf, /\/Subtype\s*\/Image/, 'vector: no raster image inside');
  const box = /\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/.exec(pdf);
  assert.ok(
    box && Math.abs(Number(box[1]) - 600) < 1 && Math.abs(Number(box[2]) - 315) < 1,
    `the figure's size, 800 x 420 px = 600 x 315 pt: ${box?.[0]}`,
  );
  // The project's font, whatever fonts this machine has: named in the page and the SVG, embedded in the SVG.
  assert.match(
    html,
    /@font-face \{ font-family: 'Open Sans'.*node_modules\/@fontsource\/open-sans\/files\/open-sans-latin-400-normal\.woff2/,
  );
  assert.match(svg, /<style>@font-face \{ font-family: 'Open Sans'[^<]*data:font\/woff2;base64,/);
  assert.match(svg, /font-family: &quot;Open Sans&quot;|font-family: 'Open Sans'|font-family:'Open Sans'|"Open Sans"/);
  // Exported again on this machine: byte for byte the same files (no random ids, no dates).
  const again = fs.mkdtempSync(path.join(os.tmpdir(), 'gcg-fig-'));
  await exportFigures({ figure4: figure4(records) }, again);
  for (const f of ['figure4.html', 'figure4.svg', 'figure4.png', 'figure4.pdf']) {
    assert.ok(
      fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(again, f))),
      `${f} differs between two exports`,
    );
  }
});

test('log axes: ticks at 1, 2 and 5 per decade, as plain numbers, bracketing the values', () => {
  assert.deepEqual(logTicks([0.06, 3.9]), {
    tickvals: [0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    ticktext: ['0.05', '0.1', '0.2', '0.5', '1', '2', '5'],
  });
  assert.deepEqual(
    logTicks([300, 3600]).ticktext,
    ['200', '500', '1,000', '2,000', '5,000'],
    'the neighbours below (300/200 < 1.6) and above (5000/3600 < 1.6) too',
  );
  assert.deepEqual(
    logTicks([330000, 1250000]).tickvals,
    [500000, 1000000],
    'neighbours too far away (x1.65, x1.6) are left out',
  );
  assert.deepEqual(logTicks([1100, 1400]).tickvals, [1000, 2000], 'fewer than two inside: the nearest below and above');
  assert.deepEqual(
    logTicks([1, 1e6]).tickvals,
    [1, 10, 100, 1000, 10000, 100000, 1000000],
    'many decades: 1 per decade',
  );
  const axis = logAxis([300, 3600], 'steps');
  assert.deepEqual(axis.range, [Math.log10(200) - 0.06, Math.log10(5000) + 0.06]);
});

test("every figure leaves in the project style: its font, fixed trace ids, the builder's sizes kept", () => {
  const f = styled({ data: [{ type: 'bar' }, { type: 'bar', uid: 'mine' }], layout: { font: { size: 10 } } });
  assert.deepEqual(f.layout.font, { size: 10, color: '#333', family: "'Open Sans', sans-serif" });
  assert.deepEqual(
    f.data.map((t) => t.uid),
    ['t0', 'mine'],
  );
});
