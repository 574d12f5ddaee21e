/**
 * Plotly figure builders for the paper's Figures 1-4 and the training curves. They take plain
 * results records (no tensors) and return Plotly specs ({ data, layout }); notebooks display them
 * and `figures` exports them (src/report/export.ts).
 */
import type { ComponentClass } from '../analysis/ranks';
import type { TaskName } from '../config';
import type { RunRecord } from '../results';
import { TASK_LABEL } from './tables';

export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/** One colour per class, used by every figure. */
export const CLASS_COLORS: Record<ComponentClass, string> = {
  HiddenHero: '#d62728',
  GradientBloat: '#1f77b4',
  Aligned: '#7f7f7f',
};
export const CLASS_LABEL: Record<ComponentClass, string> = { HiddenHero: 'Hidden Hero', GradientBloat: 'Gradient Bloat', Aligned: 'Aligned' };
const TASK_COLORS: Record<TaskName, string> = { reverse: '#2ca02c', sort: '#9467bd' };

const analysed = (records: readonly RunRecord[], task: TaskName) =>
  records.filter((r) => r.task === task && r.analysis.status === 'analysed').sort((a, b) => a.seed - b.seed);
const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);
const tasksIn = (records: readonly RunRecord[]) => (['reverse', 'sort'] as TaskName[]).filter((t) => records.some((r) => r.task === t));

/** Min-max normalisation to [0, 1] (a constant vector maps to 0). */
export function minMax(xs: readonly number[]): number[] {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return xs.map((x) => (hi > lo ? (x - lo) / (hi - lo) : 0));
}

export function meanRho(records: readonly RunRecord[], task: TaskName): number {
  const rhos = analysed(records, task).map((r) => r.analysis.classification!.rho).filter(finite);
  return rhos.length ? rhos.reduce((a, b) => a + b, 0) / rhos.length : NaN;
}

const fmtRho = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'undefined');

/**
 * Figure 1: G against C for every component of every analysed seed, min-max normalised per seed,
 * coloured by class; one panel per task, titled with the mean rho over seeds.
 */
export function figure1(records: readonly RunRecord[]): PlotlyFigure {
  const tasks = tasksIn(records);
  const data: Record<string, unknown>[] = [];
  tasks.forEach((task, p) => {
    const axis = p === 0 ? '' : String(p + 1);
    for (const cls of ['Aligned', 'GradientBloat', 'HiddenHero'] as ComponentClass[]) {
      const x: number[] = [];
      const y: number[] = [];
      const text: string[] = [];
      for (const r of analysed(records, task)) {
        const a = r.analysis;
        const g = minMax(a.components.map((id) => a.scores.G[id]));
        const c = minMax(a.components.map((id) => a.scores.C[id]));
        a.components.forEach((id, i) => {
          if (a.classification!.classes[i] !== cls) return;
          x.push(g[i]);
          y.push(c[i]);
          text.push(`seed ${r.seed} ${id}, Delta ${a.classification!.delta[i]}`);
        });
      }
      data.push({
        type: 'scatter',
        mode: 'markers',
        name: CLASS_LABEL[cls],
        legendgroup: cls,
        showlegend: p === 0,
        x,
        y,
        text,
        hoverinfo: 'text+x+y',
        marker: { color: CLASS_COLORS[cls], size: 7, opacity: 0.8 },
        xaxis: `x${axis}`,
        yaxis: `y${axis}`,
      });
    }
  });
  const layout: Record<string, unknown> = {
    title: { text: 'Figure 1: the Gradient-Causal Gap (scores min-max normalised per seed)' },
    grid: { rows: 1, columns: tasks.length, pattern: 'independent' },
    annotations: tasks.map((task, p) => ({
      text: `${TASK_LABEL[task]} (mean rho = ${fmtRho(meanRho(records, task))})`,
      showarrow: false,
      xref: `x${p === 0 ? '' : p + 1} domain`,
      yref: `y${p === 0 ? '' : p + 1} domain`,
      x: 0.5,
      y: 1.08,
    })),
    width: 1000,
    height: 480,
  };
  tasks.forEach((_, p) => {
    const s = p === 0 ? '' : String(p + 1);
    layout[`xaxis${s}`] = { title: { text: 'gradient magnitude G (normalised)' }, range: [-0.05, 1.05] };
    layout[`yaxis${s}`] = { title: { text: 'causal importance C (normalised)' }, range: [-0.05, 1.05] };
  });
  return { data, layout };
}

/** Figure 2: Heroes and Bloats per layer (counts over seeds), and each component's mean Delta. */
export function figure2(records: readonly RunRecord[], task: TaskName = 'sort'): PlotlyFigure {
  const rs = analysed(records, task);
  const comps = rs[0]?.analysis.components ?? [];
  const layers = [...new Set(comps.map((id) => id.split('.')[0]))];
  const count = (cls: ComponentClass) =>
    layers.map((L) => rs.reduce((a, r) => a + r.analysis.components.filter((id, i) => id.startsWith(`${L}.`) && r.analysis.classification!.classes[i] === cls).length, 0));
  const meanDelta = comps.map((id) => {
    const ds = rs.map((r) => {
      const c = r.analysis.classification!;
      return (c.meanDelta ?? c.delta)[r.analysis.components.indexOf(id)];
    });
    return ds.reduce((a, b) => a + b, 0) / (ds.length || 1);
  });
  return {
    data: [
      { type: 'bar', name: 'Hidden Heroes', x: layers, y: count('HiddenHero'), marker: { color: CLASS_COLORS.HiddenHero } },
      { type: 'bar', name: 'Gradient Bloats', x: layers, y: count('GradientBloat'), marker: { color: CLASS_COLORS.GradientBloat } },
      {
        type: 'bar',
        name: 'mean Delta',
        x: comps,
        y: meanDelta,
        marker: { color: meanDelta.map((d) => (d < 0 ? CLASS_COLORS.HiddenHero : CLASS_COLORS.GradientBloat)) },
        xaxis: 'x2',
        yaxis: 'y2',
        showlegend: false,
      },
    ],
    layout: {
      title: { text: `Figure 2: where Heroes and Bloats sit, ${TASK_LABEL[task]} (${rs.length} seeds)` },
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      barmode: 'group',
      xaxis: { title: { text: 'layer' } },
      yaxis: { title: { text: 'occurrences over seeds' } },
      xaxis2: { title: { text: 'component' }, tickangle: -60 },
      yaxis2: { title: { text: 'mean Delta = Rank(G) - Rank(C)' } },
      width: 1100,
      height: 460,
    },
  };
}

/** Figure 3: OOD exact match of one seed: baseline, Bloats pruned, Heroes pruned. */
export function figure3(record: RunRecord): PlotlyFigure {
  const p = record.analysis.pruning;
  if (!p) throw new Error(`figure3: ${record.task} seed ${record.seed} has no pruning results`);
  const labels = ['Baseline', `Prune Bloats (${p.bloats.join(', ') || 'none'})`, `Prune Heroes (${p.heroes.join(', ') || 'none'})`];
  const values = [p.ood.baseline, p.ood.bloatsPruned, p.ood.heroesPruned].map((v) => (v === null ? null : 100 * v));
  return {
    data: [
      {
        type: 'bar',
        x: labels,
        y: values,
        text: values.map((v) => (v === null ? 'n/a' : `${v.toFixed(1)}%`)),
        textposition: 'outside',
        marker: { color: ['#7f7f7f', CLASS_COLORS.GradientBloat, CLASS_COLORS.HiddenHero] },
      },
    ],
    layout: {
      title: { text: `Figure 3: pruning, ${TASK_LABEL[record.task]} seed ${record.seed} (N = ${record.analysis.ood.length})` },
      yaxis: { title: { text: 'OOD exact match (%)' }, range: [0, 105] },
      width: 700,
      height: 450,
    },
  };
}

/** Figure 4: Spearman rho of every analysed seed, Reversal vs Sorting. */
export function figure4(records: readonly RunRecord[]): PlotlyFigure {
  return {
    data: tasksIn(records).map((task) => {
      const rs = analysed(records, task).filter((r) => finite(r.analysis.classification!.rho));
      return {
        type: 'scatter',
        mode: 'markers',
        name: `${TASK_LABEL[task]} (mean ${fmtRho(meanRho(records, task))})`,
        x: rs.map((r) => String(r.seed)),
        y: rs.map((r) => r.analysis.classification!.rho),
        marker: { color: TASK_COLORS[task], size: 11 },
      };
    }),
    layout: {
      title: { text: 'Figure 4: Spearman rho(G, C) per seed' },
      // Seeds in numeric order on the axis, whichever task lists a seed first.
      xaxis: { title: { text: 'seed' }, type: 'category', categoryorder: 'array', categoryarray: [...new Set(records.map((r) => r.seed))].sort((a, b) => a - b).map(String) },
      yaxis: { title: { text: 'rho' }, range: [-1.05, 1.05], zeroline: true },
      width: 800,
      height: 420,
    },
  };
}

/** Training curves: loss per step and the stopping checks' accuracy, one line per run. */
export function trainingCurves(records: readonly RunRecord[]): PlotlyFigure {
  const data: Record<string, unknown>[] = [];
  for (const r of records) {
    const name = `${TASK_LABEL[r.task]} seed ${r.seed}`;
    data.push({ type: 'scatter', mode: 'lines', name, legendgroup: name, x: r.training.losses.map((_, i) => i + 1), y: r.training.losses, line: { width: 1 } });
    data.push({ type: 'scatter', mode: 'lines+markers', name, legendgroup: name, showlegend: false, x: r.training.evals.map((e) => e.step), y: r.training.evals.map((e) => e.acc), xaxis: 'x2', yaxis: 'y2' });
  }
  return {
    data,
    layout: {
      title: { text: 'Training: loss and training-distribution exact match' },
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: { title: { text: 'step' } },
      yaxis: { title: { text: 'cross-entropy' }, type: 'log' },
      xaxis2: { title: { text: 'step' } },
      yaxis2: { title: { text: 'exact match' }, range: [0, 1] },
      width: 1100,
      height: 420,
    },
  };
}

/**
 * Every figure of the paper from one set of records: Figures 1, 2 (Sorting), 3 (the seed the
 * authors' rule picks for Table 2, Sorting if analysed), 4, and the training curves.
 */
export function paperFigures(records: readonly RunRecord[]): Record<string, PlotlyFigure> {
  const figs: Record<string, PlotlyFigure> = { figure1: figure1(records), figure4: figure4(records), training: trainingCurves(records) };
  const task: TaskName = analysed(records, 'sort').length ? 'sort' : 'reverse';
  const rs = analysed(records, task).filter((r) => r.analysis.pruning);
  if (rs.length) {
    figs.figure2 = figure2(records, task);
    const score = (r: RunRecord) => r.analysis.classification!.counts.heroes + r.analysis.classification!.counts.bloats;
    figs.figure3 = figure3(rs.reduce((b, r) => (score(r) > score(b) ? r : b)));
  }
  return figs;
}
