/** The redundancy study's inputs: its records, and the results stores its layer profile and rho gap read. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunRecord } from '../../records/format';
import { loadRecords } from '../../records/store';
import { REDUNDANCY_FORMAT, RedundancyRecord } from './record';

/** The study's records under `dir` (every preset folder), each checked to be this study's format. */
export function loadRedundancyRecords(dir: string): { records: RedundancyRecord[]; rejected: string[] } {
  const records: RedundancyRecord[] = [];
  const rejected: string[] = [];
  if (!fs.existsSync(dir)) return { records, rejected };
  for (const preset of fs.readdirSync(dir).sort()) {
    const sub = path.join(dir, preset);
    if (!fs.statSync(sub).isDirectory()) continue;
    for (const f of fs.readdirSync(sub).sort()) {
      if (!f.endsWith('.json')) continue;
      try {
        const r = JSON.parse(fs.readFileSync(path.join(sub, f), 'utf8')) as RedundancyRecord;
        if (r.format !== REDUNDANCY_FORMAT || !r.result?.pairs) throw new Error(`format ${r.format}`);
        records.push(r);
      } catch (e) {
        rejected.push(`${path.join(sub, f)} (${(e as Error).message})`);
      }
    }
  }
  return { records, rejected };
}

export interface RedundancyInput {
  records: RedundancyRecord[];
  rejected: string[];
  /** Every analysed run of each preset's results store (`<results>/paper`, `<results>/authors`, where they exist). */
  stores: { label: string; records: RunRecord[] }[];
  /** The stability study's runs (`<results>/stability/<replica>/paper`), where there are any. */
  replicas: RunRecord[];
}

/** The study's records under `study` and the results stores under `results`. */
export function loadRedundancyInput(results: string, study: string): RedundancyInput {
  const { records, rejected } = loadRedundancyRecords(study);
  const stores = (['paper', 'authors'] as const)
    .filter((p) => fs.existsSync(path.join(results, p)))
    .map((p) => ({ label: `${p} preset`, records: loadRecords(results, p) }));
  const stab = path.join(results, 'stability');
  const replicas = fs.existsSync(stab)
    ? fs
        .readdirSync(stab)
        .sort()
        .filter((d) => fs.existsSync(path.join(stab, d, 'paper')))
        .flatMap((d) => loadRecords(path.join(stab, d), 'paper'))
    : [];
  return { records, rejected, stores, replicas };
}
