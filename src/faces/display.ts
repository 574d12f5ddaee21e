/** Showing results in a notebook (tslab): Plotly figures in the project's style (static PNG where asked), Markdown, tables. */
import * as path from 'node:path';
import { findChromium, PLOTLY_VERSION, renderImages } from '../report/export';
import type { PlotlyFigure } from '../report/style';
import { FONT_FILE, fontFaceLink, styled } from '../report/style';
import { roundRow } from '../report/tables';

/** What tslab gives a cell to show things with. */
export interface TslabDisplay {
  html(s: string): void;
  png(b: Uint8Array): void;
  text(s: string): void;
  markdown(s: string): void;
}

let figureCount = 0;

function tslabDisplay(): TslabDisplay {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('tslab').display as TslabDisplay;
}

/** Shows a Plotly figure in the notebook (interactive, or a static PNG when GCG_NOTEBOOK_STATIC=1). */
export async function showFigure(fig: PlotlyFigure, display: TslabDisplay = tslabDisplay()): Promise<void> {
  if (process.env.GCG_NOTEBOOK_STATIC === '1') {
    const browser = findChromium();
    if (!browser.path) {
      display.text(`(static figure not rendered: ${browser.reason})`);
      return;
    }
    const { fig: images } = await renderImages({ fig }, ['png'], browser.path);
    display.png(images.png!);
    return;
  }
  const id = `gcg-fig-${process.pid}-${figureCount++}`;
  // As wide as the notebook's column (the exported width is a maximum), at the figure's height, in
  // the project's font; plotly.js and the font are served by `npm run notebooks` (Jupyter's root is
  // the project folder), Plotly's CDN and a sans-serif otherwise.
  const spec = styled(fig);
  const { width, height } = spec.layout as { width?: number; height?: number };
  const layout = { ...spec.layout, width: undefined, autosize: true };
  display.html(`<style>${fontFaceLink(`/files/${FONT_FILE.split(path.sep).join('/')}`)}</style>
<div id="${id}" style="width: 100%; max-width: ${width ?? 900}px; height: ${height ?? 500}px"></div>
<script>
(function () {
  const fig = ${JSON.stringify({ data: spec.data, layout }).replace(/</g, '\\u003c')};
  function draw() { window.Plotly.newPlot('${id}', fig.data, fig.layout, { responsive: true }); }
  if (window.Plotly) return draw();
  const local = document.createElement('script');
  local.src = '/files/node_modules/plotly.js-dist/plotly.js';
  local.onload = draw;
  local.onerror = function () {
    const cdn = document.createElement('script');
    cdn.src = 'https://cdn.plot.ly/plotly-${PLOTLY_VERSION}.min.js';
    cdn.onload = draw;
    document.head.appendChild(cdn);
  };
  document.head.appendChild(local);
})();
</script>`);
}

/** Shows Markdown text (e.g. the reproduction report). */
export function showMarkdown(text: string, display: TslabDisplay = tslabDisplay()): void {
  display.markdown(text);
}

/** Shows rows as a Markdown table (numbers rounded), which renders everywhere, code hosts included. */
export function showTable(rows: readonly object[], display: TslabDisplay = tslabDisplay(), digits = 3): void {
  if (!rows.length) {
    display.markdown('*(no rows)*');
    return;
  }
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v).replace(/\|/g, '\\|'));
  const lines = [`| ${cols.join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`];
  for (const r of rows) {
    const rr = roundRow(r, digits);
    lines.push(`| ${cols.map((c) => cell(rr[c])).join(' | ')} |`);
  }
  display.markdown(lines.join('\n'));
}
