/**
 * The measures study's figures (figures/measures/, notebook 09): agreement heat maps (cheap x causal
 * and causal x causal, per task, intervals in the cell text), the components of the best and the
 * worst pair as rank scatter plots, and each cheap measure's cost against its agreement.
 */
import { allMeasureInfo } from '../analysis/measure-info';
import { averageRanks } from '../analysis/ranks';
import type { TaskName } from '../config';
import type { RunRecord } from '../store';
import { getTask } from '../tasks';
import type { PlotlyFigure } from './figures';
import { f2 } from './markdown';
import { findPair, MeasuresStudy, PairStat } from './measures';
import { analysed, MeasurePair } from './records';

const label = (t: string) => getTask(t).label;
const cellText = (p: PairStat | undefined) => (p ? `${f2(p.rho.estimate)}<br>[${f2(p.rho.lo)}, ${f2(p.rho.hi)}]` : '');

/** One heat map per task side by side: rows, columns, a PairStat per cell. */
function heatmaps(s: MeasuresStudy, title: string, rows: string[], cols: string[], cell: (task: TaskName, r: string, c: string) => PairStat | undefined, diagonalOne = false): PlotlyFigure {
  const data = s.tasks.map((task, i) => {
    const z = rows.map((r) => cols.map((c) => (diagonalOne && r === c ? 1 : (cell(task, r, c)?.rho.estimate ?? null))));
    return {
      type: 'heatmap',
      x: cols,
      y: rows,
      z,
      text: rows.map((r) => cols.map((c) => (diagonalOne && r === c ? '1' : cellText(cell(task, r, c))))),
      texttemplate: '%{text}',
      hovertemplate: '%{y} vs %{x}: mean rho %{text}<extra></extra>',
      zmin: -1,
      zmax: 1,
      colorscale: 'RdBu',
      showscale: i === s.tasks.length - 1,
      colorbar: { title: { text: 'mean rho' } },
      xaxis: `x${i ? i + 1 : ''}`,
      yaxis: `y${i ? i + 1 : ''}`,
    };
  });
  const layout: Record<string, unknown> = {
    title: { text: title },
    grid: { rows: 1, columns: s.tasks.length, pattern: 'independent' },
    annotations: s.tasks.map((t, i) => ({ text: `${label(t)} (${s.runs[t]} seeds)`, showarrow: false, xref: `x${i ? i + 1 : ''} domain`, yref: `y${i ? i + 1 : ''} domain`, x: 0.5, y: 1.06 })),
    width: Math.max(900, 560 * s.tasks.length + 160),
    height: 130 + 62 * rows.length,
    margin: { l: 150, b: 120, t: 90 },
    font: { size: 11 },
  };
  s.tasks.forEach((_, i) => {
    layout[`xaxis${i ? i + 1 : ''}`] = { tickangle: -35 };
    layout[`yaxis${i ? i + 1 : ''}`] = { autorange: 'reversed', showticklabels: i === 0 };
  });
  return { data, layout };
}

/** The pair with the highest (or lowest) mean rho averaged over tasks. */
export function extremePair(s: MeasuresStudy, which: 'best' | 'worst'): MeasurePair {
  let out: MeasurePair = { cheap: s.cheap[0], causal: s.causal[0] };
  let v = which === 'best' ? -Infinity : Infinity;
  for (const cheap of s.cheap) {
    for (const causal of s.causal) {
      const m = s.tasks.reduce((a, t) => a + (findPair(s.pairs, t, cheap, causal)?.rho.estimate ?? NaN), 0) / s.tasks.length;
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
      data.push({ type: 'scatter', mode: 'markers', name: label(task), legendgroup: task, showlegend: i === 0, x, y, text, hoverinfo: 'text+x+y', marker: { color: getTask(task).color, size: 6, opacity: 0.55 }, xaxis: `x${i ? i + 1 : ''}`, yaxis: `y${i ? i + 1 : ''}` });
    });
  });
  const rhoText = (pair: MeasurePair) => s.tasks.map((t) => `${label(t)} ${f2(findPair(s.pairs, t, pair.cheap, pair.causal)?.rho.estimate ?? NaN)}`).join(', ');
  const layout: Record<string, unknown> = {
    title: { text: 'The best and the worst pair<br>each component of every run, by rank (1 = least important; ties averaged)' },
    grid: { rows: 1, columns: 2, pattern: 'independent' },
    annotations: pairs.map((p, i) => ({ text: `${i ? 'worst' : 'best'}: ${p.cheap} vs ${p.causal} (mean rho ${rhoText(p)})`, showarrow: false, xref: `x${i ? 2 : ''} domain`, yref: `y${i ? 2 : ''} domain`, x: 0.5, y: 1.08 })),
    width: 1100,
    height: 520,
    legend: { orientation: 'h', y: -0.18 },
  };
  pairs.forEach((p, i) => {
    layout[`xaxis${i ? 2 : ''}`] = { title: { text: `rank under ${p.cheap}` } };
    layout[`yaxis${i ? 2 : ''}`] = { title: { text: `rank under ${p.causal}` } };
  });
  return { data, layout };
}

/** Each cheap measure's seconds per run against its mean rho with the given causal measures (error bars: 95% intervals over seeds). */
function costAgreement(s: MeasuresStudy, against: readonly string[]): PlotlyFigure {
  const symbols = ['circle', 'diamond-open', 'square-open', 'x'];
  const data: Record<string, unknown>[] = [];
  s.tasks.forEach((task) => {
    against.filter((k) => s.causal.includes(k)).forEach((causal, a) => {
      const ps = s.cheap.map((c) => findPair(s.pairs, task, c, causal)!);
      const secs = s.cheap.map((c) => s.costs.find((x) => x.measure === c && x.task === task)?.seconds ?? NaN);
      data.push({
        type: 'scatter',
        mode: a === 0 ? 'markers+text' : 'markers',
        name: `${label(task)}, against ${causal}`,
        x: secs,
        y: ps.map((p) => p.rho.estimate),
        text: s.cheap,
        textposition: 'top center',
        textfont: { size: 9 },
        error_y: { type: 'data', symmetric: false, array: ps.map((p) => p.rho.hi - p.rho.estimate), arrayminus: ps.map((p) => p.rho.estimate - p.rho.lo), thickness: 1 },
        marker: { color: getTask(task).color, symbol: symbols[a % symbols.length], size: 9 },
      });
    });
  });
  return {
    data,
    layout: {
      title: { text: 'Cost against agreement: seconds per run (log scale) and mean rho with a causal measure' },
      xaxis: { type: 'log', title: { text: 'seconds per run (this machine)' }, tickvals: [1, 2, 5, 10, 20, 50, 100, 200, 500], ticktext: ['1', '2', '5', '10', '20', '50', '100', '200', '500'] },
      yaxis: { title: { text: 'mean rho over seeds (95% interval)' }, range: [-0.5, 1.05] },
      width: 900,
      height: 560,
      legend: { orientation: 'h', y: -0.2 },
    },
  };
}

/** The study's figures by file name. */
export function measuresFigures(records: readonly RunRecord[], s: MeasuresStudy): Record<string, PlotlyFigure> {
  return {
    measures_agreement: heatmaps(s, 'Agreement of cheap (rows) and causal (columns) measures<br>mean Spearman rho over seeds [95% bootstrap interval]', s.cheap, s.causal, (t, r, c) => findPair(s.pairs, t, r, c)),
    measures_causal_agreement: heatmaps(s, 'The causal measures against each other<br>mean Spearman rho over seeds [95% bootstrap interval]', s.causal, s.causal, (t, r, c) => findPair(s.causalPairs, t, r, c) ?? findPair(s.causalPairs, t, c, r), true),
    measures_best_worst: rankScatter(records, s),
    measures_cost: costAgreement(s, allMeasureInfo().filter((m) => m.eq2Ablation).map((m) => m.name)),
  };
}
