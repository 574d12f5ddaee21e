/**
 * How every figure looks, in one place: the project's own font (Open Sans, installed with the
 * package as @fontsource/open-sans, so an export looks the same whatever fonts a machine has),
 * readable sizes, and log axes labelled with plain numbers. Applied where a figure leaves the
 * project (export.ts, a notebook's showFigure); the figure builders say only what is drawn. No Node
 * in it (the embedded font file is read by export.ts).
 */

/** A Plotly figure as every builder returns it and every exporter takes it. */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

export const FONT_NAME = 'Open Sans';
/** The font stack every figure uses: the project's font first; sans-serif only where it is not loaded. */
export const FONT_FAMILY = `'${FONT_NAME}', sans-serif`;
/** Base text size (px): the exported PNG is drawn at twice the figure's size, so this reads as ~13 pt in a report. */
export const FONT_SIZE = 13;

/** The project font's file (latin glyphs, regular weight), relative to the project root. */
export const FONT_FILE = 'node_modules/@fontsource/open-sans/files/open-sans-latin-400-normal.woff2';

/** A figure in the project's style: its font family everywhere (sizes the builder set are kept), hover labels too; fixed trace ids. */
export function styled(fig: PlotlyFigure): PlotlyFigure {
  const layout = fig.layout as { font?: Record<string, unknown>; hoverlabel?: { font?: Record<string, unknown> } };
  return {
    // A fixed id per trace (Plotly draws a random one into the SVG otherwise).
    data: fig.data.map((t, i) => ({ uid: `t${i}`, ...t })),
    layout: {
      ...fig.layout,
      font: { size: FONT_SIZE, color: '#333', ...layout.font, family: FONT_FAMILY },
      hoverlabel: { ...layout.hoverlabel, font: { ...layout.hoverlabel?.font, family: FONT_FAMILY } },
    },
  };
}

/** The @font-face rule pointing at the font file by a URL (an HTML page beside the checkout, a notebook served by Jupyter). */
export function fontFaceLink(url: string): string {
  return `@font-face { font-family: '${FONT_NAME}'; font-style: normal; font-weight: 400; src: url('${url}') format('woff2'); }`;
}

/**
 * Ticks for a log axis as plain numbers at 1, 2 and 5 per decade (0.1, 0.2, 0.5, 1, 2, 5, 10, ...),
 * the ones inside the values' range (and at least two): Plotly's own log ticks label the minor
 * ticks "2", "5" in every decade, which reads as "5 2 1 5 2 0.1".
 */
export function logTicks(values: readonly number[]): { tickvals: number[]; ticktext: string[] } {
  const pos = values.filter((v) => Number.isFinite(v) && v > 0);
  if (!pos.length) return { tickvals: [], ticktext: [] };
  const lo = Math.min(...pos);
  const hi = Math.max(...pos);
  const all: number[] = [];
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)) + 1; e++)
    for (const m of [1, 2, 5]) all.push(Number((m * 10 ** e).toPrecision(1)));
  let ticks = all.filter((v) => v >= lo / 1.0001 && v <= hi * 1.0001);
  // The nearest one below and above as well when close (the axis then starts and ends on a label), or when too few are inside.
  const below = all.filter((v) => v < lo / 1.0001).slice(-1);
  const above = all.filter((v) => v > hi * 1.0001).slice(0, 1);
  ticks = [
    ...below.filter((v) => ticks.length < 2 || lo / v < 1.6),
    ...ticks,
    ...above.filter((v) => ticks.length < 2 || v / hi < 1.6),
  ];
  // Too many (several decades): 1 and 5 only, then 1 only.
  if (ticks.length > 9) ticks = ticks.filter((v) => /^[15]/.test(String(v)));
  if (ticks.length > 9) ticks = ticks.filter((v) => /^1/.test(String(v)));
  return { tickvals: ticks, ticktext: ticks.map((v) => (v >= 1 ? v.toLocaleString('en-US') : String(v))) };
}

/** A log axis whose range covers the values with a margin and whose ticks are plain numbers. */
export function logAxis(values: readonly number[], title: string): Record<string, unknown> {
  const pos = values.filter((v) => Number.isFinite(v) && v > 0);
  const ticks = logTicks(pos);
  const span = [...pos, ...ticks.tickvals];
  const range = span.length ? [Math.log10(Math.min(...span)) - 0.06, Math.log10(Math.max(...span)) + 0.06] : undefined;
  return { type: 'log', title: { text: title }, ...ticks, ...(range ? { range } : {}) };
}

/** A legend below the plot, across: it never covers data or gets clipped at the right edge. */
export const LEGEND_BELOW = { orientation: 'h', x: 0, y: -0.3, xanchor: 'left', yanchor: 'top' };
