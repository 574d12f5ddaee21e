/** A configuration checked whole: every setting against its rule, the sections, the memory a run needs, the task's own limits; presets resolved and completed. */
import { getTask, longestEvalLength, longestSequence, TaskName } from '../tasks';
import { CONFIG_RULES, shown, checkValue, unknownKey } from './rules';
import {
  PresetName,
  ModelConfig,
  AnalysisConfig,
  ExperimentConfig,
  DeepPartial,
  ConfigError,
  cloneConfig,
  checkPreset,
  PRESET_CONFIGS,
} from './config';

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
  return (
    batch *
    tokens *
    (m.nLayers * (376 * m.dModel + 74 * m.dFF + 36 * m.nHeads * tokens) + VOCAB_BYTES_PER_TOKEN * m.vocabSize)
  );
}
const VOCAB_BYTES_PER_TOKEN = 64;

/** What the vocabulary alone takes of a pass, when it is a large part (for the memory rule's message). */
function vocabShare(m: ModelConfig, batch: number, tokens: number): string {
  const bytes = batch * tokens * VOCAB_BYTES_PER_TOKEN * m.vocabSize;
  return bytes > passBytes(m, batch, tokens) / 4
    ? ` (model.vocabSize=${m.vocabSize} alone takes ${gib(bytes)} of it)`
    : '';
}

/** Weights, gradients and Adam's two moments: four float32 copies of every parameter. */
export function trainingStateBytes(m: ModelConfig): number {
  const perLayer = 4 * m.dModel * m.dModel + 2 * m.dModel * m.dFF + 9 * m.dModel + m.dFF;
  const params =
    m.nLayers * perLayer + 2 * m.vocabSize * m.dModel + (m.positions === 'learned' ? m.maxPositions * m.dModel : 0);
  return 16 * params;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** Every setting of one section checked against its rule (a notebook may hand any object to a function). */
function checkSection(cfg: unknown, section: keyof ExperimentConfig): void {
  const values = (cfg as Record<string, Record<string, unknown>> | null)?.[section];
  if (!values || typeof values !== 'object')
    throw new ConfigError(
      `config ${section}: missing; expected an object of settings (getConfig(preset, overrides) makes a complete one)`,
    );
  for (const key of Object.keys(CONFIG_RULES).filter((k) => k.startsWith(`${section}.`)))
    checkValue(key, values[key.slice(section.length + 1)]);
}

/**
 * What was checked of a configuration object, so that an entry handed the same object again checks
 * nothing twice: its JSON at the check (an edit since makes it unchecked again), the tasks it was
 * found to fit, and whether its measure names were checked against the registry.
 */
interface Check {
  json: string;
  tasks: Set<string>;
  measures: boolean;
}
const checks = new WeakMap<object, Check>();
const counts = { config: 0, analysis: 0, task: 0, measures: 0 };

/** Whole checks made so far in this process (a configuration, an analysis section alone, a task's fit, measure names): how `test/config.test.ts` proves a run is validated once. */
export function validationCounts(): Readonly<typeof counts> {
  return { ...counts };
}

/** Counts one check of measure names against the registry (analysis/registry.ts checkMeasures). */
export function countMeasureCheck(): void {
  counts.measures++;
}

/** What was checked of this object, if it is unchanged since. */
function checkOf(obj: object): Check | null {
  const c = checks.get(obj);
  return c && c.json === JSON.stringify(obj) ? c : null;
}

function remember(obj: object, measures: boolean): void {
  checks.set(obj, { json: JSON.stringify(obj), tasks: new Set(), measures });
}

/** The measure names of this analysis section were checked against the registry (by getConfig) and are unchanged since. */
export function measureNamesChecked(a: AnalysisConfig): boolean {
  return !!checkOf(a)?.measures;
}

/**
 * The analysis settings alone (analyzeModel takes only these): every value against its rule, the
 * OOD window, and the measure names against the registry.
 */
export function validateAnalysisConfig(a: AnalysisConfig): AnalysisConfig {
  if (a && typeof a === 'object' && checkOf(a)) return a; // checked with its configuration, unchanged since
  counts.analysis++;
  checkSection({ analysis: a }, 'analysis');
  if (a.accHigh <= a.accLow) {
    throw new ConfigError(
      `config analysis.accHigh: ${a.accHigh} is not above analysis.accLow=${a.accLow} (the window [accLow, accHigh] would hold no accuracy or one); allowed: a number > analysis.accLow`,
    );
  }
  measureNameCheck?.(a.measures);
  remember(a, !!measureNameCheck);
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
  if (!cfg || typeof cfg !== 'object')
    throw new ConfigError(
      `config: got ${shown(cfg)}; expected a configuration (getConfig(preset, overrides) makes one)`,
    );
  if (checkOf(cfg)) return cfg; // checked before and unchanged since
  counts.config++;
  for (const section of ['model', 'data', 'train', 'analysis'] as const) checkSection(cfg, section);
  const { model: m, data: d, train: t, analysis: a } = cfg;
  const fail = (key: string, got: string, allowed: string) => {
    throw new ConfigError(`config ${key}: ${got}; allowed: ${allowed}`);
  };
  if (m.dModel % m.nHeads !== 0)
    fail('model.dModel', `${m.dModel} is not divisible by model.nHeads=${m.nHeads}`, 'a multiple of model.nHeads');
  if (a.accHigh <= a.accLow) {
    fail(
      'analysis.accHigh',
      `${a.accHigh} is not above analysis.accLow=${a.accLow} (the window [accLow, accHigh] would hold no accuracy or one)`,
      'a number > analysis.accLow',
    );
  }
  if (d.maxLen < d.minLen)
    fail('data.maxLen', `${d.maxLen} is below data.minLen=${d.minLen}`, 'an integer >= data.minLen');
  const range = `${d.minLen}..${d.maxLen}`;
  if (t.stopLength !== 0 && (t.stopLength < d.minLen || t.stopLength > d.maxLen)) {
    fail(
      'train.stopLength',
      `${t.stopLength} is outside the training lengths data.minLen..data.maxLen = ${range}`,
      `0 (check on every training length) or an integer in [${d.minLen}, ${d.maxLen}]`,
    );
  }
  if (a.idLength < d.minLen || a.idLength > d.maxLen) {
    fail(
      'analysis.idLength',
      `${a.idLength} is outside the training lengths data.minLen..data.maxLen = ${range} (it is the in-distribution length)`,
      `an integer in [${d.minLen}, ${d.maxLen}]`,
    );
  }
  // The longest sequence trained or evaluated: the registered tasks' answer lengths and OOD lengths decide (2N + 2 for the paper's, N = 11).
  const longestN = Math.max(d.maxLen, longestEvalLength());
  if (m.positions === 'learned') {
    const need = longestSequence(longestN);
    if (m.maxPositions < need) {
      fail(
        'model.maxPositions',
        `${m.maxPositions} rows cannot hold the ${need} tokens of a length-${longestN} sequence (model.positions="learned", data.maxLen=${d.maxLen})`,
        `an integer >= ${need} (the longest sequence of a registered task at max(data.maxLen, its longest OOD length ${longestEvalLength()}))`,
      );
    }
  }
  const state = trainingStateBytes(m);
  if (state > MEMORY_BUDGET_BYTES / 2) {
    fail(
      'model.dModel',
      `a model of ${m.nLayers} layers, d_model ${m.dModel}, d_ff ${m.dFF} needs about ${gib(state)} for its weights, gradients and Adam's moments`,
      `a model within ${MEMORY_BUDGET_BYTES / 2 ** 31} GiB of training state (fewer model.nLayers, a smaller model.dModel or model.dFF)`,
    );
  }
  const trainTokens = longestSequence(d.maxLen);
  const step = passBytes(m, t.batchSize, trainTokens) + state;
  if (step > MEMORY_BUDGET_BYTES) {
    const fit = Math.max(0, Math.floor((MEMORY_BUDGET_BYTES - state) / passBytes(m, 1, trainTokens)));
    if (fit < 1)
      fail(
        'model.dModel',
        `a model of ${m.nLayers} layers, d_model ${m.dModel}, d_ff ${m.dFF}, vocabulary ${m.vocabSize} needs more than ${MEMORY_BUDGET_BYTES / 2 ** 30} GiB for a training step of one sequence`,
        'a smaller model (model.nLayers, model.dModel, model.dFF, model.vocabSize)',
      );
    fail(
      'train.batchSize',
      `${t.batchSize} sequences of up to ${trainTokens} tokens need about ${gib(step)} per training step with this model${vocabShare(m, t.batchSize, trainTokens)}`,
      `at most ${MEMORY_BUDGET_BYTES / 2 ** 30} GiB: train.batchSize <= ${fit} for this model and data.maxLen (or a smaller model${vocabShare(m, t.batchSize, trainTokens) ? ', e.g. a smaller model.vocabSize' : ''})`,
    );
  }
  const evalTokens = longestSequence(longestN);
  const grad = passBytes(m, a.gradBatchSize, evalTokens) + state;
  if (grad > MEMORY_BUDGET_BYTES) {
    const fit = Math.max(0, Math.floor((MEMORY_BUDGET_BYTES - state) / passBytes(m, 1, evalTokens)));
    if (fit < 1)
      fail(
        'model.dModel',
        `a model of ${m.nLayers} layers, d_model ${m.dModel}, d_ff ${m.dFF}, vocabulary ${m.vocabSize} needs more than ${MEMORY_BUDGET_BYTES / 2 ** 30} GiB for a gradient pass over one evaluation sequence of ${evalTokens} tokens`,
        'a smaller model (model.nLayers, model.dModel, model.dFF, model.vocabSize)',
      );
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
    fail(
      'analysis.evalSamples',
      `${a.evalSamples} sequences need about ${gib(cache)} of cached activations with this model`,
      `at most ${MEMORY_BUDGET_BYTES / 2 ** 31} GiB: analysis.evalSamples <= ${fit} for this model`,
    );
  }
  remember(cfg, false);
  remember(cfg.analysis, false);
  return cfg;
}

/** A task and a configuration that can run together: the model's vocabulary holds the task's tokens. */
export function checkTaskConfig(task: TaskName, cfg: ExperimentConfig): void {
  const known = checkOf(cfg);
  if (known?.tasks.has(task)) return;
  counts.task++;
  const need = getTask(task).vocabSize;
  if (cfg.model.vocabSize < need) {
    throw new ConfigError(
      `config model.vocabSize: ${cfg.model.vocabSize} cannot hold task ${task}'s ${need} tokens; allowed: an integer >= ${need} for this task`,
    );
  }
  known?.tasks.add(task);
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

/** The named preset with an optional partial override (a notebook cell's object), validated. */
export function getConfig(
  preset: PresetName | string = 'paper',
  overrides: DeepPartial<ExperimentConfig> = {},
): ExperimentConfig {
  const cfg = withOverrides(preset, overrides);
  measureNameCheck?.(cfg.analysis.measures);
  validateConfig(cfg);
  if (measureNameCheck) checks.get(cfg.analysis)!.measures = true;
  return cfg;
}

/** The preset with the overrides applied, each key and value checked against its rule; the whole not validated (getConfig does that). */
export function withOverrides(
  preset: PresetName | string,
  overrides: DeepPartial<ExperimentConfig> = {},
): ExperimentConfig {
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
  return cfg;
}
