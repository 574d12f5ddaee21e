/**
 * The stability study's figures (figures/stability/, notebook 11): every run's rho by seed (the
 * base run, each kind of replica, the base model on redrawn sequences, the other kernel family),
 * one figure per pair; and each component's share of runs that make it a Hero or a Bloat.
 */
import { getTask } from '../../tasks';
import type { PlotlyFigure } from '../../report/style';
import { pct } from '../../report/markdown';
import { replicaName } from '../../settings/replica';
import { PairStudy, StabilityStudy } from './types';

const label = (t: string) => getTask(t).label;
const fin = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);

/** One marker style per kind of run. */
const KINDS = [
  { key: 'base', name: 'base run', symbol: 'diamond', size: 12, color: '#222' },
  { key: 'init', name: 'init replicas (last bit)', symbol: 'circle-open', size: 8, color: '#1f77b4' },
  { key: 'data', name: 'data replicas (batches)', symbol: 'square-open', size: 8, color: '#ff7f0e' },
  { key: 'redraw', name: 'base, evaluation redrawn', symbol: 'x-thin-open', size: 8, color: '#7f7f7f' },
  { key: 'kernels', name: 'other kernels', symbol: 'star', size: 11, color: '#d62728' },
] as const;

function rhoFigure(pairs: PairStudy[], causal: string, otherKernels: string | null): PlotlyFigure {
  const xOf = (p: PairStudy, seed: number) => `${label(p.task)} ${seed}`;
  const data = KINDS.map((k) => {
    const pts = pairs.flatMap((p) =>
      p.seeds.flatMap((s) => {
        const x = xOf(p, s.seed);
        if (k.key === 'redraw') return s.evalRhos.slice(1).map((y) => ({ x, y, t: 'redraw' }));
        if (k.key === 'kernels') return s.kernels ? [{ x, y: s.kernels.rho, t: otherKernels ?? 'other kernels' }] : [];
        return s.replicas.filter((r) => r.kind === k.key).map((r) => ({ x, y: r.rho, t: replicaName(r.kind, r.r) }));
      }),
    );
    return {
      type: 'scatter',
      mode: 'markers',
      name: k.name,
      x: pts.map((q) => q.x),
      y: pts.map((q) => fin(q.y)),
      text: pts.map((q) => q.t),
      marker: { symbol: k.symbol, size: k.size, color: k.color },
      hovertemplate: '%{x} %{text}: rho %{y:.3f}<extra></extra>',
    };
  }).filter((t) => t.x.length);
  return {
    data,
    layout: {
      title: {
        text: `rho (G, ${causal}) of every run, by seed<br><sub>replicas differ from the seed's run only by the initial weights' last bit or the training batches' order</sub>`,
      },
      xaxis: { title: { text: 'task and seed' }, type: 'category' },
      yaxis: { title: { text: `rho (G, ${causal})` }, range: [-1, 1] },
      width: 900,
      height: 520,
    },
  };
}

function componentsFigure(pairs: PairStudy[]): PlotlyFigure {
  const ids = pairs[0].components.map((c) => c.id);
  const cols = pairs.map((p) => `${label(p.task)} (G, ${p.pair.causal})`);
  return {
    data: [
      {
        type: 'heatmap',
        x: cols,
        y: ids,
        z: ids.map((_, i) => pairs.map((p) => fin(p.components[i].pHero - p.components[i].pBloat))),
        text: ids.map((_, i) =>
          pairs.map((p) => `H ${pct(p.components[i].pHero)}<br>B ${pct(p.components[i].pBloat)}`),
        ),
        texttemplate: '%{text}',
        hovertemplate: '%{y}, %{x}: %{text}<extra></extra>',
        zmin: -1,
        zmax: 1,
        colorscale: 'RdBu',
        reversescale: true,
        colorbar: { title: { text: 'P(Hero) - P(Bloat)' } },
      },
    ],
    layout: {
      title: {
        text: "How often each component is a Hidden Hero (H) or a Gradient Bloat (B)<br><sub>share of a seed's runs (base and replicas), averaged over seeds</sub>",
      },
      yaxis: { autorange: 'reversed' },
      width: 260 + 170 * cols.length,
      height: 220 + 34 * ids.length,
      margin: { l: 110 },
      font: { size: 11 },
    },
  };
}

export function stabilityFigures(s: StabilityStudy): Record<string, PlotlyFigure> {
  const out: Record<string, PlotlyFigure> = {};
  for (const causal of [...new Set(s.pairs.map((p) => p.pair.causal))])
    out[`stability_rho_${causal}`] = rhoFigure(
      s.pairs.filter((p) => p.pair.causal === causal),
      causal,
      s.otherKernels,
    );
  if (s.pairs.length) out.stability_components = componentsFigure(s.pairs);
  return out;
}
