/**
 * The redundancy study's figures (figures/redundancy/, notebook 12): each task's pairwise
 * interaction matrix (mean over seeds), the named sets' excess over their additive prediction
 * beside random sets', the layer profile of each preset, and rho(G, Shapley) beside rho(G, C).
 */
import { getTask, TaskName } from '../../tasks';
import type { PlotlyFigure } from '../../report/style';
import { LEGEND_BELOW } from '../../report/style';
import type { MeanClaim, RedundancyStudy } from './numbers';

const label = (t: TaskName) => getTask(t).label;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/** Error bars from a claim's interval (none without one). */
const bars = (cs: MeanClaim[]) => ({
  type: 'data',
  symmetric: false,
  array: cs.map((c) => (Number.isFinite(c.test.interval.hi) ? c.test.interval.hi - c.test.interval.estimate : 0)),
  arrayminus: cs.map((c) => (Number.isFinite(c.test.interval.lo) ? c.test.interval.estimate - c.test.interval.lo : 0)),
});
const est = (cs: MeanClaim[]) => cs.map((c) => c.test.interval.estimate);

/** A title above each panel i of a grid (axes x{i}, y{i}), at height y of its domain. */
const panelTitles = (texts: string[], y: number) =>
  texts.map((text, i) => ({
    text,
    showarrow: false,
    xref: `x${i ? i + 1 : ''} domain`,
    yref: `y${i ? i + 1 : ''} domain`,
    x: 0.5,
    y,
    yanchor: 'bottom',
  }));

/** One heat map per task: the mean interaction of every pair, in accuracy points (exact match) or nats (cross-entropy). */
function pairMatrices(s: RedundancyStudy, ce: boolean): PlotlyFigure {
  const n = s.pairs.length;
  const scale = ce ? 1 : 100;
  const unit = ce ? 'nats' : 'points';
  const matrixOf = (p: RedundancyStudy['pairs'][number]) => (ce ? p.ce.matrix : p.matrix);
  const lim =
    Math.max(0.01 / scale, ...s.pairs.flatMap((p) => matrixOf(p).flat().filter(Number.isFinite).map(Math.abs))) * scale;
  const data = s.pairs.map((p, i) => ({
    type: 'heatmap',
    x: p.ids,
    y: p.ids,
    z: matrixOf(p).map((row) => row.map((v) => (Number.isFinite(v) ? scale * v : null))),
    zmin: -lim,
    zmax: lim,
    colorscale: 'RdBu', // Plotly's RdBu runs blue (low) to red (high)
    showscale: i === 0,
    colorbar: { title: { text: unit }, len: 0.5, y: 1, yanchor: 'top' },
    hovertemplate: `${p.cell}: %{y} with %{x}: %{z:.3f} ${unit}<extra></extra>`,
    xaxis: `x${i ? i + 1 : ''}`,
    yaxis: `y${i ? i + 1 : ''}`,
  }));
  const layout: Record<string, unknown> = {
    title: {
      text: ce
        ? 'Pairwise interaction on cross-entropy, mean over seeds (red: together worse than the sum)'
        : 'Pairwise interaction C(i, j) - C(i) - C(j), mean over seeds (red: together worse than the sum)',
    },
    grid: { rows: n, columns: 1, pattern: 'independent', ygap: 0.25 },
    annotations: panelTitles(
      s.pairs.map((p) => `${p.cell} (${p.n} seeds)`),
      1,
    ),
    width: 760,
    height: 120 + n * 640,
    margin: { l: 80, r: 40, b: 70, t: 100 },
  };
  s.pairs.forEach((_, i) => {
    layout[`xaxis${i ? i + 1 : ''}`] = { tickangle: -60, scaleanchor: `y${i ? i + 1 : ''}` };
    layout[`yaxis${i ? i + 1 : ''}`] = { autorange: 'reversed' };
  });
  return { data, layout };
}

/** Each named set's excess (joint - predicted) and its excess beyond random sets of its size, per task, with intervals over seeds. */
function setExcess(s: RedundancyStudy): PlotlyFigure {
  const data = s.cells.flatMap(({ label: cell }, i) => {
    const rows = s.sets.filter((x) => x.cell === cell);
    const x = rows.map((r) => `${r.name} (${r.n})`);
    return [
      {
        type: 'bar',
        name: `${cell}: joint - predicted`,
        x,
        y: est(rows.map((r) => r.excess)).map((v) => 100 * v),
        error_y: scaled(bars(rows.map((r) => r.excess))),
        marker: { color: COLORS[(2 * i) % COLORS.length] },
      },
      {
        type: 'bar',
        name: `${cell}: beyond random sets of its size`,
        x,
        y: est(rows.map((r) => r.beyondSize)).map((v) => 100 * v),
        error_y: scaled(bars(rows.map((r) => r.beyondSize))),
        marker: { color: COLORS[(2 * i + 1) % COLORS.length] },
      },
    ].map((t) => ({ ...t, xaxis: `x${i ? i + 1 : ''}`, yaxis: `y${i ? i + 1 : ''}` }));
  });
  const layout: Record<string, unknown> = {
    title: {
      text: 'Sets ablated together: damage beyond the sum of single damages (accuracy points; seeds in brackets)',
    },
    grid: { rows: s.cells.length, columns: 1, pattern: 'independent', ygap: 0.35 },
    barmode: 'group',
    width: 860,
    height: 180 + 330 * s.cells.length,
    legend: LEGEND_BELOW,
    margin: { l: 70, r: 30, b: 60, t: 80 },
  };
  s.cells.forEach((_, i) => (layout[`yaxis${i ? i + 1 : ''}`] = { title: { text: 'points' }, zeroline: true }));
  return { data, layout };
}

const scaled = (e: ReturnType<typeof bars>) => ({
  ...e,
  array: e.array.map((v) => 100 * v),
  arrayminus: e.arrayminus.map((v) => 100 * v),
});

/** Mean Delta per layer (average ranks) of each store and task, with intervals over seeds. */
function layerProfiles(s: RedundancyStudy): PlotlyFigure {
  const tasks = [...new Set(s.profiles.map((p) => p.task))];
  const labels = [...new Set(s.profiles.map((p) => p.label))];
  const data = s.profiles.map((p) => {
    const i = tasks.indexOf(p.task);
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: p.label,
      legendgroup: p.label,
      showlegend: i === 0,
      x: p.layers.map((l) => l.layer + labels.indexOf(p.label) * 0.06),
      y: est(p.layers.map((l) => l.delta)),
      error_y: bars(p.layers.map((l) => l.delta)),
      marker: { color: COLORS[labels.indexOf(p.label) % COLORS.length] },
      xaxis: `x${i ? i + 1 : ''}`,
      yaxis: `y${i ? i + 1 : ''}`,
    };
  });
  const layout: Record<string, unknown> = {
    title: { text: 'Layer profile: mean Delta = Rank(G) - Rank(C) of each layer (above 0: G over-values it)' },
    grid: { rows: 1, columns: tasks.length, pattern: 'independent' },
    annotations: panelTitles(tasks.map(label), 1.02),
    width: 860,
    height: 460,
    legend: LEGEND_BELOW,
    margin: { l: 70, r: 30, b: 60, t: 90 },
  };
  tasks.forEach((_, i) => {
    layout[`xaxis${i ? i + 1 : ''}`] = { title: { text: 'layer' }, dtick: 1 };
    layout[`yaxis${i ? i + 1 : ''}`] = { title: { text: 'mean Delta' }, zeroline: true };
  });
  return { data, layout };
}

/** rho(G, C), rho(G, Shapley) and rho(C, Shapley) per task, with intervals over seeds. */
function shapleyRhos(s: RedundancyStudy): PlotlyFigure {
  const x = s.shapley.map((r) => `${r.cell} (${r.n})`);
  const series: [string, (r: RedundancyStudy['shapley'][number]) => MeanClaim][] = [
    ['rho(G, C)', (r) => r.rhoGC],
    ['rho(G, Shapley)', (r) => r.rhoGS],
    ['rho(C, Shapley)', (r) => r.rhoCS],
  ];
  return {
    data: series.map(([name, f], k) => ({
      type: 'bar',
      name,
      x,
      y: est(s.shapley.map(f)),
      error_y: bars(s.shapley.map(f)),
      marker: { color: COLORS[k] },
    })),
    layout: {
      title: { text: 'Does G track Shapley importance better than single-component C? (seeds in brackets)' },
      barmode: 'group',
      width: 760,
      height: 460,
      yaxis: { title: { text: 'mean Spearman rho' }, range: [-0.2, 1] },
      legend: LEGEND_BELOW,
      margin: { l: 70, r: 30, b: 60, t: 80 },
    },
  };
}

export function redundancyFigures(s: RedundancyStudy): Record<string, PlotlyFigure> {
  const out: Record<string, PlotlyFigure> = {};
  if (s.cells.length) {
    out.redundancy_pairs = pairMatrices(s, false);
    out.redundancy_pairs_ce = pairMatrices(s, true);
    out.redundancy_sets = setExcess(s);
    out.redundancy_shapley = shapleyRhos(s);
  }
  if (s.profiles.length) out.redundancy_layers = layerProfiles(s);
  return out;
}
