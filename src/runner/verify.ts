/**
 * `gcg verify`: every results file and checkpoint under a folder checked as every reader checks it
 * (records/store.ts inspectRecord, record-check.ts; checkpoint.ts), without loading a model: records
 * against their name, folder, shape, Eq. 3 and seal; checkpoints against their SHA-256, the run
 * their name says and the training settings of the results file beside them. `seal` adds the
 * seal to valid records written before seals existed (nothing else in the file changes).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { identityProblem, readCheckpointHeader } from '../records/checkpoint';
import { PRESETS, PresetName } from '../settings/config';
import { completeConfig } from '../settings/validate';
import { writeFileAtomic } from '../io/files';
import { sealRecord } from '../records/record-check';
import { notRecordsModel } from './conflicts';
import { inspectRecord } from '../records/store';

export interface VerifyReport {
  folders: string[];
  records: number;
  checkpoints: number;
  problems: { file: string; problem: string }[];
  sealed: string[];
  unsealed: number;
}

const RECORD = /^([a-z][a-z0-9-]*)_seed(\d+)\.json$/;
const CHECKPOINT = /^([a-z][a-z0-9-]*)_seed(\d+)(\.partial)?\.ckpt$/;

/** Every folder under `dir` (itself included) named as a preset. */
function presetFolders(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 4) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const sub = path.join(d, e.name);
      if ((PRESETS as readonly string[]).includes(e.name)) out.push(sub);
      else walk(sub, depth + 1);
    }
  };
  if ((PRESETS as readonly string[]).includes(path.basename(path.resolve(dir)))) out.push(dir);
  else walk(dir, 0);
  return out.sort();
}

export function verifyStore(dir: string, opts: { seal?: boolean } = {}): VerifyReport {
  const report: VerifyReport = {
    folders: presetFolders(dir),
    records: 0,
    checkpoints: 0,
    problems: [],
    sealed: [],
    unsealed: 0,
  };
  for (const folder of report.folders) {
    const preset = path.basename(folder) as PresetName;
    for (const f of fs.readdirSync(folder).sort()) {
      const file = path.join(folder, f);
      if (RECORD.test(f)) {
        report.records++;
        const c = inspectRecord(file);
        if (c.status === 'bad') report.problems.push({ file, problem: c.reason });
        else if (c.status === 'ok' && !c.record.sha256) {
          const text = fs.readFileSync(file, 'utf8');
          const raw = JSON.parse(text);
          if (!opts.seal) report.unsealed++;
          else if (text === JSON.stringify(raw, null, 1)) {
            writeFileAtomic(file, JSON.stringify(sealRecord(raw), null, 1));
            report.sealed.push(file);
          } else
            report.problems.push({
              file,
              problem:
                'not sealed: its text is not in the form the project writes (a seal would change more than add itself)',
            });
        }
      }
      const m = CHECKPOINT.exec(f);
      if (!m) continue;
      report.checkpoints++;
      try {
        const { header } = readCheckpointHeader(file);
        const other = identityProblem(header.meta, { preset, task: m[1], seed: Number(m[2]) });
        if (other) throw new Error(other);
        const recordFile = path.join(folder, `${m[1]}_seed${m[2]}.json`);
        const rec = m[3] ? null : inspectRecord(recordFile);
        const problem =
          rec?.status === 'ok'
            ? notRecordsModel(
                { config: completeConfig(header.config, preset), meta: header.meta },
                rec.record,
                recordFile,
              )
            : null;
        if (problem) throw new Error(problem);
      } catch (e) {
        report.problems.push({ file, problem: (e as Error).message.replace(/^checkpoint [^:]+: /, '') });
      }
    }
  }
  return report;
}
