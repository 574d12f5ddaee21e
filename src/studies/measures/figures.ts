/**
 * The measures study's figures (figures/measures/, notebook 09): agreement heat maps (cheap x causal
 * and causal x causal, per task, intervals in the cell text), the components of the best and the
 * worst pair as rank scatter plots, and each cheap measure's cost against its agreement.
 */
import { allMeasureInfo } from '../../analysis/measure-info';
import { averageRanks } from '../../analysis/ranks';
import type { TaskName } from '../../tasks';
import type { RunRecord } from '../../records/format';
import { getTask } from '../../tasks';
import type { PlotlyFigure } from '../../report/style';
import { f2 } from '../../report/markdown';
import { findPair, MeasuresStudy } from './numbers';
import { PairStat } from '../../report/pairs';
import { analysed, MeasurePair } from '../../report/records';
import { logAxis } from '../../report/style';

const label = (t: string) => getTask(t).label;
const cellText = (p: PairStat | undefined) => (p ? `${f2(p.rho.estimate)}<br>[${f2(p.rho.lo)}, ${f2(p.rho.hi)}]` : '');

/**
 * One heat map per task, stacked (each as wide as the column allows): rows, columns, a PairStat per
 * cell, its mean rho and interval written in the cell.
 */
function heatmaps(
  s: MeasuresStudy,
  title: string,
  rows: string[],
  cols: string[],
  cell: (task: TaskName, r: string, c: string) => PairStat | undefined,
  diagonalOne = false,
): PlotlyFigure {
  const n = s.tasks.length;
  const data = s.tasks.map((task, i) => {
    const z = rows.map((r) => cols.map((c) => (diagonalOne && r === c ? 1 : (cell(task, r, c)?.rho.estimate ?? null))));
    return {
      type: 'heatmap',
      x: cols,
      y: rows,
      z,
      text: rows.map((r) => cols.map((c) => (diagonalOne && r === c ? '1' : cellText(cell(task, r, c))))),
      texttemplate: '%{text}',
      textfont: { size: 11 },
      hovertemplate: `${label(task)}: %{y} vs %{x}: mean rho %{text}<extra></extra>`,
      zmin: -1,
      zmax: 1,
      colorscale: 'RdBu',
      showscale: i === 0,
      colorbar: { title: { text: 'mean rho' }, len: 0.5, y: 1, yanchor: 'top' },
      xaxis: `x${i ? i + 1 : ''}`,
      yaxis: `y${i ? i + 1 : ''}`,
    };
  });
  const panel = 70 + 44 * rows.length; // px per task: its rows and its column labels
  const layout: Record<string, unknown> = {
    title: { text: title },
    grid: { rows: n, columns: 1, pattern: 'independent', ygap: 0.3 },
    annotations: s.tasks.map((t, i) => ({
      text: `${label(t)} (${s.runs[t]} seeds)`,
      showarrow: false,
      xref: `x${i ? i + 1 : ''} domain`,
      yref: `y${i ? i + 1 : ''} domain`,
      x: 0.5,
      y: 1,
      yanchor: 'bottom',
      font: { size: 14 },
    })),
    width: 900,
    height: 150 + n * (panel + 60),
    margin: { l: 160, r: 40, b: 90, t: 110 },
  };
  s.tasks.forEach((_, i) => {
    layout[`xaxis${i ? i + 1 : ''}`] = { tickangle: -30 };
    layout[`yaxis${i ? i + 1 : ''}`] = { autorange: 'reversed' };
  });
  return { data, layout };
}

/** The pair with the highest (or lowest) mean rho averaged over tasks. */
export function extremePair(s: MeasuresStudy, which: 'best' | 'worst'): MeasurePair {
  let out: MeasurePair = { cheap: s.cheap[0], causal: s.causal[0] };
  let v = which === 'best' ? -Infinity : Infinity;
  for (const cheap of s.cheap) {
    for (const causal of s.causal) {
      const m =
        s.tasks.reduce((a, t) => a + (findPair(s.pairs, t, cheap, causal)?.rho.estimate ?? NaN), 0) / s.tasks.length;
      if (which === 'best' ? m > v : m < v) [out, v] = [{ cheap, causal }, m];
    }
  }
  return out;
}

/** Each component of every run as (rank under the cheap measure, rank under the causal one), for the best and the worst pair. */
function rankScatter(records: readonly RunRecord[], s: MeasuresStudy): PlotlyFigure {
  const pairs = [extremePair(s, 'best'), extremePair(s, 'worst')];
  const data: Record<string, unknown>[] = [];
  pairs.forEach((pair, i) => {
    s.tasks.forEach((task) => {
      const x: number[] = [];
      const y: number[] = [];
      const text: string[] = [];
      for (const r of analysed(records, task)) {
        const ids = r.analysis.components;
        const rc = averageRanks(ids.map((id) => r.analysis.scores[pair.cheap][id]));
        const rk = averageRanks(ids.map((id) => r.analysis.scores[pair.causal][id]));
        ids.forEach((id, k) => {
          x.push(rc[k]);
          y.push(rk[k]);
          text.push(`seed ${r.seed} ${id}`);
        });
      }
      data.push({
        type: 'scatter',
        mode: 'markers',
        name: label(task),
        legendgroup: task,
        showlegend: i === 0,
        x,
        y,
        text,
        hoverinfo: 'text+x+y',
        marker: { color: getTask(task).color, size: 6, opacity: 0.55 },
        xaxis: `x${i ? i + 1 : ''}`,
        yaxis: `y${i ? i + 1 : ''}`,
      });
    });
  });
  const rhoText = (pair: MeasurePair) =>
    s.tasks
      .map((t) => `${label(t)} ${f2(findPair(s.pairs, t, pair.cheap, pair.causal)?.rho.estimate ?? NaN)}`)
      .join(', ');
  const layout: Record<string, unknown> = {
    title: {
      text: 'The best and the worst pair<br><sub>each component of every run, by rank (1 = least important; ties averaged)</sub>',
    },
    margin: { t: 130, b: 150 },
    grid: { rows: 1, columns: 2, pattern: 'independent' },
    annotations: pairs.map((p, i) => ({
      text: `${i ? 'worst' : 'best'}: ${p.cheap} vs ${p.causal} (mean rho ${rhoText(p)})`,
      showarrow: false,
      xref: `x${i ? 2 : ''} domain`,
      yref: `y${i ? 2 : ''} domain`,
      x: 0.5,
      y: 1.08,
    })),
    width: 1100,
    height: 520,
    legend: { orientation: 'h', x: 0, y: -0.26, yanchor: 'top' },
  };
  pairs.forEach((p, i) => {
    layout[`xaxis${i ? 2 : ''}`] = { title: { text: `rank under ${p.cheap}` } };
    layout[`yaxis${i ? 2 : ''}`] = { title: { text: `rank under ${p.causal}` } };
  });
  return { data, layout };
}

/**
 * What each cheap measure costs and what it buys: per measure (a row each, so no label covers
 * another), its seconds per run (left, log scale) and its mean rho with the given causal measures
 * (right; 95% intervals over seeds), one colour per task.
 */
function costAgreement(s: MeasuresStudy, against: readonly string[]): PlotlyFigure {
  const symbols = ['circle', 'diamond-open', 'square-open', 'x'];
  const causal = against.filter((k) => s.causal.includes(k));
  const rows = [...s.cheap].reverse(); // the first measure on top
  const data: Record<string, unknown>[] = [];
  const seconds: number[] = [];
  s.tasks.forEach((task) => {
    const secs = rows.map((c) => s.costs.find((x) => x.measure === c && x.task === task)?.seconds ?? NaN);
    seconds.push(...secs);
    data.push({
      type: 'scatter',
      mode: 'markers',
      orientation: 'h',
      name: `${label(task)}: seconds per run`,
      legendgroup: task,
      x: secs.map((v) => (Number.isFinite(v) ? v : null)),
      y: rows,
      hovertemplate: `${label(task)}, %{y}: %{x:.1f} s per run<extra></extra>`,
      marker: { color: getTask(task).color, symbol: 'square', size: 10 },
    });
    causal.forEach((k, a) => {
      const ps = rows.map((c) => findPair(s.pairs, task, c, k)!);
      data.push({
        type: 'scatter',
        mode: 'markers',
        orientation: 'h',
        name: `${label(task)}: mean rho with ${k}`,
        legendgroup: task,
        x: ps.map((p) => p.rho.estimate),
        y: rows,
        error_x: {
          type: 'data',
          symmetric: false,
          array: ps.map((p) => p.rho.hi - p.rho.estimate),
          arrayminus: ps.map((p) => p.rho.estimate - p.rho.lo),
          thickness: 1.2,
          width: 3,
        },
        hovertemplate: `${label(task)}, %{y} vs ${k}: mean rho %{x:.2f}<extra></extra>`,
        marker: { color: getTask(task).color, symbol: symbols[a % symbols.length], size: 10 },
        xaxis: 'x2',
        yaxis: 'y2',
      });
    });
  });
  return {
    data,
    layout: {
      title: {
        text: `What a cheap measure costs and what it buys<br><sub>seconds per run on the machines that ran the study (log scale); mean rho with ${causal.join(' and ')} over seeds [95% interval]</sub>`,
      },
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      scattermode: 'group',
      scattergap: 0.5,
      xaxis: { ...logAxis(seconds, 'seconds per run'), domain: [0, 0.36] },
      yaxis: { type: 'category', categoryorder: 'array', categoryarray: rows },
      xaxis2: { title: { text: 'mean rho over seeds' }, range: [-0.5, 1.05], domain: [0.44, 1], zeroline: true },
      yaxis2: { type: 'category', categoryorder: 'array', categoryarray: rows, showticklabels: false },
      width: 900,
      height: 200 + 70 * rows.length,
      margin: { l: 160, r: 30, t: 100, b: 200 },
      legend: { orientation: 'h', x: 0, y: -0.24, yanchor: 'top' },
    },
  };
}

/** The study's figures by file name. */
export function measuresFigures(records: readonly RunRecord[], s: MeasuresStudy): Record<string, PlotlyFigure> {
  return {
    measures_agreement: heatmaps(
      s,
      'Agreement of cheap (rows) and causal (columns) measures<br>mean Spearman rho over seeds [95% bootstrap interval]',
      s.cheap,
      s.causal,
      (t, r, c) => findPair(s.pairs, t, r, c),
    ),
    measures_causal_agreement: heatmaps(
      s,
      'The causal measures against each other<br>mean Spearman rho over seeds [95% bootstrap interval]',
      s.causal,
      s.causal,
      (t, r, c) => findPair(s.causalPairs, t, r, c) ?? findPair(s.causalPairs, t, c, r),
      true,
    ),
    measures_best_worst: rankScatter(records, s),
    measures_cost: costAgreement(
      s,
      allMeasureInfo()
        .filter((m) => m.eq2Ablation)
        .map((m) => m.name),
    ),
  };
}
