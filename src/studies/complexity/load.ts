/** The complexity study's records, read from its stores (Node: files). The numbers are numbers.ts's. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkOneSettings, scanRecords } from '../../records/store';
import { RejectedFile } from '../../records/format';
import type { RunRecord } from '../../records/format';
import { sizeOf } from '../../settings/sizes';
import { checkOneFamily } from './numbers';

/**
 * Every record of a preset in these stores: `<store>/<preset>/` and `<store>/<size>/<preset>/`
 * (folders: those holding records). The first store wins a (task, size, seed) found twice. Refused
 * when the models were trained on different kernel families (records/format.ts trainedOn): the same
 * seed trains to a different model on each, so a trend across cells of different families would
 * measure the kernels with the tasks.
 */
export function loadStores(
  stores: readonly string[],
  preset: string,
): { records: RunRecord[]; rejected: RejectedFile[]; duplicates: string[]; folders: string[] } {
  const records: RunRecord[] = [];
  const rejected: RejectedFile[] = [];
  const duplicates: string[] = [];
  const folders: string[] = [];
  const seen = new Set<string>();
  for (const store of stores) {
    if (!fs.existsSync(store)) continue;
    const subs = fs
      .readdirSync(store, { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.existsSync(path.join(store, d.name, preset)))
      .map((d) => path.join(store, d.name));
    for (const dir of [...(fs.existsSync(path.join(store, preset)) ? [store] : []), ...subs.sort()]) {
      const scan = scanRecords(dir, preset);
      checkOneSettings(path.join(dir, preset), scan.records);
      if (scan.records.length) folders.push(path.join(dir, preset));
      rejected.push(...scan.rejected);
      for (const r of scan.records) {
        const key = `${r.task} ${sizeOf(r.config.model)} ${r.seed}`;
        if (seen.has(key)) duplicates.push(`${path.join(dir, preset)}: ${key.replace(/ (\d+)$/, ' seed $1')}`);
        else {
          seen.add(key);
          records.push(r);
        }
      }
    }
  }
  checkOneFamily(records);
  return { records, rejected, duplicates, folders };
}
