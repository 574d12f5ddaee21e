/**
 * The page: the settings form (checked by the command line's own rules, each error beside its
 * field), live training curves, and once the model is analysed its G, C, ranks, Delta and classes,
 * Figure 1, layer x head maps of G and of C, and accuracy by length, where a click on a component
 * ablates it. The tensors live in the worker (web/worker.ts); `window.gcg` holds what the page
 * shows, for the browser test (test/web.test.ts).
 */
import Plotly from 'plotly.js-dist';
import { getConfig } from '../src/settings/validate';
import { checkRun } from '../src/settings/run-spec';
import { PRESET_CONFIGS, PresetName, PRESETS } from '../src/settings/config';
import { getTask, TASKS } from '../src/tasks';
import { checkOodLengths } from '../src/analysis/ood';
import { figure1, CLASS_COLORS } from '../src/report/figures';
import { styled } from '../src/report/style';
import type { RunRecord } from '../src/records/format';
import type { Ablation, FromWorker, LengthAccuracy, RunSpec, ToWorker } from './protocol';

/** The settings the form offers: `key` is the command line's --set key, so its rule and message are the CLI's. */
const FIELDS: { key: string; label: string }[] = [
  { key: 'model.nLayers', label: 'layers' },
  { key: 'model.nHeads', label: 'heads' },
  { key: 'model.dModel', label: 'width (d_model)' },
  { key: 'model.dFF', label: 'MLP width (d_ff)' },
  { key: 'train.lr', label: 'learning rate' },
  { key: 'train.batchSize', label: 'batch' },
  { key: 'train.maxSteps', label: 'steps (at most)' },
  { key: 'train.evalEvery', label: 'check every (steps)' },
  { key: 'train.targetAcc', label: 'stop at exact match' },
  { key: 'data.minLen', label: 'shortest training length' },
  { key: 'data.maxLen', label: 'longest training length' },
  { key: 'analysis.accLow', label: 'OOD pick: exact match from' },
  { key: 'analysis.accHigh', label: 'OOD pick: exact match to' },
  { key: 'analysis.evalSamples', label: 'C: evaluation sequences' },
  { key: 'analysis.idLength', label: 'in-distribution length (Table 6)' },
  { key: 'analysis.variants', label: 'protocol variants (slow)' },
  { key: 'analysis.redraws', label: 'redraws (noise floor, slow)' },
];

/** A small model that trains in seconds (Sorting; the notebooks' small configuration, with lengths 2-3 evaluated inside training). */
const SMALL: Record<string, string | number | boolean> = {
  'model.nLayers': 2,
  'model.nHeads': 2,
  'model.dModel': 32,
  'model.dFF': 64,
  'train.batchSize': 32,
  'train.maxSteps': 300,
  'train.evalEvery': 50,
  'data.minLen': 2,
  'data.maxLen': 3,
  'analysis.evalSamples': 200,
  'analysis.accLow': 0.05,
  'analysis.accHigh': 1,
  'analysis.idLength': 2,
  'analysis.variants': false,
  'analysis.redraws': 0,
  ood: '2,3',
  allowIdLengths: true,
};

interface PageState {
  phase: 'idle' | 'training' | 'paused' | 'analysing' | 'analysed' | 'error';
  spec: RunSpec | null;
  losses: number[];
  evals: { step: number; acc: number }[];
  record: RunRecord | null;
  lengths: LengthAccuracy | null;
  errors: Record<string, string>;
  backend: string | null;
  message: string;
}
const state: PageState = {
  phase: 'idle',
  spec: null,
  losses: [],
  evals: [],
  record: null,
  lengths: null,
  errors: {},
  backend: null,
  message: '',
};
(globalThis as unknown as { gcg: PageState }).gcg = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('form');
const preset = () => ($<HTMLSelectElement>('f-preset').value as PresetName) ?? 'paper';

function field(id: string, label: string, input: string): string {
  return `<div class="field"><label for="f-${id}">${label}</label>${input}<div class="err" id="e-${id}"></div></div>`;
}
const fid = (key: string) => key.replace('.', '-');

function buildForm(): void {
  const opts = (xs: readonly string[], label: (x: string) => string) =>
    xs.map((x) => `<option value="${x}">${label(x)}</option>`).join('');
  form.innerHTML = [
    field('preset', 'preset', `<select id="f-preset">${opts(PRESETS, (p) => p)}</select>`),
    field('task', 'task', `<select id="f-task">${opts(TASKS, (t) => getTask(t).label)}</select>`),
    field('seed', 'seed', '<input id="f-seed" value="42" inputmode="numeric">'),
    ...FIELDS.map((f) => field(fid(f.key), f.label, `<input id="f-${fid(f.key)}">`)),
    field('ood', 'OOD lengths', '<input id="f-ood" value="8,9,10,11">'),
    field('allowIdLengths', 'lengths inside training', '<input id="f-allowIdLengths" type="checkbox">'),
    '<div class="err" id="e-general"></div>',
  ].join('');
  $<HTMLSelectElement>('f-task').value = 'reverse';
  fillFromPreset();
  $('f-preset').addEventListener('change', () => {
    fillFromPreset();
    check();
  });
  form.addEventListener('input', check);
}

function fillFromPreset(): void {
  const cfg = PRESET_CONFIGS[preset()] as unknown as Record<string, Record<string, unknown>>;
  for (const f of FIELDS) {
    const [s, k] = f.key.split('.');
    setField(fid(f.key), cfg[s][k] as string | number | boolean);
  }
}

function setField(id: string, v: string | number | boolean): void {
  const el = $<HTMLInputElement>(`f-${id}`);
  if (typeof v === 'boolean') {
    el.type = 'checkbox';
    el.checked = v;
  } else el.value = String(v);
}

/** A field's value as the rules expect it: a number where it reads as one, else the text (so the rule names what was typed). */
function valueOf(id: string): string | number | boolean {
  const el = $<HTMLInputElement>(`f-${id}`);
  if (el.type === 'checkbox') return el.checked;
  const t = el.value.trim();
  return t !== '' && Number.isFinite(Number(t)) ? Number(t) : t;
}

/** The run the form describes, or the errors by field (each the command line's message for that setting). */
function readForm(): { spec: RunSpec | null; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const overrides: Record<string, Record<string, unknown>> = {};
  for (const f of FIELDS) {
    const [s, k] = f.key.split('.');
    (overrides[s] ??= {})[k] = valueOf(fid(f.key));
  }
  const seed = valueOf('seed');
  const oodText = String($<HTMLInputElement>('f-ood').value);
  const oodLengths = oodText.split(',').map((x) => Number(x.trim()));
  const spec: RunSpec = {
    preset: preset(),
    task: $<HTMLSelectElement>('f-task').value,
    seed: seed as number,
    overrides,
    oodLengths,
    allowIdLengths: $<HTMLInputElement>('f-allowIdLengths').checked,
  };
  const where = (e: unknown): string => {
    const msg = e instanceof Error ? e.message : String(e);
    const key = /^config ([\w]+\.[\w]+)[: ]/.exec(msg)?.[1];
    if (key && FIELDS.some((f) => f.key === key)) return fid(key);
    if (/^seed/.test(msg)) return 'seed';
    if (/^OOD lengths/.test(msg)) return 'ood';
    if (/^task/.test(msg)) return 'task';
    return 'general';
  };
  try {
    const cfg = getConfig(spec.preset, spec.overrides);
    checkRun(spec.task, spec.seed, cfg);
    checkOodLengths(oodLengths, cfg, spec.allowIdLengths, 'OOD lengths');
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    errors[where(e)] = e.message.replace('add --allow-id-lengths', 'tick "lengths inside training"');
  }
  return { spec: Object.keys(errors).length ? null : spec, errors };
}

function check(): RunSpec | null {
  const { spec, errors } = readForm();
  state.errors = errors;
  for (const el of Array.from(form.querySelectorAll('.err'))) el.textContent = '';
  for (const el of Array.from(form.querySelectorAll('input'))) el.classList.remove('bad');
  for (const [id, msg] of Object.entries(errors)) {
    $(`e-${id}`).textContent = msg;
    document.getElementById(`f-${id}`)?.classList.add('bad');
  }
  $<HTMLButtonElement>('train').disabled = !spec || state.phase === 'training' || state.phase === 'analysing';
  return spec;
}

// ---------------------------------------------------------------- the worker

let worker: Worker | null = null;
const send = (m: ToWorker) => worker!.postMessage(m);
let t0 = 0;

function setStatus(text: string): void {
  state.message = text;
  $('status').textContent = text;
}

function buttons(): void {
  const p = state.phase;
  $<HTMLButtonElement>('stop').disabled = p !== 'training';
  $<HTMLButtonElement>('resume').disabled = p !== 'paused';
  check();
}

function start(): void {
  const spec = check();
  if (!spec) return;
  worker ??= makeWorker();
  Object.assign(state, { phase: 'training', spec, losses: [], evals: [], record: null, lengths: null });
  for (const id of ['fig-scatter', 'fig-g', 'fig-c', 'fig-lengths']) Plotly.purge($(id));
  $('table').innerHTML = '';
  $('summary').textContent = '';
  $('ablate-controls').hidden = true;
  $('exports').hidden = true;
  $('error').textContent = '';
  t0 = performance.now();
  setStatus('starting the wasm backend...');
  buttons();
  send({ type: 'start', spec });
}

function makeWorker(): Worker {
  const w = new Worker('worker.js');
  w.onmessage = (e: MessageEvent<FromWorker>) => onWorker(e.data);
  w.onerror = (e) => failed(e.message || 'the worker failed');
  return w;
}

function failed(message: string): void {
  state.phase = 'error';
  $('error').textContent = message;
  setStatus('stopped by an error');
  buttons();
}

function onWorker(m: FromWorker): void {
  if (m.type === 'ready') {
    state.backend = m.backend;
    setStatus(`training on ${m.backend}...`);
  } else if (m.type === 'progress') {
    state.losses.push(...m.losses);
    state.evals.push(...m.evals);
    const left = (m.maxSteps - m.step) * m.msPerStep;
    const last = state.evals.length ? state.evals[state.evals.length - 1] : null;
    $('bar').style.width = `${(100 * m.step) / m.maxSteps}%`;
    setStatus(
      `step ${m.step} of at most ${m.maxSteps}, loss ${state.losses[state.losses.length - 1]?.toFixed(3)}` +
        (last ? `, exact match ${(100 * last.acc).toFixed(1)}% at step ${last.step}` : '') +
        `; ${m.msPerStep.toFixed(1)} ms a step, at most ${(left / 1000).toFixed(0)} s left (less if it reaches its target)`,
    );
    drawLoss();
  } else if (m.type === 'paused') {
    state.phase = 'paused';
    setStatus(`stopped at step ${m.step}: Resume continues exactly where it stopped`);
    buttons();
  } else if (m.type === 'phase') {
    state.phase = 'analysing';
    setStatus(`analysing: ${m.phase}...`);
    buttons();
  } else if (m.type === 'analysed') {
    state.record = m.record;
    state.phase = 'analysed';
    $('bar').style.width = '100%';
    setStatus(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${state.backend}`);
    showAnalysis(m.record);
    buttons();
  } else if (m.type === 'lengths') {
    state.lengths = m.lengths;
    drawLengths(m.lengths);
  } else if (m.type === 'error') failed(m.message);
}

// ---------------------------------------------------------------- figures

const CONFIG = { displaylogo: false, responsive: true };

function drawLoss(): void {
  const steps = state.losses.map((_, i) => i + 1);
  Plotly.react(
    $('fig-loss'),
    [
      { x: steps, y: state.losses, name: 'training loss', mode: 'lines', line: { color: '#1565c0', width: 1 } },
      {
        x: state.evals.map((e) => e.step),
        y: state.evals.map((e) => e.acc),
        name: 'exact match (training lengths)',
        mode: 'lines+markers',
        yaxis: 'y2',
        line: { color: '#ef6c00' },
      },
    ],
    styled({
      data: [],
      layout: {
        title: { text: 'Training' },
        height: 260,
        margin: { t: 40, b: 40, l: 50, r: 50 },
        xaxis: { title: { text: 'step' } },
        yaxis: { title: { text: 'loss' }, type: 'log' },
        yaxis2: { title: { text: 'exact match' }, overlaying: 'y', side: 'right', range: [0, 1] },
        legend: { orientation: 'h', y: -0.3 },
      },
    }).layout,
    CONFIG,
  );
}

let picked: string | null = null;

function showAnalysis(r: RunRecord): void {
  const a = r.analysis;
  if (a.status !== 'analysed') {
    $('summary').textContent = `Not analysed: ${a.reason}. Try other OOD lengths, or train longer.`;
    return;
  }
  const k = a.classification!;
  const heroes = a.components.filter((_, i) => k.classes[i] === 'HiddenHero');
  const bloats = a.components.filter((_, i) => k.classes[i] === 'GradientBloat');
  $('summary').innerHTML =
    `<b>rho(G, C) = ${k.rho.toFixed(3)}</b> at OOD length ${a.ood.length}${a.ood.withinTraining ? ' (inside the training lengths)' : ''}; ` +
    `baseline exact match ${(100 * a.baseline!).toFixed(1)}%; ` +
    `Hidden Heroes: ${heroes.join(', ') || 'none'}; Gradient Bloats: ${bloats.join(', ') || 'none'} ` +
    `(|Delta| ${r.config.analysis.inclusive ? '>=' : '>'} ${r.config.analysis.threshold}).`;
  const f1 = styled(figure1([r]));
  Plotly.newPlot($('fig-scatter'), f1.data, { ...f1.layout, height: 380 }, CONFIG);
  heatmap('fig-g', r, 'G');
  heatmap('fig-c', r, 'C');
  table(r);
  $('ablate-controls').hidden = false;
  $('exports').hidden = false;
  const onClick = (id: string | undefined) => id && ablate(id);
  const el = (id: string) =>
    $(id) as unknown as { on(ev: string, f: (e: { points: { text?: string; customdata?: string }[] }) => void): void };
  el('fig-scatter').on('plotly_click', (e) => onClick(e.points[0]?.text?.split(',')[0]));
  for (const id of ['fig-g', 'fig-c']) el(id).on('plotly_click', (e) => onClick(e.points[0]?.customdata));
}

/** A layer x (head, MLP) map of one score. */
function heatmap(el: string, r: RunRecord, score: 'G' | 'C'): void {
  const { nLayers, nHeads } = r.config.model;
  const cols = [...Array.from({ length: nHeads }, (_, h) => `H${h}`), 'MLP'];
  const ids = (l: number) => cols.map((c) => `L${l}.${c}`);
  const rows = Array.from({ length: nLayers }, (_, l) => l);
  const s = r.analysis.scores[score];
  Plotly.newPlot(
    $(el),
    [
      {
        type: 'heatmap',
        x: cols,
        y: rows.map((l) => `L${l}`),
        z: rows.map((l) => ids(l).map((id) => s[id])),
        customdata: rows.map((l) => ids(l)),
        colorscale: score === 'G' ? 'Blues' : 'Oranges',
        hovertemplate: '%{customdata}: %{z:.4g}<extra></extra>',
      },
    ],
    styled({
      data: [],
      layout: {
        title: { text: score === 'G' ? 'G (Eq. 1), by layer and head' : 'C (Eq. 2), by layer and head' },
        height: 260,
        margin: { t: 40, b: 30, l: 40, r: 10 },
        yaxis: { autorange: 'reversed' },
      },
    }).layout,
    CONFIG,
  );
}

function table(r: RunRecord): void {
  const a = r.analysis;
  const k = a.classification!;
  const f = (x: number) => (Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(2));
  $('table').innerHTML =
    `<table><thead><tr><th>component</th><th>G</th><th>C</th><th>rank G</th><th>rank C</th><th>Delta</th><th>class</th></tr></thead><tbody>` +
    a.components
      .map(
        (id, i) =>
          `<tr class="${k.classes[i]}" data-id="${id}"><td>${id}</td><td>${f(a.scores.G[id])}</td><td>${f(a.scores.C[id])}</td><td>${k.rankG[i]}</td><td>${k.rankC[i]}</td><td>${(k.meanDelta ?? k.delta)[i].toFixed(1)}</td><td>${k.classes[i]}</td></tr>`,
      )
      .join('') +
    '</tbody></table><p class="note">Ranks and Delta under the preset\'s rank rule (ordinal with random tie-breaks: Delta is the mean over the draws, the ranks one draw). Click a row, a point or a cell to ablate that component.</p>';
  for (const tr of Array.from($('table').querySelectorAll('tr[data-id]')))
    tr.addEventListener('click', () => ablate((tr as HTMLElement).dataset.id!));
}

function how(): Ablation {
  return (document.querySelector('input[name="how"]:checked') as HTMLInputElement).value as Ablation;
}

function ablate(id: string | null): void {
  if (state.phase !== 'analysed') return;
  picked = id;
  for (const tr of Array.from($('table').querySelectorAll('tr[data-id]')))
    tr.classList.toggle('picked', (tr as HTMLElement).dataset.id === id);
  $('ablated-which').textContent = id ? `: ${id}` : '';
  send({ type: 'ablate', id, how: how() });
}

function drawLengths(l: LengthAccuracy): void {
  const data: Record<string, unknown>[] = [
    { type: 'bar', x: l.lengths, y: l.base, name: 'the trained model', marker: { color: '#90a4ae' } },
  ];
  if (l.ablated)
    data.push({
      type: 'bar',
      x: l.lengths,
      y: l.ablated.acc,
      name: `${l.ablated.id} ablated (${l.ablated.how})`,
      marker: { color: CLASS_COLORS.GradientBloat },
    });
  const ood = state.record?.analysis.ood.length;
  Plotly.react(
    $('fig-lengths'),
    data,
    styled({
      data: [],
      layout: {
        title: {
          text: `Exact match by sequence length (${l.samples} sequences each; the same ones with and without the ablation)`,
        },
        height: 280,
        barmode: 'group',
        margin: { t: 40, b: 40, l: 50, r: 10 },
        xaxis: { title: { text: 'length' }, dtick: 1 },
        yaxis: { title: { text: 'exact match' }, range: [0, 1] },
        shapes: ood
          ? [{ type: 'line', x0: ood, x1: ood, y0: 0, y1: 1, yref: 'paper', line: { dash: 'dot', color: '#555' } }]
          : [],
      },
    }).layout,
    CONFIG,
  );
}

// ---------------------------------------------------------------- exports

function download(name: string, blob: Blob): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function exportFigures(format: 'png' | 'svg'): void {
  const r = state.record!;
  for (const id of ['fig-loss', 'fig-scatter', 'fig-g', 'fig-c', 'fig-lengths'])
    void Plotly.downloadImage($(id), {
      format,
      filename: `${r.task}_seed${r.seed}_${id.slice(4)}`,
      scale: format === 'png' ? 2 : 1,
    });
}

// ---------------------------------------------------------------- wiring

buildForm();
check();
$('train').addEventListener('click', start);
$('stop').addEventListener('click', () => send({ type: 'stop' }));
$('resume').addEventListener('click', () => {
  state.phase = 'training';
  buttons();
  send({ type: 'resume' });
});
$('small').addEventListener('click', () => {
  $<HTMLSelectElement>('f-task').value = 'sort';
  for (const [k, v] of Object.entries(SMALL)) setField(k.includes('.') ? fid(k) : k, v);
  check();
});
$('unablate').addEventListener('click', () => ablate(null));
for (const el of Array.from(document.querySelectorAll('input[name="how"]')))
  el.addEventListener('change', () => picked && ablate(picked));
$('export-record').addEventListener('click', () => {
  const r = state.record!;
  download(`${r.task}_seed${r.seed}.json`, new Blob([JSON.stringify(r, null, 1)], { type: 'application/json' }));
});
$('export-png').addEventListener('click', () => exportFigures('png'));
$('export-svg').addEventListener('click', () => exportFigures('svg'));
