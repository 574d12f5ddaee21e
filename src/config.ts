/**
 * One typed configuration for a run, its commented defaults, the two protocol presets and
 * validation of user overrides (CLI `--set key=value` or a notebook cell's partial object).
 *
 * The presets differ only where PROTOCOL.md says the paper's text and the authors'
 * published code differ. Both use NO positional embedding: with learned positions (the paper's
 * text) an independent reimplementation reached 0% OOD accuracy on every reversal seed, so no
 * OOD length in [20%, 75%] exists and the analysis cannot run. `model.positions = "learned"`
 * remains available as an override.
 */

import { closest } from './suggest';
import { BatchLayout, DIGIT_VOCAB_SIZE, getTask, longestEvalLength, longestSequence, TaskName, TASKS } from './tasks';

export type { BatchLayout, TaskName } from './tasks';
export { PAPER_TASKS, TASKS } from './tasks';
export type PresetName = 'paper' | 'authors';
export type Positions = 'none' | 'learned';
/** `pytorch`: PyTorch's default init (the authors'); `normal`: N(0, 0.02) weights, zero biases. */
export type InitScheme = 'pytorch' | 'normal';

/**
 * Where a head's mean is substituted. `before-WO`: the head's output z (d_head) before the output
 * projection, which removes the head (paper text; the authors' last section). `after-WO-slice`:
 * the authors' main experiment, which writes the d_head-wide mean into columns h*d_head.. of the
 * attention output *after* W_O; that does not remove the head (a known interpretability pitfall).
 */
export type HeadAblation = 'before-WO' | 'after-WO-slice';
/**
 * Ranks for Delta (Eq. 3). `average`: ties share their mean rank (scipy's rankdata, the authors'
 * code). `ordinal-random`: ordinal ranks, ties broken at random (seeded), repeated analysis.tieDraws
 * times. `ordinal-order`: ties broken by component order (L0 first): biased, kept to show the bias.
 */
export type RankRule = 'average' | 'ordinal-random' | 'ordinal-order';

export const PRESETS: readonly PresetName[] = ['paper', 'authors'];
/** The paper's ten seeds (Appendix A.1). */
export const PAPER_SEEDS: readonly number[] = [42, 123, 456, 789, 1010, 2020, 3030, 4040, 5050, 6060];

export interface ModelConfig {
  nLayers: number; // L, transformer blocks (paper: 4)
  nHeads: number; // H, attention heads per block (paper: 4)
  dModel: number; // residual stream width (paper: 128); must be divisible by nHeads
  dFF: number; // MLP hidden width (paper: 512)
  positions: Positions; // positional embedding: 'none' (authors' code) or 'learned' (paper text)
  maxPositions: number; // rows of the learned position table: longest sequence ever fed (2*11 + 2 for the paper's tasks)
  init: InitScheme; // weight initialisation
  lnEps: number; // LayerNorm epsilon (PyTorch default 1e-5)
  vocabSize: number; // tokens the embedding and the unembedding hold: at least the task's (digit tasks: 104)
}

export interface DataConfig {
  minLen: number; // shortest training sequence N (paper: 3)
  maxLen: number; // longest training sequence N (paper: 7)
  layout: BatchLayout; // how training batches of mixed lengths are padded (see BatchLayout)
}

export interface TrainConfig {
  lr: number; // Adam learning rate (paper: 1e-3)
  adamEps: number; // Adam epsilon (PyTorch default 1e-8; tfjs's default is 1e-7)
  batchSize: number; // sequences per step (paper: 64)
  maxSteps: number; // hard stop (paper: 15,000)
  targetAcc: number; // early stop once training-distribution exact match >= this (paper: 0.90)
  evalEvery: number; // check the stopping rule every K steps (authors: 500)
  evalSamples: number; // fresh training-distribution sequences per check (authors: 100)
  stopLength: number; // 0: the check uses lengths minLen..maxLen; N: only length N (the authors' last section retrains with 7)
  initReplica: number; // 0: the seed's initial weights; r >= 1: each nonzero one moved one unit in the last place, up or down (stability study)
  dataReplica: number; // 0: the seed's own training batches; r >= 1: batches from another stream, same initial weights (stability study)
}

export interface AnalysisConfig {
  accLow: number; // OOD length: the first N in 8..11 with accuracy in [accLow, accHigh] (paper: 0.20)
  accHigh: number; // (paper: 0.75)
  oodPickSamples: number; // sequences per length when picking N (authors: 100)
  gradBatches: number; // B in Eq. 1 (paper: 50)
  gradBatchSize: number; // sequences per batch for Eq. 1 and for the ablation means (paper: 64)
  meanBatches: number; // batches over which each component's mean output is taken (authors: 50)
  evalSamples: number; // sequences scoring the baseline and each ablation in Eq. 2 (authors: 100)
  paired: boolean; // true: baseline and every ablation on one fixed set; false: the authors' fresh set per ablation
  headAblation: HeadAblation;
  rankRule: RankRule;
  threshold: number; // |Delta| threshold for Hidden Hero / Gradient Bloat (paper: 6)
  inclusive: boolean; // true: Delta <= -6 / >= 6 (paper text); false: < -6 / > 6 (authors' main experiment)
  tieDraws: number; // random tie-break draws for rankRule 'ordinal-random'
  idLength: number; // in-distribution length for Table 6 (paper: 5)
  idSamples: number; // sequences for in-distribution accuracy
  pruneSelect: 'extreme' | 'name-order'; // Table 2: the two most extreme of a class, or the first two in component order (authors)
  variants: boolean; // also record C, rho and classes under every analysis-side protocol variant (results files)
  redraws: number; // noise floor: recompute G and C this many times on freshly drawn sequences (same model, same N)
  igSteps: number; // integrated gradients: midpoint steps k along the path from a component's output to its mean
  igBatches: number; // integrated gradients: on the first this many of Eq. 1's batches (each costs a backward pass per component and step)
  resampleDraws: number; // resample ablation: source sets each evaluation sequence takes a component's activation from (averaged)
  measures: string[]; // measures computed besides G and C (registry names; the measures study: MEASURES.md)
  /**
   * Table 6's protocol. `paper`: prune every Bloat of the run's own classification. `authors-last-section`:
   * as the authors' last section does it: rank the heads only (Delta over 1..16), G of a head = the norm of
   * its whole layer's W_V gradient (the heads of a layer tie), average ranks, Bloat at Delta >= 6,
   * ablation before W_O, baseline on 100 sequences and the pruned model on 50. (That section also
   * retrains with another stopping rule: run a separate sweep with train.stopLength=7.)
   */
  table6Protocol: 'paper' | 'authors-last-section';
}

export interface ExperimentConfig {
  model: ModelConfig;
  data: DataConfig;
  train: TrainConfig;
  analysis: AnalysisConfig;
}

/** Defaults: the paper's model and training, with the authors' choices where the text is silent. */
export const DEFAULT_CONFIG: ExperimentConfig = {
  model: {
    nLayers: 4,
    nHeads: 4,
    dModel: 128,
    dFF: 512,
    positions: 'none',
    maxPositions: 24,
    init: 'pytorch',
    lnEps: 1e-5,
    vocabSize: DIGIT_VOCAB_SIZE,
  },
  data: { minLen: 3, maxLen: 7, layout: 'contiguous' },
  train: {
    lr: 1e-3,
    adamEps: 1e-8,
    batchSize: 64,
    maxSteps: 15000,
    targetAcc: 0.9,
    evalEvery: 100,
    evalSamples: 512,
    stopLength: 0,
    initReplica: 0,
    dataReplica: 0,
  },
  analysis: {
    accLow: 0.2,
    accHigh: 0.75,
    oodPickSamples: 1000, // standard error of an accuracy near 50%: 1.6 points
    gradBatches: 50,
    gradBatchSize: 64,
    meanBatches: 50,
    evalSamples: 1000,
    paired: true,
    headAblation: 'before-WO',
    rankRule: 'ordinal-random',
    threshold: 6,
    inclusive: true,
    tieDraws: 1000,
    idLength: 5,
    idSamples: 1000,
    pruneSelect: 'extreme',
    variants: true,
    redraws: 2,
    igSteps: 8,
    igBatches: 4,
    resampleDraws: 3,
    measures: [],
    table6Protocol: 'paper',
  },
};

/**
 * The presets. `paper`: the paper's text where it is explicit and can run; a clean batch layout
 * (PAD only after the sequence, so training rows look like the sequences decoded at test time)
 * and a finer, larger-sample stopping check (exact match is one batched pass, so it is cheap).
 * `authors`: their script choice for choice (separate padding, check every 500 steps on 100).
 */
export const PRESET_CONFIGS: Record<PresetName, ExperimentConfig> = {
  paper: DEFAULT_CONFIG,
  authors: {
    model: { ...DEFAULT_CONFIG.model },
    data: { ...DEFAULT_CONFIG.data, layout: 'separate' },
    train: { ...DEFAULT_CONFIG.train, evalEvery: 500, evalSamples: 100 },
    analysis: {
      ...DEFAULT_CONFIG.analysis,
      oodPickSamples: 100,
      evalSamples: 100,
      paired: false,
      headAblation: 'after-WO-slice',
      rankRule: 'average',
      inclusive: false,
      idSamples: 100,
      pruneSelect: 'name-order',
      table6Protocol: 'authors-last-section',
    },
  },
};

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Rule = (
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number'; min: number; max: number; exclusiveMin?: boolean }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'bool' }
  | { kind: 'names' }
) & { /** What the setting means (shown by --help). */ doc: string };

/** Every settable key, with what it allows. */
export const CONFIG_RULES: Record<string, Rule> = {
  'model.nLayers': { kind: 'int', min: 1, max: 64, doc: 'transformer blocks L (paper: 4)' },
  'model.nHeads': { kind: 'int', min: 1, max: 64, doc: 'attention heads per block H (paper: 4)' },
  'model.dModel': { kind: 'int', min: 1, max: 4096, doc: 'residual stream width; a multiple of model.nHeads (paper: 128)' },
  'model.dFF': { kind: 'int', min: 1, max: 16384, doc: 'MLP hidden width (paper: 512)' },
  'model.positions': { kind: 'enum', values: ['none', 'learned'], doc: "positional embedding: none (the authors' code) or learned (the paper's text)" },
  'model.maxPositions': { kind: 'int', min: 1, max: 4096, doc: 'rows of the learned position table (the longest sequence: 2 * longest N + 2 for the paper\'s tasks)' },
  'model.init': { kind: 'enum', values: ['pytorch', 'normal'], doc: "weight initialisation: PyTorch's defaults or N(0, 0.02)" },
  'model.lnEps': { kind: 'number', min: 0, max: 1, exclusiveMin: true, doc: 'LayerNorm epsilon' },
  'model.vocabSize': { kind: 'int', min: 1, max: 65536, doc: "tokens of the embedding and unembedding; at least the task's vocabulary (digit tasks: 104)" },
  'data.minLen': { kind: 'int', min: 1, max: 99, doc: 'shortest training sequence N (paper: 3)' },
  'data.maxLen': { kind: 'int', min: 1, max: 99, doc: 'longest training sequence N (paper: 7)' },
  'data.layout': { kind: 'enum', values: ['contiguous', 'separate'], doc: "training batch padding: contiguous, or separate (the authors': PAD between SEP and y)" },
  'train.lr': { kind: 'number', min: 0, max: 10, exclusiveMin: true, doc: 'Adam learning rate (paper: 1e-3)' },
  'train.adamEps': { kind: 'number', min: 0, max: 1, exclusiveMin: true, doc: "Adam epsilon (PyTorch's 1e-8)" },
  'train.batchSize': { kind: 'int', min: 1, max: 65536, doc: 'sequences per step (paper: 64); bounded by memory' }, // and the memory rule in validateConfig
  'train.maxSteps': { kind: 'int', min: 1, max: 10_000_000, doc: 'hard stop (paper: 15,000)' },
  'train.targetAcc': { kind: 'number', min: 0, max: 1, exclusiveMin: true, doc: 'stop once training-distribution exact match reaches this (paper: 0.9)' },
  'train.evalEvery': { kind: 'int', min: 1, max: 10_000_000, doc: 'steps between stopping checks (authors: 500)' },
  'train.evalSamples': { kind: 'int', min: 1, max: 1_000_000, doc: 'fresh sequences per stopping check (authors: 100)' },
  'train.stopLength': { kind: 'int', min: 0, max: 99, doc: '0: check on every training length; N: only on length N' },
  'train.initReplica': { kind: 'int', min: 0, max: 1_000_000, doc: "0: the seed's initial weights; r: the same, each nonzero weight moved one unit in the last place up or down at random (replica r; the stability study)" },
  'train.dataReplica': { kind: 'int', min: 0, max: 1_000_000, doc: "0: the seed's own training batches; r: batches drawn from replica r's stream, the initial weights unchanged (the stability study)" },
  'analysis.accLow': { kind: 'number', min: 0, max: 1, doc: 'OOD length: the first N with accuracy in [accLow, accHigh] (paper: 0.2)' },
  'analysis.accHigh': { kind: 'number', min: 0, max: 1, doc: 'upper end of that window (paper: 0.75)' },
  'analysis.oodPickSamples': { kind: 'int', min: 1, max: 1_000_000, doc: 'sequences per candidate length when picking N (authors: 100)' },
  'analysis.gradBatches': { kind: 'int', min: 1, max: 100_000, doc: 'batches B in Eq. 1 (paper: 50)' },
  'analysis.gradBatchSize': { kind: 'int', min: 1, max: 65536, doc: 'sequences per batch for Eq. 1 and the ablation means (paper: 64)' },
  'analysis.meanBatches': { kind: 'int', min: 1, max: 100_000, doc: "batches for each component's mean output (authors: 50)" },
  'analysis.evalSamples': { kind: 'int', min: 1, max: 1_000_000, doc: 'sequences scoring the baseline and each ablation in Eq. 2' },
  'analysis.paired': { kind: 'bool', doc: "true: baseline and every ablation on one set; false: the authors' fresh set each" },
  'analysis.headAblation': { kind: 'enum', values: ['before-WO', 'after-WO-slice'], doc: "where a head is mean-ablated: before W_O (removes it) or the authors' after-W_O slice" },
  'analysis.rankRule': { kind: 'enum', values: ['average', 'ordinal-random', 'ordinal-order'], doc: 'ranks for Delta (Eq. 3): ties averaged, broken at random, or by component order' },
  'analysis.threshold': { kind: 'number', min: 0, max: 1000, doc: '|Delta| for Hidden Hero / Gradient Bloat (paper: 6)' },
  'analysis.inclusive': { kind: 'bool', doc: 'true: Delta <= -6 / >= 6 (paper text); false: < / > (authors)' },
  'analysis.tieDraws': { kind: 'int', min: 1, max: 1_000_000, doc: 'random tie-break draws for rankRule ordinal-random' },
  'analysis.idLength': { kind: 'int', min: 1, max: 99, doc: 'in-distribution length for Table 6 (paper: 5); a training length' },
  'analysis.idSamples': { kind: 'int', min: 1, max: 1_000_000, doc: 'sequences for in-distribution accuracy' },
  'analysis.pruneSelect': { kind: 'enum', values: ['extreme', 'name-order'], doc: 'Table 2: the two most extreme of a class, or the first two by name (authors)' },
  'analysis.variants': { kind: 'bool', doc: 'also record C, rho and classes under every analysis-side protocol variant' },
  'analysis.redraws': { kind: 'int', min: 0, max: 100, doc: 'noise floor: recompute G and C this many times on fresh sequences' },
  'analysis.igSteps': { kind: 'int', min: 1, max: 1000, doc: "integrated gradients: steps k along the path from a component's output to its mean" },
  'analysis.igBatches': { kind: 'int', min: 1, max: 100_000, doc: "integrated gradients: on the first this many of Eq. 1's batches (at most analysis.gradBatches)" },
  'analysis.resampleDraws': { kind: 'int', min: 1, max: 1000, doc: "resample ablation: source sets per evaluation sequence (each costs one more pass per component)" },
  'analysis.measures': { kind: 'names', doc: 'measures computed besides G and C, comma-separated (MEASURES.md lists them; gcg measures --list)' },
  'analysis.table6Protocol': { kind: 'enum', values: ['paper', 'authors-last-section'], doc: "Table 6: prune the run's own Bloats, or as the authors' last section does" },
};

/** One entry per setting: name, what it means, what is allowed, and each preset's value (for --help). */
export function describeSettings(): string {
  const value = (p: PresetName, key: string) => {
    const [section, field] = key.split('.');
    return JSON.stringify((PRESET_CONFIGS[p] as unknown as Record<string, Record<string, unknown>>)[section][field]);
  };
  return Object.entries(CONFIG_RULES)
    .map(([key, rule]) => {
      const paper = value('paper', key);
      const authors = value('authors', key);
      const defaults = paper === authors ? `default ${paper}` : `default ${paper}, authors preset ${authors}`;
      return `  ${key.padEnd(26)}${rule.doc}\n  ${''.padEnd(26)}${describe(rule)}; ${defaults}`;
    })
    .join('\n');
}

function describe(rule: Rule): string {
  switch (rule.kind) {
    case 'int':
      return `an integer in [${rule.min}, ${rule.max}]`;
    case 'number':
      return `a number in ${rule.exclusiveMin ? '(' : '['}${rule.min}, ${rule.max}]`;
    case 'enum':
      return `one of ${rule.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'bool':
      return 'true or false';
    case 'names':
      return 'a list of distinct names (letters, digits, - and _), possibly empty';
  }
}

/** What was typed or given, for an error message (JSON.stringify writes NaN and Infinity as null). */
function shown(value: unknown): string {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value) ?? String(value);
}

function checkValue(key: string, value: unknown, typed?: string): void {
  const rule = CONFIG_RULES[key];
  const bad = () => new ConfigError(`config ${key}: got ${typed !== undefined ? JSON.stringify(typed) : shown(value)}; allowed: ${describe(rule)}`);
  if (rule.kind === 'enum') {
    if (typeof value !== 'string' || !rule.values.includes(value)) throw bad();
    return;
  }
  if (rule.kind === 'bool') {
    if (typeof value !== 'boolean') throw bad();
    return;
  }
  if (rule.kind === 'names') {
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !/^[A-Za-z][\w-]*$/.test(v)) || new Set(value).size !== value.length) throw bad();
    return;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw bad();
  if (rule.kind === 'int' && !Number.isInteger(value)) throw bad();
  const belowMin = rule.kind === 'number' && rule.exclusiveMin ? value <= rule.min : value < rule.min;
  if (belowMin || value > rule.max) throw bad();
}

/**
 * Working memory budget of one training step or one analysis batch. The wasm backend's heap cannot
 * grow past 4 GiB (and tfjs-node shares the machine's memory); this leaves room for the model,
 * the optimizer and the evaluation caches.
 */
export const MEMORY_BUDGET_BYTES = 3 * 2 ** 30;

/**
 * Peak bytes of one forward and backward pass over `batch` sequences of `tokens` tokens,
 * measured with tf.profile on the wasm backend (4.22.0) and fitted per token and layer:
 * 376 bytes per unit of d_model, 74 per unit of d_ff, 36 per head and key position (within 1%
 * at 64 and 256 sequences, d_model 128 / 256, d_ff 512 / 1024, 4 / 8 heads, 16 / 24 tokens),
 * plus 64 bytes per token and unit of the vocabulary (the one-hot input, the logits, their softmax
 * and gradients: 61-62 measured at vocabularies of 8,192 and 16,384). It is conservative: the
 * paper's model trains at 900 sequences of 16 tokens on wasm and aborts at 1000 (the heap's limit),
 * where this estimate allows about 560 within MEMORY_BUDGET_BYTES.
 */
export function passBytes(m: ModelConfig, batch: number, tokens: number): number {
  return batch * tokens * (m.nLayers * (376 * m.dModel + 74 * m.dFF + 36 * m.nHeads * tokens) + VOCAB_BYTES_PER_TOKEN * m.vocabSize);
}
const VOCAB_BYTES_PER_TOKEN = 64;

/** What the vocabulary alone takes of a pass, when it is a large part (for the memory rule's message). */
function vocabShare(m: ModelConfig, batch: number, tokens: number): string {
  const bytes = batch * tokens * VOCAB_BYTES_PER_TOKEN * m.vocabSize;
  return bytes > passBytes(m, batch, tokens) / 4 ? ` (model.vocabSize=${m.vocabSize} alone takes ${gib(bytes)} of it)` : '';
}

/** Weights, gradients and Adam's two moments: four float32 copies of every parameter. */
export function trainingStateBytes(m: ModelConfig): number {
  const perLayer = 4 * m.dModel * m.dModel + 2 * m.dModel * m.dFF + 9 * m.dModel + m.dFF;
  const params = m.nLayers * perLayer + 2 * m.vocabSize * m.dModel + (m.positions === 'learned' ? m.maxPositions * m.dModel : 0);
  return 16 * params;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** Every setting of one section checked against its rule (a notebook may hand any object to a function). */
function checkSection(cfg: unknown, section: keyof ExperimentConfig): void {
  const values = (cfg as Record<string, Record<string, unknown>> | null)?.[section];
  if (!values || typeof values !== 'object') throw new ConfigError(`config ${section}: missing; expected an object of settings (getConfig(preset, overrides) makes a complete one)`);
  for (const key of Object.keys(CONFIG_RULES).filter((k) => k.startsWith(`${section}.`))) checkValue(key, values[key.slice(section.length + 1)]);
}

/**
 * The analysis settings alone (analyzeModel takes only these): every value against its rule, the
 * OOD window, and the measure names against the registry.
 */
export function validateAnalysisConfig(a: AnalysisConfig): AnalysisConfig {
  checkSection({ analysis: a }, 'analysis');
  if (a.accHigh <= a.accLow) {
    throw new ConfigError(`config analysis.accHigh: ${a.accHigh} is not above analysis.accLow=${a.accLow} (the window [accLow, accHigh] would hold no accuracy or one); allowed: a number > analysis.accLow`);
  }
  measureNameCheck?.(a.measures);
  return a;
}

/**
 * Set by the measure registry (src/analysis/registry.ts) when it loads: checks measure names, so
 * that getConfig refuses an unknown one as the command line does. Not set where no measure can run
 * (a report reading records), where names are not checked.
 */
let measureNameCheck: ((names: readonly string[]) => void) | null = null;
export function setMeasureNameCheck(check: (names: readonly string[]) => void): void {
  measureNameCheck = check;
}

/** Throws a ConfigError naming the key and what is allowed, for any invalid field or combination. */
export function validateConfig(cfg: ExperimentConfig): ExperimentConfig {
  if (!cfg || typeof cfg !== 'object') throw new ConfigError(`config: got ${shown(cfg)}; expected a configuration (getConfig(preset, overrides) makes one)`);
  for (const section of ['model', 'data', 'train', 'analysis'] as const) checkSection(cfg, section);
  const { model: m, data: d, train: t, analysis: a } = cfg;
  const fail = (key: string, got: string, allowed: string) => {
    throw new ConfigError(`config ${key}: ${got}; allowed: ${allowed}`);
  };
  if (m.dModel % m.nHeads !== 0) fail('model.dModel', `${m.dModel} is not divisible by model.nHeads=${m.nHeads}`, 'a multiple of model.nHeads');
  if (a.accHigh <= a.accLow) {
    fail('analysis.accHigh', `${a.accHigh} is not above analysis.accLow=${a.accLow} (the window [accLow, accHigh] would hold no accuracy or one)`, 'a number > analysis.accLow');
  }
  if (d.maxLen < d.minLen) fail('data.maxLen', `${d.maxLen} is below data.minLen=${d.minLen}`, 'an integer >= data.minLen');
  const range = `${d.minLen}..${d.maxLen}`;
  if (t.stopLength !== 0 && (t.stopLength < d.minLen || t.stopLength > d.maxLen)) {
    fail('train.stopLength', `${t.stopLength} is outside the training lengths data.minLen..data.maxLen = ${range}`, `0 (check on every training length) or an integer in [${d.minLen}, ${d.maxLen}]`);
  }
  if (a.idLength < d.minLen || a.idLength > d.maxLen) {
    fail('analysis.idLength', `${a.idLength} is outside the training lengths data.minLen..data.maxLen = ${range} (it is the in-distribution length)`, `an integer in [${d.minLen}, ${d.maxLen}]`);
  }
  // The longest sequence trained or evaluated: the registered tasks' answer lengths and OOD lengths decide (2N + 2 for the paper's, N = 11).
  const longestN = Math.max(d.maxLen, longestEvalLength());
  if (m.positions === 'learned') {
    const need = longestSequence(longestN);
    if (m.maxPositions < need) {
      fail('model.maxPositions', `${m.maxPositions} rows cannot hold the ${need} tokens of a length-${longestN} sequence (model.positions="learned", data.maxLen=${d.maxLen})`, `an integer >= ${need} (the longest sequence of a registered task at max(data.maxLen, its longest OOD length ${longestEvalLength()}))`);
    }
  }
  const state = trainingStateBytes(m);
  if (state > MEMORY_BUDGET_BYTES / 2) {
    fail('model.dModel', `a model of ${m.nLayers} layers, d_model ${m.dModel}, d_ff ${m.dFF} needs about ${gib(state)} for its weights, gradients and Adam's moments`, `a model within ${MEMORY_BUDGET_BYTES / 2 ** 31} GiB of training state (fewer model.nLayers, a smaller model.dModel or model.dFF)`);
  }
  const trainTokens = longestSequence(d.maxLen);
  const step = passBytes(m, t.batchSize, trainTokens) + state;
  if (step > MEMORY_BUDGET_BYTES) {
    const fit = Math.max(0, Math.floor((MEMORY_BUDGET_BYTES - state) / passBytes(m, 1, trainTokens)));
    if (fit < 1) fail('model.dModel', `a model of ${m.nLayers} layers, d_model ${m.dModel}, d_ff ${m.dFF}, vocabulary ${m.vocabSize} needs more than ${MEMORY_BUDGET_BYTES / 2 ** 30} GiB for a training step of one sequence`, 'a smaller model (model.nLayers, model.dModel, model.dFF, model.vocabSize)');
    fail('train.batchSize', `${t.batchSize} sequences of up to ${trainTokens} tokens need about ${gib(step)} per training step with this model${vocabShare(m, t.batchSize, trainTokens)}`, `at most ${MEMORY_BUDGET_BYTES / 2 ** 30} GiB: train.batchSize <= ${fit} for this model and data.maxLen (or a smaller model${vocabShare(m, t.batchSize, trainTokens) ? ', e.g. a smaller model.vocabSize' : ''})`);
  }
  const evalTokens = longestSequence(longestN);
  const grad = passBytes(m, a.gradBatchSize, evalTokens) + state;
  if (grad > MEMORY_BUDGET_BYTES) {
    const fit = Math.max(0, Math.floor((MEMORY_BUDGET_BYTES - state) / passBytes(m, 1, evalTokens)));
    if (fit < 1) fail('model.dModel', `a model of ${m.nLayers} layers, d_model ${m.dModel}, d_ff ${m.dFF}, vocabulary ${m.vocabSize} needs more than ${MEMORY_BUDGET_BYTES / 2 ** 30} GiB for a gradient pass over one evaluation sequence of ${evalTokens} tokens`, 'a smaller model (model.nLayers, model.dModel, model.dFF, model.vocabSize)');
    fail(
      'analysis.gradBatchSize',
      `${a.gradBatchSize} sequences of up to ${evalTokens} tokens need about ${gib(grad)} per gradient batch of the analysis (Eq. 1 and the component means) with this model${vocabShare(m, a.gradBatchSize, evalTokens)}; ` +
        'every trained model carries the analysis settings it is later analysed with, so train checks them too',
      `at most ${MEMORY_BUDGET_BYTES / 2 ** 30} GiB: analysis.gradBatchSize <= ${fit} for this model (set it along with the model)`,
    );
  }
  // C keeps the residual stream entering every block for the whole evaluation set (eval.ts ResidCache).
  const cache = a.evalSamples * evalTokens * m.dModel * m.nLayers * 4;
  if (cache > MEMORY_BUDGET_BYTES / 2) {
    const fit = Math.floor(MEMORY_BUDGET_BYTES / 2 / (evalTokens * m.dModel * m.nLayers * 4));
    fail('analysis.evalSamples', `${a.evalSamples} sequences need about ${gib(cache)} of cached activations with this model`, `at most ${MEMORY_BUDGET_BYTES / 2 ** 31} GiB: analysis.evalSamples <= ${fit} for this model`);
  }
  return cfg;
}

export function cloneConfig(cfg: ExperimentConfig): ExperimentConfig {
  return { model: { ...cfg.model }, data: { ...cfg.data }, train: { ...cfg.train }, analysis: { ...cfg.analysis, measures: [...cfg.analysis.measures] } };
}

export function checkPreset(name: string): PresetName {
  if (!(PRESETS as readonly string[]).includes(name)) {
    throw new ConfigError(`preset: unknown preset ${JSON.stringify(name)}; allowed: ${PRESETS.join(', ')}`);
  }
  return name as PresetName;
}

/** A registered task's name (src/tasks/index.ts); an unknown one is an error listing them. */
export function checkTask(name: string): TaskName {
  if (!(TASKS as readonly string[]).includes(name)) {
    throw new ConfigError(`task: unknown task ${JSON.stringify(name)}; allowed: ${TASKS.join(', ')}`);
  }
  return name as TaskName;
}

/** A task and a configuration that can run together: the model's vocabulary holds the task's tokens. */
export function checkTaskConfig(task: TaskName, cfg: ExperimentConfig): void {
  const need = getTask(task).vocabSize;
  if (cfg.model.vocabSize < need) {
    throw new ConfigError(`config model.vocabSize: ${cfg.model.vocabSize} cannot hold task ${task}'s ${need} tokens; allowed: an integer >= ${need} for this task`);
  }
}

/**
 * A configuration read from a file (results record, checkpoint) written before some settings
 * existed, completed with its preset's values for them: each new setting's preset value reproduces
 * the earlier behaviour (model.vocabSize: 104, the digit tasks' vocabulary, the only one there was).
 * Not validated here.
 */
export function completeConfig(stored: DeepPartial<ExperimentConfig>, preset: PresetName): ExperimentConfig {
  const p = cloneConfig(PRESET_CONFIGS[checkPreset(preset)]);
  return {
    model: { ...p.model, ...stored.model },
    data: { ...p.data, ...stored.data },
    train: { ...p.train, ...stored.train },
    analysis: { ...p.analysis, ...stored.analysis },
  } as ExperimentConfig;
}

export function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) {
    throw new ConfigError(`seed: got ${JSON.stringify(seed)}; allowed: an integer in [0, 4294967295]`);
  }
  return seed;
}

/** The named preset with an optional partial override (a notebook cell's object), validated. */
export function getConfig(preset: PresetName | string = 'paper', overrides: DeepPartial<ExperimentConfig> = {}): ExperimentConfig {
  const cfg = cloneConfig(PRESET_CONFIGS[checkPreset(preset)]);
  for (const [section, fields] of Object.entries(overrides ?? {})) {
    if (!(section in cfg)) {
      throw new ConfigError(`config ${section}: unknown section; allowed: ${Object.keys(cfg).join(', ')}`);
    }
    if (fields === null || typeof fields !== 'object') {
      throw new ConfigError(`config ${section}: expected an object of settings, got ${JSON.stringify(fields)}`);
    }
    for (const [field, value] of Object.entries(fields)) {
      const key = `${section}.${field}`;
      if (!(key in CONFIG_RULES)) throw unknownKey(key);
      checkValue(key, value);
      (cfg as unknown as Record<string, Record<string, unknown>>)[section][field] = value;
    }
  }
  measureNameCheck?.(cfg.analysis.measures);
  return validateConfig(cfg);
}

function unknownKey(key: string): ConfigError {
  const near = closest(key, Object.keys(CONFIG_RULES));
  return new ConfigError(`config ${key}: unknown key${near ? ` (did you mean ${near}?)` : ''}; allowed keys: ${Object.keys(CONFIG_RULES).join(', ')}`);
}

/**
 * Parses CLI overrides like `model.nLayers=2` into a partial config (numbers for numeric keys,
 * strings for enumerations). Every key and value is checked before any work starts.
 */
export function parseOverrides(assignments: readonly string[]): DeepPartial<ExperimentConfig> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set ${JSON.stringify(a)}: expected key=value, e.g. model.nLayers=2`);
    const key = a.slice(0, eq).trim();
    const raw = a.slice(eq + 1).trim();
    const rule = CONFIG_RULES[key];
    if (!rule) throw unknownKey(key);
    checkValue(key, parseValue(rule, raw), raw);
    const [section, field] = key.split('.');
    (out[section] ??= {})[field] = parseValue(rule, raw);
  }
  return out as DeepPartial<ExperimentConfig>;
}

/** A typed value from its text: integers as plain decimals, numbers as decimals with an optional exponent (1e-3); anything else is left as text (and rejected). */
function parseValue(rule: Rule, raw: string): unknown {
  if (rule.kind === 'enum') return raw;
  if (rule.kind === 'bool') return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (rule.kind === 'names') return raw === '' ? [] : raw.split(',').map((x) => x.trim());
  const pattern = rule.kind === 'int' ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  return pattern.test(raw) ? Number(raw) : raw;
}
