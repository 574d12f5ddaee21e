/** What the reproduction report reads: the results store's records per preset, the training-side ablation sweeps, rejected files and exported figures. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PresetName } from '../config';
import { checkOneSettings, RejectedFile, RunRecord, scanRecords } from '../store';

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

/** Reads the results store (main presets and results/ablations/<name>/<preset>/) and the exported figures. */
export function loadReproductionInput(resultsDir: string, figuresDir?: string, relativeTo = '.'): ReproductionInput {
  const presets: ReproductionInput['presets'] = {};
  const rejected: RejectedFile[] = [];
  const scan = (dir: string, p: PresetName) => {
    const s = scanRecords(dir, p);
    checkOneSettings(path.join(dir, p), s.records);
    rejected.push(...s.rejected.map((r) => ({ ...r, file: path.relative(relativeTo, r.file) })));
    return s.records;
  };
  for (const p of PRESETS) presets[p] = scan(resultsDir, p);
  const ablations: AblationSweep[] = [];
  const ablDir = path.join(resultsDir, 'ablations');
  if (fs.existsSync(ablDir)) {
    for (const name of fs.readdirSync(ablDir).sort()) {
      for (const p of PRESETS) {
        const records = scan(path.join(ablDir, name), p);
        if (records.length) ablations.push({ name, preset: p, records });
      }
    }
  }
  const figures: ReproductionInput['figures'] = {};
  if (figuresDir) {
    for (const p of PRESETS) {
      const d = path.join(figuresDir, p);
      if (fs.existsSync(d)) figures[p] = fs.readdirSync(d).sort().map((f) => path.relative(relativeTo, path.join(d, f)));
    }
  }
  return { presets, ablations, figures, rejected };
}
