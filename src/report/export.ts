/**
 * Figure export: HTML always (interactive; it loads plotly.js from the checkout's node_modules,
 * falling back to Plotly's CDN for a reader without one), SVG, PNG and PDF through a headless
 * Chromium driven by playwright-core (Plotly.toImage needs a browser; the PDF is the browser's print
 * of the figure's SVG, so it stays vector, as reports and LaTeX want). The browser is Debian's `chromium`
 * by default; GCG_CHROMIUM or `chromiumPath` names another.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeDir, WriteBatch } from '../files';
import { onInterrupt } from '../interrupt';
import { projectRoot } from '../project-root';
import type { PlotlyFigure } from './figures';

export type ImageFormat = 'svg' | 'png' | 'pdf';
/** Every format exportFigures writes besides HTML, by default. */
export const IMAGE_FORMATS: readonly ImageFormat[] = ['svg', 'png', 'pdf'];
export const PLOTLY_VERSION: string = (() => {
  try {
    return JSON.parse(fs.readFileSync(path.join(projectRoot(), 'node_modules', 'plotly.js-dist', 'package.json'), 'utf8')).version;
  } catch {
    return '3.1.1';
  }
})();

export function plotlyScriptPath(): string {
  return path.join(projectRoot(), 'node_modules', 'plotly.js-dist', 'plotly.js');
}

const BROWSER_HINT =
  'PNG/SVG export needs Chromium: `apt-get install -y chromium` (Debian), or set GCG_CHROMIUM to a Chromium/Chrome binary. HTML export works without it.';

/** The Chromium binary to use, or null with the reason. */
export function findChromium(explicit = process.env.GCG_CHROMIUM): { path: string | null; reason?: string } {
  const candidates = explicit ? [explicit] : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  for (const c of candidates) if (fs.existsSync(c)) return { path: c };
  return { path: null, reason: `${explicit ? `GCG_CHROMIUM=${explicit} does not exist` : 'no Chromium found at /usr/bin/chromium'}. ${BROWSER_HINT}` };
}

/** A standalone HTML page for one figure; `plotlySrc` is the script URL relative to the page. */
export function figureHtml(fig: PlotlyFigure, title: string, plotlySrc: string): string {
  const spec = JSON.stringify(fig).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${title.replace(/</g, '&lt;')}</title>
<script src="${plotlySrc}"></script>
<script>window.Plotly || document.write('<script src="https://cdn.plot.ly/plotly-${PLOTLY_VERSION}.min.js"><\\/script>')</script>
</head><body>
<div id="fig"></div>
<script>const fig = ${spec}; Plotly.newPlot('fig', fig.data, fig.layout, {responsive: true});</script>
</body></html>
`;
}

export interface ExportResult {
  written: string[];
  /** Why SVG/PNG were not written (no browser), when they were not. */
  imagesSkipped?: string;
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Renders figures to images in one browser session. Returns name -> format -> bytes. */
export async function renderImages(
  figs: Record<string, PlotlyFigure>,
  formats: readonly ImageFormat[],
  chromiumPath: string,
): Promise<Record<string, Partial<Record<ImageFormat, Buffer>>>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  // Signals stay ours (src/interrupt.ts): Playwright would otherwise install its own SIGINT/SIGTERM handlers.
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
  try {
    const page = await browser.newPage();
    await page.setContent('<html><body><div id="fig"></div></body></html>');
    await page.addScriptTag({ path: plotlyScriptPath() });
    const out: Record<string, Partial<Record<ImageFormat, Buffer>>> = {};
    for (const [name, fig] of Object.entries(figs)) {
      out[name] = {};
      for (const format of formats) {
        if (format === 'pdf') {
          out[name].pdf = await printPdf(browser, fig);
          continue;
        }
        const url: string = await page.evaluate(
          ([f, fmt]) => {
            const w = globalThis as unknown as { Plotly: { toImage(fig: unknown, o: unknown): Promise<string> } };
            const spec = f as unknown as { layout: { width: number; height: number } };
            return w.Plotly.toImage(f, { format: fmt, width: spec.layout.width, height: spec.layout.height, scale: fmt === 'png' ? 2 : 1 });
          },
          [sized(fig), format] as const,
        );
        const comma = url.indexOf(',');
        const payload = url.slice(comma + 1);
        out[name][format] = url.slice(0, comma).endsWith(';base64') ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload), 'utf8');
      }
    }
    return out;
  } finally {
    await browser.close();
  }
}

/** A vector PDF of one figure: drawn by Plotly as SVG in a page of the figure's size, printed by the browser. */
async function printPdf(browser: import('playwright-core').Browser, fig: PlotlyFigure): Promise<Buffer> {
  const spec = sized(fig);
  const { width, height } = spec.layout as { width: number; height: number };
  const page = await browser.newPage({ viewport: { width, height } });
  try {
    await page.setContent('<html><head><style>@page { margin: 0 } html, body { margin: 0 }</style></head><body><div id="fig"></div></body></html>');
    await page.addScriptTag({ path: plotlyScriptPath() });
    await page.evaluate(async (f) => {
      const w = globalThis as unknown as { Plotly: { newPlot(id: string, d: unknown, l: unknown, c: unknown): Promise<unknown> } };
      await w.Plotly.newPlot('fig', f.data, f.layout, { staticPlot: true });
    }, spec);
    return await page.pdf({ width: `${width}px`, height: `${height}px`, printBackground: true, pageRanges: '1' });
  } finally {
    await page.close();
  }
}

/** The figure with its layout's size filled in (900 x 500 px where it names none): what every image format is drawn at. */
function sized(fig: PlotlyFigure): PlotlyFigure {
  const { width, height } = fig.layout as { width?: number; height?: number };
  return { ...fig, layout: { ...fig.layout, width: width ?? 900, height: height ?? 500 } };
}

/**
 * Writes `<dir>/<name>.html` for every figure and, when a browser is found, `<name>.svg`,
 * `<name>.png` and `<name>.pdf`. Under CI=true a missing browser is an error (CI installs Chromium).
 * The files are written as one batch: none replaces an old one until all are rendered, so an
 * interrupted or failed export leaves the folder as it was. Given `batch`, the files join it and
 * the caller commits (a report and its figures together).
 */
export async function exportFigures(
  figs: Record<string, PlotlyFigure>,
  dir: string,
  opts: { formats?: ImageFormat[]; chromiumPath?: string; batch?: WriteBatch } = {},
): Promise<ExportResult> {
  makeDir(dir);
  const batch = opts.batch ?? new WriteBatch();
  const dropCleanup = onInterrupt(() => batch.abort());
  try {
    const r = await stageFigures(figs, dir, batch, opts);
    if (!opts.batch) batch.commit();
    return r;
  } catch (e) {
    batch.abort();
    throw e;
  } finally {
    dropCleanup();
  }
}

async function stageFigures(figs: Record<string, PlotlyFigure>, dir: string, batch: WriteBatch, opts: { formats?: ImageFormat[]; chromiumPath?: string }): Promise<ExportResult> {
  const written: string[] = [];
  const plotlySrc = path.relative(path.resolve(dir), plotlyScriptPath()).split(path.sep).join('/');
  for (const [name, fig] of Object.entries(figs)) {
    const file = path.join(dir, `${name}.html`);
    batch.add(file, figureHtml(fig, name, plotlySrc));
    written.push(file);
  }
  const formats = opts.formats ?? [...IMAGE_FORMATS];
  if (!formats.length) return { written };
  const browser = findChromium(opts.chromiumPath);
  if (!browser.path) {
    if (process.env.CI) throw new Error(browser.reason);
    return { written, imagesSkipped: browser.reason };
  }
  const images = await renderImages(figs, formats, browser.path);
  for (const [name, byFormat] of Object.entries(images)) {
    for (const [format, bytes] of Object.entries(byFormat)) {
      const file = path.join(dir, `${name}.${format}`);
      batch.add(file, bytes!);
      written.push(file);
    }
  }
  return { written };
}
