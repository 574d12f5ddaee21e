/**
 * What a measure sees: the model, the chosen OOD length, the analysis settings, and the data the
 * measures share (the OOD component means, the baseline, Eq. 1's batches and per-batch gradient
 * norms, the evaluation set's residual streams), each computed once on first use.
 */
import { AnalysisConfig } from '../settings/config';
import { Batch, Example, makeBatch, sampleExamples, TaskName } from '../tasks';
import { accuracy, exactMatch, ResidCache } from '../model/eval';
import { componentGradNorms } from '../model/grads';
import { Transformer } from '../model/model';
import { Component } from '../model/hooks';
import { Rng } from '../base/rng';
import { componentMeans } from './means';
import { accuracyWith } from './patching';

/** What an ImportanceContext is made from. */
export interface ImportanceContextOptions {
  model: Transformer;
  task: TaskName;
  /** The chosen OOD length N. */
  length: number;
  cfg: AnalysisConfig;
  seed: number;
  /** The fixed OOD evaluation set (baseline and every paired ablation are scored on it); needed by paired ablations. */
  evalSet?: Example[];
  /** Baseline accuracy from the OOD pick; needed by unpaired scoring (the authors'). */
  pickAccuracy?: number;
  /** The components scored (default: all of the model's). */
  components?: Component[];
  /** 0 (default): the run's own random streams; k > 0: the k-th redraw (every sequence drawn afresh). */
  redraw?: number;
}

/** What a measure sees: the model, the chosen OOD length, the settings and shared, lazily computed data. */
export class ImportanceContext {
  readonly model: Transformer;
  readonly task: TaskName;
  readonly length: number;
  readonly cfg: AnalysisConfig;
  readonly seed: number;
  readonly evalSet: Example[];
  readonly pickAccuracy: number | undefined;
  readonly components: Component[];
  readonly redraw: number;
  private meansCache: Record<string, Float32Array> | null = null;
  private baselineCache: number | null = null;
  private memos = new Map<string, unknown>();
  /** Per-batch gradient norms of Eq. 1, by batch set (shared with contexts made by withConfig). */
  private gradNormsCache = new Map<string, Record<string, number>[]>();
  /** The evaluation set's residual stream per block (paired scoring), shared while the set is. */
  private residCache: ResidCache | null = null;

  constructor(opts: ImportanceContextOptions) {
    this.model = opts.model;
    this.task = opts.task;
    this.length = opts.length;
    this.cfg = opts.cfg;
    this.seed = opts.seed;
    this.evalSet = opts.evalSet ?? [];
    this.pickAccuracy = opts.pickAccuracy;
    this.components = opts.components ?? opts.model.components();
    this.redraw = opts.redraw ?? 0;
  }

  /** The name of a random stream under this context's redraw (unchanged for redraw 0). */
  stream(name: string): string {
    return this.redraw ? `${name}-redraw${this.redraw}` : name;
  }

  /** The same model, length and means under other analysis settings (and evaluation set). */
  withConfig(
    cfg: AnalysisConfig,
    evalSet: Example[] = this.evalSet,
    components: Component[] = this.components,
    redraw = this.redraw,
  ): ImportanceContext {
    const ctx = new ImportanceContext({
      model: this.model,
      task: this.task,
      length: this.length,
      cfg,
      seed: this.seed,
      evalSet,
      pickAccuracy: this.pickAccuracy,
      components,
      redraw,
    });
    ctx.meansCache = this.means();
    if (redraw === this.redraw) ctx.gradNormsCache = this.gradNormsCache;
    if (evalSet === this.evalSet && evalSet.length) ctx.residCache = this.evalResiduals();
    return ctx;
  }

  /** Each component's mean output over the OOD distribution (heads: [d_head] before W_O; MLPs: [d_model]). */
  means(): Record<string, Float32Array> {
    this.meansCache ??= componentMeans(this.model, {
      task: this.task,
      length: this.length,
      batches: this.cfg.meanBatches,
      batchSize: this.cfg.gradBatchSize,
      rng: new Rng(this.seed, this.stream('means')),
    });
    return this.meansCache;
  }

  /** Each component's mean output per position, on the same sequences as means() (heads: [pos, d_head]; MLPs: [pos, d_model]). */
  positionMeans(): Record<string, Float32Array> {
    return this.memo('positionMeans', () =>
      componentMeans(this.model, {
        task: this.task,
        length: this.length,
        batches: this.cfg.meanBatches,
        batchSize: this.cfg.gradBatchSize,
        rng: new Rng(this.seed, this.stream('means')),
        perPosition: true,
      }),
    );
  }

  /** A value computed once per context and kept (e.g. passes several measures share). */
  memo<T>(key: string, make: () => T): T {
    if (!this.memos.has(key)) this.memos.set(key, make());
    return this.memos.get(key) as T;
  }

  /** Exact match of the unablated model on the evaluation set (paired) or from the OOD pick (unpaired). */
  baseline(): number {
    if (this.baselineCache === null) {
      if (!this.cfg.paired && this.pickAccuracy === undefined)
        throw new Error(
          "ImportanceContext: unpaired scoring (analysis.paired=false) needs pickAccuracy, the OOD pick's accuracy",
        );
      this.baselineCache = this.cfg.paired ? accuracy(exactMatch(this.model, this.pairedSet())) : this.pickAccuracy!;
    }
    return this.baselineCache;
  }

  /** The evaluation set's residual streams (computed on first use; freed by release()). */
  evalResiduals(): ResidCache {
    this.residCache ??= new ResidCache(this.model, this.pairedSet());
    return this.residCache;
  }

  private pairedSet(): Example[] {
    if (!this.evalSet.length)
      throw new Error(
        'ImportanceContext: paired scoring (analysis.paired=true) needs evalSet, the fixed OOD evaluation set',
      );
    return this.evalSet;
  }

  /**
   * Each batch's gradient norms for `ids` (Eq. 1's summands), on the B batches of this context's
   * random stream: computed once per batch set and kept (contexts made by withConfig share them).
   */
  gradNorms(ids: readonly string[]): Record<string, number>[] {
    const done = this.cachedGradNorms(ids);
    if (done) return done;
    const key = this.gradBatchKey();
    const cached = this.gradNormsCache.get(key);
    const wanted = this.components.filter((c) => ids.includes(c.id));
    const perBatch = this.gradBatches().map((batch) => componentGradNorms(this.model, batch, wanted).norms);
    this.gradNormsCache.set(key, cached ? cached.map((nb, i) => ({ ...nb, ...perBatch[i] })) : perBatch);
    return this.gradNormsCache.get(key)!;
  }

  /** The first `count` of the B batches Eq. 1 is computed on (this context's 'G' stream), drawn afresh; every gradient measure scores these. */
  gradBatches(count = this.cfg.gradBatches): Batch[] {
    const rng = new Rng(this.seed, this.stream('G'));
    return Array.from({ length: count }, () =>
      makeBatch(sampleExamples(this.task, this.cfg.gradBatchSize, rng, this.length)),
    );
  }

  /** The per-batch norms of `ids` if Eq. 1 was already computed for them on this context's batches (else null). */
  cachedGradNorms(ids: readonly string[]): Record<string, number>[] | null {
    const c = this.gradNormsCache.get(this.gradBatchKey());
    return c && c.length === this.cfg.gradBatches && c.every((nb) => ids.every((id) => id in nb)) ? c : null;
  }

  /** Which batches Eq. 1 is computed on: the random stream, the batch count and size, the length. */
  private gradBatchKey(): string {
    return `${this.stream('G')}|${this.cfg.gradBatches}x${this.cfg.gradBatchSize}|N=${this.length}`;
  }

  /** Accuracy with the given components replaced by the given values (paired: the fixed set; else fresh sequences). */
  ablatedAccuracy(values: Record<string, Float32Array>, rng: Rng): number {
    if (this.cfg.paired)
      return accuracyWith(this.model, values, this.cfg.headAblation, this.evalSet, this.evalResiduals());
    return accuracyWith(
      this.model,
      values,
      this.cfg.headAblation,
      sampleExamples(this.task, this.cfg.evalSamples, rng, this.length),
    );
  }

  /** Frees the tensors this context holds (the evaluation set's residual streams). */
  release(): void {
    this.residCache?.dispose();
    this.residCache = null;
  }
}
