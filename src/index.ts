/**
 * What notebooks and other programs import: `import * as gcg from 'gradient-causal-gap'`. This is
 * the curated surface a reader of the paper calls, grouped as a run flows (settings, data, model,
 * training, the analysis, the store, reports, notebooks). Everything else is reachable by path,
 * e.g. `import { ResidCache } from 'gradient-causal-gap/dist/src/eval'` (README, "How the code is
 * laid out", names every module).
 */

// Settings: presets, overrides, one resolution of a run (preset, task, seed, size, settings).
export { CONFIG_RULES, ConfigError, DEFAULT_CONFIG, getConfig, parseOverrides, PAPER_SEEDS, PRESET_CONFIGS, PRESETS, validateConfig } from './config';
export type { AnalysisConfig, DataConfig, DeepPartial, ExperimentConfig, ModelConfig, PresetName, TrainConfig } from './config';
export { checkRun, resolveRun, resolveSettings, settingsOf } from './run-spec';
export type { ResolvedRun, RunRequest, Settings } from './run-spec';
export { componentCount, MODEL_SIZES, SIZES, sizeOf } from './sizes';
export type { SizeName } from './sizes';

// The backend and random streams.
export { describeBackend, initBackend, tf } from './backend';
export { Rng } from './rng';

// Tasks and their data.
export { BatchStream, getTask, makeBatch, PAPER_TASKS, sampleExample, sampleExamples, solve, TASK_REGISTRY, TASKS } from './tasks';
export type { Batch, Example, Task, TaskName } from './tasks';

// The model: a transformer with named hook points and patches.
export { componentPatch, hooks, listComponents, parseComponent, Transformer } from './model';
export { componentGradNorms, componentWeight } from './grads';
export type { Component, ForwardOptions, ForwardResult, Patch } from './model';
export { fromTorchStateDict, toTorchStateDict } from './torch-io';
export type { TorchStateDict } from './torch-io';
export { accuracy, exactMatch, sampleAccuracy, tokensTensor } from './eval';

// Training and checkpoints.
export { describeStop, train } from './train';
export type { TrainOptions, TrainResult } from './train';
export { loadCheckpoint, saveCheckpoint } from './checkpoint';

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

// Runs and the results store.
export { runOne, trainOne, trainToCheckpoint } from './results';
export { configDiffValues, loadRecords, readRecord, runPaths, scanRecords } from './store';
export type { RunRecord } from './store';
export { sweep, sweepJob, sweepJobs } from './sweep';
export type { SweepJob, SweepOptions, SweepSummary } from './sweep';
export { runStudy, studyMeasures } from './study';
export { stabilityJobs, STABILITY_MEASURES } from './stability';
export { replicaOf, stabilityReplicas } from './replica';
export { initialModel, nudgeLastBit, trainDataRng } from './perturb';
export { verifyStore } from './verify';
export { writeFileAtomic } from './files';
export { projectRoot } from './project-root';

// Reports: the paper's tables and figures, the reproduction, the measures, complexity and stability studies.
export { allTables } from './report/tables';
export { figure1, figure2, figure3, figure4, paperFigures, trainingCurves } from './report/figures';
export type { PlotlyFigure } from './report/figures';
export { exportFigures } from './report/export';
export { loadReproductionInput, reproductionReport } from './report/reproduction';
export { measuresStudy } from './report/measures';
export { measuresFigures } from './report/measures-figures';
export { measuresReport } from './report/measures-report';
export { axisCells, complexityStudy, loadStores, REFERENCE_SIZE, SIZE_AXES } from './report/complexity';
export { complexityFigures } from './report/complexity-figures';
export { complexityReport } from './report/complexity-report';
export { loadStability, ROBUST_SHARE, stabilityStudy, STABILITY_PAIRS } from './report/stability';
export { stabilityFigures } from './report/stability-figures';
export { stabilityReport } from './report/stability-report';

// Notebooks.
export { committedResultsDir, estimateRun, describeEstimate } from './estimate';
export { notebookEnv, notebookSession, NotebookSession, showFigure, showMarkdown, showTable, trainedRun } from './notebook';
