/**
 * The complexity study's figures (figures/complexity/, notebook 10): rho (G, C) against task
 * complexity at the paper's size, rho (G, C) against depth and against width per task (two panels,
 * the size axes of complexity.ts), and every measure pair's
 * mean rho by task (easiest first) as a heat map. Each run is a point; each cell a mean with its
 * 95% bootstrap interval over seeds.
 */
import { getTask } from '../../tasks';
import { axisCells, Cell, ComplexityStudy, REFERENCE_SIZE, SIZE_AXES, SIZE_AXIS_NAMES } from './numbers';
import type { PlotlyFigure } from '../../report/style';
import { f2 } from '../../report/markdown';
import { logAxis } from '../../report/style';
import { MODEL_SIZES, SizeName, SIZES } from '../../settings/sizes';

/** One marker per registered size (complexity_sizes), in SIZES order. */
const SIZE_SYMBOLS = ['circle', 'diamond', 'square', 'triangle-up', 'star'];

const label = (t: string) => getTask(t).label;
/** Plotly draws null as a gap; NaN (a rho of constant scores, an interval of one seed) breaks its colour bars. */
const fin = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);

/** Per-run points (jittered a little along x) and the cell's mean with its interval, one trace pair per cell. */
function cellTraces(
  cells: readonly Cell[],
  x: (c: Cell) => number,
  name: (c: Cell) => string,
  color: (c: Cell) => string,
  jitter: number,
  symbol: (c: Cell) => string = () => 'diamond',
): Record<string, unknown>[] {
  return cells.flatMap((c) => {
    const rhos = c.gc.rhos;
    const xs = rhos.map((_, i) => x(c) * (1 + (jitter * (i - (rhos.length - 1) / 2)) / Math.max(1, rhos.length)));
    return [
      {
        type: 'scatter',
        mode: 'markers',
        x: xs,
        y: rhos.map(fin),
        name: `${name(c)}: runs`,
        legendgroup: name(c),
        showlegend: false,
        marker: { color: color(c), size: 6, opacity: 0.45, symbol: `${symbol(c)}-open` },
        text: c.gc.seeds.map((s) => `seed ${s}`),
        hovertemplate: `${name(c)} %{text}: rho %{y:.3f}<extra></extra>`,
      },
      {
        type: 'scatter',
        mode: 'markers',
        x: [x(c)],
        y: [fin(c.gc.rho.estimate)],
        name: name(c),
        legendgroup: name(c),
        marker: { color: color(c), size: 12, symbol: symbol(c), line: { width: 1, color: '#333' } },
        error_y: {
          type: 'data',
          symmetric: false,
          array: [fin(c.gc.rho.hi - c.gc.rho.estimate)],
          arrayminus: [fin(c.gc.rho.estimate - c.gc.rho.lo)],
          color: color(c),
        },
        hovertemplate: `${name(c)}: mean rho %{y:.3f} [${f2(c.gc.rho.lo)}, ${f2(c.gc.rho.hi)}]<extra></extra>`,
      },
    ];
  });
}

function overTasks(s: ComplexityStudy): PlotlyFigure {
  const cells = s.taskOrder.map((t) => s.cells.find((c) => c.task === t && c.size === REFERENCE_SIZE)!);
  return {
    data: cellTraces(
      cells,
      (c) => c.medianSteps,
      (c) => label(c.task),
      (c) => getTask(c.task).color,
      0.12,
    ),
    layout: {
      title: {
        text: `Agreement of G and C against task complexity<br><sub>the paper's model (${REFERENCE_SIZE}); open markers: each run's Spearman rho; diamond: mean over seeds [95% bootstrap interval]</sub>`,
      },
      xaxis: logAxis(
        cells.map((c) => c.medianSteps),
        `median training steps to ${Math.round(100 * 0.9)}% exact match (log scale)`,
      ),
      yaxis: { title: { text: 'rho (G, C)' }, range: [-1, 1] },
      width: 820,
      height: 520,
    },
  };
}

/** Two panels side by side: rho against depth (layers at the paper's width) and against width (d_model at its depth), a line per task. */
function overSizes(s: ComplexityStudy): PlotlyFigure {
  const tasks = [...new Set(s.cells.map((c) => c.task))];
  const axes: Record<string, unknown> = {};
  // A panel per axis that has a trend (a small grid may have one axis only).
  const panels = SIZE_AXIS_NAMES.filter((axis) => tasks.some((t) => axisCells(s.cells, t, axis).length));
  const data = panels.flatMap((axis, k) => {
    const setting = SIZE_AXES[axis].setting;
    const xref = k ? `x${k + 1}` : 'x';
    const values = [...new Set(tasks.flatMap((t) => axisCells(s.cells, t, axis).map((c) => c[setting])))].sort(
      (a, b) => a - b,
    );
    axes[k ? `xaxis${k + 1}` : 'xaxis'] = {
      type: 'log',
      domain: panels.length === 1 ? [0, 1] : k ? [0.54, 1] : [0, 0.46],
      anchor: 'y',
      title: {
        text:
          axis === 'depth'
            ? `depth: layers (at d_model ${MODEL_SIZES[REFERENCE_SIZE].dModel})`
            : `width: d_model (at ${MODEL_SIZES[REFERENCE_SIZE].nLayers} layers)`,
      },
      tickvals: values,
      ticktext: values.map(String),
      ...(values.length ? { range: [Math.log10(values[0]) - 0.08, Math.log10(values[values.length - 1]) + 0.08] } : {}),
    };
    return tasks.flatMap((t) => {
      const cells = axisCells(s.cells, t, axis);
      if (!cells.length) return [];
      const traces = [
        {
          type: 'scatter',
          mode: 'lines',
          x: cells.map((c) => c[setting]),
          y: cells.map((c) => fin(c.gc.rho.estimate)),
          line: { color: getTask(t).color, dash: 'dot' },
          legendgroup: label(t),
          showlegend: false,
          hoverinfo: 'skip',
        },
        ...cellTraces(
          cells,
          (c) => c[setting],
          (c) => `${label(c.task)} ${c.size}`,
          () => getTask(t).color,
          0.15,
          (c) => SIZE_SYMBOLS[SIZES.indexOf(c.size as SizeName) % SIZE_SYMBOLS.length],
        ),
      ];
      // The paper's model is on both axes: in the legend once.
      return traces.map((tr) => ({
        ...tr,
        xaxis: xref,
        legendgroup: label(t),
        ...(k && tr.name === `${label(t)} ${REFERENCE_SIZE}` ? { showlegend: false } : {}),
      }));
    });
  });
  return {
    data,
    layout: {
      title: {
        text: `Agreement of G and C against ${panels.join(' and against ')}<br><sub>open markers: each run's Spearman rho; filled: mean over seeds [95% bootstrap interval]; a marker shape per size</sub>`,
      },
      ...axes,
      yaxis: { title: { text: 'rho (G, C)' }, range: [-1, 1] },
      width: panels.length === 1 ? 820 : 1000,
      height: 520,
    },
  };
}

function pairsByTask(s: ComplexityStudy): PlotlyFigure {
  const rows = s.trends.map((t) => `${t.pair.cheap} vs ${t.pair.causal}`);
  const rho = (task: string, i: number) =>
    s.pairs.find(
      (p) =>
        p.task === task &&
        p.size === REFERENCE_SIZE &&
        p.pair.cheap === s.trends[i].pair.cheap &&
        p.pair.causal === s.trends[i].pair.causal,
    )?.rho;
  return {
    data: [
      {
        type: 'heatmap',
        x: s.taskOrder.map(label),
        y: rows,
        z: rows.map((_, i) => s.taskOrder.map((t) => fin(rho(t, i)?.estimate))),
        text: rows.map((_, i) => s.taskOrder.map((t) => f2(rho(t, i)?.estimate))),
        texttemplate: '%{text}',
        hovertemplate: '%{y} on %{x}: mean rho %{text}<extra></extra>',
        zmin: -1,
        zmax: 1,
        colorscale: 'RdBu',
        colorbar: { title: { text: 'mean rho' } },
      },
    ],
    layout: {
      title: { text: `Every measure pair's mean rho by task, easiest first (${REFERENCE_SIZE})` },
      yaxis: { autorange: 'reversed' },
      width: 300 + 120 * s.taskOrder.length,
      height: Math.max(420, 170 + 22 * rows.length),
      margin: { l: 290 },
      font: { size: 12 },
    },
  };
}

export function complexityFigures(s: ComplexityStudy): Record<string, PlotlyFigure> {
  const out: Record<string, PlotlyFigure> = {};
  if (s.taskOrder.length) out.complexity_tasks = overTasks(s);
  if (s.trends[0]?.overSizes.length) out.complexity_sizes = overSizes(s);
  if (s.taskOrder.length && s.trends.length) out.complexity_pairs = pairsByTask(s);
  return out;
}
