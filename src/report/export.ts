/**
 * Figure export: HTML always (interactive; it loads plotly.js from the checkout's node_modules,
 * falling back to Plotly's CDN for a reader without one), SVG, PNG and PDF through a headless
 * Chromium driven by playwright-core (Plotly.toImage needs a browser; the PDF is the browser's print
 * of the figure's SVG, so it stays vector, as reports and LaTeX want). The browser is Debian's `chromium`
 * by default; GCG_CHROMIUM or `chromiumPath` names another.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeDir, WriteBatch } from '../io/files';
import { onInterrupt } from '../io/interrupt';
import { projectRoot } from '../io/project-root';
import type { PlotlyFigure } from './style';
import { FONT_FILE, FONT_NAME, fontFaceLink, styled } from './style';

/** The @font-face rule of the project's font, embedded (a data URL): for export pages and SVG files, which load nothing else. */
export function fontFaceCss(): string {
  const file = path.join(projectRoot(), FONT_FILE);
  if (!fs.existsSync(file))
    throw new Error(`the figures' font ${FONT_FILE} is missing: run npm ci (it installs @fontsource/open-sans)`);
  return `@font-face { font-family: '${FONT_NAME}'; font-style: normal; font-weight: 400; src: url(data:font/woff2;base64,${fs.readFileSync(file).toString('base64')}) format('woff2'); }`;
}

export type ImageFormat = 'svg' | 'png' | 'pdf';
/** Every format exportFigures writes besides HTML, by default. */
export const IMAGE_FORMATS: readonly ImageFormat[] = ['svg', 'png', 'pdf'];
export const PLOTLY_VERSION: string = (() => {
  try {
    return JSON.parse(
      fs.readFileSync(path.join(projectRoot(), 'node_modules', 'plotly.js-dist', 'package.json'), 'utf8'),
    ).version;
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
  const candidates = explicit
    ? [explicit]
    : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  for (const c of candidates) if (fs.existsSync(c)) return { path: c };
  return {
    path: null,
    reason: `${explicit ? `GCG_CHROMIUM=${explicit} does not exist` : 'no Chromium found at /usr/bin/chromium'}. ${BROWSER_HINT}`,
  };
}

/** A standalone HTML page for one figure; `plotlySrc` is the script URL relative to the page. */
export function figureHtml(fig: PlotlyFigure, title: string, plotlySrc: string, fontSrc?: string): string {
  const spec = JSON.stringify(styled(fig)).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${title.replace(/</g, '&lt;')}</title>
${fontSrc ? `<style>${fontFaceLink(fontSrc)}</style>\n` : ''}<script src="${plotlySrc}"></script>
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
  log?: (line: string) => void,
): Promise<Record<string, Partial<Record<ImageFormat, Buffer>>>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  // Signals stay ours (src/io/interrupt.ts): Playwright would otherwise install its own SIGINT/SIGTERM handlers.
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: CHROMIUM_ARGS,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  try {
    // Two pages, each with the font and plotly.js loaded once: PNG at twice the size, SVG and PDF at 1:1.
    const font = fontFaceCss();
    const pages = new Map<number, import('playwright-core').Page>();
    const pageAt = async (scale: number) => {
      if (!pages.has(scale)) {
        const page = await browser.newPage({ deviceScaleFactor: scale });
        await page.setContent(
          `<html><head><style>${font} @page { margin: 0 } html, body { margin: 0; background: white }</style></head><body><div id="fig"></div></body></html>`,
        );
        await page.addScriptTag({ path: plotlyScriptPath() });
        await page.evaluate(async (name) => {
          const d = globalThis as unknown as {
            document: { fonts: { load(font: string): Promise<unknown>; ready: Promise<unknown> } };
          };
          await d.document.fonts.load(`13px '${name}'`);
          await d.document.fonts.ready;
        }, FONT_NAME);
        pages.set(scale, page);
      }
      return pages.get(scale)!;
    };
    const out: Record<string, Partial<Record<ImageFormat, Buffer>>> = {};
    const names = Object.keys(figs);
    for (const [i, [name, fig]] of Object.entries(figs).entries()) {
      const t0 = Date.now();
      const spec = sized(styled(fig));
      out[name] = {};
      for (const format of formats)
        out[name][format] = await drawIn(await pageAt(format === 'png' ? 2 : 1), spec, font, format);
      log?.(`  [${i + 1}/${names.length}] ${name}: ${formats.join(', ')} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
    return out;
  } finally {
    await browser.close();
  }
}

/**
 * One figure in one format, drawn by Plotly in a page of the figure's size with the project's font
 * loaded: PNG, a screenshot (at the page's scale, 2); SVG, Plotly's own, the font embedded and its
 * random element ids made fixed; PDF, the browser's (vector) print, its dates fixed. Drawn twice on
 * one machine, each comes out byte for byte the same.
 */
async function drawIn(
  page: import('playwright-core').Page,
  spec: PlotlyFigure,
  font: string,
  format: ImageFormat,
): Promise<Buffer> {
  const { width, height } = spec.layout as { width: number; height: number };
  await page.setViewportSize({ width, height });
  const svg = await page.evaluate(
    async ([f, wantSvg]) => {
      const w = globalThis as unknown as {
        Plotly: {
          purge(id: string): void;
          newPlot(id: string, d: unknown, l: unknown, c: unknown): Promise<unknown>;
          toImage(fig: unknown, o: unknown): Promise<string>;
        };
      };
      const spec = f as unknown as { data: unknown; layout: { width: number; height: number } };
      w.Plotly.purge('fig');
      await w.Plotly.newPlot('fig', spec.data, spec.layout, { staticPlot: true });
      return wantSvg
        ? await w.Plotly.toImage(spec, { format: 'svg', width: spec.layout.width, height: spec.layout.height })
        : '';
    },
    [spec, format === 'svg'] as const,
  );
  if (format === 'png') return await page.screenshot({ type: 'png', clip: { x: 0, y: 0, width, height } });
  if (format === 'svg') return Buffer.from(fixedSvg(decodeURIComponent(svg.slice(svg.indexOf(',') + 1)), font), 'utf8');
  return fixedPdf(
    await page.pdf({ width: `${width}px`, height: `${height}px`, printBackground: true, pageRanges: '1' }),
  );
}

/** Plotly's SVG with its random figure id (in every defs, clip path and gradient id) replaced by a fixed one, and the project's font embedded. */
export function fixedSvg(svg: string, font: string): string {
  const uid = /id="defs-([0-9a-z]+)"/.exec(svg)?.[1];
  const fixed = uid ? svg.split(uid).join('gcgfig') : svg;
  return fixed.replace(/(<svg[^>]*>)/, `$1<style>${font}</style>`);
}

/** A PDF with its creation and modification dates (and document ids, where present) fixed: the same figure prints to the same bytes. */
export function fixedPdf(pdf: Buffer): Buffer {
  let text = pdf.toString('latin1');
  // Dates keep their length (the cross-reference table holds byte offsets): D:YYYYMMDDHHmmSS... -> 2000-01-01 00:00:00.
  text = text.replace(/\(D:\d{14}([^)]*)\)/g, (_m, rest: string) => `(D:20000101000000${rest.replace(/\d/g, '0')})`);
  // The same in XMP metadata: dates (2026-12-03T18:15:30+00:00) and document uuids.
  text = text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/g, '2000-01-01T00:00:00');
  text = text.replace(/uuid:[0-9a-fA-F-]{36}/g, (m) => `uuid:${m.slice(5).replace(/[0-9a-fA-F]/g, '0')}`);
  text = text.replace(
    /\/ID \[<([0-9A-Fa-f]+)> <([0-9A-Fa-f]+)>\]/g,
    (_m, a: string, b: string) => `/ID [<${'0'.repeat(a.length)}> <${'0'.repeat(b.length)}>]`,
  );
  return Buffer.from(text, 'latin1');
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
  opts: {
    formats?: ImageFormat[];
    chromiumPath?: string;
    batch?: WriteBatch;
    /** One line per figure rendered (progress). */ log?: (line: string) => void;
  } = {},
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

async function stageFigures(
  figs: Record<string, PlotlyFigure>,
  dir: string,
  batch: WriteBatch,
  opts: { formats?: ImageFormat[]; chromiumPath?: string; log?: (line: string) => void },
): Promise<ExportResult> {
  const written: string[] = [];
  const rel = (f: string) => path.relative(path.resolve(dir), f).split(path.sep).join('/');
  const plotlySrc = rel(plotlyScriptPath());
  const fontSrc = rel(path.join(projectRoot(), FONT_FILE));
  for (const [name, fig] of Object.entries(figs)) {
    const file = path.join(dir, `${name}.html`);
    batch.add(file, figureHtml(fig, name, plotlySrc, fontSrc));
    written.push(file);
  }
  const formats = opts.formats ?? [...IMAGE_FORMATS];
  if (!formats.length) return { written };
  const browser = findChromium(opts.chromiumPath);
  if (!browser.path) {
    if (process.env.CI) throw new Error(browser.reason);
    return { written, imagesSkipped: browser.reason };
  }
  opts.log?.(`rendering ${Object.keys(figs).length} figures as ${formats.join(', ')} in Chromium`);
  const images = await renderImages(figs, formats, browser.path, opts.log);
  for (const [name, byFormat] of Object.entries(images)) {
    for (const [format, bytes] of Object.entries(byFormat)) {
      const file = path.join(dir, `${name}.${format}`);
      batch.add(file, bytes!);
      written.push(file);
    }
  }
  return { written };
}
