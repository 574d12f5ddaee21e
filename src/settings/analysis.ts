/**
 * The analysis' settings: the OOD window (Section 2.2), Eq. 1 and Eq. 2's samples, where a head is
 * ablated, ranks and thresholds for Eq. 3, Tables 2 and 6, the noise floor and the other measures.
 */
import { choice, flag, int, names, num } from './setting';

export const ANALYSIS_SETTINGS = {
  accLow: num({
    min: 0,
    max: 1,
    default: 0.2,
    doc: 'OOD length: the first N with accuracy in [accLow, accHigh] (paper: 0.2)',
  }),
  accHigh: num({ min: 0, max: 1, default: 0.75, doc: 'upper end of that window (paper: 0.75)' }),
  /** The paper preset's 1000: the standard error of an accuracy near 50% is 1.6 points. */
  oodPickSamples: int({
    min: 1,
    max: 1_000_000,
    default: 1000,
    authors: 100,
    doc: 'sequences per candidate length when picking N (authors: 100)',
  }),
  gradBatches: int({ min: 1, max: 100_000, default: 50, doc: 'batches B in Eq. 1 (paper: 50)' }),
  gradBatchSize: int({
    min: 1,
    max: 65_536,
    default: 64,
    doc: 'sequences per batch for Eq. 1 and the ablation means (paper: 64)',
  }),
  meanBatches: int({
    min: 1,
    max: 100_000,
    default: 50,
    doc: "batches for each component's mean output (authors: 50)",
  }),
  evalSamples: int({
    min: 1,
    max: 1_000_000,
    default: 1000,
    authors: 100,
    doc: 'sequences scoring the baseline and each ablation in Eq. 2',
  }),
  paired: flag({
    default: true,
    authors: false,
    doc: "true: baseline and every ablation on one set; false: the authors' fresh set each",
  }),
  /**
   * `before-WO`: the head's output z (d_head) before the output projection, which removes the head
   * (paper text; the authors' last section). `after-WO-slice`: the authors' main experiment, which
   * writes the d_head-wide mean into columns h*d_head.. of the attention output *after* W_O; that
   * does not remove the head (a known interpretability pitfall).
   */
  headAblation: choice({
    values: ['before-WO', 'after-WO-slice'],
    default: 'before-WO',
    authors: 'after-WO-slice',
    doc: "where a head is mean-ablated: before W_O (removes it) or the authors' after-W_O slice",
  }),
  /**
   * `average`: ties share their mean rank (scipy's rankdata, the authors' code). `ordinal-random`:
   * ordinal ranks, ties broken at random (seeded), repeated analysis.tieDraws times.
   * `ordinal-order`: ties broken by component order (L0 first): biased, kept to show the bias.
   */
  rankRule: choice({
    values: ['average', 'ordinal-random', 'ordinal-order'],
    default: 'ordinal-random',
    authors: 'average',
    doc: 'ranks for Delta (Eq. 3): ties averaged, broken at random, or by component order',
  }),
  threshold: num({ min: 0, max: 1000, default: 6, doc: '|Delta| for Hidden Hero / Gradient Bloat (paper: 6)' }),
  inclusive: flag({
    default: true,
    authors: false,
    doc: 'true: Delta <= -6 / >= 6 (paper text); false: < / > (authors)',
  }),
  tieDraws: int({ min: 1, max: 1_000_000, default: 1000, doc: 'random tie-break draws for rankRule ordinal-random' }),
  idLength: int({
    min: 1,
    max: 99,
    default: 5,
    doc: 'in-distribution length for Table 6 (paper: 5); a training length',
  }),
  idSamples: int({
    min: 1,
    max: 1_000_000,
    default: 1000,
    authors: 100,
    doc: 'sequences for in-distribution accuracy',
  }),
  pruneSelect: choice({
    values: ['extreme', 'name-order'],
    default: 'extreme',
    authors: 'name-order',
    doc: 'Table 2: the two most extreme of a class, or the first two by name (authors)',
  }),
  variants: flag({ default: true, doc: 'also record C, rho and classes under every analysis-side protocol variant' }),
  redraws: int({
    min: 0,
    max: 100,
    default: 2,
    doc: 'noise floor: recompute G and C this many times on fresh sequences',
  }),
  igSteps: int({
    min: 1,
    max: 1000,
    default: 8,
    doc: "integrated gradients: steps k along the path from a component's output to its mean",
  }),
  igBatches: int({
    min: 1,
    max: 100_000,
    default: 4,
    doc: "integrated gradients: on the first this many of Eq. 1's batches (at most analysis.gradBatches)",
  }),
  resampleDraws: int({
    min: 1,
    max: 1000,
    default: 3,
    doc: 'resample ablation: source sets per evaluation sequence (each costs one more pass per component)',
  }),
  measures: names({
    default: [],
    doc: 'measures computed besides G and C, comma-separated (MEASURES.md lists them; gcg measures --list)',
  }),
  /**
   * `paper`: prune every Bloat of the run's own classification. `authors-last-section`: rank the
   * heads only (Delta over 1..16), G of a head = the norm of its whole layer's W_V gradient (the
   * heads of a layer tie), average ranks, Bloat at Delta >= 6, ablation before W_O, baseline on 100
   * sequences and the pruned model on 50. (That section also retrains with another stopping rule:
   * run a separate sweep with train.stopLength=7.)
   */
  table6Protocol: choice({
    values: ['paper', 'authors-last-section'],
    default: 'paper',
    authors: 'authors-last-section',
    doc: "Table 6: prune the run's own Bloats, or as the authors' last section does",
  }),
};
