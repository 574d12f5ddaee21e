/** The redundancy study's record: one model's redundancy analysis with where it came from (written by run.ts). */
import type { RedundancyResult, RedundancySettings } from '../../analysis/redundancy';
import type { ComponentClass } from '../../analysis/ranks';
import type { Provenance } from '../../records/format';
import type { ExperimentConfig, HeadAblation, PresetName } from '../../settings/config';
import type { TaskName } from '../../tasks';

export const REDUNDANCY_FORMAT = 'gcg-redundancy/1';

/** One model's redundancy record. */
export interface RedundancyRecord {
  format: typeof REDUNDANCY_FORMAT;
  preset: PresetName;
  task: TaskName;
  seed: number;
  settings: RedundancySettings;
  /** The results record whose model this is, and how the model was had. */
  source: { file: string; commit: string | null; trainedOn: string; checkpoint: 'reused' | 'retrained' };
  /** The source record's configuration (model, training, analysis). */
  config: ExperimentConfig;
  provenance: Provenance;
  /** How this study scored the model (every preset alike: run.ts STUDY_SCORING), on evalSamples sequences; records made before it was kept were all of the paper preset, scored as its config says. */
  scoring?: { paired: boolean; headAblation: HeadAblation; evalSamples: number };
  /** The source's OOD length and the unablated exact match on its evaluation set. */
  length: number;
  baseline: number;
  components: string[];
  /** The source record's G, C and Eq. 3 classes (the named sets' Heroes and Bloats). */
  G: Record<string, number>;
  C: Record<string, number>;
  classes: ComponentClass[];
  /** Components whose single effect here differs from the record's C (empty: the same numbers; 'protocol': the record's C was scored otherwise). */
  cDiffering: string[] | 'protocol';
  result: RedundancyResult;
  timingsMs: { analysis: number };
}
