/**
 * The page and its Web Worker talk in these messages. The worker holds the model and does every
 * tensor computation (training, the analysis, ablations) with the project's core, on the wasm
 * backend; the page holds the settings, the figures and what the reader clicks.
 */
import type { ExperimentConfig, DeepPartial, PresetName } from '../src/settings/config';
import type { RunRecord } from '../src/records/format';

/** What the reader asked for: a preset, its task and seed, the settings changed from the preset, the OOD lengths. */
export interface RunSpec {
  preset: PresetName;
  task: string;
  seed: number;
  overrides: DeepPartial<ExperimentConfig>;
  oodLengths: number[];
  /** Let the OOD lengths lie inside the training lengths (a tiny model that does not generalise; as --allow-id-lengths). */
  allowIdLengths: boolean;
}

export type Ablation = 'mean' | 'zero';

export type ToWorker =
  | { type: 'start'; spec: RunSpec }
  | { type: 'stop' }
  | { type: 'resume' }
  | { type: 'ablate'; id: string | null; how: Ablation };

/** Exact match by sequence length on fixed sequences, unablated and (after a click) with one component ablated. */
export interface LengthAccuracy {
  lengths: number[];
  samples: number;
  base: number[];
  ablated: { id: string; how: Ablation; acc: number[] } | null;
}

export type FromWorker =
  | { type: 'ready'; backend: string }
  | {
      type: 'progress';
      step: number;
      maxSteps: number;
      losses: number[];
      evals: { step: number; acc: number }[];
      msPerStep: number;
    }
  | { type: 'paused'; step: number }
  | { type: 'phase'; phase: string }
  | { type: 'analysed'; record: RunRecord }
  | { type: 'lengths'; lengths: LengthAccuracy }
  | { type: 'error'; message: string };
