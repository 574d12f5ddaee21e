/** What the reproduction report reads (src/studies/paper/load.ts reads it from a results store): records per preset, ablation sweeps, rejected files, figures. */
import type { PresetName } from '../../settings/config';
import type { RejectedFile, RunRecord } from '../../records/format';

export const PRESETS: PresetName[] = ['paper', 'authors'];

/** A training-side ablation sweep: records made with one training setting changed from a preset. */
export interface AblationSweep {
  name: string; // folder name under the ablations directory
  preset: PresetName; // the preset it departs from
  records: RunRecord[];
}

export interface ReproductionInput {
  /** Records per preset (the main sweeps). */
  presets: Partial<Record<PresetName, RunRecord[]>>;
  ablations?: AblationSweep[];
  /** Results files that were found but not counted (damaged, misnamed or misplaced), and why. */
  rejected?: RejectedFile[];
  /** Exported figure files, relative to the report (e.g. figures/paper/figure1.png), per preset. */
  figures?: Partial<Record<PresetName, string[]>>;
  /** Bootstrap resamples (default 10,000). */
  resamples?: number;
}
