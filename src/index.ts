/**
 * What notebooks and other programs import: `import * as gcg from 'gradient-causal-gap'`. This is
 * the curated surface a reader of the paper calls, grouped as a run flows (settings, data, model,
 * training, the analysis, the store, reports, notebooks). Everything else is reachable by path,
 * e.g. `import { ResidCache } from 'gradient-causal-gap/dist/src/model/eval'` (docs/code.md,
 * "The layers, lowest first", names every folder).
 */

// Settings: presets, overrides, one resolution of a run (preset, task, seed, size, settings).
export { ConfigError, DEFAULT_CONFIG, PAPER_SEEDS, PRESET_CONFIGS, PRESETS } from './settings/config';
export { CONFIG_RULES, parseOverrides } from './settings/rules';
export { getConfig, validateConfig } from './settings/validate';
export type {
  AnalysisConfig,
  DataConfig,
  DeepPartial,
  ExperimentConfig,
  ModelConfig,
  PresetName,
  TrainConfig,
} from './settings/config';
export { checkRun, resolveRun, resolveSettings, settingsOf } from './settings/run-spec';
export type { ResolvedRun, RunRequest, Settings } from './settings/run-spec';
export { componentCount, MODEL_SIZES, SIZES, sizeOf } from './settings/sizes';
export type { SizeName } from './settings/sizes';

// The backend and random streams.
export { describeBackend, initBackend } from './kernels/backend';
export { tf } from './kernels/tf';
export { Rng } from './base/rng';

// Tasks and their data.
export {
  BatchStream,
  getTask,
  makeBatch,
  PAPER_TASKS,
  sampleExample,
  sampleExamples,
  solve,
  TASK_REGISTRY,
  TASKS,
} from './tasks';
export type { Batch, Example, Task, TaskName } from './tasks';

// The model: a transformer with named hook points and patches.
export { Transformer } from './model/model';
export { componentPatch, hooks, listComponents, parseComponent } from './model/hooks';
export { componentGradNorms, componentWeight } from './model/grads';
export type { ForwardOptions, ForwardResult } from './model/model';
export type { Component } from './model/hooks';
export type { Patch } from './model/patches';
export { fromTorchStateDict, toTorchStateDict } from './model/torch-io';
export type { TorchStateDict } from './model/torch-io';
export { accuracy, exactMatch, sampleAccuracy, tokensTensor } from './model/eval';

// Training and checkpoints.
export { train } from './train/train'; // the loop alone: models, batch streams, a stop rule
export type { Lane, StopRule, TrainOptions, TrainResult } from './train/train';
export { trainRun } from './runner/training'; // a run as the paper trains it: task, seed, configuration
export { loadCheckpoint, saveCheckpoint } from './records/checkpoint';

// The analysis: the OOD length, G (Eq. 1), C (Eq. 2), the other measures, ranks and classes (Eq. 3), pruning.
export { analyzeModel, oodEvalSet } from './analysis/pipeline';
export type { AnalysisResult } from './analysis/pipeline';
export { pickOodLength } from './analysis/ood';
export { ImportanceContext } from './analysis/context';
export { componentMeans } from './analysis/means';
export { accuracyWith, withPatches } from './analysis/patching';
export { checkMeasures, getMeasure, listMeasures, registerMeasure } from './analysis/registry';
export type { ImportanceMeasure } from './analysis/registry';
export { allMeasureInfo, measureInfo } from './analysis/measure-info';
export type { MeasureInfo } from './analysis/measure-info';
export { eq1Mean, gradientMagnitude, gradientMagnitudeLayerWV } from './analysis/measures/gradient';
export { ablationEffects, meanAblation } from './analysis/measures/ablations';
export type { Ablation, AblationEffect } from './analysis/measures/ablations';
export { averageRanks, classify, classifyComponents, spearman } from './analysis/ranks';
export type { Classification, ComponentClass } from './analysis/ranks';
export { pruningAnalysis } from './analysis/prune';
export type { RedundancyResult, RedundancySettings } from './analysis/redundancy';

// Runs and the results store.
export { runOne } from './runner/run';
export { trainOne, trainToCheckpoint } from './runner/train-run';
export { loadRecords, readRecord, runPaths, scanRecords } from './records/store';
export { configDiffValues } from './records/format';
export type { RunRecord } from './records/format';
export { sweep, sweepJob, sweepJobs } from './runner/sweep';
export type { SweepJob, SweepOptions, SweepSummary } from './runner/sweep';
export { runStudy, studyMeasures } from './studies/measures/run';
export { stabilityJobs, STABILITY_MEASURES } from './studies/stability/run';
export type { RedundancyRecord } from './studies/redundancy/record';
export { replicaOf, stabilityReplicas } from './settings/replica';
export { initialModel, nudgeLastBit, trainDataRng } from './train/perturb';
export { verifyStore } from './runner/verify';
export { writeFileAtomic } from './io/files';
export { projectRoot } from './io/project-root';

// Reports: the paper's tables and figures, the reproduction, the measures, complexity and stability studies.
export { allTables } from './report/tables';
export { figure1, figure2, figure3, figure4, paperFigures } from './report/figures';
export { trainingCurves } from './report/curves';
export type { PlotlyFigure } from './report/style';
export { exportFigures } from './report/export';
export { reproductionReport } from './studies/paper/report';
export { loadReproductionInput } from './studies/paper/load';
export { measuresStudy } from './studies/measures/numbers';
export { measuresFigures } from './studies/measures/figures';
export { measuresReport } from './studies/measures/report';
export { axisCells, complexityStudy, REFERENCE_SIZE, SIZE_AXES } from './studies/complexity/numbers';
export { loadStores } from './studies/complexity/load';
export { complexityFigures } from './studies/complexity/figures';
export { complexityReport } from './studies/complexity/report';
export { ROBUST_SHARE, stabilityStudy, STABILITY_PAIRS } from './studies/stability/numbers';
export { loadStability } from './studies/stability/load';
export { stabilityFigures } from './studies/stability/figures';
export { stabilityReport } from './studies/stability/report';
// The redundancy study as one namespace: gcg.redundancy.run / load / numbers / report / figures.
export * as redundancy from './studies/redundancy/api';

// Notebooks.
export { committedResultsDir, estimateRun, describeEstimate } from './runner/estimate';
export { notebookEnv, notebookSession, NotebookSession, trainedRun } from './faces/notebook';
export { showFigure, showMarkdown, showTable } from './faces/display';
