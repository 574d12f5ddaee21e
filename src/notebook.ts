/**
 * Helpers for the notebooks (tslab): showing figures and tables, and getting a trained model or a
 * set of results either from the committed results store or by recomputing them.
 *
 * Figures: interactive Plotly in a live Jupyter session; a static PNG when the notebook is
 * executed for committing (GCG_NOTEBOOK_STATIC=1), so that a code host shows the figure and the
 * notebook stays small. The interactive versions of the paper's figures live in figures/*.html.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { backendInfo } from './backend';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import type { DeepPartial, ExperimentConfig, PresetName, TaskName } from './config';
import type { Transformer } from './model';
import { projectRoot } from './provenance';
import { findChromium, PLOTLY_VERSION, renderImages } from './report/export';
import type { PlotlyFigure } from './report/figures';
import { roundRow } from './report/tables';
import { loadRecords, runOne, runPaths, RunRecord, TrainingOutcome } from './results';
import { train } from './train';

interface TslabDisplay {
  html(s: string): void;
  png(b: Uint8Array): void;
  text(s: string): void;
  markdown(s: string): void;
}

function tslabDisplay(): TslabDisplay {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('tslab').display as TslabDisplay;
}

let figureCount = 0;

/** Shows a Plotly figure in the notebook (interactive, or a static PNG when GCG_NOTEBOOK_STATIC=1). */
export async function showFigure(fig: PlotlyFigure, display: TslabDisplay = tslabDisplay()): Promise<void> {
  if (process.env.GCG_NOTEBOOK_STATIC === '1') {
    const browser = findChromium();
    if (!browser.path) {
      display.text(`(static figure not rendered: ${browser.reason})`);
      return;
    }
    const { fig: images } = await renderImages({ fig }, ['png'], browser.path);
    display.png(images.png!);
    return;
  }
  const id = `gcg-fig-${process.pid}-${figureCount++}`;
  // Served by `npm run notebooks` (Jupyter's root is the project folder); Plotly's CDN otherwise.
  display.html(`<div id="${id}"></div>
<script>
(function () {
  const fig = ${JSON.stringify(fig).replace(/</g, '\\u003c')};
  function draw() { window.Plotly.newPlot('${id}', fig.data, fig.layout); }
  if (window.Plotly) return draw();
  const local = document.createElement('script');
  local.src = '/files/node_modules/plotly.js-dist/plotly.js';
  local.onload = draw;
  local.onerror = function () {
    const cdn = document.createElement('script');
    cdn.src = 'https://cdn.plot.ly/plotly-${PLOTLY_VERSION}.min.js';
    cdn.onload = draw;
    document.head.appendChild(cdn);
  };
  document.head.appendChild(local);
})();
</script>`);
}

/** Shows Markdown text (e.g. the reproduction report). */
export function showMarkdown(text: string, display: TslabDisplay = tslabDisplay()): void {
  display.markdown(text);
}

/** Shows rows as a Markdown table (numbers rounded), which renders everywhere, code hosts included. */
export function showTable(rows: readonly object[], display: TslabDisplay = tslabDisplay(), digits = 3): void {
  if (!rows.length) {
    display.markdown('*(no rows)*');
    return;
  }
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v).replace(/\|/g, '\\|'));
  const lines = [`| ${cols.join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`];
  for (const r of rows) {
    const rr = roundRow(r, digits);
    lines.push(`| ${cols.map((c) => cell(rr[c])).join(' | ')} |`);
  }
  display.markdown(lines.join('\n'));
}

/**
 * The small configuration notebooks use under GCG_NOTEBOOK_SMALL=1 (CI): 2 layers, 2 heads,
 * d_model 32, learned positions, sequences of 2-3 digits, 300 steps; its "OOD" candidates are the
 * lengths 2 and 3 (SMALL_OOD_LENGTHS, inside the training lengths: passed with allowIdLengths and
 * recorded as ood.withinTraining), since a model this small and brief does not generalise to
 * longer sequences. It exercises every step of the pipeline in seconds; its numbers mean nothing.
 */
export const SMALL_OVERRIDES: DeepPartial<ExperimentConfig> = {
  model: { nLayers: 2, nHeads: 2, dModel: 32, dFF: 64, positions: 'learned' },
  data: { minLen: 2, maxLen: 3 },
  train: { maxSteps: 300, evalEvery: 50, batchSize: 32, evalSamples: 128 },
  analysis: {
    gradBatches: 4, gradBatchSize: 32, meanBatches: 4, evalSamples: 200, oodPickSamples: 200,
    idSamples: 200, idLength: 2, tieDraws: 200, accLow: 0.05, accHigh: 1, variants: false, redraws: 0,
  },
};
export const SMALL_OOD_LENGTHS: readonly number[] = [2, 3];

/** The notebook settings every notebook's first cell reads from the environment. */
export function notebookEnv(): { small: boolean; recomputeForced: boolean; static: boolean } {
  return {
    small: process.env.GCG_NOTEBOOK_SMALL === '1',
    recomputeForced: process.env.GCG_NOTEBOOK_RECOMPUTE === '1',
    static: process.env.GCG_NOTEBOOK_STATIC === '1',
  };
}

/** Whether the committed results store holds finished runs of this preset. */
export function hasResults(preset: PresetName): boolean {
  return loadRecords(resultsDir(false), preset).length > 0;
}

/** Where notebooks read committed results from, and write recomputed ones to (GCG_NOTEBOOK_RESULTS overrides the latter). */
export function resultsDir(recompute: boolean): string {
  if (!recompute) return path.join(projectRoot(), 'results');
  return process.env.GCG_NOTEBOOK_RESULTS || path.join(projectRoot(), 'runs', 'notebook-results');
}

/**
 * A trained model for (preset, task, seed) and its results record: from the committed results
 * (`recompute` false) or recomputed now into runs/notebook-results. Checkpoints are not committed:
 * when the record is there but its checkpoint is not, the model is retrained with the record's
 * settings (same seed and settings give the same weights on the same backend) and saved beside it.
 */
export function trainedRun(opts: {
  preset: PresetName;
  task: TaskName;
  seed: number;
  cfg: ExperimentConfig;
  recompute: boolean;
  oodLengths?: readonly number[];
  /** Let oodLengths lie inside the training lengths (the notebooks' small mode: SMALL_OOD_LENGTHS). */
  allowIdLengths?: boolean;
}): { model: Transformer; record: RunRecord; training: TrainingOutcome } {
  const dir = resultsDir(opts.recompute);
  const paths = runPaths(dir, opts.preset, opts.task, opts.seed);
  const log = (l: string) => console.log(l);
  const { record } = runOne({ dir, preset: opts.preset, task: opts.task, seed: opts.seed, cfg: opts.cfg, oodLengths: opts.oodLengths, allowIdLengths: opts.allowIdLengths, log });
  if (!fs.existsSync(paths.checkpoint)) {
    log(`${paths.checkpoint} is not there (checkpoints are not committed): retraining ${opts.task} seed ${opts.seed} with the record's settings`);
    const r = train({ task: opts.task, seed: opts.seed, cfg: record.config });
    saveCheckpoint(paths.checkpoint, r.model, record.config, { task: opts.task, seed: opts.seed, preset: opts.preset, steps: r.steps, backend: backendInfo().backend, training: record.training });
    return { model: r.model, record, training: record.training };
  }
  const { model } = loadCheckpoint(paths.checkpoint);
  return { model, record, training: record.training };
}

/** Finished runs of a preset, from the committed results or a recomputed sweep folder. */
export function notebookRecords(preset: PresetName, recompute: boolean): RunRecord[] {
  return loadRecords(resultsDir(recompute), preset);
}
