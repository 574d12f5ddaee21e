/** Training curves: each seed's loss and stopping-check accuracy against steps, per task, with the band over seeds. */
import type { RunRecord } from '../records/format';
import { getTask } from '../tasks';
import { presetClause, tasksIn } from './records';
import { LEGEND_BELOW, logAxis, PlotlyFigure } from './style';

/** The q-quantile (0..1) of a sorted array, linearly interpolated. */
function quantile(sorted: readonly number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (i - lo);
}

/**
 * The loss curve of several runs as a median and a 10-90% band over runs, per block of `block`
 * steps (each run's loss averaged within the block first: single steps are noisy). A run counts
 * at a step only while it was still training.
 */
export function lossBand(
  runs: readonly number[][],
  block: number,
): { step: number[]; median: number[]; lo: number[]; hi: number[]; n: number[] } {
  const out = {
    step: [] as number[],
    median: [] as number[],
    lo: [] as number[],
    hi: [] as number[],
    n: [] as number[],
  };
  const longest = Math.max(0, ...runs.map((r) => r.length));
  for (let s = 0; s < longest; s += block) {
    const vals = runs
      .filter((r) => r.length > s)
      .map((r) => {
        const xs = r.slice(s, s + block);
        return xs.reduce((a, b) => a + b, 0) / xs.length;
      })
      .sort((a, b) => a - b);
    out.step.push(s + Math.min(block, longest - s) / 2);
    out.median.push(quantile(vals, 0.5));
    out.lo.push(quantile(vals, 0.1));
    out.hi.push(quantile(vals, 0.9));
    out.n.push(vals.length);
  }
  return out;
}

/**
 * Training curves, per task: the loss as the median over seeds with a 10-90% band (left), and every
 * seed's training-distribution exact match at the stopping checks (right; one colour per task,
 * the seed on hover). One run alone is drawn as its own curve.
 */
export function trainingCurves(records: readonly RunRecord[]): PlotlyFigure {
  const data: Record<string, unknown>[] = [];
  const tasks = tasksIn(records);
  const longest = Math.max(1, ...records.map((r) => r.training.losses.length));
  const block = Math.max(1, Math.ceil(longest / 300));
  const lossValues: number[] = [];
  for (const task of tasks) {
    const rs = records.filter((r) => r.task === task).sort((a, b) => a.seed - b.seed);
    const color = getTask(task).color;
    // The median of one or two runs is noise: the curve ends where fewer than three (or all, if fewer) still train.
    const full = lossBand(
      rs.map((r) => r.training.losses),
      block,
    );
    const keep = full.n.map((n) => n >= Math.min(3, rs.length));
    const pick = (xs: number[]) => xs.filter((_, i) => keep[i]);
    const band = {
      step: pick(full.step),
      median: pick(full.median),
      lo: pick(full.lo),
      hi: pick(full.hi),
      n: pick(full.n),
    };
    lossValues.push(...band.median, ...(rs.length > 1 ? [...band.lo, ...band.hi] : []));
    const label =
      rs.length > 1
        ? `${getTask(task).label}: median of ${rs.length} seeds`
        : `${getTask(task).label} seed ${rs[0].seed}`;
    if (rs.length > 1) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        x: band.step,
        y: band.hi,
        line: { width: 0 },
        hoverinfo: 'skip',
        showlegend: false,
        legendgroup: task,
      });
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: `${getTask(task).label}: 10-90% of seeds`,
        x: band.step,
        y: band.lo,
        fill: 'tonexty',
        fillcolor: `${color}33`,
        line: { width: 0 },
        hoverinfo: 'skip',
        legendgroup: task,
      });
    }
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: label,
      x: band.step,
      y: band.median,
      customdata: band.n,
      hovertemplate: `step %{x:.0f}: median loss %{y:.3f} over %{customdata} seed(s) still training<extra>${getTask(task).label}</extra>`,
      line: { color, width: 2 },
      legendgroup: task,
    });
    rs.forEach((r, i) => {
      data.push({
        type: 'scatter',
        mode: 'lines+markers',
        name: `${getTask(task).label}: each seed's stopping checks`,
        showlegend: i === 0,
        legendgroup: `${task}-acc`,
        x: r.training.evals.map((e) => e.step),
        y: r.training.evals.map((e) => e.acc),
        hovertemplate: `seed ${r.seed}, step %{x}: %{y:.1%}<extra>${getTask(task).label}</extra>`,
        line: { color, width: 1 },
        marker: { color, size: 4 },
        opacity: 0.7,
        xaxis: 'x2',
        yaxis: 'y2',
      });
    });
  }
  const target = records[0]?.config.train.targetAcc;
  const lossNote = [
    block > 1 ? `averaged over blocks of ${block} steps` : '',
    records.length > tasks.length ? 'median while >= 3 seeds train' : '',
  ]
    .filter(Boolean)
    .join('; ');
  return {
    data,
    layout: {
      title: {
        text: `Training: loss and training-distribution exact match${presetClause(records)}${lossNote ? `<br><sub>loss ${lossNote}</sub>` : ''}`,
      },
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      legend: LEGEND_BELOW,
      margin: { b: 170 },
      xaxis: { title: { text: 'step' } },
      yaxis: logAxis(lossValues, 'cross-entropy (log scale)'),
      xaxis2: { title: { text: 'step' } },
      yaxis2: { title: { text: 'exact match' }, range: [0, 1], tickformat: '.0%' },
      shapes:
        target === undefined
          ? []
          : [
              {
                type: 'line',
                xref: 'x2 domain',
                yref: 'y2',
                x0: 0,
                x1: 1,
                y0: target,
                y1: target,
                line: { dash: 'dash', color: '#444', width: 1 },
              },
            ],
      width: 1100,
      height: 540,
    },
  };
}
