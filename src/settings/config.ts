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

import { BatchLayout, DIGIT_VOCAB_SIZE, TaskName, TASKS } from '../tasks';
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

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function cloneConfig(cfg: ExperimentConfig): ExperimentConfig {
  return {
    model: { ...cfg.model },
    data: { ...cfg.data },
    train: { ...cfg.train },
    analysis: { ...cfg.analysis, measures: [...cfg.analysis.measures] },
  };
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

export function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) {
    throw new ConfigError(`seed: got ${JSON.stringify(seed)}; allowed: an integer in [0, 4294967295]`);
  }
  return seed;
}
