/**
 * Plotly figure builders for the paper's Figures 1-4 and the training curves. They take plain
 * results records (no tensors) and return Plotly specs ({ data, layout }); notebooks display them
 * and `figures` exports them (src/report/export.ts).
 */
import type { ComponentClass } from '../analysis/ranks';
import type { RunRecord } from '../records/format';
import { getTask, TaskName, TASKS } from '../tasks';
import { PAPER } from './paper';
import {
  analysed,
  MeasurePair,
  PAPER_PAIR,
  pairClassification,
  presetClause,
  presetLabel,
  rhoOf,
  tasksIn,
} from './records';
import { LEGEND_BELOW, PlotlyFigure } from './style';
import { trainingCurves } from './curves';
/** One colour per class, used by every figure. */
export const CLASS_COLORS: Record<ComponentClass, string> = {
  HiddenHero: '#d62728',
  GradientBloat: '#1f77b4',
  Aligned: '#7f7f7f',
};
export const CLASS_LABEL: Record<ComponentClass, string> = {
  HiddenHero: 'Hidden Hero',
  GradientBloat: 'Gradient Bloat',
  Aligned: 'Aligned',
};

const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** Min-max normalisation to [0, 1] (a constant vector maps to 0). */
export function minMax(xs: readonly number[]): number[] {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return xs.map((x) => (hi > lo ? (x - lo) / (hi - lo) : 0));
}

/** Mean rho over the analysed seeds of `task`, between the pair's two measures (default: G and C). */
export function meanRho(records: readonly RunRecord[], task: TaskName, pair: MeasurePair = PAPER_PAIR): number {
  const rhos = analysed(records, task)
    .map((r) => pairClassification(r, pair).rho)
    .filter(finite);
  return rhos.length ? rhos.reduce((a, b) => a + b, 0) / rhos.length : NaN;
}

const fmtRho = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'undefined');

/**
 * Figure 1: G against C for every component of every analysed seed, min-max normalised per seed,
 * coloured by class; one panel per task, titled with the mean rho over seeds. Any other recorded
 * pair of measures can take G's and C's places (`pair`), with its own rho and classes.
 */
export function figure1(records: readonly RunRecord[], pair: MeasurePair = PAPER_PAIR): PlotlyFigure {
  const paperPair = pair.cheap === PAPER_PAIR.cheap && pair.causal === PAPER_PAIR.causal;
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
        const k = pairClassification(r, pair);
        const g = minMax(a.components.map((id) => a.scores[pair.cheap][id]));
        const c = minMax(a.components.map((id) => a.scores[pair.causal][id]));
        a.components.forEach((id, i) => {
          if (k.classes[i] !== cls) return;
          x.push(g[i]);
          y.push(c[i]);
          text.push(`${id}, seed ${r.seed}: Delta ${k.delta[i]}`);
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
        hovertemplate: `%{text}<br>${pair.cheap} %{x:.2f}, ${pair.causal} %{y:.2f} (normalised)<extra>${CLASS_LABEL[cls]}</extra>`,
        marker: { color: CLASS_COLORS[cls], size: 7, opacity: 0.8 },
        xaxis: `x${axis}`,
        yaxis: `y${axis}`,
      });
    }
  });
  const layout: Record<string, unknown> = {
    title: {
      text: `${paperPair ? 'Figure 1: the Gradient-Causal Gap' : `${pair.cheap} against ${pair.causal}`}${presetClause(records)}<br><sub>each component of every seed, scores min-max normalised per seed</sub>`,
    },
    grid: { rows: 1, columns: tasks.length, pattern: 'independent' },
    legend: LEGEND_BELOW,
    margin: { t: 130, b: 150 },
    annotations: tasks.map((task, p) => ({
      text: ((rs) =>
        rs.length === 1
          ? `${getTask(task).label} seed ${rs[0].seed} (rho = ${fmtRho(meanRho(records, task, pair))})`
          : `${getTask(task).label} (mean rho over ${rs.length} seeds = ${fmtRho(meanRho(records, task, pair))})`)(
        analysed(records, task),
      ),
      showarrow: false,
      xref: `x${p === 0 ? '' : p + 1} domain`,
      yref: `y${p === 0 ? '' : p + 1} domain`,
      x: 0.5,
      y: 1.08,
    })),
    width: 1000,
    height: 520,
  };
  tasks.forEach((_, p) => {
    const s = p === 0 ? '' : String(p + 1);
    layout[`xaxis${s}`] = {
      title: { text: paperPair ? 'gradient magnitude G (normalised)' : `${pair.cheap} (normalised)` },
      range: [-0.05, 1.05],
    };
    layout[`yaxis${s}`] = {
      title: { text: paperPair ? 'causal importance C (normalised)' : `${pair.causal} (normalised)` },
      range: [-0.05, 1.05],
    };
  });
  return { data, layout };
}

/**
 * Figure 2: Heroes and Bloats per layer (counts over seeds), and each component's mean Delta over
 * seeds, coloured by the class that mean would have (dashed lines: the +/- threshold).
 */
export function figure2(records: readonly RunRecord[], task: TaskName = PAPER.figureTask): PlotlyFigure {
  const rs = analysed(records, task);
  const comps = rs[0]?.analysis.components ?? [];
  const layers = [...new Set(comps.map((id) => id.split('.')[0]))];
  const count = (cls: ComponentClass) =>
    layers.map((L) =>
      rs.reduce(
        (a, r) =>
          a +
          r.analysis.components.filter(
            (id, i) => id.startsWith(`${L}.`) && r.analysis.classification!.classes[i] === cls,
          ).length,
        0,
      ),
    );
  const meanDelta = comps.map((id) => {
    const ds = rs.map((r) => {
      const c = r.analysis.classification!;
      return (c.meanDelta ?? c.delta)[r.analysis.components.indexOf(id)];
    });
    return ds.reduce((a, b) => a + b, 0) / (ds.length || 1);
  });
  const t = rs[0]?.config.analysis.threshold ?? 6;
  const inclusive = rs[0]?.config.analysis.inclusive ?? true;
  const classOf = (d: number): ComponentClass =>
    (inclusive ? d <= -t : d < -t) ? 'HiddenHero' : (inclusive ? d >= t : d > t) ? 'GradientBloat' : 'Aligned';
  const le = inclusive ? '<=' : '<';
  const ge = inclusive ? '>=' : '>';
  const deltaName: Record<ComponentClass, string> = {
    HiddenHero: `mean Delta ${le} -${t} (Hero on average)`,
    GradientBloat: `mean Delta ${ge} ${t} (Bloat on average)`,
    Aligned: inclusive ? `|mean Delta| below ${t}` : `|mean Delta| at most ${t}`,
  };
  const deltaBars = (['HiddenHero', 'Aligned', 'GradientBloat'] as ComponentClass[]).map((cls) => {
    const idx = comps.map((_, i) => i).filter((i) => classOf(meanDelta[i]) === cls);
    return {
      type: 'bar',
      name: deltaName[cls],
      x: idx.map((i) => comps[i]),
      y: idx.map((i) => meanDelta[i]),
      marker: { color: CLASS_COLORS[cls], opacity: cls === 'Aligned' ? 0.6 : 1 },
      xaxis: 'x2',
      yaxis: 'y2',
      legend: 'legend2',
    };
  });
  const line = (y: number) => ({
    type: 'line',
    xref: 'x2 domain',
    yref: 'y2',
    x0: 0,
    x1: 1,
    y0: y,
    y1: y,
    line: { dash: 'dash', color: '#444', width: 1 },
  });
  return {
    data: [
      {
        type: 'bar',
        name: 'Hidden Heroes (count)',
        x: layers,
        y: count('HiddenHero'),
        marker: { color: CLASS_COLORS.HiddenHero },
      },
      {
        type: 'bar',
        name: 'Gradient Bloats (count)',
        x: layers,
        y: count('GradientBloat'),
        marker: { color: CLASS_COLORS.GradientBloat },
      },
      ...deltaBars,
    ],
    layout: {
      title: {
        text: `Figure 2: where Heroes and Bloats sit, ${getTask(task).label}, ${rs.length} seeds${presetClause(rs)}`,
      },
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      barmode: 'group',
      // One legend under each panel: the counts' classes on the left, mean Delta's on the right.
      legend: { x: 0, xanchor: 'left', y: -0.38, yanchor: 'top', title: { text: 'per layer, summed over seeds' } },
      legend2: {
        x: 0.55,
        xanchor: 'left',
        y: -0.38,
        yanchor: 'top',
        title: { text: 'per component, mean over seeds' },
      },
      margin: { b: 250 },
      shapes: [line(t), line(-t)],
      xaxis: { title: { text: 'layer' } },
      yaxis: { title: { text: 'occurrences over seeds' } },
      xaxis2: { title: { text: 'component' }, tickangle: -60, categoryorder: 'array', categoryarray: comps },
      yaxis2: { title: { text: 'mean Delta = Rank(G) - Rank(C)' } },
      width: 1100,
      height: 580,
    },
  };
}

/** Figure 3: OOD exact match of one seed: baseline, Bloats pruned, Heroes pruned. */
export function figure3(record: RunRecord): PlotlyFigure {
  const p = record.analysis.pruning;
  if (!p) throw new Error(`figure3: ${record.task} seed ${record.seed} has no pruning results`);
  const labels = [
    'Baseline',
    `Prune Bloats (${p.bloats.join(', ') || 'none'})`,
    `Prune Heroes (${p.heroes.join(', ') || 'none'})`,
  ];
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
      title: {
        text: `Figure 3: pruning, ${getTask(record.task).label} seed ${record.seed} (N = ${record.analysis.ood.length})${presetLabel([record])}`,
      },
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
      const rs = analysed(records, task).filter((r) => finite(rhoOf(r)));
      return {
        type: 'scatter',
        mode: 'markers',
        name: `${getTask(task).label} (mean ${fmtRho(meanRho(records, task))})`,
        x: rs.map((r) => String(r.seed)),
        y: rs.map(rhoOf),
        marker: { color: getTask(task).color, size: 11 },
      };
    }),
    layout: {
      title: { text: `Figure 4: Spearman rho(G, C) per seed${presetLabel(records)}` },
      // Seeds in numeric order on the axis, whichever task lists a seed first.
      xaxis: {
        title: { text: 'seed' },
        type: 'category',
        categoryorder: 'array',
        categoryarray: [...new Set(records.map((r) => r.seed))].sort((a, b) => a - b).map(String),
      },
      yaxis: { title: { text: 'rho' }, range: [-1.05, 1.05], zeroline: true },
      width: 800,
      height: 420,
    },
  };
}

/**
 * Every figure of the paper from one set of records: Figures 1, 2 (Sorting, else the first task
 * analysed), 3 (the seed the authors' rule picks for Table 2: most Heroes and Bloats, of that task),
 * 4, and the training curves.
 */
export function paperFigures(records: readonly RunRecord[]): Record<string, PlotlyFigure> {
  const figs: Record<string, PlotlyFigure> = {
    figure1: figure1(records),
    figure4: figure4(records),
    training: trainingCurves(records),
  };
  // The paper draws Figures 2 and 3 for Sorting; without it, the first task (registry order) that has analysed runs.
  const task: TaskName = analysed(records, PAPER.figureTask).length
    ? PAPER.figureTask
    : (TASKS.find((t) => analysed(records, t).length) ?? PAPER.figureTask);
  const rs = analysed(records, task).filter((r) => r.analysis.pruning);
  if (rs.length) {
    figs.figure2 = figure2(records, task);
    const score = (r: RunRecord) => r.analysis.classification!.counts.heroes + r.analysis.classification!.counts.bloats;
    figs.figure3 = figure3(rs.reduce((b, r) => (score(r) > score(b) ? r : b)));
  }
  return figs;
}
