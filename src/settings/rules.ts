/** Each setting's rule (type, range, choices), the settings list `gcg --help` prints, and --set key=value parsing. */
import { closest } from '../base/suggest';
import { ConfigError, DeepPartial, ExperimentConfig, PresetName, PRESET_CONFIGS } from './config';

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
  'model.dModel': {
    kind: 'int',
    min: 1,
    max: 4096,
    doc: 'residual stream width; a multiple of model.nHeads (paper: 128)',
  },
  'model.dFF': { kind: 'int', min: 1, max: 16384, doc: 'MLP hidden width (paper: 512)' },
  'model.positions': {
    kind: 'enum',
    values: ['none', 'learned'],
    doc: "positional embedding: none (the authors' code) or learned (the paper's text)",
  },
  'model.maxPositions': {
    kind: 'int',
    min: 1,
    max: 4096,
    doc: "rows of the learned position table (the longest sequence: 2 * longest N + 2 for the paper's tasks)",
  },
  'model.init': {
    kind: 'enum',
    values: ['pytorch', 'normal'],
    doc: "weight initialisation: PyTorch's defaults or N(0, 0.02)",
  },
  'model.lnEps': { kind: 'number', min: 0, max: 1, exclusiveMin: true, doc: 'LayerNorm epsilon' },
  'model.vocabSize': {
    kind: 'int',
    min: 1,
    max: 65536,
    doc: "tokens of the embedding and unembedding; at least the task's vocabulary (digit tasks: 104)",
  },
  'data.minLen': { kind: 'int', min: 1, max: 99, doc: 'shortest training sequence N (paper: 3)' },
  'data.maxLen': { kind: 'int', min: 1, max: 99, doc: 'longest training sequence N (paper: 7)' },
  'data.layout': {
    kind: 'enum',
    values: ['contiguous', 'separate'],
    doc: "training batch padding: contiguous, or separate (the authors': PAD between SEP and y)",
  },
  'train.lr': { kind: 'number', min: 0, max: 10, exclusiveMin: true, doc: 'Adam learning rate (paper: 1e-3)' },
  'train.adamEps': { kind: 'number', min: 0, max: 1, exclusiveMin: true, doc: "Adam epsilon (PyTorch's 1e-8)" },
  'train.batchSize': { kind: 'int', min: 1, max: 65536, doc: 'sequences per step (paper: 64); bounded by memory' }, // and the memory rule in validateConfig
  'train.maxSteps': { kind: 'int', min: 1, max: 10_000_000, doc: 'hard stop (paper: 15,000)' },
  'train.targetAcc': {
    kind: 'number',
    min: 0,
    max: 1,
    exclusiveMin: true,
    doc: 'stop once training-distribution exact match reaches this (paper: 0.9)',
  },
  'train.evalEvery': { kind: 'int', min: 1, max: 10_000_000, doc: 'steps between stopping checks (authors: 500)' },
  'train.evalSamples': {
    kind: 'int',
    min: 1,
    max: 1_000_000,
    doc: 'fresh sequences per stopping check (authors: 100)',
  },
  'train.stopLength': { kind: 'int', min: 0, max: 99, doc: '0: check on every training length; N: only on length N' },
  'train.initReplica': {
    kind: 'int',
    min: 0,
    max: 1_000_000,
    doc: "0: the seed's initial weights; r: the same, each nonzero weight moved one unit in the last place up or down at random (replica r; the stability study)",
  },
  'train.dataReplica': {
    kind: 'int',
    min: 0,
    max: 1_000_000,
    doc: "0: the seed's own training batches; r: batches drawn from replica r's stream, the initial weights unchanged (the stability study)",
  },
  'analysis.accLow': {
    kind: 'number',
    min: 0,
    max: 1,
    doc: 'OOD length: the first N with accuracy in [accLow, accHigh] (paper: 0.2)',
  },
  'analysis.accHigh': { kind: 'number', min: 0, max: 1, doc: 'upper end of that window (paper: 0.75)' },
  'analysis.oodPickSamples': {
    kind: 'int',
    min: 1,
    max: 1_000_000,
    doc: 'sequences per candidate length when picking N (authors: 100)',
  },
  'analysis.gradBatches': { kind: 'int', min: 1, max: 100_000, doc: 'batches B in Eq. 1 (paper: 50)' },
  'analysis.gradBatchSize': {
    kind: 'int',
    min: 1,
    max: 65536,
    doc: 'sequences per batch for Eq. 1 and the ablation means (paper: 64)',
  },
  'analysis.meanBatches': {
    kind: 'int',
    min: 1,
    max: 100_000,
    doc: "batches for each component's mean output (authors: 50)",
  },
  'analysis.evalSamples': {
    kind: 'int',
    min: 1,
    max: 1_000_000,
    doc: 'sequences scoring the baseline and each ablation in Eq. 2',
  },
  'analysis.paired': {
    kind: 'bool',
    doc: "true: baseline and every ablation on one set; false: the authors' fresh set each",
  },
  'analysis.headAblation': {
    kind: 'enum',
    values: ['before-WO', 'after-WO-slice'],
    doc: "where a head is mean-ablated: before W_O (removes it) or the authors' after-W_O slice",
  },
  'analysis.rankRule': {
    kind: 'enum',
    values: ['average', 'ordinal-random', 'ordinal-order'],
    doc: 'ranks for Delta (Eq. 3): ties averaged, broken at random, or by component order',
  },
  'analysis.threshold': {
    kind: 'number',
    min: 0,
    max: 1000,
    doc: '|Delta| for Hidden Hero / Gradient Bloat (paper: 6)',
  },
  'analysis.inclusive': { kind: 'bool', doc: 'true: Delta <= -6 / >= 6 (paper text); false: < / > (authors)' },
  'analysis.tieDraws': {
    kind: 'int',
    min: 1,
    max: 1_000_000,
    doc: 'random tie-break draws for rankRule ordinal-random',
  },
  'analysis.idLength': {
    kind: 'int',
    min: 1,
    max: 99,
    doc: 'in-distribution length for Table 6 (paper: 5); a training length',
  },
  'analysis.idSamples': { kind: 'int', min: 1, max: 1_000_000, doc: 'sequences for in-distribution accuracy' },
  'analysis.pruneSelect': {
    kind: 'enum',
    values: ['extreme', 'name-order'],
    doc: 'Table 2: the two most extreme of a class, or the first two by name (authors)',
  },
  'analysis.variants': {
    kind: 'bool',
    doc: 'also record C, rho and classes under every analysis-side protocol variant',
  },
  'analysis.redraws': {
    kind: 'int',
    min: 0,
    max: 100,
    doc: 'noise floor: recompute G and C this many times on fresh sequences',
  },
  'analysis.igSteps': {
    kind: 'int',
    min: 1,
    max: 1000,
    doc: "integrated gradients: steps k along the path from a component's output to its mean",
  },
  'analysis.igBatches': {
    kind: 'int',
    min: 1,
    max: 100_000,
    doc: "integrated gradients: on the first this many of Eq. 1's batches (at most analysis.gradBatches)",
  },
  'analysis.resampleDraws': {
    kind: 'int',
    min: 1,
    max: 1000,
    doc: 'resample ablation: source sets per evaluation sequence (each costs one more pass per component)',
  },
  'analysis.measures': {
    kind: 'names',
    doc: 'measures computed besides G and C, comma-separated (MEASURES.md lists them; gcg measures --list)',
  },
  'analysis.table6Protocol': {
    kind: 'enum',
    values: ['paper', 'authors-last-section'],
    doc: "Table 6: prune the run's own Bloats, or as the authors' last section does",
  },
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
export function shown(value: unknown): string {
  return typeof value === 'number' && !Number.isFinite(value)
    ? String(value)
    : (JSON.stringify(value) ?? String(value));
}

export function checkValue(key: string, value: unknown, typed?: string): void {
  const rule = CONFIG_RULES[key];
  const bad = () =>
    new ConfigError(
      `config ${key}: got ${typed !== undefined ? JSON.stringify(typed) : shown(value)}; allowed: ${describe(rule)}`,
    );
  if (rule.kind === 'enum') {
    if (typeof value !== 'string' || !rule.values.includes(value)) throw bad();
    return;
  }
  if (rule.kind === 'bool') {
    if (typeof value !== 'boolean') throw bad();
    return;
  }
  if (rule.kind === 'names') {
    if (
      !Array.isArray(value) ||
      value.some((v) => typeof v !== 'string' || !/^[A-Za-z][\w-]*$/.test(v)) ||
      new Set(value).size !== value.length
    )
      throw bad();
    return;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw bad();
  if (rule.kind === 'int' && !Number.isInteger(value)) throw bad();
  const belowMin = rule.kind === 'number' && rule.exclusiveMin ? value <= rule.min : value < rule.min;
  if (belowMin || value > rule.max) throw bad();
}

export function unknownKey(key: string): ConfigError {
  const near = closest(key, Object.keys(CONFIG_RULES));
  return new ConfigError(
    `config ${key}: unknown key${near ? ` (did you mean ${near}?)` : ''}; allowed keys: ${Object.keys(CONFIG_RULES).join(', ')}`,
  );
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
