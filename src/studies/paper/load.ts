/** What the reproduction report reads: the results store's records per preset, the training-side ablation sweeps, rejected files and exported figures. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkOneSettings, scanRecords } from '../../records/store';
import { RejectedFile } from '../../records/format';
import type { PresetName } from '../../settings/config';
import { AblationSweep, PRESETS, ReproductionInput } from './numbers';

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
      if (fs.existsSync(d))
        figures[p] = fs
          .readdirSync(d)
          .sort()
          .map((f) => path.relative(relativeTo, path.join(d, f)));
    }
  }
  return { presets, ablations, figures, rejected };
}
